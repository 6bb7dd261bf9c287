#include "catalog/catalogconfig.h"

#include "catalog/mariadburl.h"
#include "catalog/pgurl.h"

#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>
#include <QUrl>

namespace quire {

namespace {

// The translation context of the messages below (CatalogConfig is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::CatalogConfig)
};

// The scheme of a "scheme://..." location (RFC 3986: a letter, then letters, digits, '+', '-' or
// '.'), lower-cased; empty for a file path. At least two characters, so that a Windows drive
// ("C://data") stays a path.
QString urlScheme(const QString &location)
{
    const qsizetype end = location.indexOf(QLatin1StringView("://"));
    if (end < 2)
        return {};
    for (qsizetype i = 0; i < end; ++i) {
        const QChar c = location.at(i);
        const bool letter = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
        const bool other = (c >= u'0' && c <= u'9') || c == u'+' || c == u'-' || c == u'.';
        if (!letter && (i == 0 || !other))
            return {};
    }
    return location.left(end).toLower();
}

QString supportedCatalogs()
{
    return Tr::tr("a SQLite file (a path or a file:// URL), PostgreSQL (postgresql:// or postgres://) and "
                  "MariaDB/MySQL (mysql:// or mariadb://)");
}

} // namespace

bool CatalogConfig::isPostgres() const
{
    return looksLikePostgresUrl(location);
}

bool CatalogConfig::isMariaDb() const
{
    return looksLikeMariaDbUrl(location);
}

CatalogConfig CatalogConfig::defaultConfig()
{
    QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    if (dir.isEmpty())   // no writable data location at all: fall back to the home folder
        dir = QDir::homePath() + QLatin1StringView("/.quire");
    return CatalogConfig{QDir(dir).filePath(QStringLiteral("catalog.sqlite"))};
}

std::optional<QString> CatalogConfig::locationError() const
{
    if (location.isEmpty())
        return Tr::tr("no catalog given; Quire's catalog is %1").arg(supportedCatalogs());
    const QString scheme = urlScheme(location);
    if (scheme.isEmpty() || isServer())
        return std::nullopt;
    if (scheme == QLatin1StringView("file"))
        return Tr::tr("\"%1\" is not a local file URL (file:///path/to/catalog.sqlite)").arg(displayLocation());
    return Tr::tr("Quire cannot keep its catalog at a %1:// URL (\"%2\"); it supports %3")
            .arg(scheme, displayLocation(), supportedCatalogs());
}

bool CatalogConfig::passwordInUrl() const
{
    if (isPostgres()) {
        // libpq reads a "password" parameter into the same field as the user info's password.
        const std::optional<PostgresUrl> pg = parsePostgresUrl(location);
        return pg && !pg->password.isEmpty();
    }
    if (isMariaDb()) {
        const std::optional<MariaDbUrl> url = parseMariaDbUrl(location);
        return url ? !url->password.isEmpty() : !QUrl(location).password().isEmpty();
    }
    return !urlScheme(location).isEmpty() && !QUrl(location).password().isEmpty();
}

CatalogConfig CatalogConfig::fromOption(const QString &option, const QString &saved)
{
    QString location = option;
    if (location.isEmpty())
        location = qEnvironmentVariable("QUIRE_CATALOG");
    if (location.isEmpty())
        location = saved;
    if (location.isEmpty())
        return defaultConfig();
    // file:///path (or file://localhost/path) is the SQLite file at that path.
    if (urlScheme(location) == QLatin1StringView("file")) {
        const QUrl url(location);
        if (url.isValid() && url.isLocalFile() && !url.toLocalFile().isEmpty())
            location = url.toLocalFile();
    }
    return CatalogConfig{location};
}

QString CatalogConfig::displayLocation() const
{
    if (isPostgres())
        return redactPostgresUrl(location);
    if (isMariaDb())
        return redactMariaDbUrl(location);
    if (!urlScheme(location).isEmpty()) {
        // Some other URL: shown without its password.
        const QUrl url(location);
        return url.isValid() ? url.toDisplayString(QUrl::RemovePassword) : urlScheme(location) + QLatin1StringView("://…");
    }
    return QDir::toNativeSeparators(location);
}

} // namespace quire
