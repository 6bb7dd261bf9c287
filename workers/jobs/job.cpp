#include "jobs/job.h"

#include <QTimer>

namespace quire {

namespace {
constexpr int kReportIntervalMs = 50;   // at most 20 emissions a second
}

Job::Job(QObject *parent) : QObject(parent)
{
}

// The subclass's destructor cancels its own work (doCancel() is not reachable from here).
Job::~Job() = default;

void Job::start()
{
    Q_ASSERT_X(!m_started, "Job::start", "a job starts once");
    if (m_started)
        return;
    m_started = true;
    m_tick = new QTimer(this);
    m_tick->setInterval(kReportIntervalMs);
    connect(m_tick, &QTimer::timeout, this, &Job::report);
    m_tick->start();
    doStart();
}

void Job::cancel()
{
    doCancel();
}

void Job::setPaused(bool paused)
{
    // One caller at a time, so that the flag isPaused() reads and the job's own state agree
    // when two threads pause and resume at once.
    std::lock_guard lock(m_pauseMutex);
    if (isFinished())
        return;
    m_paused.store(paused, std::memory_order_release);
    doSetPaused(paused);
}

void Job::report()
{
    if (isFinished())
        return;
    doReport();
    if (isFinished())
        Q_EMIT ended(this);
}

void Job::finishing(const Ending &ending)
{
    if (m_tick)
        m_tick->stop();
    m_outcome = ending.outcome;
    m_errorText = ending.errorText;
    m_finished.store(true, std::memory_order_release);
}

} // namespace quire
