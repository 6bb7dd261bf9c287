#pragma once

#include <QRunnable>
#include <QThreadPool>

#include <atomic>
#include <functional>

namespace quire {

// Runs a function on a pool thread, with the hand-off visible to ThreadSanitizer.
//
// QThreadPool queues runnables under Qt's own futex-based lock, which ThreadSanitizer cannot see
// in Debian's (uninstrumented) Qt: every capture a task reads would be reported as a race with
// the thread that created it. The task publishes itself by a release store to an atomic of its
// own once constructed, and its first act on the pool thread is the matching acquire load:
// exactly the ordering QThreadPool provides, in a form ThreadSanitizer sees (and that costs an
// ordinary load and store on x86 and next to nothing elsewhere).
class PoolTask final : public QRunnable
{
public:
    explicit PoolTask(std::function<void()> work)
        : m_work(std::move(work))
    {
        setAutoDelete(true);
        m_published.store(true, std::memory_order_release);
    }

    void run() override
    {
        (void)m_published.load(std::memory_order_acquire);   // the constructor's writes, seen
        m_work();
    }

private:
    std::function<void()> m_work;
    std::atomic<bool> m_published{false};
};

// Queues work on pool (any thread). The pool owns and deletes the task.
inline void startTask(QThreadPool *pool, std::function<void()> work)
{
    pool->start(new PoolTask(std::move(work)));
}

} // namespace quire
