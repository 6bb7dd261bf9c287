#pragma once

#include "remotes/remote.h"
#include "net/tls.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QIODevice>
#include <QList>
#include <QUrl>

#include <chrono>
#include <functional>
#include <optional>
#include <utility>

// The one HTTP(S) client of every network remote, on libcurl. Internal to workers/ (the remotes
// and their tests use it). Everything here blocks and runs on a worker thread.
//
// Each calling thread has its own libcurl multi handle (created on first use, cleaned up when
// the thread ends): its connections are kept alive between requests, so a whole push reuses
// them; over https HTTP/2 is negotiated by ALPN and parallel requests share one connection,
// except those that send a file (Request::fileBody).
// Requests are driven by curl_multi_poll on the calling thread; UploadControl::requestStop wakes
// it (curl_multi_wakeup), so pause and cancel take effect at once.
namespace quire::net {

struct Request
{
    QByteArray verb;                       // "PUT", "PROPFIND", "GET", ...
    QUrl url;
    QList<std::pair<QByteArray, QByteArray>> headers;
    QIODevice *body = nullptr;             // streamed from its position 0; open, owned by the caller
    QByteArray bodyBytes;                  // small in-memory body (XML), when body is null
    qint64 uploadBytes = 0;                // body size: sizes the total time budget
    qint64 downloadBytes = 0;              // expected response size: also sizes the budget
    // Progress reporting: done = progressOffset + bytes sent in this request.
    qint64 progressOffset = 0;
    qint64 progressTotal = -1;             // -1: uploadBytes
    // Instead of reporting to the UploadControl: called with the bytes this request has sent.
    std::function<void(qint64 sent)> onUploadProgress;
    qint64 tag = 0;                        // copied to Response::tag (sendParallel bookkeeping)
    // Streaming download: called for every chunk of a 2xx body instead of buffering it;
    // return false to abort (e.g. a hash already failed).
    std::function<bool(QByteArrayView)> onBodyData;
    qint64 maxBufferedBody = 4 * 1024 * 1024;   // more is dropped (error pages, XML)
    // A file's content (a document, or a segment of one) goes over HTTP/1.1 with keep-alive, a
    // connection per lane, even where HTTP/2 is offered: an HTTP/2 stream moves at most the
    // server's flow-control window per round trip (64 KiB unless the server says otherwise:
    // Apache's H2WindowSize, nginx's http2_body_preread_size), where TCP's window grows with the
    // path; and libcurl 7.88 spins while a stream's window is used up (curl issues #7821,
    // #10618). Measured on loopback against Apache (docs/BENCHMARKS.md): 1,000 files of 64 KiB
    // in 0.6 s over HTTP/1.1 against 0.9 s as HTTP/2 streams, with less CPU on both sides.
    // Requests without such a body (PROPFIND, MKCOL, HEAD, GET, MOVE, DELETE) use HTTP/2 where
    // it is offered.
    bool fileBody = false;
    // A new connection (and so a new TLS handshake) even when one is open to the server.
    bool freshConnection = false;
    // How long this request may go without a byte moving; 0: RemoteLimits::transferTimeout.
    // Never shorter than that. For a request the server may think about for long before it
    // answers (Nextcloud assembling an uploaded file's chunks on MOVE).
    std::chrono::milliseconds idleTimeout{0};
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
    // Why no HTTP answer came (status 0), or why the exchange broke off.
    enum class Failure {
        None,
        ConnectionRefused,
        HostNotFound,
        ConnectTimeout,
        ConnectionBroken,      // reset, closed before the answer, a send or receive error
        Tls,                   // handshake or certificate: see tls
        InsecureCredentials,   // plain http to a host that is not loopback: nothing was sent
        BadRequest,            // a header value with a line break, an unusable URL: nothing was sent
        ProxyFailed,
        Other,
    };
    End end = End::Finished;
    QUrl url;
    qint64 tag = 0;
    int status = 0;                        // 0: no HTTP response
    QByteArray reason;
    QByteArray httpVersion;                // "HTTP/2", "HTTP/1.1"
    QString peerAddress;                   // the address connected to (a proxy's, through one)
    QByteArray body;                       // buffered body (not with onBodyData on 2xx)
    QList<std::pair<QByteArray, QByteArray>> headers;
    Failure failure = Failure::None;
    QString errorString;                   // libcurl's words for a failure
    TlsReport tls;                         // the server's certificate and how it was judged (https)
    std::optional<RemoteError> checkError;   // End::CheckFailed
    qint64 bytesSent = 0;
    qint64 bodySize = 0;                   // what the request's body should have been
    std::chrono::milliseconds budget{0};
    std::chrono::milliseconds idleTimeout{0};   // the no-progress limit that applied

    QByteArray header(QByteArrayView name) const;   // case-insensitive; "" when absent
    // The server answered before it had the whole request body: never a success.
    bool answeredEarly() const { return bytesSent < bodySize; }
    bool isHttpSuccess() const
    {
        return end == End::Finished && status >= 200 && status < 300 && !answeredEarly();
    }
};

// The per-remote sending side: authentication, TLS trust and limits. Thread-safe (immutable).
class Client final
{
public:
    Client(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits);

    // Refuses credentials that would travel in the clear (see RemoteProfile::allowInsecureAuth)
    // by the URL's host name; the address it resolves to is judged again before each request.
    // nullopt when sending is fine.
    std::optional<RemoteError> securityError(const QUrl &url) const;

    // Sends one request and waits for the end of it. check (optional) runs every 300 ms; an
    // error it returns aborts the request (End::CheckFailed). control (optional) stops it at once.
    Response send(Request request, UploadControl *control = nullptr,
                  const std::function<std::optional<RemoteError>()> &check = {}) const;

    // Runs requests concurrently, at most `lanes` at a time: next() gives the next request,
    // nullopt when there is none left; done() gets each Response as it ends and returns false to
    // end the batch (the others are then aborted and reported as Abandoned). control stops all of
    // them; a check() error aborts all of them (CheckFailed). Returns when nothing is in flight.
    void sendParallel(int lanes, const std::function<std::optional<Request>()> &next,
                      const std::function<bool(const Response &)> &done, UploadControl *control = nullptr,
                      const std::function<std::optional<RemoteError>()> &check = {}) const;

    // The RemoteError for a response that is not a 2xx success. action says what was being
    // done ("uploading report.pdf"); the message never contains the secret.
    RemoteError errorFor(const Response &response, const QString &action) const;

    const RemoteLimits &limits() const { return m_limits; }
    const RemoteProfile &profile() const { return m_profile; }
    // Whether the Authorization header may go to url: only to the remote's own origin.
    bool sameOrigin(const QUrl &url) const;

private:
    RemoteProfile m_profile;
    QUrl m_origin;                // scheme, host and port of the remote's URL
    QByteArray m_authorization;   // the Authorization header value, or empty
    RemoteLimits m_limits;
    TlsTrust m_trust;
};

// Once, first thing in main(), before any other thread runs: libcurl's and OpenSSL's global
// set-up. OpenSSL is told not to tear itself down from an atexit() handler: Qt starts its threads
// detached, so a pool thread may still be ending, and OpenSSL freeing that thread's state, while
// exit() runs the handler, and the two free the same memory. The system reclaims it at exit.
void initLibraries();

// True when the host is a loopback name or address (localhost, 127.0.0.0/8, ::1).
bool isLoopbackHost(const QString &host);

// One path segment, percent-encoded so that every byte outside the unreserved set
// (A-Z a-z 0-9 - . _ ~) is escaped: spaces, '#', '%', '?', '/', non-ASCII (as UTF-8), emoji.
QByteArray encodeSegment(const QString &segment);
// base (ending in '/' or not) + the encoded segments, each followed by '/' when dirs is set.
QUrl childUrl(const QUrl &base, const QList<QString> &segments, bool trailingSlash = false);

// The certificate a remote's server shows, for a person to judge (quire remote trust, Test
// Connection): connects to the remote's URL on a new connection and sends one HEAD request
// without credentials, judged by the remote's trust (system CAs or its CA file, its pin).
struct ServerCertificate
{
    TlsReport tls;            // tls.peer: what the server showed (when the handshake got that far)
    bool trusted = false;     // the handshake succeeded under the remote's trust
    std::optional<RemoteError> error;   // not reached (refused, no such host...) or not https
};
ServerCertificate inspectCertificate(const RemoteProfile &profile, const RemoteLimits &limits,
                                     UploadControl *control = nullptr);

// libcurl's version line ("libcurl/7.88.1 OpenSSL/3.0.x nghttp2/1.52.0 ..."), for diagnostics.
QString curlVersion();

} // namespace quire::net
