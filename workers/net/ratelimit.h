#pragma once

#include <QString>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

// Upload speed limits, as Nextcloud's client and Cyberduck offer them: one for the whole program
// and one per remote, shared by every lane and thread that sends to it. Token buckets: a lane
// takes what it may send now; when nothing is left it waits (net::Client pauses the transfer and
// resumes it when the bucket has refilled). Thread-safe.
namespace quire::net {

class RateLimiter final
{
public:
    using Clock = std::chrono::steady_clock;

    explicit RateLimiter(qint64 bytesPerSecond = 0);
    Q_DISABLE_COPY(RateLimiter)

    // 0 or less: unlimited.
    void setRate(qint64 bytesPerSecond);
    qint64 rate() const;

    // Up to want bytes that may be sent now (0 when none); with 0, *retryAt says when to ask again.
    qint64 take(qint64 want, Clock::time_point *retryAt);
    // Gives back what take() granted but was not used.
    void giveBack(qint64 bytes);

    // The program-wide limit (Settings › Uploads, or --limit-rate).
    static RateLimiter &global();
    // The limiter of one remote, created on first use; its rate is set to bytesPerSecond.
    static std::shared_ptr<RateLimiter> forRemote(const QString &remoteName, qint64 bytesPerSecond);

private:
    void refillLocked(Clock::time_point now);

    mutable std::mutex m_mutex;
    qint64 m_rate = 0;
    double m_tokens = 0;
    Clock::time_point m_last;
};

// "10M", "512k", "1.5MiB", "800000" (bytes per second; k/M/G are 1024-based as in curl's
// --limit-rate), "0" for unlimited; nullopt when not a rate.
std::optional<qint64> parseRate(const QString &text);
// "1.5 MiB/s", or "unlimited" for 0.
QString formatRate(qint64 bytesPerSecond);

} // namespace quire::net
