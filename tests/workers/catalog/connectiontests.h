#pragma once

// What the ConnectionManager tests (tst_dbconnections, tst_dbconnectionhealth,
// tst_dbconnectionurls) share: a catalog location for each backend row, a one-off query on a
// thread of its own, and the servers' view of a connection.

#include "backendtests.h"
#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"
#include "jobs/pooltask.h"

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <functional>
#include <optional>
#include <thread>

namespace quire::test {

inline bool registered(const QString &name)
{
    return QSqlDatabase::connectionNames().contains(name);
}

// The base of the connection test classes.
class ConnectionTests : public BackendTests
{
protected:
    std::optional<CatalogConfig> configFor(const QString &backend, QString *skip, QString *fail)
    {
        const QString location = newLocation(backend, skip, fail);
        if (location.isEmpty())
            return std::nullopt;
        return CatalogConfig{location};
    }

    // Runs body on a thread of its own, gives back that thread's connection of `manager` when
    // body returns, and waits for the thread to end.
    static void onOwnThread(ConnectionManager &manager, const std::function<void()> &body)
    {
        std::thread t([&] {
            body();
            manager.releaseThisThread();
        });
        t.join();
    }

    // Runs `sql` on the connection `db` and puts the value of the first row's `column` in
    // *value; returns the error, or "" when it worked.
    static QString firstValue(const Result<QSqlDatabase> &db, const QString &sql, QVariant *value, int column = 0)
    {
        if (!db)
            return db.error();
        QSqlQuery q(*db);
        if (!q.exec(sql) || !q.next())
            return q.lastError().text();
        *value = q.value(column);
        return QString();
    }

    // Opens a connection to `url` on a thread of its own and gives firstValue() of `sql` on it.
    static QString queryOnce(const QString &url, const QString &sql, QString *value, int column = 0)
    {
        ConnectionManager manager(CatalogConfig{url});
        QString error;
        QVariant found;
        onOwnThread(manager, [&] { error = firstValue(manager.database(), sql, &found, column); });
        if (error.isEmpty())
            *value = found.toString();
        return error;
    }

    // Logs in with `url` and asks the server who it is (`currentUserSql`): "" when it is the
    // servers' quire_password user, else the error or the user it is.
    static QString loginError(const QString &url, const QString &currentUserSql)
    {
        QString user;
        const QString error = queryOnce(url, currentUserSql, &user);
        if (error.isEmpty() && user.section(u'@', 0, 0) != QLatin1StringView("quire_password"))
            return QStringLiteral("connected as ") + user;
        return error;
    }

    // What a login does with $QUIRE_CATALOG_PASSWORD, which login(value) sets before it logs in:
    // without it (and without the database tools' file, `file`) the error says where a password
    // comes from; a wrong one is refused (`refusal`), not tried again and not shown; `password`
    // logs in.
    static void checkPasswordFromEnvironment(const std::function<QString(const QByteArray &)> &login,
                                             const QString &password, QLatin1StringView file, QLatin1StringView refusal)
    {
        QString error = login(QByteArray());
        QVERIFY2(error.contains(QLatin1StringView("$QUIRE_CATALOG_PASSWORD")) && error.contains(file), qPrintable(error));
        error = login("wrong");
        QVERIFY2(error.contains(refusal), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1StringView("tried")), qPrintable(error));   // not worth another try
        QVERIFY2(!error.contains(QLatin1StringView("wrong")), qPrintable(error));
        error = login(password.toUtf8());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

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

// The same for the backend of the test's row.
#define REQUIRE_ROW_BACKEND(config)                                        \
    QFETCH(QString, backend);                                              \
    REQUIRE_BACKEND(backend, config)
