#pragma once

#include <QByteArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QUrl>

#include "testca.h"
#include "uploadfixture.h"   // the upload tests use the two together

#include <memory>
#include <mutex>
#include <utility>

class QThread;

namespace quire::test {

// A small HTTP/1.1 server on a real loopback socket (free port) that misbehaves on request, for
// the upload fault tests. It runs in its own thread, so a test can block on an upload while the
// server answers. By default it is a well-behaved server:
//   POST      a "collections API" (remotehttp.h): parses the multipart body and answers
//             201 {"id": n, "location": "/documents/n"}
//   others    a minimal in-memory WebDAV server (MKCOL, PUT with If-None-Match and
//             Content-Range, PROPFIND Depth 0, GET, HEAD, DELETE, MOVE with Overwrite); a PUT
//             with Content-Range is written into the file in place, as Apache mod_dav_fs does,
//             unless setRangedPut() says otherwise
// Scripted behaviours are consumed in order by the requests they match (method, a part of the
// path, a minimum body size; empty matches anything); when none matches, the default behaviour
// answers.
// With Options::tls it speaks HTTP/1.1 over TLS (QSslServer; ALPN offers http/1.1 only) with a
// certificate and key from TestCa, and url() says https; every behaviour works the same way
// (ResetMidBody resets the TCP connection under the TLS session).
// All public functions are thread-safe.
class FaultServer final
{
public:
    struct Behaviour
    {
        enum class Kind {
            Respond,        // read the whole request, then answer status/headers/body
            ResetMidBody,   // read resetAfter body bytes, then reset the connection (RST)
            NeverAnswer,    // read the request, then say nothing and keep the connection open
            Trickle,        // answer status with a body of trickleChunks x trickleBytes, one
                            // chunk every trickleIntervalMs (slow, but bytes keep flowing)
            SlowRead,       // read the request body slowly (trickleBytes every
                            // trickleIntervalMs), then behave by default
            RespondEarly,   // answer status/headers/body (with "Connection: close") as soon as
                            // the headers are in, then read nothing more: a client that keeps
                            // sending stalls, one that stops closes the connection
            CutShort,       // read the whole request, answer status/headers with a Content-Length
                            // of declaredLength but only `body`, then close the connection (FIN),
                            // or reset it (RST) when `reset` is set: a body that breaks off
        };
        QByteArray method;                  // "" = any
        QByteArray pathContains;            // "" = any path; else the request path must contain it
        qint64 minContentLength = 0;        // only requests with at least this many body bytes
        Kind kind = Kind::Respond;
        int status = 200;
        QList<std::pair<QByteArray, QByteArray>> headers;
        QByteArray body;
        qint64 resetAfter = 0;
        int trickleIntervalMs = 200;
        int trickleBytes = 1;
        int trickleChunks = 10;
        bool chunked = false;               // Respond/RespondEarly: the body in chunked encoding
        qint64 declaredLength = 0;          // CutShort: the Content-Length announced
        bool reset = false;                 // CutShort: end with RST instead of FIN

        static Behaviour respond(QByteArray method, int status, QByteArray body = {},
                                 QList<std::pair<QByteArray, QByteArray>> headers = {});
        // NeverAnswer to `method` ("" any) on paths containing pathContains ("" any).
        static Behaviour neverAnswer(QByteArray method = {}, QByteArray pathContains = {});
        // SlowRead of the body: `bytes` every intervalMs.
        static Behaviour slowRead(QByteArray method, QByteArray pathContains, int bytes, int intervalMs);
        // Trickle: `status` with a body of `chunks` single bytes, one every intervalMs.
        static Behaviour trickle(QByteArray method, int status, int chunks, int intervalMs);
        // CutShort to `method` on paths containing pathContains: `status` announcing a body of
        // declaredLength bytes, of which only `body` comes before the connection ends.
        static Behaviour cutShort(QByteArray method, QByteArray pathContains, int status, QByteArray body,
                                  qint64 declaredLength, bool reset = false);
        // This behaviour for the requests whose path contains part and whose body has at least
        // minBody bytes only.
        Behaviour onPath(QByteArray part, qint64 minBody = 0) const
        {
            Behaviour b = *this;
            b.pathContains = std::move(part);
            b.minContentLength = minBody;
            return b;
        }
    };

    struct Seen
    {
        QByteArray method;
        QByteArray path;                    // as sent (percent-encoded)
        QList<std::pair<QByteArray, QByteArray>> headers;
        qint64 bodyBytes = 0;
        QByteArray bodySha256;              // hex
        QMap<QByteArray, QByteArray> formFields;   // multipart: name -> value (file: its sha256)
        qint64 atMs = 0;                    // since the server started, when the headers arrived
        QByteArray header(const QByteArray &name) const;
    };

    struct Options
    {
        TlsIdentity tls;                    // null: plain http; else https with this certificate
    };

    FaultServer();                          // plain http
    explicit FaultServer(Options options);
    ~FaultServer();
    Q_DISABLE_COPY(FaultServer)

    quint16 port() const;
    QUrl url() const;                       // http(s)://127.0.0.1:<port>/
    QUrl baseUrl() const { return url(); }
    bool isTls() const;
    // "" when the server listens; else why not (e.g. the certificate or key could not be read).
    QString error() const;

    void script(QList<Behaviour> behaviours);
    QList<Seen> requests() const;
    int requestCount(const QByteArray &method = {}) const;
    // Blocks until `count` requests in all have arrived (their headers were read); false when
    // timeoutMs passed first.
    bool waitForRequests(int count, int timeoutMs) const;
    // The in-memory DAV store: path (decoded) -> content.
    QMap<QString, QByteArray> files() const;
    void putFile(const QString &path, const QByteArray &content);
    // Receive buffer size of accepted sockets (SlowRead needs it small). Before requests.
    void setReceiveBuffer(int bytes);

    // What a PUT with a Content-Range header does (servers that cannot resume an upload).
    enum class RangedPut {
        WrittenInPlace,   // default: the body goes to the given offset of the existing file
        Refused,          // answered with refusalStatus (nginx's dav module: 501; sabre/dav in
                          // Nextcloud and ownCloud: 400), nothing stored
        Ignored,          // the header is ignored: the body replaces the whole file
    };
    void setRangedPut(RangedPut mode, int refusalStatus = 501);

    // Nextcloud mode (call before requests). The server then also answers:
    //   GET /status.php    {"installed":true,"version":<version>,"productname":"Nextcloud",...}
    //   /remote.php/dav/files/<user>/...   the in-memory DAV tree (that folder exists), with
    //                      /remote.php/webdav/... as the same folder; PROPFIND of a file reports
    //                      oc:checksums "SHA256:<hex>" of what it holds; a PUT with
    //                      Content-Range is refused with 400, as sabre/dav does
    //   /remote.php/dav/uploads/<user>/<id>   chunked upload v2 (Nextcloud developer manual,
    //                      "Chunked file upload"):
    //     MKCOL     creates the upload folder; needs Destination (400), 405 when it exists
    //     PUT <n>   stores chunk n (a number of 1..10000, 400 otherwise); needs the MKCOL's
    //               Destination and OC-Total-Length (the same for every chunk), 400 otherwise;
    //               201 (204 when it replaced one); 404 without the folder
    //     PROPFIND  the folder and (unless "Depth: 0") its chunks with getcontentlength
    //     GET       405: chunks cannot be read back
    //     MOVE .file  assembles the chunks in numeric order at Destination (which must be in
    //               the user's files, its folder existing: 409): every chunk but the last at
    //               least 5 MiB, the sum OC-Total-Length, the SHA-256 OC-Checksum's (400 if
    //               not); 412 for an existing Destination with "Overwrite: F"; then 201 (204
    //               when it replaced a file) and the upload folder is gone
    //     DELETE    the folder (or one chunk)
    //   Scripted behaviours apply to these requests as to any other.
    void setNextcloud(const QString &user, const QByteArray &version = "28.0.4.1");
    struct ChunkedUpload
    {
        QString id;                    // the upload folder's name
        QByteArray destination;        // its MKCOL's Destination header
        qint64 totalLength = -1;       // OC-Total-Length of its chunks
        QMap<int, qint64> chunks;      // chunk number -> bytes stored
    };
    QList<ChunkedUpload> chunkedUploads() const;   // the upload folders there are now
    // The most chunk PUTs whose bodies were being received at the same moment.
    int maxChunkPutsInFlight() const;
    // The next `count` chunks are stored with their first byte changed (a failing disk).
    void corruptNextChunks(int count);
    void makeDirectory(const QString &path);       // and its parents
    // Body bytes received by requests [fromRequest, end) of `method` ("" any) whose path contains
    // pathContains (bodies cut off by a reset count what arrived).
    qint64 bodyBytes(const QByteArray &method, const QByteArray &pathContains, qsizetype fromRequest = 0) const;

    struct State;

private:
    std::shared_ptr<State> m_state;
    QThread *m_thread = nullptr;    // runs the server (created and destroyed in it)
};

} // namespace quire::test
