#include "upload/uploadpolicy.h"

#include "net/ratelimit.h"

#include "settings/sessionstore.h"

#include <QCoreApplication>
#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace quire {

namespace {

// The translation context of the messages below (RetryPolicy is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::RetryPolicy)
};

} // namespace

bool RetryPolicy::shouldRetry(const RemoteError &error, int attempt) const
{
    if (attempt >= maxAttempts || !error.retryable())
        return false;
    return !(error.retryAfter && *error.retryAfter > maxRetryAfter);
}

std::chrono::milliseconds RetryPolicy::delayAfter(int attempt, const RemoteError &error,
                                                  double random01) const
{
    using std::chrono::milliseconds;
    random01 = std::clamp(random01, 0.0, 1.0);
    const double exp = std::ldexp(1.0, std::clamp(attempt, 1, 40) - 1);
    const double d = std::min(double(maxDelay.count()), double(initialDelay.count()) * exp);
    if (error.retryAfter) {
        const double floor = double(std::min(*error.retryAfter, maxRetryAfter).count());
        return milliseconds(qint64(floor + random01 * d / 4.0));
    }
    return milliseconds(qint64(d / 2.0 + random01 * d / 2.0));
}

std::chrono::milliseconds RetryPolicy::delayAfter(int attempt, const RemoteError &error) const
{
    return delayAfter(attempt, error, QRandomGenerator::global()->generateDouble());
}

QString RetryPolicy::finalMessage(const RemoteError &error, int attempts) const
{
    QString msg = error.message;
    if (error.retryAfter && *error.retryAfter > maxRetryAfter) {
        msg = Tr::tr("%1 (the server asked to wait %2 s before trying again; Quire waits at most %3 s)")
                  .arg(msg, QString::number(error.retryAfter->count() / 1000),
                       QString::number(maxRetryAfter.count() / 1000));
    }
    if (attempts > 1)
        msg = Tr::tr("%1 [gave up after %n attempts]", nullptr, attempts).arg(msg);
    return msg;
}

QString UploadSettings::key(const char *name)
{
    return QStringLiteral("settings/uploads/") + QLatin1String(name);
}

UploadSettings UploadSettings::fromStore(const SessionStore &store)
{
    UploadSettings s;
    auto intValue = [&](const char *name, qint64 fallback, qint64 lo, qint64 hi) {
        return store.intSetting(key(name), fallback, lo, hi);
    };
    using std::chrono::milliseconds;
    s.parallel = int(intValue("parallel", 3, 1, 16));
    s.retry.maxAttempts = int(intValue("attempts", 5, 1, 20));
    s.retry.initialDelay = milliseconds(intValue("backoffInitialMs", 1000, 0, 600'000));
    s.retry.maxDelay = milliseconds(intValue("backoffMaxMs", 60'000, 0, 3'600'000));
    s.retry.maxRetryAfter = milliseconds(intValue("retryAfterMaxSecs", 300, 0, 86'400) * 1000);
    s.limits.transferTimeout = milliseconds(intValue("transferTimeoutSecs", 30, 1, 3600) * 1000);
    s.limits.minTotal = milliseconds(intValue("minTotalSecs", 120, 1, 86'400) * 1000);
    s.limits.minBytesPerSecond = intValue("minSpeedKiBs", 64, 1, 1 << 20) * 1024;
    s.limits.resumeThreshold = intValue("resumeThresholdMiB", 16, 0, 1 << 20) * 1024 * 1024;
    s.limits.lanes = int(intValue("lanesPerFile", 4, 1, 6));
    s.limits.segmentSize = intValue("segmentMiB", 64, 8, 4096) * 1024 * 1024;
    s.limits.chunkThreshold = intValue("chunkThresholdMiB", 16, 0, 1 << 20) * 1024 * 1024;
    s.limits.chunkSize = intValue("chunkMiB", 10, 5, 100) * 1024 * 1024;
    if (const auto v = store.value(key("hashWhileSending")); v && v->isValid())
        s.limits.hashWhileSending = v->toBool();
    if (const auto v = store.value(key("confirmUploads")); v && v->isValid())
        s.limits.confirmUploads = v->toBool();
    // The program-wide upload limit: a command's --limit-rate (session/, memory only) over the
    // setting.
    s.limits.globalSendRate = 0;
    for (const QString &k : {QStringLiteral("session/uploads/limitRate"), key("limitRate")}) {
        if (const auto v = store.value(k); v && v->isValid() && !v->toString().isEmpty()) {
            s.limits.globalSendRate = net::parseRate(v->toString()).value_or(0);
            break;
        }
    }
    return s;
}

} // namespace quire
