#include "jobs/pools.h"

#include "jobs/pooltask.h"

#include <QThread>

#include <algorithm>
#include <cerrno>
#include <climits>

#ifdef Q_OS_LINUX
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace quire {

namespace {

constexpr int kExpiryMs = 30'000;

// One counted task's place in its pool's queue: taken when a thread starts the task, given
// back by the destructor when the task is deleted without running (QThreadPool::clear(),
// tryTake()). Only the thread that runs or deletes the task touches `taken`.
class QueuedMark final
{
public:
    QueuedMark(std::atomic_int &queued, std::atomic<qint64> &started)
        : m_queued(queued), m_started(started)
    {
        m_queued.fetch_add(1, std::memory_order_relaxed);
    }
    ~QueuedMark()
    {
        if (!m_taken)
            m_queued.fetch_sub(1, std::memory_order_relaxed);
    }
    Q_DISABLE_COPY_MOVE(QueuedMark)

    void take()
    {
        if (m_taken)
            return;
        m_taken = true;
        m_queued.fetch_sub(1, std::memory_order_relaxed);
        m_started.fetch_add(1, std::memory_order_relaxed);
    }

private:
    std::atomic_int &m_queued;
    std::atomic<qint64> &m_started;
    bool m_taken = false;
};

// Worker threads run at a lower scheduling priority than the UI thread: on a machine with as
// many busy hashing threads as cores, the UI thread otherwise waits for a core behind them.
// Measured during `bench/run ui`'s ingest (2 cores): the worst late ticks of the window's
// ResponsivenessMonitor were 13-22 ms late while the UI thread itself ran 6-10 ms of them; the
// rest it spent runnable, waiting. Linux's nice value is per thread; a positive one needs no
// privilege. Hashing (CPU pool) yields the most; catalog and upload work (I/O pool) a little.
constexpr int kCpuNice = 10;
constexpr int kIoNice = 5;

// The nice value of the thread that made the pools (the main thread): workers are lowered
// relative to it, so a user's `nice quire` still counts. (A pool thread inherits the nice value
// of whichever thread started it, possibly another worker's.)
int baseNice()
{
#ifdef Q_OS_LINUX
    errno = 0;
    const int nice = ::getpriority(PRIO_PROCESS, 0);   // on Linux: the calling thread's
    return errno == 0 ? nice : 0;
#else
    return 0;
#endif
}

void lowerThisThreadPriority(int target)
{
#ifdef Q_OS_LINUX
    thread_local int applied = INT_MIN;
    if (applied == target)
        return;
    if (::setpriority(PRIO_PROCESS, pid_t(::gettid()), std::min(19, target)) == 0)
        applied = target;
#else
    Q_UNUSED(target);
#endif
}

} // namespace

Pools::Pools(int cpuThreads, int ioThreads)
    : m_baseNice(baseNice())
{
    m_cpu.setObjectName(QStringLiteral("quire-cpu"));
    m_io.setObjectName(QStringLiteral("quire-io"));
    m_cpu.setExpiryTimeout(kExpiryMs);
    m_io.setExpiryTimeout(kExpiryMs);
    setCpuThreads(cpuThreads);
    setIoThreads(ioThreads);
}

Pools::~Pools()
{
    m_cpu.waitForDone();
    m_io.waitForDone();
}

void Pools::setIoThreads(int n)
{
    m_io.setMaxThreadCount(n > 0 ? n : defaultIoThreads());
}

void Pools::setCpuThreads(int n)
{
    m_cpu.setMaxThreadCount(n > 0 ? n : defaultCpuThreads());
}

Pools::Counters *Pools::countersOf(const QThreadPool *pool)
{
    return pool == &m_cpu ? &m_cpuCounters : pool == &m_io ? &m_ioCounters : nullptr;
}

const Pools::Counters *Pools::countersOf(const QThreadPool *pool) const
{
    return pool == &m_cpu ? &m_cpuCounters : pool == &m_io ? &m_ioCounters : nullptr;
}

void Pools::start(QThreadPool *pool, std::function<void()> work)
{
    Counters *counters = countersOf(pool);
    Q_ASSERT_X(counters, "Pools::start", "not one of this object's pools");
    if (!counters) {
        startTask(pool, std::move(work));
        return;
    }
    // Counted before the pool sees the task, so queued() never goes below zero.
    auto mark = std::make_shared<QueuedMark>(counters->queued, counters->started);
    const int nice = m_baseNice + (pool == &m_cpu ? kCpuNice : kIoNice);
    startTask(pool, [mark = std::move(mark), work = std::move(work), nice] {
        mark->take();
        lowerThisThreadPriority(nice);
        work();
    });
}

int Pools::queued(const QThreadPool *pool) const
{
    const Counters *counters = countersOf(pool);
    return counters ? std::max(0, counters->queued.load(std::memory_order_relaxed)) : 0;
}

PoolLoad Pools::load(const QThreadPool *pool) const
{
    PoolLoad l;
    if (!pool)
        return l;
    l.active = pool->activeThreadCount();
    l.maxThreads = pool->maxThreadCount();
    if (const Counters *counters = countersOf(pool)) {
        l.queued = std::max(0, counters->queued.load(std::memory_order_relaxed));
        l.started = counters->started.load(std::memory_order_relaxed);
    }
    return l;
}

int Pools::defaultCpuThreads()
{
    return std::max(1, QThread::idealThreadCount());
}

int Pools::defaultIoThreads()
{
    return 4;
}

} // namespace quire
