// ctest-labels: concurrency catalog
// Catalog connections that go bad: re-validated after idle, replaced when the server ends them
// or when they are old (never under a transaction), errors that name the catalog, and which
// failures are worth another try. Runs against SQLite, a throw-away PostgreSQL and MariaDB.
#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"
#include "catalog/transaction.h"
#include "connectiontests.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <chrono>
#include <semaphore>
#include <thread>

using namespace quire;
using namespace quire::test;
using namespace std::chrono_literals;

namespace {

// A row of classifiesSqlErrors: an error as a driver reports it (code, database text, type) and
// what it is worth trying again for.
struct SqlErrorCase
{
    const char *name;
    const char *code;
    const char *text;
    QSqlError::ErrorType type;
    SqlFailure failure;
};

} // namespace

Q_DECLARE_METATYPE(SqlErrorCase)

class TestDbConnectionHealth final : public ConnectionTests
{
    Q_OBJECT

private slots:
    void revalidatesAfterIdle_data() { addBackends(); }
    void revalidatesAfterIdle()
    {
        REQUIRE_ROW_BACKEND(config);
        ConnectionManager manager(config);
        QCOMPARE(manager.idleCheckAfter(), 30'000ms);
        manager.setIdleCheckAfter(std::chrono::hours(1));   // the worker's second request comes within it

        struct
        {
            QString first, early, afterKill, error;
            qint64 backendPid = 0;
            qint64 openedBefore = 0, openedAfter = 0;
            int openAfter = 0;
            bool queryAfterOk = false;
            bool firstStillRegistered = true;
        } r;
        std::binary_semaphore killed(0);
        std::binary_semaphore ready(0);
        const bool server = config.isServer();

        std::thread worker([&] {
            {
                const Result<QSqlDatabase> db = manager.database();
                if (!db) {
                    r.error = db.error();
                    ready.release();
                    return;
                }
                r.first = db->connectionName();
                // Within the idle window: no check, the same connection.
                const Result<QSqlDatabase> again = manager.database();
                r.early = again ? again->connectionName() : again.error();
                r.openedBefore = manager.connectionsOpened();
                QVariant pid;
                if (server && firstValue(db, backendIdSql(config), &pid).isEmpty())
                    r.backendPid = pid.toLongLong();
            }
            ready.release();
            killed.acquire();
            if (!server) {
                // SQLite has no server to lose: close the handle behind the manager's back instead.
                QSqlDatabase::database(r.first, false).close();
            }
            {
                const Result<QSqlDatabase> db = manager.database();
                if (!db) {
                    r.error = db.error();
                    return;
                }
                r.afterKill = db->connectionName();
                QSqlQuery q(*db);
                r.queryAfterOk = q.exec(QStringLiteral("SELECT 1")) && q.next();
                r.openedAfter = manager.connectionsOpened();
                r.openAfter = manager.openConnections();
                r.firstStillRegistered = registered(r.first);
            }
        });

        ready.acquire();
        const bool ended = server && r.backendPid > 0 && endConnection(config, r.backendPid);
        manager.setIdleCheckAfter(0ms);   // every request from now on comes after the idle window
        killed.release();
        worker.join();

        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.early, r.first);
        if (server)
            QVERIFY(ended);
        QVERIFY(r.queryAfterOk);
        QVERIFY(r.afterKill != r.first);
        QVERIFY(!r.firstStillRegistered);
        QCOMPARE(r.openedAfter, r.openedBefore + 1);
        QCOMPARE(r.openAfter, 1);
        QCOMPARE(manager.openConnections(), 0);
    }

    void openErrorsNameTheCatalog()
    {
        // Port 1 on loopback refuses at once; the message must say where, without the password.
        ConnectionManager manager(CatalogConfig{QStringLiteral("postgresql://quire:s3cret@127.0.0.1:1/nowhere")});
        QString error;
        std::thread t([&] {
            const Result<QSqlDatabase> db = manager.database();
            error = db ? QString() : db.error();
        });
        t.join();
        QVERIFY2(!error.isEmpty(), "connecting to port 1 should fail");
        QVERIFY2(error.contains(QLatin1StringView("postgresql://quire:***@127.0.0.1:1/nowhere")), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1StringView("s3cret")), qPrintable(error));
        // A server that cannot be reached is tried again a bounded number of times.
        QVERIFY2(error.contains(QLatin1StringView("(tried 4 times)")), qPrintable(error));
        QCOMPARE(manager.openConnections(), 0);
    }

    // The server ends the connection (a restart, an administrator, a fail-over): the next use
    // gets a new connection at once, without waiting for the idle check. (PostgreSQL: libpq marks
    // the connection bad; MariaDB: the error, reported through sqlErrorText() as the catalog's
    // code does, says the connection was lost.)
    void lostConnectionIsReplaced_data() { addServers(); }
    void lostConnectionIsReplaced()
    {
        REQUIRE_ROW_BACKEND(config);
        ConnectionManager manager(config);
        manager.setIdleCheckAfter(std::chrono::hours(1));
        std::binary_semaphore killed(0), asked(0);
        QString error;
        qint64 pid = 0;
        std::thread t([&] {
            QVariant id;
            error = firstValue(manager.database(), backendIdSql(config), &id);
            pid = id.toLongLong();
            asked.release();
            killed.acquire();
            {
                Result<QSqlDatabase> before = manager.database();
                QSqlQuery q(before ? *before : QSqlDatabase());
                if (q.exec(QStringLiteral("SELECT 1")))
                    error = QStringLiteral("a statement on the ended connection succeeded");
                else if (const QString text = sqlErrorText(QStringLiteral("test"), q.lastError());
                         lastSqlFailure() != SqlFailure::Lost)
                    error = QStringLiteral("not seen as a lost connection: ") + text;
            }
            if (const QString e = firstValue(manager.database(), backendIdSql(config), &id); !e.isEmpty())
                error = e;
            else if (id.toLongLong() == pid)
                error = QStringLiteral("still the old connection");
            manager.releaseThisThread();
        });
        asked.acquire();
        const bool terminated = error.isEmpty() && pid > 0 && endConnection(config, pid);
        killed.release();
        t.join();
        QVERIFY(terminated);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(manager.connectionsOpened(), 2);
    }

    // Old connections are replaced (a pool's recycle), but never under an open transaction.
    void maxAgeReplacesBetweenTransactions_data() { addBackends(); }
    void maxAgeReplacesBetweenTransactions()
    {
        REQUIRE_ROW_BACKEND(config);
        ConnectionManager manager(config);
        manager.setMaxAge(std::chrono::milliseconds(0));
        manager.setIdleCheckAfter(std::chrono::milliseconds(0));   // no pause needed before replacing
        QString error;
        qint64 openedInside = -1;
        onOwnThread(manager, [&] {
            {
                Result<QSqlDatabase> db = manager.database();
                if (!db) {
                    error = db.error();
                } else {
                    Transaction tx(*db, QStringLiteral("test"));
                    const Result<QSqlDatabase> inside = manager.database();
                    openedInside = manager.connectionsOpened();
                    if (!tx.ok() || !inside || inside->connectionName() != db->connectionName())
                        error = QStringLiteral("the connection changed under a transaction");
                    else if (const Status c = tx.commit(); !c)
                        error = c.error();
                }
            }
            if (error.isEmpty() && !manager.database())
                error = QStringLiteral("no new connection");
        });
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(openedInside, 1);
        QCOMPARE(manager.connectionsOpened(), 2);
    }

    // What an error says about trying again: MariaDB's and PostgreSQL's codes for a lost
    // connection and for lock conflicts, SQLite's busy codes; anything else is final.
    void classifiesSqlErrors_data()
    {
        QTest::addColumn<SqlErrorCase>("c");
        const auto statement = QSqlError::StatementError;
        const SqlErrorCase cases[] = {
            {"mariadb gone", "2006", "MySQL server has gone away", statement, SqlFailure::Lost},
            {"mariadb lost", "2013", {}, statement, SqlFailure::Lost},
            {"mariadb killed", "1927", {}, statement, SqlFailure::Lost},
            {"mariadb deadlock", "1213", {}, statement, SqlFailure::Conflict},
            {"mariadb lock wait", "1205", {}, statement, SqlFailure::Conflict},
            {"mariadb duplicate key", "1062", {}, statement, SqlFailure::Other},
            {"pg deadlock", "40P01", {}, statement, SqlFailure::Conflict},
            {"pg serialization", "40001", {}, statement, SqlFailure::Conflict},
            {"pg lock timeout", "55P03", {}, statement, SqlFailure::Conflict},
            {"pg admin shutdown", "57P01", {}, statement, SqlFailure::Lost},
            {"pg connection failure", "08006", {}, statement, SqlFailure::Lost},
            {"pg unique violation", "23505", {}, statement, SqlFailure::Other},
            {"pg closed, no code", {}, "server closed the connection unexpectedly", statement, SqlFailure::Lost},
            {"sqlite busy", "5", {}, statement, SqlFailure::Conflict},
            {"sqlite busy snapshot", "517", {}, statement, SqlFailure::Conflict},
            {"sqlite constraint", "19", {}, statement, SqlFailure::Other},
            {"connection error", {}, "whatever", QSqlError::ConnectionError, SqlFailure::Lost},
            {"no error", {}, {}, QSqlError::NoError, SqlFailure::None},
        };
        for (const SqlErrorCase &c : cases)
            QTest::newRow(c.name) << c;
    }
    void classifiesSqlErrors()
    {
        QFETCH(SqlErrorCase, c);
        // Qt's MySQL driver marks its messages; the others do not.
        const QString driverText = QTest::currentDataTag() && QByteArray(QTest::currentDataTag()).startsWith("mariadb")
                ? QStringLiteral("QMYSQL: Unable to execute query")
                : QStringLiteral("Unable to execute statement");
        const QSqlError error(driverText, QString::fromUtf8(c.text), c.type, QString::fromUtf8(c.code));
        QCOMPARE(int(classifySqlError(error)), int(c.failure));
        (void)sqlErrorText(QStringLiteral("test"), error);
        QCOMPARE(int(lastSqlFailure()), int(c.failure));
        QCOMPARE(takeLostConnectionNote(), c.failure == SqlFailure::Lost);
    }

    // retryTransient(): a conflict or a lost connection is tried again (the final error says how
    // often and names the catalog); anything else, or anything inside an open transaction, is not.
    void retriesTransientFailures()
    {
        int calls = 0;
        auto failing = [&](SqlFailure kind, int failures) {
            return [&calls, kind, failures]() -> Status {
                if (++calls > failures)
                    return {};
                noteSqlFailure(kind);
                return Status::failure(QStringLiteral("attempt %1 failed").arg(calls));
            };
        };
        Status s = retryTransient(failing(SqlFailure::Conflict, 2), QStringLiteral("mysql://db/cat"));
        QVERIFY(s.ok());
        QCOMPARE(calls, 3);

        calls = 0;
        s = retryTransient(failing(SqlFailure::Other, 1), QStringLiteral("mysql://db/cat"));
        QCOMPARE(calls, 1);
        QCOMPARE(s.error(), QStringLiteral("attempt 1 failed"));

        calls = 0;
        s = retryTransient(failing(SqlFailure::Lost, 100), QStringLiteral("mysql://db/cat"));
        QCOMPARE(calls, kMaxSqlRetries + 1);
        QCOMPARE(s.error(), QStringLiteral("attempt %1 failed (tried %1 times; catalog mysql://db/cat)").arg(kMaxSqlRetries + 1));

        // Inside a transaction the outer call is the one retried.
        const QString path = m_dir.filePath(QStringLiteral("retry/catalog.sqlite"));
        ConnectionManager manager(CatalogConfig{path});
        int inner = -1;
        onOwnThread(manager, [&] {
            const Result<QSqlDatabase> db = manager.database();
            if (db) {
                Transaction tx(*db, QStringLiteral("outer"));
                calls = 0;
                (void)retryTransient(failing(SqlFailure::Conflict, 100));
                inner = calls;
            }
        });
        QCOMPARE(inner, 1);
    }
};

QTEST_GUILESS_MAIN(TestDbConnectionHealth)
#include "tst_dbconnectionhealth.moc"
