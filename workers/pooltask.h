#pragma once

#include <QRunnable>
#include <QThreadPool>

#include <functional>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void *addr);
extern "C" void __tsan_release(void *addr);
#endif

namespace quire {

// Runs a function on a pool thread, with the hand-off visible to ThreadSanitizer.
//
// QThreadPool queues runnables under Qt's own futex-based lock, which ThreadSanitizer cannot see
// in Debian's (uninstrumented) Qt: every capture a task reads would be reported as a race with
// the thread that created it. The task publishes itself with a release on its own address once
// constructed, and its first act on the pool thread is the matching acquire, which is exactly
// the ordering QThreadPool provides. Without TSan both are no-ops.
class PoolTask final : public QRunnable
{
public:
    explicit PoolTask(std::function<void()> work)
        : m_work(std::move(work))
    {
        setAutoDelete(true);
#if defined(__SANITIZE_THREAD__)
        __tsan_release(this);
#endif
    }

    void run() override
    {
#if defined(__SANITIZE_THREAD__)
        __tsan_acquire(this);
#endif
        m_work();
    }

private:
    std::function<void()> m_work;
};

// Queues work on pool (any thread). The pool owns and deletes the task.
inline void startTask(QThreadPool *pool, std::function<void()> work)
{
    pool->start(new PoolTask(std::move(work)));
}

} // namespace quire
