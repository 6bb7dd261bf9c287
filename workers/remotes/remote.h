#pragma once

#include "net/tls.h"
#include "remotes/remoteprofile.h"
#include "jobs/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QLocale>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace quire {

// Why an upload or another remote operation failed, classified so the retry policy can decide
// (uploadpolicy.h). message is meant for a person and never contains a secret, e.g.
//   "HTTP 507 Insufficient Storage: the server is out of space (server said: ...)".
struct RemoteError
{
    enum class Kind {
        Network,         // connection refused/reset, DNS, unexpected close: retried
        Timeout,         // no bytes for the transfer timeout, or over the total time: retried
        Http,            // the server answered with an error status (httpStatus): see retryable()
        Tls,             // certificate or handshake problem: never retried, never ignored
        Refused,         // Quire refused to send (e.g. Basic auth over plain http): not retried
        Config,          // the profile or a setting is wrong: not retried
        LocalIo,         // reading the source or writing a local remote failed: not retried
        SourceChanged,   // the source changed since it was hashed, or during the upload:
                         // the document is hashed again and re-queued, not failed
        Protocol,        // the server's reply made no sense (bad XML, wrong size after upload)
        Stopped,         // paused or cancelled by the user: neither retried nor failed
    };

    // A problem of the remote as a whole rather than of one document: every other document
    // would fail the same way, so an upload job reports it once, on the remote, and leaves the
    // documents waiting until it is fixed.
    enum class Problem {
        None,
        Untrusted,            // the server's certificate is not trusted (Trust certificate...)
        CertificateChanged,   // a trusted certificate was replaced (Trust certificate...)
        Credentials,          // wrong or missing password (Enter password...)
        Unreachable,          // refused, unknown host, no connection (Edit remote...)
    };

    Kind kind = Kind::Network;
    int httpStatus = 0;                                   // Kind::Http only
    Problem problem = Problem::None;
    net::CertificateInfo certificate;                     // Kind::Tls: what the server showed
    QString message;
    std::optional<std::chrono::milliseconds> retryAfter;  // from a Retry-After header

    // Network, Timeout, Protocol; Http 408, 429 and 5xx (except 501 Not Implemented and
    // 505 HTTP Version Not Supported, which do not heal by waiting).
    bool retryable() const;

    static RemoteError make(Kind kind, QString message)
    {
        RemoteError e;
        e.kind = kind;
        e.message = std::move(message);
        return e;
    }
};

// One document to upload, as the catalog has it.
struct UploadItem
{
    qint64 documentId = 0;
    QString collection;       // the collection's name: the remote folder
    QString fileName;         // the name to store it under (made safe by the remote)
    QByteArray sourcePath;    // exact bytes of the local path
    qint64 size = 0;
    qint64 mtimeMs = 0;       // what the catalog recorded when the file was hashed
    QByteArray sha256;        // 64 lowercase hex digits
    // What an earlier, interrupted attempt reported through UploadControl::saveResumeState
    // (opaque; the catalog keeps it); empty for a fresh start.
    QByteArray resumeState;
};

struct UploadReport
{
    QString location;         // where the remote has it now: URL, path or the API's id/location
    QString storedName;       // the name it was stored under ("report (2).pdf" after a collision)
    bool alreadyPresent = false;   // identical content was already there: nothing was sent
    qint64 resumedFrom = 0;   // > 0: an interrupted upload was continued from this offset
    qint64 bytesSent = 0;     // body bytes this call sent
};

template <typename T>
struct RemoteOutcome
{
    std::optional<RemoteError> error;   // set: failed (value is meaningless)
    T value{};

    bool ok() const { return !error.has_value(); }
    static RemoteOutcome fail(RemoteError e) { RemoteOutcome o; o.error = std::move(e); return o; }
    static RemoteOutcome success(T v) { RemoteOutcome o; o.value = std::move(v); return o; }
};

struct VerifyReport
{
    bool exists = false;
    qint64 remoteSize = -1;        // -1: the server did not say
    QByteArray remoteSha256;       // hex; empty when the server reports no SHA-256
    bool sizeMatches = false;
    bool checksumChecked = false;  // the content's SHA-256 was compared (server checksum or read)
    bool checksumMatches = false;
    QString detail;                // person-readable summary ("size and SHA-256 match")

    bool matches() const { return exists && sizeMatches && (!checksumChecked || checksumMatches); }
};

using UploadOutcome = RemoteOutcome<UploadReport>;
using VerifyOutcome = RemoteOutcome<VerifyReport>;

// Lets other threads stop an upload that runs on a worker thread, and carries its progress
// callback. One per upload in flight; the controller keeps it alive until upload() returns.
class UploadControl final
{
public:
    enum class Stop { None, Pause, Cancel };

    UploadControl() = default;
    Q_DISABLE_COPY_MOVE(UploadControl)

    // Any thread. The running operation aborts its request within ~100 ms and returns a
    // RemoteError of kind Stopped. Pause keeps a partial upload for resuming; Cancel asks the
    // remote to discard it. The first Cancel wins over a Pause.
    void requestStop(Stop how);
    void clearStop();                    // before reusing the control for another attempt
    Stop stopRequested() const { return m_stop.load(); }
    bool isStopped() const { return m_stop.load() != Stop::None; }
    // Set while a stop is requested: for APIs that take a cancel flag (Hasher).
    const std::atomic_bool *stopFlag() const { return &m_stopFlag; }

    // Sleeps up to d on the calling thread, returning early (true) once a stop is requested.
    bool waitFor(std::chrono::milliseconds d);

    // Called on the uploading thread, often (the caller coalesces): body bytes of the current
    // document sent so far (resumed bytes included) and its total.
    std::function<void(qint64 done, qint64 total)> progress;

    void reportProgress(qint64 done, qint64 total) const
    {
        if (progress)
            progress(done, total);
    }

    // Called on the uploading thread whenever a resumable upload made progress that survives a
    // crash (a part of the file the server has for good), with the state to pass back as
    // UploadItem::resumeState on the next attempt; "" clears it. The caller persists it.
    std::function<void(const QByteArray &state)> saveResumeState;

    // For the thread that waits on the network: called (with the control's lock held) when a stop
    // is requested, so the wait ends at once. Returns the previous function.
    std::function<void()> setWakeup(std::function<void()> wake);

    void reportResumeState(const QByteArray &state) const
    {
        if (saveResumeState)
            saveResumeState(state);
    }

private:
    std::atomic<Stop> m_stop{Stop::None};
    std::atomic_bool m_stopFlag{false};
    std::mutex m_mutex;
    std::function<void()> m_wakeup;
    std::condition_variable m_wake;
};

// Time limits of every request, and how uploads are sent. A request ends with a Timeout error
// when no byte moved in either direction for transferTimeout (also the limit for connecting),
// or when it has run longer than totalFor(bytes) = minTotal + bytes / minBytesPerSecond.
// Every size and time is 64-bit.
struct RemoteLimits
{
    std::chrono::milliseconds transferTimeout{30'000};
    std::chrono::milliseconds minTotal{120'000};
    qint64 minBytesPerSecond = 64 * 1024;
    // webdav: files at least this large are uploaded resumably (see remotewebdav.h), in
    // segments of segmentSize bytes sent over up to `lanes` connections at once.
    qint64 resumeThreshold = 16 * 1024 * 1024;
    qint64 segmentSize = 64 * 1024 * 1024;
    int lanes = 4;
    // webdav on Nextcloud (remotewebdav.h): files at least this large go in Nextcloud's chunked
    // upload v2, in chunks of chunkSize bytes (clamped to 5-100 MiB; 10 MiB like Nextcloud's own
    // web uploader) sent over up to `lanes` connections at once.
    qint64 chunkThreshold = 16 * 1024 * 1024;
    qint64 chunkSize = 10 * 1024 * 1024;
    // webdav/http: hash the body while it is sent and withhold the last block when it is not
    // the document (net::SourceDevice). Off by default: size, mtime, ctime and inode checks
    // catch every change a program makes; the hash also catches a file whose mtime was set
    // back by hand, at ~0.5 s of CPU per GiB.
    bool hashWhileSending = false;
    // webdav: look the file up (PROPFIND: stored size, and SHA-256 where the server reports one)
    // after every upload. Off by default for single-PUT uploads to a server that honours
    // "If-None-Match: *": its 2xx answer to that conditional PUT with a Content-Length means it
    // created the file with the whole body (Nextcloud/ownCloud also check the OC-Checksum sent),
    // and a second request per file halves the rate of small uploads. Resumable uploads are
    // always looked up (size before the MOVE, and the stored file after it).
    bool confirmUploads = false;
    // Upload speed limits in bytes per second (net/ratelimit.h): sendRate for this remote (all its
    // lanes together; 0 = none), globalSendRate for the whole program (0 = none, -1 = leave the
    // program-wide limit as it is).
    qint64 sendRate = 0;
    qint64 globalSendRate = -1;

    std::chrono::milliseconds totalFor(qint64 bytes) const;
};

// One remote, one implementation per kind (remotelocal.h, remotewebdav.h, remotehttp.h).
//
// Threads: every operation blocks and must run on a worker thread (the I/O pool or the CLI's
// command thread), never on the GUI thread: network operations drive that thread's own libcurl
// multi handle (net/http.h). One Remote
// may be used by several worker threads at once. A Remote never retries by itself (the upload
// job does, with its RetryPolicy, so attempts are counted in the catalog).
//
// Uploads never overwrite different content: when the name is taken by other content the
// document is stored as "name (2).ext", "name (3).ext"...; when it is taken by the same content
// the upload succeeds with alreadyPresent and sends nothing more. So uploading a document again
// (after a crash, kill -9, a lost catalog update) never stores it twice.
class Remote
{
public:
    explicit Remote(RemoteProfile profile, RemoteLimits limits)
        : m_profile(std::move(profile)), m_limits(limits) {}
    virtual ~Remote() = default;
    Q_DISABLE_COPY_MOVE(Remote)

    const RemoteProfile &profile() const { return m_profile; }
    const RemoteLimits &limits() const { return m_limits; }

    // Creates the implementation for profile.kind. secret: the password or token (may be
    // empty). Fails for an invalid profile, or when the profile would send a secret in the clear
    // (Basic auth over http:// to a non-loopback host without allowInsecureAuth).
    static Result<std::unique_ptr<Remote>> create(const RemoteProfile &profile,
                                                  const QString &secret = {},
                                                  const RemoteLimits &limits = {});

    // Uploads item's source file, streamed from disk. The source must still have item.size and
    // item.mtimeMs, and its content must hash to item.sha256; otherwise (before or during the
    // upload) the result is a SourceChanged error and nothing wrong is left on the remote.
    virtual UploadOutcome upload(const UploadItem &item, UploadControl &control) = 0;

    // Checks that location (from an earlier UploadReport) holds item: size always, SHA-256
    // where the server reports one, or by reading it back when deep is set.
    virtual VerifyOutcome verify(const UploadItem &item, const QString &location, bool deep,
                                 UploadControl &control) = 0;

    // "Test connection": reachable, credentials accepted, writable where that can be checked
    // without leaving anything behind. The success string says what was checked.
    virtual Result<QString> test(UploadControl &control) = 0;

    // Best effort: removes what an interrupted upload of item left behind (a resumable partial
    // upload). Called when a document is cancelled.
    virtual void discardPartial(const UploadItem &item, UploadControl &control);

private:
    const RemoteProfile m_profile;
    const RemoteLimits m_limits;
};

// --- helpers shared by the implementations (and tested on their own) --------------------------

// "report.pdf" -> "report (2).pdf" for n = 2; ".bashrc" -> ".bashrc (2)"; n <= 1: name as is.
QString collisionName(const QString &name, int n);
// A name that is safe as one path segment on every remote: '/', '\\' and control characters
// become '_', "." and ".." and "" become "_".
QString safeFileName(const QString &name);
// safeFileName(), and also valid on Windows file systems (NTFS, FAT, SMB shares): <>:"|?*
// become '_', trailing dots and spaces become '_', and device names (CON, NUL, COM1, LPT1...,
// with or without an extension) get a '_' appended. The local remote uses it on Windows.
QString windowsSafeFileName(const QString &name);

// "507 Insufficient Storage: the server is out of space"; "" for codes it does not know.
QString httpStatusDescription(int status);
// The readable text of an error body (HTML tags stripped, white space collapsed, cut at
// maxChars with "..."), or "" when there is none.
QString serverText(const QByteArray &body, const QByteArray &contentType, int maxChars = 300);
// "HTTP 507 Insufficient Storage: the server is out of space (server said: ...)".
QString httpErrorMessage(int status, const QByteArray &reasonPhrase, const QByteArray &body,
                         const QByteArray &contentType);

// Retry-After: delta-seconds or an HTTP date (RFC 9110 10.2.3). nullopt when absent/invalid;
// a date in the past gives 0.
std::optional<std::chrono::milliseconds> parseRetryAfter(const QByteArray &value,
                                                         const QDateTime &nowUtc);

// The project's one byte count for people: "512 B", "64 KiB", "1.5 MiB", "1.0 GiB" (IEC units;
// one decimal from 1 MiB on). The command line keeps the C locale (stable for scripts); the
// window passes QLocale() for the user's digits and decimal separator.
QString formatBytes(qint64 bytes, const QLocale &locale = QLocale::c());

} // namespace quire
