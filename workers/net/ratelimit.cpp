#include "net/ratelimit.h"

#include "remotes/remote.h"

#include <QCoreApplication>
#include <QHash>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace quire::net {

namespace {

// The translation context of the messages below (the rate helpers are no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::RateLimiter)
};

// A bucket holds at most this long's worth of sending (and never less than one read block), so a
// lane that was idle cannot burst far above the limit.
constexpr double kBurstSeconds = 0.1;
constexpr double kMinBurst = 16 * 1024;
} // namespace

RateLimiter::RateLimiter(qint64 bytesPerSecond) : m_last(Clock::now())
{
    setRate(bytesPerSecond);
}

void RateLimiter::setRate(qint64 bytesPerSecond)
{
    std::lock_guard lock(m_mutex);
    const qint64 rate = std::max<qint64>(0, bytesPerSecond);
    if (rate == m_rate)
        return;
    m_rate = rate;
    m_tokens = 0;
    m_last = Clock::now();
}

qint64 RateLimiter::rate() const
{
    std::lock_guard lock(m_mutex);
    return m_rate;
}

void RateLimiter::refillLocked(Clock::time_point now)
{
    const double burst = std::max(kMinBurst, double(m_rate) * kBurstSeconds);
    const double seconds = std::chrono::duration<double>(now - m_last).count();
    m_tokens = std::min(burst, m_tokens + seconds * double(m_rate));
    m_last = now;
}

qint64 RateLimiter::take(qint64 want, Clock::time_point *retryAt)
{
    std::lock_guard lock(m_mutex);
    if (m_rate <= 0 || want <= 0)
        return want;
    const auto now = Clock::now();
    refillLocked(now);
    const qint64 granted = std::min<qint64>(want, qint64(m_tokens));
    if (granted > 0) {
        m_tokens -= double(granted);
        return granted;
    }
    // Ask again when a reasonable amount (a few KiB, or what is wanted) has accumulated.
    const double needed = std::min<double>(double(want), std::max(4096.0, double(m_rate) / 100.0)) - m_tokens;
    if (retryAt)
        *retryAt = now + std::chrono::microseconds(qint64(std::ceil(needed / double(m_rate) * 1e6)));
    return 0;
}

void RateLimiter::giveBack(qint64 bytes)
{
    if (bytes <= 0)
        return;
    std::lock_guard lock(m_mutex);
    if (m_rate > 0)
        m_tokens += double(bytes);
}

RateLimiter &RateLimiter::global()
{
    static RateLimiter limiter;
    return limiter;
}

std::shared_ptr<RateLimiter> RateLimiter::forRemote(const QString &remoteName, qint64 bytesPerSecond)
{
    static std::mutex mutex;
    static QHash<QString, std::shared_ptr<RateLimiter>> limiters;
    std::shared_ptr<RateLimiter> limiter;
    {
        std::lock_guard lock(mutex);
        auto &slot = limiters[remoteName];
        if (!slot)
            slot = std::make_shared<RateLimiter>();
        limiter = slot;
    }
    limiter->setRate(bytesPerSecond);
    return limiter;
}

std::optional<qint64> parseRate(const QString &text)
{
    static const QRegularExpression re(QStringLiteral(
        "^\\s*(\\d+(?:\\.\\d+)?)\\s*([kKmMgG]?)(?:i?B)?(?:/s)?\\s*$"));
    const auto m = re.match(text);
    if (!m.hasMatch())
        return std::nullopt;
    bool ok = false;
    const double value = m.captured(1).toDouble(&ok);
    if (!ok)
        return std::nullopt;
    double factor = 1;
    const QString unit = m.captured(2).toLower();
    switch (unit.isEmpty() ? 0 : unit.at(0).unicode()) {
    case 'k': factor = 1024.0; break;
    case 'm': factor = 1024.0 * 1024; break;
    case 'g': factor = 1024.0 * 1024 * 1024; break;
    default: break;
    }
    const double bytes = value * factor;
    if (bytes > 1e15)
        return std::nullopt;
    return qint64(bytes);
}

QString formatRate(qint64 bytesPerSecond)
{
    if (bytesPerSecond <= 0)
        return Tr::tr("unlimited");
    return Tr::tr("%1/s").arg(formatBytes(bytesPerSecond));
}

} // namespace quire::net
