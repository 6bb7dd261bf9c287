// ctest-labels: concurrency
// The job base (workers/jobs/job.h): pausing from two threads at once leaves the flag and the job
// agreeing; one ended() after the typed result; nothing after the end.
#include "jobs/job.h"
#include "testsupport.h"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QTest>

#include <atomic>
#include <chrono>
#include <thread>

using namespace quire;

namespace {

// A job whose work is only its paused state. With holdNextPause set, its next doSetPaused()
// opens `held`, then waits (for `patience` at the most) until the test opens `otherReturned`,
// before it takes the new state.
class PausableJob final : public Job
{
    Q_OBJECT
public:
    using Job::Job;

    bool jobPaused() const { return m_jobPaused.load(); }
    void end() { m_ending = true; }

    std::atomic_bool holdNextPause{false};
    std::chrono::milliseconds patience{0};
    test::Gate held;
    test::Gate otherReturned;

Q_SIGNALS:
    void finished();

protected:
    void doStart() override {}
    void doCancel() override { end(); }
    void doSetPaused(bool paused) override
    {
        if (holdNextPause.exchange(false)) {
            held.open();
            otherReturned.waitFor(patience);
        }
        m_jobPaused = paused;
    }
    JobAmounts doAmounts() const override { return JobAmounts{0, 0, 0, 0, 0, true, jobPaused()}; }
    void doReport() override
    {
        if (!m_ending)
            return;
        finishing(Ending{JobOutcome::Cancelled, {}});
        Q_EMIT finished();
    }

private:
    std::atomic_bool m_jobPaused{false};
    std::atomic_bool m_ending{false};
};

} // namespace

class tst_Job final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pauseAndResumeFromTwoThreadsAgree();
    void endsOnceAfterItsResult();
};

// One thread pauses and is held inside the job's own pause; meanwhile another resumes. Whichever
// call the job took last, the flag isPaused() reads says the same. (Were the two calls not one
// after the other, the resume would return while the pause is held, and the pause would then set
// the job paused under a flag that says resumed.)
void tst_Job::pauseAndResumeFromTwoThreadsAgree()
{
    PausableJob job;
    job.patience = std::chrono::milliseconds(300);
    job.holdNextPause = true;
    std::thread pauser([&] { job.setPaused(true); });
    job.held.wait();
    std::thread resumer([&] {
        job.setPaused(false);
        job.otherReturned.open();
    });
    pauser.join();
    resumer.join();
    QCOMPARE(job.isPaused(), job.jobPaused());
    QCOMPARE(job.amounts().paused, job.isPaused());
}

void tst_Job::endsOnceAfterItsResult()
{
    PausableJob job;
    QList<QByteArray> order;
    connect(&job, &PausableJob::finished, this, [&] {
        QVERIFY(job.isFinished());
        order << "finished";
    });
    connect(&job, &Job::ended, this, [&](Job *ended) {
        QCOMPARE(ended, &job);
        order << "ended";
    });
    QSignalSpy ended(&job, &Job::ended);
    job.start();
    job.setPaused(true);
    QVERIFY(job.jobPaused());
    job.cancel();
    QVERIFY(ended.wait(10'000));
    QCOMPARE(order, (QList<QByteArray>{"finished", "ended"}));
    QCOMPARE(job.outcome(), JobOutcome::Cancelled);

    // After the end: pausing does nothing, and no second ended() comes (the report tick stopped).
    job.setPaused(false);
    QVERIFY(job.jobPaused());
    QCoreApplication::processEvents();
    QCOMPARE(ended.size(), 1);
}

QTEST_GUILESS_MAIN(tst_Job)
#include "tst_job.moc"
