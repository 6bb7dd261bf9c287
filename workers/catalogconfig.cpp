#include "catalogconfig.h"

#include "pgurl.h"

#include <QDir>
#include <QStandardPaths>

namespace quire {

bool CatalogConfig::isPostgres() const
{
    return looksLikePostgresUrl(location);
}

CatalogConfig CatalogConfig::defaultConfig()
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (dir.isEmpty())   // no writable data location at all: fall back to the home folder
        dir = QDir::homePath() + QLatin1StringView("/.quire");
    return CatalogConfig{QDir(dir).filePath(QStringLiteral("catalog.sqlite"))};
}

CatalogConfig CatalogConfig::fromOption(const QString &option)
{
    if (!option.isEmpty())
        return CatalogConfig{option};
    const QString env = qEnvironmentVariable("QUIRE_CATALOG");
    if (!env.isEmpty())
        return CatalogConfig{env};
    return defaultConfig();
}

QString CatalogConfig::displayLocation() const
{
    return isPostgres() ? redactPostgresUrl(location) : QDir::toNativeSeparators(location);
}

} // namespace quire
