#pragma once

#include "nativefs.h"
#include "remote.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QIODevice>
#include <QList>
#include <QNetworkReply>
#include <QSslError>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

class QHttpMultiPart;
class QNetworkAccessManager;

// The blocking HTTP layer the network remotes are built on. Internal to workers/ (the remotes
// and their tests use it); everything here runs on a worker thread.
namespace quire::net {

// The calling thread's own QNetworkAccessManager: created in that thread on first use and
// deleted when the thread ends (QThreadStorage), so a manager is only ever used by the thread
// that owns it. Never call on the GUI thread.
QNetworkAccessManager &threadManager();

// Turns Nagle's algorithm off (TCP_NODELAY) on this process's TCP connections to `port`.
// Qt's HTTP client leaves it on (the LowDelayOption call in qhttpnetworkconnectionchannel.cpp
// is commented out) and writes a request's headers and body separately, so the last partial
// segment of a small upload waits for the server's delayed ACK: ~40 ms per file on Linux, up to
// 200 ms against Windows servers (curl sets TCP_NODELAY for the same reason). Qt gives no
// access to its sockets, so this finds them by peer port in /proc/self/fd (Linux; elsewhere a
// no-op). Setting TCP_NODELAY on any TCP socket is harmless, so a socket matched by mistake
// (same port, other host) does not matter. Called before a request that has a body whenever
// the worker's manager may have opened a connection since the last call (a reply on that thread
// emitted socketStartedConnecting()): its kept-alive connections then send bodies at once.
void preferLowDelay(quint16 port);

// True when the host is a loopback name or address (localhost, 127.0.0.0/8, ::1).
bool isLoopbackHost(const QString &host);

// One path segment, percent-encoded so that every byte outside the unreserved set
// (A-Z a-z 0-9 - . _ ~) is escaped: spaces, '#', '%', '?', '/', non-ASCII (as UTF-8), emoji.
QByteArray encodeSegment(const QString &segment);
// base (ending in '/' or not) + the encoded segments, each followed by '/' when dirs is set.
QUrl childUrl(const QUrl &base, const QList<QString> &segments, bool trailingSlash = false);

struct Request
{
    QByteArray verb;                       // "PUT", "PROPFIND", "GET", ...
    QUrl url;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QIODevice *body = nullptr;             // streamed; open, owned by the caller
    QByteArray bodyBytes;                  // small in-memory body (XML), when body is null
    QHttpMultiPart *multipart = nullptr;   // POST: ownership passes to send()
    qint64 uploadBytes = 0;                // body size: sizes the total time budget
    qint64 downloadBytes = 0;              // expected response size: also sizes the budget
    // Progress reporting: done = progressOffset + bytes sent in this request.
    qint64 progressOffset = 0;
    qint64 progressTotal = -1;             // -1: uploadBytes
    // Instead of reporting to the UploadControl: called with the bytes this request has sent.
    std::function<void(qint64 sent)> onUploadProgress;
    qint64 tag = 0;                        // copied to Response::tag (sendParallel bookkeeping)
    // A large body: send it on a connection of its own instead of through the thread's
    // QNetworkAccessManager, where the URL allows (http://, no proxy; see remotetransport.cpp).
    bool direct = false;
    // Streaming download: called for every chunk of a 2xx body instead of buffering it;
    // return false to abort (e.g. a hash already failed).
    std::function<bool(QByteArrayView)> onBodyData;
    qint64 maxBufferedBody = 4 * 1024 * 1024;   // more is dropped (error pages, XML)
};

struct Response
{
    enum class End {
        Finished,          // the server answered (status may still be an error) or the network failed
        TransferTimeout,   // no byte moved for the transfer timeout
        TotalTimeout,      // the request took longer than its budget
        Stopped,           // UploadControl asked to pause or cancel
        CheckFailed,       // the periodic check (e.g. source changed) returned an error
        Abandoned,         // sendParallel(): aborted because another request ended the batch
    };
    End end = End::Finished;
    QUrl url;
    qint64 tag = 0;
    int status = 0;                        // 0: no HTTP response
    QByteArray reason;
    QByteArray body;                       // buffered body (not with onBodyData on 2xx)
    QList<QNetworkReply::RawHeaderPair> headers;
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QString errorString;
    QList<QSslError> sslErrors;
    std::optional<RemoteError> checkError;   // End::CheckFailed
    qint64 bytesSent = 0;
    std::chrono::milliseconds budget{0};

    QByteArray header(QByteArrayView name) const;   // case-insensitive; "" when absent
    bool isHttpSuccess() const { return end == End::Finished && status >= 200 && status < 300; }
};

// The per-remote sending side: authentication and limits. Thread-safe (immutable).
class Client final
{
public:
    Client(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits);

    // Refuses credentials that would travel in the clear (see RemoteProfile::allowInsecureAuth);
    // nullopt when sending is fine.
    std::optional<RemoteError> securityError(const QUrl &url) const;

    // Sends one request and waits for the end of it in a local event loop on the calling
    // thread. check (optional) runs every 250 ms; an error it returns aborts the request
    // (End::CheckFailed). control (optional) stops it within ~100 ms.
    Response send(Request request, UploadControl *control = nullptr,
                  const std::function<std::optional<RemoteError>()> &check = {}) const;

    // Runs requests concurrently on the calling thread's manager (one connection each), at
    // most `lanes` at a time: next() gives the next request, nullopt when there is none left;
    // done() gets each Response as it ends and returns false to end the batch (the others are
    // then aborted and reported as Abandoned). control stops all of them; a check() error
    // aborts all of them (CheckFailed). Returns when nothing is in flight any more.
    void sendParallel(int lanes, const std::function<std::optional<Request>()> &next,
                      const std::function<bool(const Response &)> &done, UploadControl *control = nullptr,
                      const std::function<std::optional<RemoteError>()> &check = {}) const;

    // The RemoteError for a response that is not a 2xx success. action says what was being
    // done ("uploading report.pdf"); the message never contains the secret.
    RemoteError errorFor(const Response &response, const QString &action) const;

    const RemoteLimits &limits() const { return m_limits; }

private:
    RemoteProfile m_profile;
    QByteArray m_authorization;   // the Authorization header value, or empty
    RemoteLimits m_limits;
};

// The state of a source file (exact path bytes), or an error text.
struct SourceState
{
    qint64 size = -1;
    qint64 mtimeMs = 0;
    QString error;
    bool ok() const { return error.isEmpty(); }
};
SourceState statSource(const QByteArray &nativePath);

// The body of an upload: a read-only view of [offset, item.size) of the source file, read in
// 1 MiB blocks.
// Change detection: checkUnchanged() (run every 300 ms during a request, and after it) compares
// the open file's size, mtime and ctime with what they were when it was opened (any write
// changes the ctime, which cannot be set back), and the path's inode (replaced by another file)
// and size/mtime with the catalog's.
// With hashContent it also hashes what it hands out: when the last block has been read and the
// SHA-256 of the whole file (the prefix [0, offset) is hashed on open) differs from item.sha256,
// it withholds that block and reports changed(): the request must then be aborted, so the server
// never receives a complete body with other content. This costs ~0.5 s of CPU per GiB with
// SHA-NI (a quarter of the upload's CPU time), so network remotes do it only when the
// hashWhileSending setting is on; the local remote always does. Used on one thread.
class SourceDevice final : public QIODevice
{
public:
    SourceDevice(const UploadItem &item, bool hashContent);
    ~SourceDevice() override;

    // Opens the source for reading from offset (to the end, or `length` bytes). Fails with a
    // SourceChanged error when size or mtime differ from the item, LocalIo when it cannot be
    // read, Stopped when control stops it while the prefix is hashed. A length is only allowed
    // without hashContent.
    std::optional<RemoteError> openAt(qint64 offset, UploadControl *control = nullptr, qint64 length = -1);

    bool isSequential() const override { return false; }
    qint64 size() const override { return m_end - m_offset; }
    bool seek(qint64 pos) override;
    bool reset() override { return seek(0); }

    bool changed() const { return m_changed; }
    // The error for a source that changed (see above), or nullopt.
    std::optional<RemoteError> checkUnchanged() const;
    // With hashContent: true when every byte was handed out in order and matched item.sha256.
    // Without: always true (checkUnchanged() is the check then).
    bool contentVerified() const { return !m_hashContent || m_verified; }

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    static constexpr qint64 kBlockSize = 1 << 20;
    bool fill(qint64 fileOffset);   // reads (and hashes) the block at fileOffset

    struct Hash;
    UploadItem m_item;
    bool m_hashContent = false;
    NativeFile m_file;
    FileStat m_opened;            // the open file's identity and times when it was opened
    QByteArray m_buf;
    qint64 m_bufStart = 0;        // file offset of m_buf's first byte
    qint64 m_bufLen = 0;
    qint64 m_offset = 0;          // file offset of the device's position 0
    qint64 m_end = 0;
    std::unique_ptr<Hash> m_hash;
    qint64 m_hashedTo = 0;        // file offset the running hash has reached
    bool m_hashValid = true;
    bool m_changed = false;
    bool m_verified = false;
};

// SHA-256 of a byte stream, as lowercase hex (OpenSSL EVP; SHA-NI where available).
class Sha256Stream final
{
public:
    Sha256Stream();
    ~Sha256Stream();
    Sha256Stream(const Sha256Stream &) = delete;
    Sha256Stream &operator=(const Sha256Stream &) = delete;
    void add(QByteArrayView data);
    QByteArray hexResult();   // finishes; the object must be reset() before reuse
    void reset();

private:
    void *m_ctx;
};

} // namespace quire::net
