// ctest-labels: concurrency
// Pools: the queued-task counters behind Help > Diagnostics (start() and run()), under many
// submitting threads, with tasks dropped unrun, and run()'s futures.
#include "jobs/pools.h"
#include "testsupport.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QTest>

#include <atomic>
#include <cerrno>

#ifdef Q_OS_LINUX
#include <sys/resource.h>
#endif
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace quire;

namespace {

using quire::test::Gate;

// Opens the gate when it goes, before the pools declared ahead of it drain.
struct Opener
{
    Gate &gate;
    ~Opener() { gate.open(); }
};

// Starts a task that holds a thread of `pool` until the gate opens, then runs `then`; true once
// it runs (the pool's only thread is taken).
bool holdAThread(Pools &pools, QThreadPool *pool, Gate &gate, std::function<void()> then = {})
{
    auto running = std::make_shared<std::atomic_bool>(false);
    pools.start(pool, [running, &gate, then] {
        *running = true;
        gate.wait();
        if (then)
            then();
    });
    return QTest::qWaitFor([&] { return running->load(); }, 30'000);
}

} // namespace

class tst_Pools final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void queuedCountsWaitingTasks_data();
    void queuedCountsWaitingTasks();
    void droppedTasksAreUncounted();
    void manySubmitters();
    void runResolvesWithTheResult();
    void runSkipsCancelledWork();
    void workersRunBelowTheUiThread();
};

void tst_Pools::queuedCountsWaitingTasks_data()
{
    quire::test::addBoolRows("io", "io", "cpu");
}

void tst_Pools::queuedCountsWaitingTasks()
{
    QFETCH(bool, io);
    Gate gate;
    std::atomic_int ran{0};
    Pools pools(1, 1);
    Opener opener{gate};
    QThreadPool *pool = io ? pools.io() : pools.cpu();
    QThreadPool *other = io ? pools.cpu() : pools.io();

    QVERIFY(holdAThread(pools, pool, gate, [&] { ++ran; }));
    QCOMPARE(pools.queued(pool), 0);   // running, not waiting
    for (int i = 0; i < 3; ++i)
        pools.start(pool, [&] { ++ran; });
    QCOMPARE(pools.queued(pool), 3);
    QCOMPARE(pools.queued(other), 0);
    const PoolLoad load = pools.load(pool);
    QCOMPARE(load.queued, 3);
    QCOMPARE(load.active, 1);
    QCOMPARE(load.maxThreads, 1);
    QCOMPARE(load.started, 1);

    // More threads: the waiting tasks start and leave the count.
    gate.open();
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), 4, 30'000);
    QCOMPARE(pools.queued(pool), 0);
    QCOMPARE(pools.load(pool).started, 4);
}

void tst_Pools::droppedTasksAreUncounted()
{
    Gate gate;
    std::atomic_int ran{0};
    Pools pools(1, 1);
    Opener opener{gate};
    QVERIFY(holdAThread(pools, pools.io(), gate));
    pools.start(pools.io(), [&] { ++ran; });
    QFuture<int> never = pools.run(pools.io(), [&] { return ++ran; });
    QCOMPARE(pools.queued(pools.io()), 2);
    // The pool deletes the waiting tasks unrun: they leave the count, the future is cancelled.
    pools.io()->clear();
    QCOMPARE(pools.queued(pools.io()), 0);
    QVERIFY(never.isFinished());
    QVERIFY(never.isCanceled());
    gate.open();
    QVERIFY(pools.io()->waitForDone(30'000));
    QCOMPARE(ran.load(), 0);
    QCOMPARE(pools.load(pools.io()).started, 1);
}

void tst_Pools::manySubmitters()
{
    constexpr int kThreads = 4;
    constexpr int kTasks = 500;
    std::atomic_int submitted{0};
    std::atomic_int ran{0};
    Pools pools(2, 2);
    std::vector<std::thread> submitters;
    for (int t = 0; t < kThreads; ++t) {
        submitters.emplace_back([&pools, &ran, &submitted, t] {
            for (int i = 0; i < kTasks; ++i) {
                submitted.fetch_add(1);
                pools.start((i + t) % 2 ? pools.io() : pools.cpu(), [&ran] { ran.fetch_add(1); });
            }
        });
    }
    // Readers meanwhile (what the Diagnostics dialog does every second). A task counted as
    // queued was submitted and has not run yet, so at every moment
    //     0 <= queued <= submitted (read after) - ran (read before).
    // A count that is never taken back down, or taken down twice, breaks it sooner or later.
    int reads = 0;
    QString broken;
    while (ran.load() < kThreads * kTasks && broken.isEmpty()) {
        const int ranBefore = ran.load();
        const int io = pools.queued(pools.io());
        const int cpu = pools.queued(pools.cpu());
        const int submittedAfter = submitted.load();
        if (io < 0 || cpu < 0 || io + cpu > submittedAfter - ranBefore)
            broken = QStringLiteral("queued io %1 + cpu %2, submitted %3, ran %4").arg(io).arg(cpu).arg(submittedAfter).arg(ranBefore);
        ++reads;
        std::this_thread::yield();
    }
    for (std::thread &t : submitters)
        t.join();
    QVERIFY2(broken.isEmpty(), qPrintable(broken));
    QVERIFY(reads > 0);
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), kThreads * kTasks, 60'000);
    QTRY_COMPARE(pools.queued(pools.io()) + pools.queued(pools.cpu()), 0);
    QCOMPARE(pools.load(pools.io()).started + pools.load(pools.cpu()).started, qint64(kThreads * kTasks));
    QCOMPARE(pools.load(pools.io()).started, qint64(kThreads * kTasks / 2));
}

void tst_Pools::runResolvesWithTheResult()
{
    Pools pools(1, 1);
    QFuture<QString> f = pools.run(pools.cpu(), [] { return QStringLiteral("done"); });
    QTRY_VERIFY_WITH_TIMEOUT(f.isFinished(), 30'000);
    QVERIFY(!f.isCanceled());
    QCOMPARE(f.result(), QStringLiteral("done"));
    std::atomic_bool called{false};
    QFuture<void> v = pools.run(pools.io(), [&called] { called = true; });
    QTRY_VERIFY_WITH_TIMEOUT(v.isFinished(), 30'000);
    QVERIFY(called.load());
    QCOMPARE(pools.load(pools.cpu()).started, 1);
    QCOMPARE(pools.load(pools.io()).started, 1);
}

void tst_Pools::runSkipsCancelledWork()
{
    Gate gate;
    std::atomic_bool called{false};
    Pools pools(1, 1);
    Opener opener{gate};
    QVERIFY(holdAThread(pools, pools.io(), gate));
    QFuture<int> f = pools.run(pools.io(), [&called] {
        called = true;
        return 1;
    });
    f.cancel();
    gate.open();
    QTRY_VERIFY_WITH_TIMEOUT(f.isFinished(), 30'000);
    QVERIFY(f.isCanceled());
    QVERIFY(pools.io()->waitForDone(30'000));
    QVERIFY(!called.load());
    QCOMPARE(pools.queued(pools.io()), 0);
}

// Pool threads run at a lower priority than the thread that made the pools (the UI thread):
// hashing lowest, catalog and upload work a little less so.
void tst_Pools::workersRunBelowTheUiThread()
{
#ifdef Q_OS_LINUX
    errno = 0;
    const int base = ::getpriority(PRIO_PROCESS, 0);
    QCOMPARE(errno, 0);
    Pools pools(2, 2);
    auto niceOf = [&](QThreadPool *pool) {
        return pools.run(pool, [] { return ::getpriority(PRIO_PROCESS, 0); });
    };
    QFuture<int> cpu = niceOf(pools.cpu());
    QFuture<int> io = niceOf(pools.io());
    QVERIFY(QTest::qWaitFor([&] { return cpu.isFinished() && io.isFinished(); }, 30'000));
    QCOMPARE(cpu.result(), std::min(19, base + 10));
    QCOMPARE(io.result(), std::min(19, base + 5));
    QCOMPARE(::getpriority(PRIO_PROCESS, 0), base);   // this thread is left as it was
#else
    QSKIP("thread nice values are a Linux matter");
#endif
}

QTEST_GUILESS_MAIN(tst_Pools)
#include "tst_pools.moc"
