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

namespace {

// The server, started on first use; null with *skip set when it is not installed or *fail set
// when it could not be started.
template <typename Server>
Server *started(std::unique_ptr<Server> &server, const char *kind, QString *skip, QString *fail)
{
    if (!Server::available()) {
        *skip = Server::missingMessage();
        return nullptr;
    }
    if (!server) {
        server = std::make_unique<Server>();
        if (!server->start()) {
            *fail = QStringLiteral("could not start the %1 test server: %2").arg(QLatin1StringView(kind), server->error());
            server.reset();
            return nullptr;
        }
        qInfo("%s test server started in %lld ms on port %d", kind, server->startupMs(), server->port());
    }
    return server.get();
}

} // namespace

QString CatalogServers::newLocation(const QString &backend, const QString &sqliteFolder, QString *skip, QString *fail)
{
    const int n = ++m_counter;
    if (backend == QLatin1StringView("sqlite"))
        return QDir(sqliteFolder).filePath(QStringLiteral("catalog-%1.sqlite").arg(n));
    const QString database = QStringLiteral("quire_%1").arg(n);
    auto create = [&](auto *server) {
        if (!server)
            return QString();
        const QString url = server->createDatabase(database);
        if (url.isEmpty())
            *fail = server->error();
        return url;
    };
    if (backend == QLatin1StringView("postgres"))
        return create(started(m_pg, "PostgreSQL", skip, fail));
    if (backend == QLatin1StringView("mariadb"))
        return create(started(m_maria, "MariaDB", skip, fail));
    *fail = QStringLiteral("unknown catalog backend \"%1\"").arg(backend);
    return {};
}

} // namespace quire::test
