#include "common/responsivenessmonitor.h"

#include <QJsonArray>
#include <QLoggingCategory>
#include <QPointer>

#include <algorithm>
#include <chrono>

#ifdef Q_OS_LINUX
#include <time.h>
#endif

namespace quire {

namespace {

Q_LOGGING_CATEGORY(lcMonitor, "quire.ui.responsiveness", QtInfoMsg)

QPointer<ResponsivenessMonitor> g_instance;

qint64 nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

constexpr qint64 kMinuteNs = 60'000'000'000;

// CPU time of the calling thread, ns; -1 where unknown.
qint64 threadCpuNs()
{
#ifdef Q_OS_LINUX
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
#endif
    return -1;
}
constexpr size_t kMaxActivities = 256;

double percentileOf(std::vector<qint32> &values, double p)
{
    if (values.empty())
        return 0;
    const size_t k = std::min(values.size() - 1, size_t(p * double(values.size() - 1) + 0.5));
    std::nth_element(values.begin(), values.begin() + qsizetype(k), values.end());
    return values[k] / 1000.0;
}

// A text of the monitor (marked with QT_TRANSLATE_NOOP) in the wording asked for.
QString say(ResponsivenessMonitor::Wording wording, const char *source)
{
    return wording == ResponsivenessMonitor::Wording::Shown ? ResponsivenessMonitor::tr(source)
                                                            : QString::fromLatin1(source);
}

QJsonObject figuresJson(const ResponsivenessMonitor::Figures &f)
{
    return QJsonObject{
        {QStringLiteral("samples"), f.samples},
        {QStringLiteral("max_ms"), f.maxMs},
        {QStringLiteral("p50_ms"), f.p50Ms},
        {QStringLiteral("p99_ms"), f.p99Ms},
    };
}

} // namespace

ResponsivenessMonitor::ResponsivenessMonitor(QObject *parent)
    : QObject(parent)
    , m_histogram(kBuckets + 1, 0)
{
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(m_intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &ResponsivenessMonitor::tick);
    g_instance = this;
}

ResponsivenessMonitor::~ResponsivenessMonitor() = default;

ResponsivenessMonitor *ResponsivenessMonitor::instance()
{
    return g_instance.data();
}

void ResponsivenessMonitor::start()
{
    if (!m_clock.isValid())
        m_clock.start();
    if (m_timer.isActive())
        return;
    m_lastTickNs = nowNs();
    m_startedNs = m_lastTickNs;
    m_cpuAtStartNs = threadCpuNs();
    m_timer.start();
}

void ResponsivenessMonitor::stop()
{
    if (!m_timer.isActive())
        return;
    m_timer.stop();
    const qint64 cpu = threadCpuNs();
    if (cpu >= 0 && m_cpuAtStartNs >= 0)
        m_cpuMeasuredNs += cpu - m_cpuAtStartNs;
    m_measuredNs += nowNs() - m_startedNs;
    m_lastTickNs = -1;
}

qint64 ResponsivenessMonitor::threadCpuMs() const
{
    if (m_cpuAtStartNs < 0)
        return -1;
    qint64 ns = m_cpuMeasuredNs;
    if (m_timer.isActive())
        ns += threadCpuNs() - m_cpuAtStartNs;
    return ns / 1'000'000;
}

void ResponsivenessMonitor::setContextProvider(std::function<QString()> provider)
{
    m_context = [provider = std::move(provider)] {
        const QString text = provider();
        return Words{text, text};
    };
}

void ResponsivenessMonitor::setInterval(int ms)
{
    m_intervalMs = std::max(1, ms);
    m_timer.setInterval(m_intervalMs);
}

void ResponsivenessMonitor::tick()
{
    const qint64 now = nowNs();
    const qint64 cpu = threadCpuNs();
    if (m_lastTickNs >= 0) {
        const qint64 lateNs = std::max<qint64>(0, now - m_lastTickNs - qint64(m_intervalMs) * 1'000'000);
        if (lateNs / 1000 > m_maxUs) {
            // The worst tick so far, and whether the UI thread was working through it or waiting
            // for a core (CPU time it got between the two ticks).
            const QString ran = cpu >= 0 && m_lastTickCpuNs >= 0
                    ? QStringLiteral("the UI thread ran %1 ms of the %2 ms")
                              .arg((cpu - m_lastTickCpuNs) / 1e6, 0, 'f', 1).arg((now - m_lastTickNs) / 1e6, 0, 'f', 1)
                    : QString();
            m_worst = QStringLiteral("%1 ms late at %2 ms: %3; %4")
                              .arg(lateNs / 1e6, 0, 'f', 1)
                              .arg(m_clock.isValid() ? m_clock.elapsed() : 0)
                              .arg(ran, describeRecentWork(m_lastTickNs, Wording::English));
        }
        record(lateNs / 1000, now);
        if (lateNs >= qint64(m_stallMs) * 1'000'000) {
            ++m_stalls;
            const double ms = lateNs / 1e6;
            const Words words = describeStall(m_lastTickNs);
            const QString &shown = words.shown;
            const QString &english = words.english;
            const char *stall = QT_TRANSLATE_NOOP("quire::ResponsivenessMonitor", "%1 ms: %2");
            m_lastStall.shown = say(Wording::Shown, stall).arg(ms, 0, 'f', 1).arg(shown);
            m_lastStall.english = say(Wording::English, stall).arg(ms, 0, 'f', 1).arg(english);
            qCWarning(lcMonitor, "UI thread stalled for %.1f ms (%s)", ms, qUtf8Printable(english));
            Q_EMIT stalled(ms, shown);
        } else if (lateNs >= 8'000'000 && lcMonitor().isDebugEnabled()) {
            // QT_LOGGING_RULES="quire.ui.responsiveness.debug=true": every late tick, not only stalls.
            qCDebug(lcMonitor, "late by %.1f ms (%s)", lateNs / 1e6,
                    qUtf8Printable(describeRecentWork(m_lastTickNs, Wording::English)));
        }
    }
    m_lastTickNs = now;
    m_lastTickCpuNs = cpu;
}

void ResponsivenessMonitor::record(qint64 latenessUs, qint64 atNs)
{
    const qint64 bucket = std::min<qint64>(latenessUs / kBucketUs, kBuckets);
    ++m_histogram[size_t(bucket)];
    ++m_samples;
    m_maxUs = std::max(m_maxUs, latenessUs);
    m_recent.push_back({atNs, qint32(std::min<qint64>(latenessUs, INT32_MAX))});
    while (!m_recent.empty() && m_recent.front().atNs < atNs - kMinuteNs)
        m_recent.pop_front();
}

ResponsivenessMonitor::Figures ResponsivenessMonitor::session() const
{
    Figures f;
    f.samples = m_samples;
    f.maxMs = m_maxUs / 1000.0;
    if (m_samples == 0)
        return f;
    const auto at = [this](double p) {
        const qint64 rank = qint64(p * double(m_samples - 1) + 0.5);
        qint64 seen = 0;
        for (size_t i = 0; i < m_histogram.size(); ++i) {
            seen += m_histogram[i];
            if (seen > rank) {
                // The bucket's upper edge (never below the true value), capped by the maximum.
                return std::min(double((i + 1) * kBucketUs) / 1000.0, m_maxUs / 1000.0);
            }
        }
        return m_maxUs / 1000.0;
    };
    f.p50Ms = at(0.50);
    f.p99Ms = at(0.99);
    return f;
}

ResponsivenessMonitor::Figures ResponsivenessMonitor::lastMinute() const
{
    Figures f;
    const qint64 cutoff = nowNs() - kMinuteNs;
    std::vector<qint32> values;
    values.reserve(m_recent.size());
    for (const Sample &s : m_recent) {
        if (s.atNs >= cutoff)
            values.push_back(s.latenessUs);
    }
    f.samples = qint64(values.size());
    if (values.empty())
        return f;
    f.maxMs = *std::max_element(values.begin(), values.end()) / 1000.0;
    f.p50Ms = percentileOf(values, 0.50);
    f.p99Ms = percentileOf(values, 0.99);
    return f;
}

QJsonObject ResponsivenessMonitor::toJson() const
{
    return QJsonObject{
        {QStringLiteral("interval_ms"), m_intervalMs},
        {QStringLiteral("stall_threshold_ms"), m_stallMs},
        {QStringLiteral("uptime_ms"), uptimeMs()},
        {QStringLiteral("measured_ms"), (m_measuredNs + (m_timer.isActive() ? nowNs() - m_startedNs : 0)) / 1'000'000},
        {QStringLiteral("ui_thread_cpu_ms"), threadCpuMs()},
        {QStringLiteral("session"), figuresJson(session())},
        {QStringLiteral("last_minute"), figuresJson(lastMinute())},
        {QStringLiteral("stalls"), m_stalls},
        {QStringLiteral("last_stall"), m_lastStall.english},
        {QStringLiteral("worst"), m_worst},
    };
}

void ResponsivenessMonitor::noteActivity(const char *name, qint64 startNs, qint64 endNs)
{
    m_activities.push_back({name, endNs, endNs - startNs});
    if (m_activities.size() > kMaxActivities)
        m_activities.pop_front();
}

QString ResponsivenessMonitor::describeRecentWork(qint64 sinceNs, Wording wording) const
{
    // The slowest named pieces of work that ended since the last on-time tick.
    std::vector<Done> during;
    for (const Done &d : m_activities) {
        if (d.endNs >= sinceNs)
            during.push_back(d);
    }
    std::sort(during.begin(), during.end(),
              [](const Done &a, const Done &b) { return a.durationNs > b.durationNs; });
    QStringList parts;
    for (size_t i = 0; i < during.size() && i < 3; ++i) {
        parts << say(wording, QT_TRANSLATE_NOOP("quire::ResponsivenessMonitor", "%1 took %2 ms"))
                     .arg(QLatin1StringView(during[i].name))
                     .arg(during[i].durationNs / 1e6, 0, 'f', 1);
    }
    if (parts.isEmpty()) {
        parts << say(wording, QT_TRANSLATE_NOOP("quire::ResponsivenessMonitor",
                                                "no named UI work; likely layout, painting or a long event"));
    }
    return parts.join(QStringLiteral(", "));
}

ResponsivenessMonitor::Words ResponsivenessMonitor::describeStall(qint64 sinceNs) const
{
    Words what{describeRecentWork(sinceNs, Wording::Shown), describeRecentWork(sinceNs, Wording::English)};
    if (m_context) {
        const Words context = m_context();
        auto append = [](QString &to, const QString &more) {
            if (!more.isEmpty())
                to += (to.isEmpty() ? QString() : QStringLiteral("; ")) + more;
        };
        append(what.shown, context.shown);
        append(what.english, context.english);
    }
    return what;
}

ResponsivenessMonitor::Activity::Activity(const char *name)
    : m_name(name)
    , m_startNs(nowNs())
{
}

ResponsivenessMonitor::Activity::~Activity()
{
    if (ResponsivenessMonitor *m = g_instance.data())
        m->noteActivity(m_name, m_startNs, nowNs());
}

} // namespace quire
