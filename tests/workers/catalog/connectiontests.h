#pragma once

// What the ConnectionManager tests (tst_dbconnections, tst_dbconnectionhealth,
// tst_dbconnectionurls) share: a catalog location for each backend row, a one-off query on a
// thread of its own, and the servers' view of a connection.

#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"
#include "catalogservers.h"
#include "jobs/pooltask.h"

#include <QObject>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <optional>
#include <thread>

namespace quire::test {

inline bool registered(const QString &name)
{
    return QSqlDatabase::connectionNames().contains(name);
}

// The base of the connection test classes.
class ConnectionTests : public QObject
{
protected:
    std::optional<CatalogConfig> configFor(const QString &backend, QString *skip, QString *fail)
    {
        const QString location = m_servers.newLocation(
                backend, m_dir.filePath(QStringLiteral("conn-%1").arg(++m_counter)), skip, fail);
        if (location.isEmpty())
            return std::nullopt;
        return CatalogConfig{location};
    }

    // Opens a connection to `url` on a thread of its own, runs `sql` and puts the value of the
    // first row's `column` in *value; returns the error, or "" when it worked.
    static QString queryOnce(const QString &url, const QString &sql, QString *value, int column = 0)
    {
        ConnectionManager manager(CatalogConfig{url});
        QString error;
        std::thread t([&] {
            {
                const Result<QSqlDatabase> db = manager.database();
                if (!db) {
                    error = db.error();
                } else {
                    QSqlQuery q(*db);
                    if (!q.exec(sql) || !q.next())
                        error = q.lastError().text();
                    else
                        *value = q.value(column).toString();
                }
            }
            manager.releaseThisThread();
        });
        t.join();
        return error;
    }

    static void addBackends() { CatalogServers::addBackendRows(); }
    static void addServers()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("postgres") << QStringLiteral("postgres");
        QTest::newRow("mariadb") << QStringLiteral("mariadb");
    }

    // The server's id of a connection, and ending it from outside (as an administrator, a
    // restart or a fail-over would).
    static QString backendIdSql(const CatalogConfig &config)
    {
        return config.isPostgres() ? QStringLiteral("SELECT pg_backend_pid()") : QStringLiteral("SELECT CONNECTION_ID()");
    }
    bool endConnection(const CatalogConfig &config, qint64 id)
    {
        if (config.isPostgres())
            return pg().psql(QStringLiteral("postgres"), QStringLiteral("SELECT pg_terminate_backend(%1)").arg(id)).has_value();
        return maria().sql(QStringLiteral("mysql"), QStringLiteral("KILL %1").arg(id)).has_value();
    }

    PgServer &pg() { return *m_servers.postgres(); }
    MariaDbServer &maria() { return *m_servers.mariaDb(); }

    QTemporaryDir m_dir;
    CatalogServers m_servers;
    int m_counter = 0;
};

} // namespace quire::test

// Turns a backend name from the data table into a CatalogConfig, or skips/fails the test.
#define REQUIRE_BACKEND(backend, config)                                   \
    CatalogConfig config;                                                  \
    do {                                                                   \
        QString skip_;                                                     \
        QString fail_;                                                     \
        const auto c_ = configFor(backend, &skip_, &fail_);                \
        if (!skip_.isEmpty())                                              \
            QSKIP(qPrintable(skip_));                                      \
        if (!c_)                                                           \
            QFAIL(qPrintable(fail_));                                      \
        config = *c_;                                                      \
    } while (false)
