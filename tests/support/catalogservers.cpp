#include "catalogservers.h"

#include <QDir>
#include <QTest>

namespace quire::test {

CatalogServers::~CatalogServers() = default;

void CatalogServers::addBackendRows()
{
    QTest::addColumn<QString>("backend");
    QTest::newRow("sqlite") << QStringLiteral("sqlite");
    QTest::newRow("postgres") << QStringLiteral("postgres");
    QTest::newRow("mariadb") << QStringLiteral("mariadb");
}

QString CatalogServers::newLocation(const QString &backend, const QString &sqliteFolder, QString *skip, QString *fail)
{
    const int n = ++m_counter;
    if (backend == QLatin1StringView("sqlite"))
        return QDir(sqliteFolder).filePath(QStringLiteral("catalog-%1.sqlite").arg(n));
    const QString database = QStringLiteral("quire_%1").arg(n);
    if (backend == QLatin1StringView("postgres")) {
        if (PgServer::binDir().isEmpty()) {
            *skip = PgServer::missingMessage();
            return {};
        }
        if (!m_pg) {
            m_pg = std::make_unique<PgServer>();
            if (!m_pg->start()) {
                *fail = QStringLiteral("could not start the PostgreSQL test server: ") + m_pg->error();
                m_pg.reset();
                return {};
            }
            qInfo("PostgreSQL test server started in %lld ms on port %d", m_pg->startupMs(), m_pg->port());
        }
        const QString url = m_pg->createDatabase(database);
        if (url.isEmpty())
            *fail = m_pg->error();
        return url;
    }
    if (backend == QLatin1StringView("mariadb")) {
        if (!MariaDbServer::available()) {
            *skip = MariaDbServer::missingMessage();
            return {};
        }
        if (!m_maria) {
            m_maria = std::make_unique<MariaDbServer>();
            if (!m_maria->start()) {
                *fail = QStringLiteral("could not start the MariaDB test server: ") + m_maria->error();
                m_maria.reset();
                return {};
            }
            qInfo("MariaDB test server started in %lld ms on port %d", m_maria->startupMs(), m_maria->port());
        }
        const QString url = m_maria->createDatabase(database);
        if (url.isEmpty())
            *fail = m_maria->error();
        return url;
    }
    *fail = QStringLiteral("unknown catalog backend \"%1\"").arg(backend);
    return {};
}

} // namespace quire::test
