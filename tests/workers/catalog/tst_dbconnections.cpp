// ctest-labels: concurrency catalog
// Per-thread catalog connections: one per thread, owned by it, closed with it, re-validated
// after idle, refused on the GUI thread. Runs against SQLite and a throw-away PostgreSQL.
#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"
#include "catalogservers.h"
#include "catalog/mariadburl.h"
#include "pgserver.h"
#include "catalog/pgurl.h"
#include "testca.h"
#include "testsupport.h"
#include "catalog/transaction.h"

#include <QFileInfo>
#include <QSet>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QThreadPool>
#include <QUrl>

#include <atomic>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <semaphore>
#include <thread>

using namespace quire;
using namespace std::chrono_literals;

namespace {

// A number for the calling thread, unique for the life of the process (QThread pointers and
// native thread ids are reused once a thread ends, which would hide ownership mistakes).
int threadToken()
{
    static std::atomic<int> next{1};
    thread_local const int token = next.fetch_add(1);
    return token;
}

// QThreadPool hands a task to its thread through QMutex/QWaitCondition, which ThreadSanitizer
// cannot see (Debian's Qt is not instrumented), so TSan would report the task reading its own
// captures as a race with the thread that created them. A release/acquire pair on an atomic
// around the hand-over shows TSan the ordering Qt provides; everything the task does is still
// checked.
std::atomic<quint64> g_handoff{0};

void startTask(QThreadPool &pool, std::function<void()> task)
{
    std::function<void()> wrapped = [task = std::move(task)] {
        g_handoff.load(std::memory_order_acquire);
        task();
    };
    g_handoff.fetch_add(1, std::memory_order_release);
    pool.start(std::move(wrapped));
}

bool registered(const QString &name)
{
    return QSqlDatabase::connectionNames().contains(name);
}

} // namespace

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

class TestDbConnections final : public QObject
{
    Q_OBJECT

private:
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

    static void addBackends() { test::CatalogServers::addBackendRows(); }
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

    test::PgServer &pg() { return *m_servers.postgres(); }
    test::MariaDbServer &maria() { return *m_servers.mariaDb(); }

    QTemporaryDir m_dir;
    test::CatalogServers m_servers;
    int m_counter = 0;

private slots:
    void initTestCase()
    {
        QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
    }


    void isGuiThread()
    {
        QVERIFY(ConnectionManager::isGuiThread());
        bool inWorker = true;
        std::thread t([&] { inWorker = ConnectionManager::isGuiThread(); });
        t.join();
        QVERIFY(!inWorker);
    }

    void refusedOnGuiThread()
    {
        ConnectionManager manager(CatalogConfig{m_dir.filePath(QStringLiteral("gui/catalog.sqlite"))});
        // Debug builds would assert; the test checks the refusal itself.
        ConnectionManager::setAssertOnGuiThread(false);
        const Result<QSqlDatabase> db = manager.database();
        ConnectionManager::setAssertOnGuiThread(true);
        QVERIFY(!db.ok());
        QVERIFY2(db.error().contains(QLatin1StringView("GUI thread")), qPrintable(db.error()));
        QCOMPARE(manager.openConnections(), 0);
        QCOMPARE(manager.connectionsOpened(), 0);
        QVERIFY(!QFileInfo::exists(m_dir.filePath(QStringLiteral("gui/catalog.sqlite"))));
    }

    void distinctConnectionPerThread_data() { addBackends(); }
    void distinctConnectionPerThread()
    {
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);
        constexpr int kThreads = 4;

        struct Seen
        {
            QString name;
            QString again;
            QString error;
            bool queryOk = false;
        };
        std::array<Seen, kThreads> seen;
        std::latch opened(kThreads);
        std::latch release(1);
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&, i] {
                Seen &s = seen[i];
                {
                    Result<QSqlDatabase> db = manager.database();
                    if (db) {
                        s.name = db->connectionName();
                        QSqlQuery q(*db);
                        s.queryOk = q.exec(QStringLiteral("SELECT 1")) && q.next() && q.value(0).toInt() == 1;
                        const Result<QSqlDatabase> again = manager.database();
                        s.again = again ? again->connectionName() : again.error();
                    } else {
                        s.error = db.error();
                    }
                }
                opened.count_down();
                release.wait();   // keep every thread (and its connection) alive at once
            });
        }
        opened.wait();
        const int openWhileAlive = manager.openConnections();
        release.count_down();
        for (std::thread &t : threads)
            t.join();

        QSet<QString> names;
        for (const Seen &s : seen) {
            QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
            QVERIFY(s.queryOk);
            QCOMPARE(s.again, s.name);   // the same thread gets the same connection back
            QVERIFY2(s.name.startsWith(QLatin1StringView("quire-")), qPrintable(s.name));
            names.insert(s.name);
        }
        QCOMPARE(names.size(), kThreads);
        QCOMPARE(openWhileAlive, kThreads);
        QCOMPARE(manager.connectionsOpened(), kThreads);
        // std::thread::join returns after the thread ended, and with it its per-thread connections
        // (for a thread Qt did not start, QThreadStorage data goes at pthread exit).
        QCOMPARE(manager.openConnections(), 0);
        for (const QString &name : std::as_const(names))
            QVERIFY2(!registered(name), qPrintable(name));
    }

    void closedWhenPoolThreadsExpire_data() { addBackends(); }
    void closedWhenPoolThreadsExpire()
    {
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);
        constexpr int kThreads = 4;
        const int baseline = manager.openConnections();

        QThreadPool pool;
        pool.setMaxThreadCount(kThreads);
        pool.setExpiryTimeout(100);

        std::mutex mutex;
        QStringList names;
        QStringList errors;
        std::latch allOpen(kThreads);
        for (int i = 0; i < kThreads; ++i) {
            startTask(pool, [&] {
                {
                    const Result<QSqlDatabase> db = manager.database();
                    std::lock_guard lock(mutex);
                    if (db)
                        names.append(db->connectionName());
                    else
                        errors.append(db.error());
                }
                // Wait for the others, so that each task runs on its own pool thread.
                allOpen.arrive_and_wait();
            });
        }
        QTRY_COMPARE_WITH_TIMEOUT(manager.openConnections(), baseline + kThreads, 30'000);
        {
            std::lock_guard lock(mutex);
            QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
            QCOMPARE(QSet<QString>(names.begin(), names.end()).size(), kThreads);
            for (const QString &name : std::as_const(names))
                QVERIFY2(registered(name), qPrintable(name));
        }

        // Idle pool threads expire after 100 ms; each closes and removes its connection as it ends.
        QTRY_COMPARE_WITH_TIMEOUT(pool.activeThreadCount(), 0, 30'000);
        QTRY_COMPARE_WITH_TIMEOUT(manager.openConnections(), baseline, 30'000);
        for (const QString &name : std::as_const(names))
            QTRY_VERIFY2_WITH_TIMEOUT(!registered(name), qPrintable(name), 30'000);
        QCOMPARE(manager.connectionsOpened(), kThreads);

        // A new pool thread gets a new connection under a new name (a counter, never reused).
        QString fresh;
        startTask(pool, [&] {
            const Result<QSqlDatabase> db = manager.database();
            std::lock_guard lock(mutex);
            fresh = db ? db->connectionName() : db.error();
        });
        QVERIFY(pool.waitForDone(30'000));
        {
            std::lock_guard lock(mutex);
            QVERIFY2(fresh.startsWith(QLatin1StringView("quire-")), qPrintable(fresh));
            QVERIFY(!names.contains(fresh));
        }
        QTRY_COMPARE_WITH_TIMEOUT(manager.openConnections(), baseline, 30'000);
    }

    void usedOnlyByOwnerThread_data() { addBackends(); }
    void usedOnlyByOwnerThread()
    {
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);

        QThreadPool pool;
        pool.setMaxThreadCount(4);
        pool.setExpiryTimeout(30);   // threads come and go between the waves below

        std::mutex mutex;
        std::map<QString, int> owner;   // connection name -> thread token
        QStringList problems;
        for (int wave = 0; wave < 5; ++wave) {
            for (int task = 0; task < 40; ++task) {
                startTask(pool, [&] {
                    const int me = threadToken();
                    const Result<QSqlDatabase> db = manager.database();
                    QString problem;
                    if (!db) {
                        problem = db.error();
                    } else {
                        // Qt's view: the driver object lives in the thread that opened it.
                        if (db->driver()->thread() != QThread::currentThread())
                            problem = QStringLiteral("%1: driver lives in another thread").arg(db->connectionName());
                        QSqlQuery q(*db);
                        if (!q.exec(QStringLiteral("SELECT 1")))
                            problem = q.lastError().text();
                    }
                    std::lock_guard lock(mutex);
                    if (!problem.isEmpty()) {
                        problems.append(problem);
                        return;
                    }
                    const auto [it, inserted] = owner.emplace(db->connectionName(), me);
                    if (!inserted && it->second != me)
                        problems.append(QStringLiteral("%1 used by threads %2 and %3").arg(it->first).arg(it->second).arg(me));
                });
            }
            QVERIFY(pool.waitForDone(60'000));
            // The idle threads expire and close their connections, so the next wave opens new
            // ones on new threads.
            QTRY_COMPARE_WITH_TIMEOUT(manager.openConnections(), 0, 30'000);
        }
        std::lock_guard lock(mutex);   // waitForDone() synchronises through Qt locks TSan cannot see
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
        QVERIFY(owner.size() >= 2);
        QCOMPARE(qint64(owner.size()), manager.connectionsOpened());
        QTRY_COMPARE_WITH_TIMEOUT(manager.openConnections(), 0, 30'000);
    }

    void revalidatesAfterIdle_data() { addBackends(); }
    void revalidatesAfterIdle()
    {
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);
        QCOMPARE(manager.idleCheckAfter(), 30'000ms);
        manager.setIdleCheckAfter(50ms);

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
                if (server) {
                    QSqlQuery q(*db);
                    if (q.exec(backendIdSql(config)) && q.next())
                        r.backendPid = q.value(0).toLongLong();
                }
            }
            ready.release();
            killed.acquire();
            if (!server) {
                // SQLite has no server to lose: close the handle behind the manager's back instead.
                QSqlDatabase::database(r.first, false).close();
            }
            std::this_thread::sleep_for(120ms);   // longer than the idle check interval
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

    void releaseThisThread()
    {
        ConnectionManager manager(CatalogConfig{m_dir.filePath(QStringLiteral("release/catalog.sqlite"))});
        QString first, second, error;
        int openAfterRelease = -1;
        bool firstRegistered = true;
        std::thread t([&] {
            {
                const Result<QSqlDatabase> db = manager.database();
                if (!db) {
                    error = db.error();
                    return;
                }
                first = db->connectionName();
            }
            manager.releaseThisThread();
            openAfterRelease = manager.openConnections();
            firstRegistered = registered(first);
            const Result<QSqlDatabase> db = manager.database();
            second = db ? db->connectionName() : db.error();
        });
        t.join();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(openAfterRelease, 0);
        QVERIFY(!firstRegistered);
        QVERIFY(second.startsWith(QLatin1StringView("quire-")));
        QVERIFY(second != first);
        QCOMPARE(manager.connectionsOpened(), 2);
        QCOMPARE(manager.openConnections(), 0);
    }

    // preparedStatement(): one prepared statement per text, thread and connection, kept until the
    // connection closes, bounded in number, and a bad statement is an error that names the cause.
    void preparedStatementsPerThread_data() { addBackends(); }
    void preparedStatementsPerThread()
    {
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);
        const QString sql = QStringLiteral("SELECT ? + 1");
        struct Seen
        {
            QSqlQuery *first = nullptr;
            QSqlQuery *again = nullptr;
            QSqlQuery *afterRelease = nullptr;
            QSqlQuery *afterMany = nullptr;
            QVariant value;
            QString error;
            QString badError;
        };
        auto use = [&](Seen &seen) {
            QString error;
            const auto q = manager.preparedStatement(sql, &error);
            if (!q) {
                seen.error = error;
                return;
            }
            seen.first = q.get();
            q->bindValue(0, 41);
            if (!q->exec() || !q->next()) {
                seen.error = q->lastError().text();
                return;
            }
            seen.value = q->value(0);
            q->finish();
            seen.again = manager.preparedStatement(sql, &error).get();
            // More distinct statements than are kept: the oldest go, everything still works.
            for (int i = 0; i < ConnectionManager::kMaxPreparedStatements + 10; ++i) {
                if (!manager.preparedStatement(QStringLiteral("SELECT %1").arg(i), &error)) {
                    seen.error = error;
                    return;
                }
            }
            const auto afterMany = manager.preparedStatement(sql, &error);
            seen.afterMany = afterMany.get();
            if (afterMany)
                afterMany->bindValue(0, 41);
            if (!afterMany || !afterMany->exec() || !afterMany->next() || afterMany->value(0).toInt() != 42)
                seen.error = QStringLiteral("the statement failed after the cache was trimmed: ") + error;
            else
                afterMany->finish();
            manager.releaseThisThread();
            seen.afterRelease = manager.preparedStatement(sql, &error).get();
            if (manager.preparedStatement(QStringLiteral("SELECT FROM WHERE"), &seen.badError))
                seen.badError = QStringLiteral("a statement that cannot be parsed was prepared");
        };
        Seen a, b;
        std::thread ta([&] { use(a); });
        ta.join();
        std::thread tb([&] { use(b); });
        tb.join();
        for (const Seen *s : {&a, &b}) {
            QVERIFY2(s->error.isEmpty(), qPrintable(s->error));
            QCOMPARE(s->value.toInt(), 42);
            QVERIFY(s->first);
            QCOMPARE(s->again, s->first);           // the same prepared statement, not a new one
            QVERIFY(s->afterRelease);
            QVERIFY(!s->badError.isEmpty());
            QVERIFY2(s->badError.contains(QLatin1StringView("syntax"), Qt::CaseInsensitive), qPrintable(s->badError));
        }
        QCOMPARE(manager.openConnections(), 0);     // both threads released theirs
    }

    // The per-thread holder shares the manager's state: a thread that outlives its manager still
    // closes that manager's connection, at its next request for any connection or when it ends.
    void threadOutlivesManager_data()
    {
        QTest::addColumn<bool>("useAnotherManager");
        QTest::newRow("closed at thread end") << false;
        QTest::newRow("closed at next request") << true;
    }
    void threadOutlivesManager()
    {
        QFETCH(bool, useAnotherManager);
        auto first = std::make_unique<ConnectionManager>(
                CatalogConfig{m_dir.filePath(QStringLiteral("outlive-%1/a.sqlite").arg(++m_counter))});
        ConnectionManager second(CatalogConfig{m_dir.filePath(QStringLiteral("outlive-%1/b.sqlite").arg(m_counter))});
        QString name, error;
        bool registeredAfterNextRequest = true;
        std::binary_semaphore opened(0), destroyed(0);
        std::thread t([&] {
            {
                const Result<QSqlDatabase> db = first->database();
                if (db)
                    name = db->connectionName();
                else
                    error = db.error();
            }
            opened.release();
            destroyed.acquire();
            if (useAnotherManager) {
                const Result<QSqlDatabase> db = second.database();
                if (!db)
                    error = db.error();
                registeredAfterNextRequest = registered(name);
            }
        });
        opened.acquire();
        const bool registeredBefore = registered(name);
        first.reset();   // on the GUI thread: it cannot close the worker's connection itself
        const bool registeredAfterDestruction = registered(name);
        destroyed.release();
        t.join();

        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(registeredBefore);
        QVERIFY(registeredAfterDestruction);
        if (useAnotherManager)
            QVERIFY(!registeredAfterNextRequest);
        QVERIFY(!registered(name));
        QCOMPARE(second.openConnections(), 0);
    }

    void sqliteFolderIsCreated()
    {
        const QString path = m_dir.filePath(QStringLiteral("deep/er/catalog.sqlite"));
        ConnectionManager manager(CatalogConfig{path});
        QString error;
        std::thread t([&] {
            const Result<QSqlDatabase> db = manager.database();
            if (!db)
                error = db.error();
        });
        t.join();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY(QFileInfo::exists(path));
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
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);
        manager.setIdleCheckAfter(std::chrono::hours(1));
        std::binary_semaphore killed(0), asked(0);
        QString error;
        qint64 pid = 0;
        std::thread t([&] {
            {
                Result<QSqlDatabase> db = manager.database();
                QSqlQuery q(db ? *db : QSqlDatabase());
                if (!db || !q.exec(backendIdSql(config)) || !q.next())
                    error = db ? q.lastError().text() : db.error();
                else
                    pid = q.value(0).toLongLong();
            }
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
            {
                Result<QSqlDatabase> after = manager.database();
                QSqlQuery q(after ? *after : QSqlDatabase());
                if (!after)
                    error = after.error();
                else if (!q.exec(backendIdSql(config)) || !q.next())
                    error = q.lastError().text();
                else if (q.value(0).toLongLong() == pid)
                    error = QStringLiteral("still the old connection");
            }
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
        QFETCH(QString, backend);
        REQUIRE_BACKEND(backend, config);
        ConnectionManager manager(config);
        manager.setMaxAge(std::chrono::milliseconds(0));
        manager.setIdleCheckAfter(std::chrono::milliseconds(0));   // no pause needed before replacing
        QString error;
        qint64 openedInside = -1;
        std::thread t([&] {
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
            manager.releaseThisThread();
        });
        t.join();
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QCOMPARE(openedInside, 1);
        QCOMPARE(manager.connectionsOpened(), 2);
    }

    // A catalog password never needs to be in the URL: $QUIRE_CATALOG_PASSWORD, else libpq's
    // own password file. Without either, the error says where a password comes from.
    void postgresPasswordFromTheEnvironmentOrPgpass()
    {
        REQUIRE_BACKEND(QStringLiteral("postgres"), superuser);
        const QString database = superuser.location.section(u'/', -1);
        const QString password = QStringLiteral("p\u00e4ss 'word:1");
        const QString url = pg().passwordUserUrl(database, password);
        QVERIFY2(!url.isEmpty(), qPrintable(pg().error()));
        QVERIFY(!CatalogConfig{url}.passwordInUrl());
        QString withPassword = superuser.location;
        withPassword.replace(QStringLiteral("postgres@"), QStringLiteral("postgres:x@"));
        QVERIFY(CatalogConfig{withPassword}.passwordInUrl());

        test::ScopedEnv env;
        env.set("PGPASSWORD", QByteArray());
        const QString noFile = m_dir.filePath(QStringLiteral("no-such-pgpass"));
        auto connect = [&](const QByteArray &envPassword, const QString &passFile) {
            env.set("QUIRE_CATALOG_PASSWORD", envPassword);
            env.set("PGPASSFILE", QFile::encodeName(passFile));
            QString user;
            const QString error = queryOnce(url, QStringLiteral("SELECT current_user"), &user);
            if (error.isEmpty() && user != QLatin1StringView("quire_password"))
                return QStringLiteral("connected as ") + user;
            return error;
        };

        QString error = connect(QByteArray(), noFile);
        QVERIFY2(error.contains(QLatin1StringView("$QUIRE_CATALOG_PASSWORD")) && error.contains(QLatin1StringView("pgpass")),
                 qPrintable(error));
        error = connect("wrong", noFile);
        QVERIFY2(error.contains(QLatin1StringView("password authentication failed")), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1StringView("tried")), qPrintable(error));   // not worth another try
        QVERIFY2(!error.contains(QLatin1StringView("wrong")), qPrintable(error));
        error = connect(password.toUtf8(), noFile);
        QVERIFY2(error.isEmpty(), qPrintable(error));

        // ~/.pgpass's format: host:port:database:user:password, ':' and '\\' escaped, mode 0600.
        const QString passFile = m_dir.filePath(QStringLiteral("pgpass"));
        {
            QFile f(passFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QString escaped = password;
            escaped.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char(':'), QStringLiteral("\\:"));
            f.write(QStringLiteral("127.0.0.1:%1:%2:quire_password:%3\n").arg(pg().port()).arg(database, escaped).toUtf8());
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        }
        error = connect(QByteArray(), passFile);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    // MariaDB the same way: $QUIRE_CATALOG_PASSWORD, else the [client] (or [client-mariadb])
    // group of ~/.my.cnf, as the mariadb tools read it; without either, the error says where a
    // password comes from; a wrong one is not tried again.
    void mariaDbPasswordFromTheEnvironmentOrMyCnf()
    {
        REQUIRE_BACKEND(QStringLiteral("mariadb"), root);
        const QString database = root.location.section(u'/', -1);
        const QString password = QStringLiteral("p\u00e4ss 'wo\"rd#1");
        const QString url = maria().passwordUserUrl(database, password);
        QVERIFY2(!url.isEmpty(), qPrintable(maria().error()));
        QVERIFY(!CatalogConfig{url}.passwordInUrl());
        QString withPassword = url;
        withPassword.replace(QStringLiteral("quire_password@"), QStringLiteral("quire_password:x%40y@"));
        QVERIFY(CatalogConfig{withPassword}.passwordInUrl());
        QCOMPARE(CatalogConfig{withPassword}.displayLocation(), url);

        QTemporaryDir home;
        QVERIFY(home.isValid());
        test::ScopedEnv env;
        env.set("HOME", QFile::encodeName(home.path()));
        auto connect = [&](const QByteArray &envPassword) {
            env.set("QUIRE_CATALOG_PASSWORD", envPassword);
            QString user;
            const QString error = queryOnce(url, QStringLiteral("SELECT CURRENT_USER()"), &user);
            if (error.isEmpty() && !user.startsWith(QLatin1StringView("quire_password@")))
                return QStringLiteral("connected as ") + user;
            return error;
        };

        QString error = connect(QByteArray());
        QVERIFY2(error.contains(QLatin1StringView("$QUIRE_CATALOG_PASSWORD")) && error.contains(QLatin1StringView("my.cnf")),
                 qPrintable(error));
        error = connect("wrong");
        QVERIFY2(error.contains(QLatin1StringView("Access denied")), qPrintable(error));
        QVERIFY2(!error.contains(QLatin1StringView("tried")), qPrintable(error));   // not worth another try
        QVERIFY2(!error.contains(QLatin1StringView("wrong")), qPrintable(error));
        error = connect(password.toUtf8());
        QVERIFY2(error.isEmpty(), qPrintable(error));

        // ~/.my.cnf: the [client] group, a quoted value with escapes; other groups are not read.
        {
            QFile f(home.filePath(QStringLiteral(".my.cnf")));
            QVERIFY(f.open(QIODevice::WriteOnly));
            QString quoted = password;
            quoted.replace(QLatin1Char('\\'), QStringLiteral("\\\\")).replace(QLatin1Char('"'), QStringLiteral("\\\""));
            f.write(QStringLiteral("[mysqld]\npassword = not-this-one\n\n# the client tools' group\n[client]\n"
                                   "user = someone\npassword = \"%1\"\n").arg(quoted).toUtf8());
            QVERIFY(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        }
        error = connect(QByteArray());
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    // TLS when the URL asks for it (?ssl-ca=): the session is encrypted, and a server whose
    // certificate that CA did not sign is refused, not connected to.
    void mariaDbOverTls()
    {
        if (!test::MariaDbServer::available())
            QSKIP(qPrintable(test::MariaDbServer::missingMessage()));
        test::TestCa ca;
        QVERIFY2(ca.create(), qPrintable(ca.error()));
        test::MariaDbServer server;
        server.setTls(ca.good().certPath, ca.good().keyPath, ca.caCertPath());
        QVERIFY2(server.start(), qPrintable(server.error()));
        QVERIFY2(!server.createDatabase(QStringLiteral("tls")).isEmpty(), qPrintable(server.error()));
        auto connect = [&](const QString &url, QString *cipher) {
            return queryOnce(url, QStringLiteral("SHOW SESSION STATUS LIKE 'Ssl_cipher'"), cipher, 1);
        };
        const QString base = server.url(QStringLiteral("tls"));
        QString cipher;
        QString error = connect(base + QStringLiteral("?ssl-ca=") + QString::fromUtf8(QUrl::toPercentEncoding(ca.caCertPath())),
                                &cipher);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        QVERIFY2(!cipher.isEmpty(), "the session is not encrypted");

        // A CA that did not sign the server's certificate (the self-signed one's own).
        cipher.clear();
        error = connect(base + QStringLiteral("?ssl-ca=") + QString::fromUtf8(QUrl::toPercentEncoding(ca.selfSigned().certPath)),
                        &cipher);
        QVERIFY2(!error.isEmpty(), qPrintable(QStringLiteral("connected, cipher ") + cipher));
        QVERIFY2(error.contains(QLatin1StringView("certificate"), Qt::CaseInsensitive)
                         || error.contains(QLatin1StringView("TLS"), Qt::CaseInsensitive)
                         || error.contains(QLatin1StringView("SSL"), Qt::CaseInsensitive),
                 qPrintable(error));
        QVERIFY2(!error.contains(QLatin1StringView("tried")), qPrintable(error));   // not worth another try

        // A certificate from that CA, but for another host name: refused too (checked by Quire
        // before libmariadb connects; Qt 6.4's driver cannot ask libmariadb to check names).
        test::MariaDbServer other;
        other.setTls(ca.wrongHost().certPath, ca.wrongHost().keyPath, ca.caCertPath());
        QVERIFY2(other.start(), qPrintable(other.error()));
        QVERIFY2(!other.createDatabase(QStringLiteral("tls")).isEmpty(), qPrintable(other.error()));
        cipher.clear();
        error = connect(other.url(QStringLiteral("tls")) + QStringLiteral("?ssl-ca=")
                                + QString::fromUtf8(QUrl::toPercentEncoding(ca.caCertPath())),
                        &cipher);
        QVERIFY2(!error.isEmpty(), qPrintable(QStringLiteral("connected, cipher ") + cipher));
        QVERIFY2(error.contains(QLatin1StringView("host name"), Qt::CaseInsensitive), qPrintable(error));
    }

    // What an error says about trying again: MariaDB's and PostgreSQL's codes for a lost
    // connection and for lock conflicts, SQLite's busy codes; anything else is final.
    void classifiesSqlErrors_data()
    {
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("failure");
        const int statement = QSqlError::StatementError;
        QTest::newRow("mariadb gone") << QStringLiteral("2006") << QStringLiteral("MySQL server has gone away") << statement << int(SqlFailure::Lost);
        QTest::newRow("mariadb lost") << QStringLiteral("2013") << QString() << statement << int(SqlFailure::Lost);
        QTest::newRow("mariadb killed") << QStringLiteral("1927") << QString() << statement << int(SqlFailure::Lost);
        QTest::newRow("mariadb deadlock") << QStringLiteral("1213") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("mariadb lock wait") << QStringLiteral("1205") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("mariadb duplicate key") << QStringLiteral("1062") << QString() << statement << int(SqlFailure::Other);
        QTest::newRow("pg deadlock") << QStringLiteral("40P01") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("pg serialization") << QStringLiteral("40001") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("pg lock timeout") << QStringLiteral("55P03") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("pg admin shutdown") << QStringLiteral("57P01") << QString() << statement << int(SqlFailure::Lost);
        QTest::newRow("pg connection failure") << QStringLiteral("08006") << QString() << statement << int(SqlFailure::Lost);
        QTest::newRow("pg unique violation") << QStringLiteral("23505") << QString() << statement << int(SqlFailure::Other);
        QTest::newRow("pg closed, no code") << QString() << QStringLiteral("server closed the connection unexpectedly")
                                           << statement << int(SqlFailure::Lost);
        QTest::newRow("sqlite busy") << QStringLiteral("5") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("sqlite busy snapshot") << QStringLiteral("517") << QString() << statement << int(SqlFailure::Conflict);
        QTest::newRow("sqlite constraint") << QStringLiteral("19") << QString() << statement << int(SqlFailure::Other);
        QTest::newRow("connection error") << QString() << QStringLiteral("whatever") << int(QSqlError::ConnectionError)
                                          << int(SqlFailure::Lost);
        QTest::newRow("no error") << QString() << QString() << int(QSqlError::NoError) << int(SqlFailure::None);
    }
    void classifiesSqlErrors()
    {
        QFETCH(QString, code);
        QFETCH(QString, text);
        QFETCH(int, type);
        QFETCH(int, failure);
        // Qt's MySQL driver marks its messages; the others do not.
        const QString driverText = QTest::currentDataTag() && QByteArray(QTest::currentDataTag()).startsWith("mariadb")
                ? QStringLiteral("QMYSQL: Unable to execute query")
                : QStringLiteral("Unable to execute statement");
        const QSqlError error(driverText, text, QSqlError::ErrorType(type), code);
        QCOMPARE(int(classifySqlError(error)), failure);
        (void)sqlErrorText(QStringLiteral("test"), error);
        QCOMPARE(int(lastSqlFailure()), failure);
        QCOMPARE(takeLostConnectionNote(), failure == int(SqlFailure::Lost));
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
        std::thread t([&] {
            {
                const Result<QSqlDatabase> db = manager.database();
                if (db) {
                    Transaction tx(*db, QStringLiteral("outer"));
                    calls = 0;
                    (void)retryTransient(failing(SqlFailure::Conflict, 100));
                    inner = calls;
                }
            }
            manager.releaseThisThread();
        });
        t.join();
        QCOMPARE(inner, 1);
    }

    void optionFilePassword_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QString>("password");
        QTest::newRow("bare") << QByteArray("[client]\npassword=abc\n") << QStringLiteral("abc");
        QTest::newRow("spaces, comment") << QByteArray("[client]\n  password = abc def # note\n") << QStringLiteral("abc def");
        QTest::newRow("single quotes") << QByteArray("[client]\npassword='a#b c'\n") << QStringLiteral("a#b c");
        QTest::newRow("double quotes, escapes") << QByteArray("[client]\npassword=\"a\\\"b\\\\c\"\n")
                                                << QStringLiteral("a\"b\\c");
        QTest::newRow("client-mariadb wins") << QByteArray("[client-mariadb]\npassword=m\n[client]\npassword=c\n")
                                             << QStringLiteral("m");
        QTest::newRow("other groups ignored") << QByteArray("[mysql]\npassword=x\n[mysqld]\npassword=y\n") << QString();
        QTest::newRow("underscore key") << QByteArray("[CLIENT]\npass_word=no\npassword=yes\n") << QStringLiteral("yes");
        QTest::newRow("utf-8") << QByteArray("[client]\npassword=p\xc3\xa4ss\n") << QStringLiteral("p\u00e4ss");
        QTest::newRow("none") << QByteArray("") << QString();
    }
    void optionFilePassword()
    {
        QFETCH(QByteArray, file);
        QFETCH(QString, password);
        const QString path = m_dir.filePath(QStringLiteral("my-%1.cnf").arg(++m_counter));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(file);
        f.close();
        QCOMPARE(quire::optionFilePassword(path), password);
    }

    // Read by QUrl (percent-decoding, IPv6 literals); parameters checked, a password never shown.
    void mariaDbUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("database");
        QTest::addColumn<QString>("socket");
        QTest::addColumn<QString>("display");
        QTest::newRow("full") << QStringLiteral("mysql://alice:pw@db.example:3307/quire") << true << QStringLiteral("alice")
                              << QStringLiteral("pw") << QStringLiteral("db.example") << 3307 << QStringLiteral("quire")
                              << QString() << QStringLiteral("mysql://alice@db.example:3307/quire");
        QTest::newRow("mariadb scheme, default port") << QStringLiteral("mariadb://bob@localhost/cat") << true
                                                      << QStringLiteral("bob") << QString() << QStringLiteral("localhost")
                                                      << 3306 << QStringLiteral("cat") << QString()
                                                      << QStringLiteral("mariadb://bob@localhost/cat");
        QTest::newRow("percent-encoded") << QStringLiteral("mysql://us%40er:p%3As%2Fs%40@h/my%20db%C3%A9") << true
                                         << QStringLiteral("us@er") << QStringLiteral("p:s/s@") << QStringLiteral("h") << 3306
                                         << QString::fromUtf8("my db\xc3\xa9") << QString() << QString();
        QTest::newRow("ipv6") << QStringLiteral("mysql://u@[::1]:3310/d") << true << QStringLiteral("u") << QString()
                              << QStringLiteral("::1") << 3310 << QStringLiteral("d") << QString()
                              << QStringLiteral("mysql://u@[::1]:3310/d");
        QTest::newRow("socket") << QStringLiteral("mysql://u@localhost/d?socket=/run/mysqld/mysqld.sock") << true
                                << QStringLiteral("u") << QString() << QStringLiteral("localhost") << 3306
                                << QStringLiteral("d") << QStringLiteral("/run/mysqld/mysqld.sock") << QString();
        QTest::newRow("encoded socket, no host") << QStringLiteral("mysql://u@/d?socket=%2Ftmp%2Fmy%20sock") << true
                                                 << QStringLiteral("u") << QString() << QString() << 3306
                                                 << QStringLiteral("d") << QStringLiteral("/tmp/my sock") << QString();
        QTest::newRow("no database") << QStringLiteral("mysql://u@h/") << false << QString() << QString() << QString() << 0
                                     << QString() << QString() << QString();
        QTest::newRow("two path parts") << QStringLiteral("mysql://u@h/a/b") << false << QString() << QString() << QString()
                                        << 0 << QString() << QString() << QString();
        QTest::newRow("unknown parameter") << QStringLiteral("mysql://u:secret@h/d?sslmode=off") << false << QString()
                                           << QString() << QString() << 0 << QString() << QString() << QString();
        QTest::newRow("client cert without CA") << QStringLiteral("mysql://u@h/d?ssl-cert=/c.pem&ssl-key=/k.pem") << false
                                                << QString() << QString() << QString() << 0 << QString() << QString()
                                                << QString();
        QTest::newRow("no host, no socket") << QStringLiteral("mysql:///d") << false << QString() << QString() << QString()
                                            << 0 << QString() << QString() << QString();
    }
    void mariaDbUrl()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        const CatalogConfig config{url};
        QVERIFY(config.isMariaDb());
        QVERIFY(!config.locationError());
        QString error;
        const std::optional<MariaDbUrl> parsed = parseMariaDbUrl(url, &error);
        QCOMPARE(parsed.has_value(), valid);
        QVERIFY2(!config.displayLocation().contains(QLatin1StringView("secret"))
                         && !config.displayLocation().contains(QLatin1StringView(":pw@")),
                 qPrintable(config.displayLocation()));
        if (!valid) {
            QVERIFY(!error.isEmpty());
            QVERIFY2(!error.contains(QLatin1StringView("secret")), qPrintable(error));
            return;
        }
        QFETCH(QString, user);
        QFETCH(QString, password);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, database);
        QFETCH(QString, socket);
        QFETCH(QString, display);
        QCOMPARE(parsed->user, user);
        QCOMPARE(parsed->password, password);
        QCOMPARE(parsed->host, host);
        QCOMPARE(parsed->port, port);
        QCOMPARE(parsed->database, database);
        QCOMPARE(parsed->socket, socket);
        if (!display.isEmpty())
            QCOMPARE(config.displayLocation(), display);
        QCOMPARE(config.passwordInUrl(), !password.isEmpty());
    }

    // As libpq's PQconninfoParse reads them (workers/catalog/pgurl.cpp), ports checked up front.
    void postgresUrl_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("user");
        QTest::addColumn<QString>("password");
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("port");
        QTest::addColumn<QString>("dbname");
        QTest::addColumn<QString>("display");

        QTest::newRow("full") << QStringLiteral("postgresql://alice:pw@db.example:5433/quire") << true
                              << QStringLiteral("alice") << QStringLiteral("pw") << QStringLiteral("db.example") << QStringLiteral("5433")
                              << QStringLiteral("quire") << QStringLiteral("postgresql://alice:***@db.example:5433/quire");
        QTest::newRow("short scheme, no password, default port")
                << QStringLiteral("postgres://bob@localhost/cat") << true << QStringLiteral("bob") << QString()
                << QStringLiteral("localhost") << QString() << QStringLiteral("cat") << QStringLiteral("postgres://bob@localhost/cat");
        QTest::newRow("percent-encoded")
                << QStringLiteral("postgresql://us%40er:p%3As%2Fs%40@h:5432/my%20db%C3%A9?sslmode=require") << true
                << QStringLiteral("us@er") << QStringLiteral("p:s/s@") << QStringLiteral("h") << QStringLiteral("5432")
                << QString::fromUtf8("my db\xc3\xa9")
                << QStringLiteral("postgresql://us%40er:***@h:5432/my%20db%C3%A9?sslmode=require");
        // libpq ends the user info at the first '@': the rest is the host (it would not resolve).
        // The display hides everything up to the last '@', more than the password.
        QTest::newRow("raw @ in password") << QStringLiteral("postgresql://u:a@b@h/d") << true << QStringLiteral("u")
                                           << QStringLiteral("a") << QStringLiteral("b@h") << QString() << QStringLiteral("d")
                                           << QStringLiteral("postgresql://u:***@h/d");
        QTest::newRow("ipv6") << QStringLiteral("postgresql://u@[::1]:6543/d") << true << QStringLiteral("u") << QString()
                              << QStringLiteral("::1") << QStringLiteral("6543") << QStringLiteral("d")
                              << QStringLiteral("postgresql://u@[::1]:6543/d");
        QTest::newRow("several hosts") << QStringLiteral("postgresql://u@h1:5433,[::1]:5434,h3/d?target_session_attrs=read-write")
                                       << true << QStringLiteral("u") << QString() << QStringLiteral("h1,::1,h3")
                                       << QStringLiteral("5433,5434,") << QStringLiteral("d")
                                       << QStringLiteral("postgresql://u@h1:5433,[::1]:5434,h3/d?target_session_attrs=read-write");
        QTest::newRow("socket folder as a parameter") << QStringLiteral("postgresql:///d?host=/run/postgresql") << true
                                                      << QString() << QString() << QStringLiteral("/run/postgresql")
                                                      << QString() << QStringLiteral("d")
                                                      << QStringLiteral("postgresql:///d?host=/run/postgresql");
        QTest::newRow("password parameter") << QStringLiteral("postgresql://h/d?user=u&password=secret") << true
                                            << QStringLiteral("u") << QStringLiteral("secret") << QStringLiteral("h") << QString()
                                            << QStringLiteral("d") << QStringLiteral("postgresql://h/d?user=u&password=***");
        QTest::newRow("bad port") << QStringLiteral("postgresql://u@h:99999/d") << false << QString() << QString()
                                  << QString() << QString() << QString() << QString();
        QTest::newRow("bad port in a list") << QStringLiteral("postgresql://u@h1:5432,h2:x/d") << false << QString() << QString()
                                            << QString() << QString() << QString() << QString();
        QTest::newRow("unknown parameter") << QStringLiteral("postgresql://h/d?passwrd=secret") << false << QString()
                                           << QString() << QString() << QString() << QString() << QString();
        QTest::newRow("not a url") << QStringLiteral("/var/lib/quire/catalog.sqlite") << false << QString() << QString()
                                   << QString() << QString() << QString() << QStringLiteral("/var/lib/quire/catalog.sqlite");
    }
    void postgresUrl()
    {
        QFETCH(QString, url);
        QFETCH(bool, valid);
        const CatalogConfig config{url};
        QCOMPARE(config.isPostgres(), url.startsWith(QLatin1StringView("postgres")));
        QString error;
        const auto parsed = parsePostgresUrl(url, &error);
        QCOMPARE(parsed.has_value(), valid);
        QFETCH(QString, display);
        if (!display.isEmpty())
            QCOMPARE(config.displayLocation(), display);
        if (!valid) {
            QVERIFY(!error.isEmpty());
            QVERIFY2(!error.contains(QLatin1StringView("secret")), qPrintable(error));
            return;
        }
        QFETCH(QString, user);
        QFETCH(QString, password);
        QFETCH(QString, host);
        QFETCH(QString, port);
        QFETCH(QString, dbname);
        QCOMPARE(parsed->user, user);
        QCOMPARE(parsed->password, password);
        QCOMPARE(parsed->host, host);
        QCOMPARE(parsed->port, port);
        QCOMPARE(parsed->dbname, dbname);
    }

    // libpq tries the hosts of a list in turn: the first refuses (port 1), the second serves.
    void postgresSeveralHosts()
    {
        REQUIRE_BACKEND(QStringLiteral("postgres"), config);
        QString url = config.location;
        const QString live = QStringLiteral("127.0.0.1:%1").arg(pg().port());
        QVERIFY(url.contains(live));
        url.replace(live, QStringLiteral("127.0.0.1:1,") + live);
        ConnectionManager manager(CatalogConfig{url});
        QString error;
        std::thread t([&] {
            {
                const Result<QSqlDatabase> db = manager.database();
                QSqlQuery q(db ? *db : QSqlDatabase());
                if (!db)
                    error = db.error();
                else if (!q.exec(QStringLiteral("SELECT inet_server_port()")) || !q.next())
                    error = q.lastError().text();
                else if (q.value(0).toInt() != pg().port())
                    error = QStringLiteral("connected to port ") + q.value(0).toString();
            }
            manager.releaseThisThread();
        });
        t.join();
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void configFromOption()
    {
        qputenv("QUIRE_CATALOG", "/from/env.sqlite");
        QCOMPARE(CatalogConfig::fromOption(QStringLiteral("/from/option.sqlite")).location, QStringLiteral("/from/option.sqlite"));
        QCOMPARE(CatalogConfig::fromOption({}).location, QStringLiteral("/from/env.sqlite"));
        qunsetenv("QUIRE_CATALOG");
        QCOMPARE(CatalogConfig::fromOption({}).location, CatalogConfig::defaultConfig().location);
        QVERIFY(CatalogConfig::defaultConfig().location.endsWith(QLatin1StringView("/catalog.sqlite")));
        QVERIFY(!CatalogConfig::defaultConfig().isPostgres());
    }
};

QTEST_GUILESS_MAIN(TestDbConnections)
#include "tst_dbconnections.moc"
