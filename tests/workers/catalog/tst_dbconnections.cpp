// ctest-labels: concurrency catalog
// Per-thread catalog connections: one per thread, owned by it, closed with it, refused on the
// GUI thread, with the statements prepared on it. Runs against SQLite, a throw-away PostgreSQL
// and MariaDB. How connections recover: tst_dbconnectionhealth; URLs and passwords:
// tst_dbconnectionurls.
#include "catalog/catalogconfig.h"
#include "catalog/dbconnections.h"
#include "connectiontests.h"

#include <QFileInfo>
#include <QSet>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QThreadPool>

#include <array>
#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <semaphore>
#include <thread>

using namespace quire;
using namespace quire::test;

namespace {

// A number for the calling thread, unique for the life of the process (QThread pointers and
// native thread ids are reused once a thread ends, which would hide ownership mistakes).
int threadToken()
{
    static std::atomic<int> next{1};
    thread_local const int token = next.fetch_add(1);
    return token;
}

} // namespace

class TestDbConnections final : public ConnectionTests
{
    Q_OBJECT

private slots:
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
        REQUIRE_ROW_BACKEND(config);
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
        REQUIRE_ROW_BACKEND(config);
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
            startTask(&pool, [&] {
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
        startTask(&pool, [&] {
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
        REQUIRE_ROW_BACKEND(config);
        ConnectionManager manager(config);

        QThreadPool pool;
        pool.setMaxThreadCount(4);
        pool.setExpiryTimeout(30);   // threads come and go between the waves below

        std::mutex mutex;
        std::map<QString, int> owner;   // connection name -> thread token
        QStringList problems;
        for (int wave = 0; wave < 5; ++wave) {
            for (int task = 0; task < 40; ++task) {
                startTask(&pool, [&] {
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
        REQUIRE_ROW_BACKEND(config);
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
};

QTEST_GUILESS_MAIN(TestDbConnections)
#include "tst_dbconnections.moc"
