// ctest-labels: concurrency catalog
// ctest-timeout: 900
// The SQL catalog with several writers at once: the write lock a transaction holds, claims and
// batches from many threads and two processes' worth of connections, and other tools reading
// a SQLite catalog while Quire writes. Against SQLite, PostgreSQL and MariaDB, as tst_catalog.
#include "catalog/catalog.h"
#include "catalog/dbconnections.h"
#include "catalog/transaction.h"
#include "catalogtests.h"

#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTest>

#include <atomic>
#include <map>
#include <mutex>
#include <semaphore>
#include <thread>

#ifdef Q_OS_LINUX
#include <unistd.h>
#endif

using namespace quire;
using namespace quire::test;

namespace {

// The calling thread's id as the system knows it (Linux; 0 elsewhere).
qint64 threadId()
{
#ifdef Q_OS_LINUX
    return ::gettid();
#else
    return 0;
#endif
}

// Whether thread `tid` of this process is asleep (blocked, not running), as Linux tells.
// Elsewhere: assumed to be.
bool threadAsleep(qint64 tid)
{
#ifdef Q_OS_LINUX
    QFile stat(QStringLiteral("/proc/self/task/%1/stat").arg(tid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    // "tid (name) S …": the state follows the name, which may itself hold ") ".
    const QByteArray line = stat.readAll();
    const qsizetype close = line.lastIndexOf(')');
    return close >= 0 && line.mid(close + 1).trimmed().startsWith('S');
#else
    Q_UNUSED(tid);
    return true;
#endif
}

} // namespace

class TestCatalogConcurrency final : public CatalogTests
{
    Q_OBJECT

    // Whether a second writer, `writer` (a Catalog of its own) on thread `tid`, is waiting for
    // the write lock of fx's catalog. PostgreSQL and MariaDB show it: an advisory lock not yet
    // granted, a session in GET_LOCK(). SQLite's writers queue inside this process: there the
    // writer has its connection and its thread is asleep.
    static bool writerWaits(Fixture &fx, Catalog &writer, qint64 tid)
    {
        if (fx.backend == QLatin1StringView("sqlite"))
            return writer.connections().openConnections() > 0 && threadAsleep(tid);
        const QString sql = fx.backend == QLatin1StringView("postgres")
                ? QStringLiteral("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                                 "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
                : QStringLiteral("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                 "WHERE STATE = 'User lock' AND DB = DATABASE()");
        return fx.scalar(sql) > 0;
    }

private slots:
    // Workers of two processes (two Catalog objects) claim overlapping batches of the same
    // documents at once: each document is claimed exactly once.
    void concurrentClaims_data() { addBackends(); }
    void concurrentClaims()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        Catalog second(fx.config);
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Claims")));
        constexpr int kDocs = 400, kThreads = 6, kBatch = 32;
        TRY_VALUE(ids, fx.addHashedDocuments(c, "/claims/", kDocs));

        QStringList errors;
        std::map<qint64, int> claimedBy;   // id -> how often claimed
        std::mutex mutex;
        onThreadsAtOnce(kThreads, [&](int t) {
            Catalog &mine = t % 2 ? second : cat;
            // Every thread walks all documents in batches, from a different starting point, so
            // batches overlap in every way.
            for (int b = 0; b < kDocs / kBatch + 1; ++b) {
                QList<qint64> batch;
                for (int i = 0; i < kBatch; ++i)
                    batch.append(ids[(t * 67 + b * kBatch + i) % kDocs]);
                const auto got = mine.transitionStatus(batch, {DocStatus::Hashed}, DocStatus::Uploading);
                std::lock_guard lock(mutex);
                if (!got) {
                    errors.append(QStringLiteral("thread %1: %2").arg(t).arg(got.error()));
                    return;
                }
                for (const qint64 id : *got)
                    ++claimedBy[id];
            }
        });
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        int claimedOnce = 0;
        for (const auto &[id, n] : claimedBy) {
            QVERIFY2(n == 1, qPrintable(QStringLiteral("document %1 claimed %2 times").arg(id).arg(n)));
            ++claimedOnce;
        }
        TRY_VALUE(all, fx.run([&] { return cat.documents(inCollection(c)); }));
        int uploading = 0;
        for (const Document &d : std::as_const(all)) {
            if (d.status == DocStatus::Uploading) {
                ++uploading;
                QCOMPARE(d.attempts, 1);
            }
        }
        // Every thread asked for every document: all were claimed, each by one of them.
        QCOMPARE(claimedOnce, kDocs);
        QCOMPARE(uploading, kDocs);
    }

    // The RAII guard: rolls back unless committed; a second writer waits for the first (SQLite:
    // BEGIN IMMEDIATE + busy timeout; PostgreSQL: the advisory writer lock) instead of failing.
    void transactionGuard_data() { addBackends(); }
    void transactionGuard()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        auto countNamed = [&](const QString &name) {
            return fx.scalar(QStringLiteral("SELECT COUNT(*) FROM collections WHERE name = ?"), {name});
        };
        auto insertNamed = [&](const QString &name, bool commit) {
            return fx.run([&]() -> QString {
                const Result<QSqlDatabase> db = cat.connections().database();
                if (!db)
                    return db.error();
                QSqlQuery q(*db);
                Transaction tx(*db, QStringLiteral("test"));
                if (!tx.ok())
                    return tx.error();
                q.prepare(QStringLiteral("INSERT INTO collections (name, remote, created) VALUES (?, '', 0)"));
                q.addBindValue(name);
                if (!q.exec())
                    return q.lastError().text();
                if (commit) {
                    const Status s = tx.commit();
                    return s ? QString() : s.error();
                }
                return QString();   // ~Transaction rolls back
            });
        };
        QCOMPARE(insertNamed(QStringLiteral("rolled back"), false), QString());
        QCOMPARE(countNamed(QStringLiteral("rolled back")), 0);
        QCOMPARE(insertNamed(QStringLiteral("committed"), true), QString());
        QCOMPARE(countNamed(QStringLiteral("committed")), 1);

        // Writer A holds the write lock while writer B (another connection) tries to write; A
        // commits once B is seen waiting for the lock.
        Catalog other(fx.config);
        std::binary_semaphore locked(0), bWaits(0);
        QString errorA, errorB;
        std::atomic<bool> aCommitted{false};
        std::atomic<qint64> bThread{0};
        bool bAfterA = false;
        std::thread a([&] {
            const Result<QSqlDatabase> db = cat.connections().database();
            if (!db) {
                errorA = db.error();
                locked.release();
                return;
            }
            {
                QSqlQuery q(*db);
                Transaction tx(*db, QStringLiteral("writer A"));
                if (!tx.ok() || !q.exec(QStringLiteral("INSERT INTO collections (name, remote, created) VALUES ('A', '', 0)")))
                    errorA = tx.ok() ? q.lastError().text() : tx.error();
                locked.release();
                bWaits.acquire();
                aCommitted = true;
                if (const Status s = tx.commit(); !s)
                    errorA = s.error();
            }
        });
        std::thread b([&] {
            locked.acquire();
            bThread = threadId();
            const Result<qint64> id = other.createCollection(QStringLiteral("B"));
            bAfterA = aCommitted.load();
            if (!id)
                errorB = id.error();
        });
        const bool bWaited = QTest::qWaitFor([&] { return writerWaits(fx, other, bThread); }, 30'000);
        bWaits.release();
        a.join();
        b.join();
        QVERIFY2(errorA.isEmpty(), qPrintable(errorA));
        QVERIFY2(errorB.isEmpty(), qPrintable(errorB));
        QVERIFY2(bWaited, "writer B was not seen waiting for the write lock");
        QVERIFY(bAfterA);
        QCOMPARE(countNamed(QStringLiteral("A")), 1);
        QCOMPARE(countNamed(QStringLiteral("B")), 1);
    }

    // Eight threads (two Catalog objects, i.e. two sets of connections, as two processes would
    // have) write at once, with content shared between threads so that dedupe races too.
    void concurrentWriters_data() { addBackends(); }
    void concurrentWriters()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        Catalog second(fx.config);
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Busy")));

        constexpr int kThreads = 8, kRounds = 12, kBatch = 10, kContents = 60;
        QStringList errors;
        std::mutex mutex;
        onThreadsAtOnce(kThreads, [&](int t) {
            Catalog &mine = t % 2 ? second : cat;
            auto fail = [&](const QString &e) {
                std::lock_guard lock(mutex);
                errors.append(QStringLiteral("thread %1: %2").arg(t).arg(e));
            };
            for (int r = 0; r < kRounds; ++r) {
                QList<NewDocument> docs;
                for (int i = 0; i < kBatch; ++i)
                    docs.append(newDoc(QStringLiteral("/t%1/r%2/f%3").arg(t).arg(r).arg(i).toUtf8()));
                const auto queued = mine.addQueued(c, docs);
                if (!queued) {
                    fail(queued.error());
                    return;
                }
                QList<HashUpdate> updates;
                for (int i = 0; i < kBatch; ++i) {
                    const int content = (t * 7 + r * 13 + i * 3) % kContents;
                    updates.append(hashed((*queued)[i].id, shaOf(QByteArray::number(content))));
                }
                const auto applied = mine.applyHashes(updates);
                if (!applied) {
                    fail(applied.error());
                    return;
                }
                const auto counted = mine.countDocuments(inCollection(c));
                if (!counted) {
                    fail(counted.error());
                    return;
                }
            }
        });
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));

        TRY_VALUE(all, fx.run([&] { return cat.documents(inCollection(c)); }));
        QCOMPARE(all.size(), kThreads * kRounds * kBatch);
        // Exactly one original per content; every other copy points at it.
        std::map<QByteArray, qint64> originals;
        for (const Document &d : std::as_const(all)) {
            if (d.status == DocStatus::Hashed) {
                QVERIFY2(originals.emplace(d.sha256, d.id).second, d.sha256.constData());
            } else {
                QCOMPARE(d.status, DocStatus::Duplicate);
            }
        }
        QCOMPARE(int(originals.size()), kContents);
        for (const Document &d : std::as_const(all)) {
            if (d.status == DocStatus::Duplicate)
                QCOMPARE(d.duplicateOf, originals.at(d.sha256));
        }
    }

    // Other tools can read the catalog while Quire writes to it and while it holds a connection.
    void sqliteReadableWhileWriting_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
    }
    void sqliteReadableWhileWriting()
    {
        const QString sqlite3 = QStandardPaths::findExecutable(QStringLiteral("sqlite3"));
        if (sqlite3.isEmpty())
            QSKIP("the sqlite3 command-line tool is not installed (scripts/install-deps --test installs it)");
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Read me")));
        TRY_VALUE(seed, fx.run([&] { return cat.addQueued(c, {newDoc("/seed")}); }));

        auto cli = [&](const QString &sql, QString *out) {
            // .timeout: a reader may meet a checkpoint for a moment; it must never meet a lock
            // that lasts (an exclusive lock would make it fail after these 10 s).
            const test::ProgramResult r = test::runProgram(
                    sqlite3, {QStringLiteral("-cmd"), QStringLiteral(".timeout 10000"), fx.config.location, sql}, {}, 60'000);
            *out = QString::fromLocal8Bit(r.out + r.err).trimmed();
            if (!r.ok())
                *out += u' ' + r.error;
            return r.ok();
        };

        // Quire holds an open, idle connection (the fixture's worker thread keeps it).
        QString out;
        QVERIFY2(cli(QStringLiteral("PRAGMA journal_mode"), &out), qPrintable(out));
        QCOMPARE(out, QStringLiteral("wal"));
        QVERIFY2(cli(QStringLiteral("SELECT COUNT(*) FROM documents"), &out), qPrintable(out));
        QCOMPARE(out, QStringLiteral("1"));

        // Now under a write-heavy load from two threads.
        std::atomic<bool> stop{false};
        std::atomic<int> batches{0};
        QStringList errors;
        std::mutex mutex;
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w) {
            writers.emplace_back([&, w] {
                for (int r = 0; !stop.load(); ++r) {
                    QList<NewDocument> docs;
                    for (int i = 0; i < 50; ++i)
                        docs.append(newDoc(QStringLiteral("/w%1/%2/%3").arg(w).arg(r).arg(i).toUtf8()));
                    const auto q = cat.addQueued(c, docs);
                    if (!q) {
                        std::lock_guard lock(mutex);
                        errors.append(q.error());
                        return;
                    }
                    ++batches;
                }
            });
        }
        QTRY_VERIFY_WITH_TIMEOUT(batches.load() > 0, 60'000);
        qint64 last = 0;
        QStringList readErrors;
        for (int i = 0; i < 5; ++i) {
            if (!cli(QStringLiteral("SELECT COUNT(*) FROM documents"), &out)) {
                readErrors.append(out);
                continue;
            }
            bool isNumber = false;
            const qint64 n = out.toLongLong(&isNumber);
            if (!isNumber || n < last)
                readErrors.append(QStringLiteral("unexpected count \"%1\" after %2").arg(out).arg(last));
            last = n;
        }
        stop = true;
        for (std::thread &t : writers)
            t.join();
        QVERIFY2(readErrors.isEmpty(), qPrintable(readErrors.join(u'\n')));
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        QVERIFY(last >= 1);

        TRY_VALUE(count, fx.run([&] { return cat.countDocuments(DocumentQuery{}); }));
        QVERIFY2(cli(QStringLiteral("SELECT COUNT(*) FROM documents"), &out), qPrintable(out));
        QCOMPARE(out.toLongLong(), count);
        QCOMPARE(count, 1 + qint64(batches.load()) * 50);
        Q_UNUSED(seed);
    }
};

QTEST_GUILESS_MAIN(TestCatalogConcurrency)
#include "tst_catalogconcurrency.moc"
