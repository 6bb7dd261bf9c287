#pragma once

#include "remotes/remote.h"

#include <QString>

#include <chrono>
#include <optional>

namespace quire {

class SessionStore;

// When to try an upload again, and how long to wait first.
//
// Retried: what RemoteError::retryable() says (network errors, timeouts, HTTP 408, 429, 5xx).
// Not retried: other 4xx, TLS problems, refusals, local I/O errors; and a Retry-After longer
// than maxRetryAfter (the document then fails, naming the server's wish).
// Delay before attempt n+1 (n >= 1): "equal jitter" exponential backoff,
//   d = min(maxDelay, initialDelay * 2^(n-1));  wait = d/2 + random(0, d/2)
// so parallel uploads that failed together do not come back together. A Retry-After
// (seconds or HTTP date) replaces d/2 as the floor: wait = retryAfter + random(0, d/4).
// Pure value type; thread-safe to share.
struct RetryPolicy
{
    int maxAttempts = 5;                              // attempts in all, the first included
    std::chrono::milliseconds initialDelay{1000};
    std::chrono::milliseconds maxDelay{60'000};
    std::chrono::milliseconds maxRetryAfter{300'000};

    // attempt: the attempt that just failed (1 = the first).
    bool shouldRetry(const RemoteError &error, int attempt) const;
    // The wait before the next attempt; random01 in [0, 1) (injectable for tests).
    std::chrono::milliseconds delayAfter(int attempt, const RemoteError &error, double random01) const;
    std::chrono::milliseconds delayAfter(int attempt, const RemoteError &error) const;   // real jitter

    // The message a failed document keeps: the last error, and how many attempts were made.
    QString finalMessage(const RemoteError &error, int attempts) const;
};

// The settings/uploads/* values, with their defaults:
//   parallel              3     uploads at a time (1-16)
//   attempts              5     attempts per document (1-20)
//   transferTimeoutSecs   30    abort a request when no byte moved for this long
//   minTotalSecs          120   every request may take at least this long ...
//   minSpeedKiBs          64    ... plus its size at this speed, then it is aborted
//   resumeThresholdMiB    16    webdav: upload files from this size on resumably ...
//   segmentMiB            64    ... in segments of up to this size (what a resume may send again) ...
//   lanesPerFile          4     ... over this many connections at once (1-6)
//   chunkThresholdMiB     16    webdav on Nextcloud: files from this size on go in its chunked
//                               upload v2 ...
//   chunkMiB              10    ... in chunks of this size (5-100), lanesPerFile at once
//   backoffInitialMs      1000  first retry delay (doubles up to backoffMaxMs)
//   backoffMaxMs          60000
//   retryAfterMaxSecs     300   a longer Retry-After fails the document instead of waiting
//   hashWhileSending      false hash network uploads while sending (RemoteLimits)
//   confirmUploads        false webdav: PROPFIND every uploaded file, not only where needed
//   limitRate             ""    upload speed limit of the whole program ("10M", "512k"; "" none);
//                               session/uploads/limitRate (a command's --limit-rate) comes first
struct UploadSettings
{
    int parallel = 3;
    RetryPolicy retry;
    RemoteLimits limits;

    static UploadSettings fromStore(const SessionStore &store);
    static QString key(const char *name);   // "settings/uploads/<name>"
};

} // namespace quire
