#pragma once

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QTimer>

#include <deque>
#include <functional>
#include <vector>

namespace quire {

// Measures how late the UI thread's event loop runs.
//
// A precise timer ticks every interval(); each tick records how much later than the interval it
// arrived ("lateness"): near 0 while the event loop is free, the length of the stall when
// something blocked it. Figures are kept for the whole session (a histogram, so memory stays
// flat) and for the last minute (the raw samples). A lateness above stallThreshold() is logged
// with qWarning, naming the slowest UI work that ran during the stall (see Activity) and the
// context provider's description of what else was going on.
//
// GUI thread only.
class ResponsivenessMonitor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResponsivenessMonitor)
public:
    struct Figures
    {
        qint64 samples = 0;
        double maxMs = 0;
        double p50Ms = 0;
        double p99Ms = 0;
    };

    explicit ResponsivenessMonitor(QObject *parent = nullptr);
    ~ResponsivenessMonitor() override;

    static ResponsivenessMonitor *instance();   // the one created last, or null

    void start();
    void stop();
    bool isRunning() const { return m_timer.isActive(); }

    int interval() const { return m_intervalMs; }
    void setInterval(int ms);
    int stallThreshold() const { return m_stallMs; }
    void setStallThreshold(int ms) { m_stallMs = ms; }

    // The words of a text: translated, as shown to people, or English, as written for programs
    // (toJson(), the --stats-json file) and to the log.
    enum class Wording { Shown, English };
    // A text in both wordings.
    struct Words
    {
        QString shown;
        QString english;
    };
    // Extra words for a stall ("2 ingest jobs, 4 I/O threads busy"), both wordings made from one
    // look at the work, so that they say the same.
    void setContextProvider(std::function<Words()> provider) { m_context = std::move(provider); }
    // The same, with one text for both wordings.
    void setContextProvider(std::function<QString()> provider);

    Figures session() const;
    Figures lastMinute() const;
    qint64 stalls() const { return m_stalls; }
    QString lastStall() const { return m_lastStall.shown; }   // translated
    qint64 uptimeMs() const { return m_clock.isValid() ? m_clock.elapsed() : 0; }
    // CPU time the UI thread itself used while measured (-1 where the platform cannot tell):
    // with the lateness it separates "the UI thread was busy" from "it was not scheduled".
    qint64 threadCpuMs() const;

    // Keys and texts in English, whatever the language.
    QJsonObject toJson() const;

    // RAII marker for a piece of UI-thread work worth naming when a stall is logged:
    //   ResponsivenessMonitor::Activity a("DocumentModel::applyBatch");
    // Cheap (two clock reads); the name must be a string literal.
    class Activity final
    {
    public:
        explicit Activity(const char *name);
        ~Activity();
        Q_DISABLE_COPY(Activity)

    private:
        const char *m_name;
        qint64 m_startNs;
    };

Q_SIGNALS:
    void stalled(double ms, const QString &description);

private:
    struct Sample
    {
        qint64 atNs;
        qint32 latenessUs;
    };
    struct Done
    {
        const char *name;
        qint64 endNs;
        qint64 durationNs;
    };

    void tick();
    void record(qint64 latenessUs, qint64 nowNs);
    void noteActivity(const char *name, qint64 startNs, qint64 endNs);
    QString describeRecentWork(qint64 sinceNs, Wording wording) const;
    // describeRecentWork() and the context provider's words.
    Words describeStall(qint64 sinceNs) const;

    QTimer m_timer;
    QElapsedTimer m_clock;
    int m_intervalMs = 10;
    int m_stallMs = 100;
    qint64 m_lastTickNs = -1;
    qint64 m_cpuAtStartNs = -1;
    qint64 m_cpuMeasuredNs = 0;      // from earlier start()/stop() spans
    qint64 m_measuredNs = 0;         // wall time measured in earlier spans
    qint64 m_startedNs = -1;

    // Session histogram: 100 µs buckets up to 10 s, then one overflow bucket.
    static constexpr int kBucketUs = 100;
    static constexpr int kBuckets = 100'000;
    std::vector<quint32> m_histogram;
    qint64 m_samples = 0;
    qint64 m_maxUs = 0;
    std::deque<Sample> m_recent;          // the last minute
    std::deque<Done> m_activities;        // recent named UI work (bounded)
    qint64 m_stalls = 0;
    struct
    {
        QString shown;
        QString english;
    } m_lastStall;
    QString m_worst;                      // the latest tick with the session's worst lateness (English)
    qint64 m_lastTickCpuNs = -1;
    std::function<Words()> m_context;
};

} // namespace quire
