#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>

#include <atomic>
#include <mutex>

class QTimer;

namespace quire {

// How a job ended. SomeFailed: it ran to its end, some items failed (listed in its result).
// Error: something stopped the whole job (the catalog, every remote); errorText() says what.
enum class JobOutcome { Succeeded, SomeFailed, Cancelled, Error };

// What every job can say about its progress, for a progress line or bar that does not care which
// job it shows. Counts are files (documents) and bytes; totals may still grow (totalsFinal false)
// while a job is finding its work.
struct JobAmounts
{
    qint64 filesDone = 0;
    qint64 filesTotal = 0;
    qint64 bytesDone = 0;
    qint64 bytesTotal = 0;
    double bytesPerSecond = 0;      // recent speed; 0 when the job does not measure one
    bool totalsFinal = true;
    bool paused = false;
};

// The life every long operation shares (ingest, upload), in the spirit of KDE's KJob:
//
//   * start() only schedules the work and returns at once; call it once, from the job's thread
//     (the thread the job lives in, which must run an event loop: the GUI thread in the window,
//     the main thread or a command's local loop on the command line);
//   * cancel() and setPaused() may be called from any thread, any number of times, also after
//     the job ended (then they do nothing);
//   * the job reports from its own thread: every 50 ms (at most 20 emissions a second) the base
//     calls doReport(), where the subclass emits what gathered (its own typed signals: progress,
//     document changes, its typed finished(result)); a worker thread may ask for a report sooner
//     with a queued call of "report" by name (a functor's slot object would be a hand-off that
//     ThreadSanitizer cannot follow through Qt's event queue);
//   * exactly one ended() per job, emitted after the subclass's own finished(), with outcome()
//     and errorText() already set;
//   * a job may be deleted once ended() was emitted; deleting a running job cancels it without
//     waiting (the work items hold their shared state, not the job).
//
// Window and command line drive every job the same way through this interface (start, cancel on
// Ctrl+C or the Cancel button, pause, amounts() for the progress line, ended()); what is special
// to a job (its items, its result) stays in its typed signals.
class Job : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Job)
public:
    ~Job() override;

    // Schedules the work and returns at once. Once, from the job's thread (invokable by name, so
    // that a command thread can queue it onto the job's thread).
    Q_INVOKABLE void start();
    // Any thread. What was finished stays; the rest is left for a later job (see the subclass).
    void cancel();
    // Any thread. A paused job keeps what it holds and takes no new work; it does not end.
    void setPaused(bool paused);
    // What setPaused() asked last (before the job ended). Any thread.
    bool isPaused() const { return m_paused.load(std::memory_order_acquire); }

    bool isStarted() const { return m_started; }
    // ended() was emitted. Any thread.
    bool isFinished() const { return m_finished.load(std::memory_order_acquire); }
    // Once finished: how the job ended, and what stopped it (Error) for a person.
    JobOutcome outcome() const { return m_outcome; }
    QString errorText() const { return m_errorText; }

    // A consistent snapshot; any thread.
    JobAmounts amounts() const { return doAmounts(); }

Q_SIGNALS:
    void ended(quire::Job *job);

protected:
    explicit Job(QObject *parent = nullptr);

    // The terminal state a report may announce: the job's outcome and, for Error, why.
    struct Ending
    {
        JobOutcome outcome = JobOutcome::Succeeded;
        QString errorText;
    };

    virtual void doStart() = 0;
    virtual void doCancel() = 0;
    // After the base recorded the flag that isPaused() reads; not once the job ended.
    virtual void doSetPaused(bool paused) = 0;
    virtual JobAmounts doAmounts() const = 0;
    // On the job's thread: emit what gathered since the last call. Once the job has ended, call
    // finishing() and then emit the typed finished(): the base stops reporting and, when
    // doReport() returns, emits ended(). Never called again after finishing().
    virtual void doReport() = 0;
    // From doReport(), right before the typed finished(): isFinished() is true from here on (so
    // also for finished()'s receivers), with outcome() and errorText() set.
    void finishing(const Ending &ending);

private:
    Q_INVOKABLE void report();

    QTimer *m_tick = nullptr;
    bool m_started = false;
    std::atomic_bool m_finished{false};
    std::atomic_bool m_paused{false};
    std::mutex m_pauseMutex;   // setPaused(): the flag and doSetPaused() together
    JobOutcome m_outcome = JobOutcome::Succeeded;
    QString m_errorText;
};

} // namespace quire

Q_DECLARE_METATYPE(quire::JobAmounts)
