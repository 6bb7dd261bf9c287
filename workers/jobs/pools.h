#pragma once

#include <QFuture>
#include <QPromise>
#include <QThreadPool>

#include <atomic>
#include <functional>
#include <memory>
#include <type_traits>

namespace quire {

// How busy one of the pools is, for Help > Diagnostics.
struct PoolLoad
{
    int active = 0;        // threads running a task now (QThreadPool::activeThreadCount())
    int maxThreads = 0;    // QThreadPool::maxThreadCount()
    int queued = 0;        // tasks handed over by start()/run() still waiting for a thread
    qint64 started = 0;    // tasks handed over by start()/run() that have started so far
};

// The two thread pools every worker runs on (never the global pool).
//  - cpu(): hashing; sized to the number of cores.
//  - io():  catalog work, directory walks and uploads; sized by the "settings/workers/io" setting.
// Pool threads expire after 30 s idle; their catalog connections are closed with them.
// Owned by the composition root (app/) and outlives every job that uses it. Thread-safe.
//
// Queued work: QThreadPool does not say how many tasks wait for a thread, so work handed over
// through start() or run() is counted here (an atomic counter per pool: up when queued, down
// when a thread takes the task or the task is dropped unrun). Work given to the QThreadPool
// directly (startTask(pool, ...), QtConcurrent::run(pool, ...)) runs the same but is not in
// queued().
class Pools final
{
public:
    explicit Pools(int cpuThreads = 0, int ioThreads = 0);
    ~Pools();   // waits for the pools to drain; call only after every job was cancelled
    Q_DISABLE_COPY_MOVE(Pools)

    QThreadPool *cpu() { return &m_cpu; }
    QThreadPool *io() { return &m_io; }

    void setIoThreads(int n);
    void setCpuThreads(int n);

    // Any thread. Queues work on pool, which must be cpu() or io(), like startTask()
    // (pooltask.h: the hand-off is visible to ThreadSanitizer), and counts it in queued() until
    // a pool thread starts it. The pool owns the task.
    void start(QThreadPool *pool, std::function<void()> work);

    // Any thread. Like QtConcurrent::run(pool, fn), counted like start(). The future resolves
    // with fn's result; a future cancelled before a thread took the task skips fn. Unlike a
    // QtConcurrent task, waiting on the future never runs fn on the waiting thread.
    template <typename F>
    auto run(QThreadPool *pool, F &&fn);

    // Any thread; counters and atomics only.
    int queued(const QThreadPool *pool) const;
    PoolLoad load(const QThreadPool *pool) const;

    static int defaultCpuThreads();
    static int defaultIoThreads();

private:
    struct Counters
    {
        std::atomic_int queued{0};
        std::atomic<qint64> started{0};
    };
    Counters *countersOf(const QThreadPool *pool);
    const Counters *countersOf(const QThreadPool *pool) const;

    // Workers run at this nice value plus their pool's (pools.cpp): lower than the UI thread.
    const int m_baseNice = 0;
    // Declared before the pools: tasks dropped while a pool is destroyed still uncount here.
    Counters m_cpuCounters;
    Counters m_ioCounters;
    QThreadPool m_cpu;
    QThreadPool m_io;
};

template <typename F>
auto Pools::run(QThreadPool *pool, F &&fn)
{
    using Fn = std::decay_t<F>;
    using R = std::invoke_result_t<Fn &>;
    auto promise = std::make_shared<QPromise<R>>();
    QFuture<R> future = promise->future();
    promise->start();
    // A task that never runs releases the last reference to the promise, whose destructor
    // cancels and finishes the future.
    start(pool, [promise, fn = std::make_shared<Fn>(std::forward<F>(fn))] {
        if (!promise->isCanceled()) {
            if constexpr (std::is_void_v<R>)
                (*fn)();
            else
                promise->addResult((*fn)());
        }
        promise->finish();
    });
    return future;
}

} // namespace quire
