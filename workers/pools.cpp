#include "pools.h"

#include "pooltask.h"

#include <QThread>

#include <algorithm>

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

} // namespace

Pools::Pools(int cpuThreads, int ioThreads)
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
    startTask(pool, [mark = std::move(mark), work = std::move(work)] {
        mark->take();
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
