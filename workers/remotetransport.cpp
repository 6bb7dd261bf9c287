#include "remotetransport.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFile>
#include <QHostAddress>
#include <QHttpMultiPart>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QThread>
#include <QThreadStorage>
#include <QTimer>

#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#ifdef Q_OS_LINUX
#  include <dirent.h>
#  include <netinet/in.h>
#  include <netinet/tcp.h>
#  include <sys/socket.h>
#  include <sys/stat.h>
#endif

namespace quire::net {

namespace {

bool onGuiThread()
{
    const auto *app = QCoreApplication::instance();
    return app && QThread::currentThread() == app->thread();
}

QString durationText(std::chrono::milliseconds d)
{
    const qint64 s = (d.count() + 999) / 1000;
    if (s < 120)
        return QStringLiteral("%1 s").arg(s);
    if (s < 7200)
        return QStringLiteral("%1 min").arg((s + 59) / 60);
    return QStringLiteral("%1 h").arg(QString::number(double(s) / 3600.0, 'f', 1));
}

QString hostPort(const QUrl &url)
{
    const int port = url.port(url.scheme() == QLatin1String("https") ? 443 : 80);
    return QStringLiteral("%1:%2").arg(url.host()).arg(port);
}

} // namespace

QNetworkAccessManager &threadManager()
{
    Q_ASSERT_X(!onGuiThread(), "quire::net::threadManager",
               "network remotes block: call them on a worker thread, never the GUI thread");
    // QThreadStorage deletes the manager when its thread finishes, in that thread, before the
    // thread's event dispatcher goes away (thread_local destructors would run too late).
    static QThreadStorage<QNetworkAccessManager *> storage;
    if (!storage.hasLocalData()) {
        auto *nam = new QNetworkAccessManager;
        // A redirected PUT would have to send its body again; Quire reports redirects instead
        // (the remote's URL should be fixed), so every request is sent exactly once.
        nam->setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
        nam->setAutoDeleteReplies(false);
        storage.setLocalData(nam);
    }
    return *storage.localData();
}

bool isLoopbackHost(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0
        || host.endsWith(QLatin1String(".localhost"), Qt::CaseInsensitive))
        return true;
    QHostAddress addr;
    return addr.setAddress(host) && addr.isLoopback();
}

QByteArray encodeSegment(const QString &segment)
{
    // toPercentEncoding escapes everything but the unreserved characters: exactly what a
    // path segment needs to survive every server (and '%' itself is escaped as %25).
    return QUrl::toPercentEncoding(segment);
}

QUrl childUrl(const QUrl &base, const QList<QString> &segments, bool trailingSlash)
{
    QByteArray s = base.toEncoded(QUrl::RemoveQuery | QUrl::RemoveFragment);
    if (!s.endsWith('/'))
        s += '/';
    for (qsizetype i = 0; i < segments.size(); ++i) {
        s += encodeSegment(segments.at(i));
        if (i + 1 < segments.size() || trailingSlash)
            s += '/';
    }
    return QUrl::fromEncoded(s, QUrl::StrictMode);
}

void preferLowDelay(quint16 port)
{
#if defined(Q_OS_LINUX) && !defined(__SANITIZE_THREAD__)
    // (Not under ThreadSanitizer: it models descriptors as memory and reports any use of a
    // socket that Qt's HTTP thread opened, which is exactly what this function is for.)
    DIR *dir = ::opendir("/proc/self/fd");
    if (!dir)
        return;
    const int own = ::dirfd(dir);
    while (const dirent *e = ::readdir(dir)) {
        bool ok = false;
        const int fd = QByteArray(e->d_name).toInt(&ok);
        if (!ok || fd == own)
            continue;
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        sockaddr_storage peer {};
        socklen_t len = sizeof peer;
        if (::getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &len) != 0)
            continue;
        quint16 peerPort = 0;
        if (peer.ss_family == AF_INET)
            peerPort = ntohs(reinterpret_cast<const sockaddr_in *>(&peer)->sin_port);
        else if (peer.ss_family == AF_INET6)
            peerPort = ntohs(reinterpret_cast<const sockaddr_in6 *>(&peer)->sin6_port);
        if (peerPort != port)
            continue;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    ::closedir(dir);
#else
    Q_UNUSED(port);
#endif
}

QByteArray Response::header(QByteArrayView name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

// --- Client ------------------------------------------------------------------------------------

Client::Client(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits)
    : m_profile(profile), m_limits(limits)
{
    if (profile.usesBearerToken() && !secret.isEmpty())
        m_authorization = "Bearer " + secret.toUtf8();
    else if (!profile.user.isEmpty())
        m_authorization = "Basic " + (profile.user + QLatin1Char(':') + secret).toUtf8().toBase64();
}

std::optional<RemoteError> Client::securityError(const QUrl &url) const
{
    if (m_authorization.isEmpty() || url.scheme() != QLatin1String("http")
        || isLoopbackHost(url.host()) || m_profile.allowInsecureAuth())
        return std::nullopt;
    return RemoteError::make(
        RemoteError::Kind::Refused,
        QStringLiteral("refusing to send the password of remote \"%1\" unencrypted over http:// "
                       "to %2: use an https:// URL, or allow it explicitly for this remote "
                       "(quire remote add %1 ... --allow-insecure-auth)")
            .arg(m_profile.name, url.host()));
}

namespace exchange {

// One request in flight on the calling thread: its total-time budget and the Response being
// filled in. Used by Client::send() and Client::sendParallel() on one thread; two kinds:
// ReplyExchange (through this thread's QNetworkAccessManager) and SocketExchange (a connection
// of its own, for large bodies).
//
// Signals reach an exchange through connections made by signature (SIGNAL/SLOT), never through
// lambdas or member-function pointers: a QNetworkReply's connections may be freed on Qt's HTTP
// thread (when the reply's delegate there is destroyed, it cleans up the reply's disconnected
// connections under Qt's own lock), and the slot object of a functor connection would then be
// destroyed by code compiled into Quire on that thread. ThreadSanitizer cannot see Qt's locks
// and reports that as a race with the thread that made the connection. A connection by
// signature is allocated and freed inside QtCore only.
class Exchange : public QObject
{
    Q_OBJECT

public:
    Request rq;
    Response out;
    QTimer total;
    bool consumerAborted = false;
    bool finished = false;

    Exchange() = default;
    Q_DISABLE_COPY_MOVE(Exchange)

    virtual void start(Request request, QNetworkAccessManager &nam, const QByteArray &authorization,
                       const RemoteLimits &limits, UploadControl *control, std::function<void()> onFinished) = 0;
    // Ends the request now (finished() follows at once); `why` is how it ended.
    virtual void abort(Response::End why) = 0;
    // After finished: fills in what is still missing of `out`.
    virtual void complete() {}

protected:
    void begin(Request request, const RemoteLimits &limits, UploadControl *control, std::function<void()> onFinished)
    {
        rq = std::move(request);
        m_control = control;
        m_onFinished = std::move(onFinished);
        out.url = rq.url;
        out.tag = rq.tag;
        out.budget = limits.totalFor(rq.uploadBytes + rq.downloadBytes);
        m_progressTotal = rq.progressTotal >= 0 ? rq.progressTotal : rq.uploadBytes;
        total.setSingleShot(true);
        total.setTimerType(Qt::CoarseTimer);
        connect(&total, SIGNAL(timeout()), this, SLOT(onTotalTimeout()));
        total.start(out.budget);
    }

    void reportSent(qint64 sent)
    {
        out.bytesSent = sent;
        if (rq.onUploadProgress)
            rq.onUploadProgress(sent);
        else if (m_control && sent > 0)
            m_control->reportProgress(rq.progressOffset + sent, m_progressTotal);
    }

    void markFinished()
    {
        if (finished)
            return;
        finished = true;
        total.stop();
        if (m_onFinished)
            m_onFinished();
    }

    static QByteArray userAgent() { return QByteArrayLiteral("Quire/" QUIRE_VERSION); }

private slots:
    void onTotalTimeout() { abort(Response::End::TotalTimeout); }

private:
    UploadControl *m_control = nullptr;
    std::function<void()> m_onFinished;
    qint64 m_progressTotal = 0;
};

// Whether this thread's manager may have opened a connection since preferLowDelay() last looked
// (that costs a readdir and an fstat per open descriptor, too much for every small request).
thread_local bool t_connectionsChanged = true;

// A request through this thread's QNetworkAccessManager.
class ReplyExchange final : public Exchange
{
    Q_OBJECT

public:
    QNetworkReply *reply = nullptr;

    ReplyExchange() = default;
    ~ReplyExchange() override { delete reply; }   // a multipart body goes with its reply

    void start(Request request, QNetworkAccessManager &nam, const QByteArray &authorization,
               const RemoteLimits &limits, UploadControl *control, std::function<void()> onFinished) override
    {
        begin(std::move(request), limits, control, std::move(onFinished));

        QNetworkRequest req(rq.url);
        req.setTransferTimeout(int(limits.transferTimeout.count()));
        req.setAttribute(QNetworkRequest::CacheLoadControlAttribute, QNetworkRequest::AlwaysNetwork);
        req.setAttribute(QNetworkRequest::CacheSaveControlAttribute, false);
        req.setHeader(QNetworkRequest::UserAgentHeader, userAgent());
        if (!authorization.isEmpty())
            req.setRawHeader("Authorization", authorization);
        for (const auto &h : rq.headers)
            req.setRawHeader(h.first, h.second);
        if (rq.body && !req.header(QNetworkRequest::ContentLengthHeader).isValid())
            req.setHeader(QNetworkRequest::ContentLengthHeader, rq.body->size());

        // Before a body is sent on a kept-alive connection (see preferLowDelay()); the scan of
        // the descriptors is repeated only once a reply on this thread opened a connection.
        if ((rq.body || rq.multipart || !rq.bodyBytes.isEmpty()) && t_connectionsChanged) {
            t_connectionsChanged = false;
            preferLowDelay(quint16(rq.url.port(rq.url.scheme() == QLatin1String("https") ? 443 : 80)));
        }

        if (rq.multipart) {
            reply = nam.post(req, rq.multipart);
            rq.multipart->setParent(reply);
        } else if (rq.verb == "HEAD") {
            reply = nam.head(req);
        } else if (rq.verb == "GET") {
            reply = nam.get(req);
        } else if (rq.body) {
            reply = nam.sendCustomRequest(req, rq.verb, rq.body);
        } else if (rq.verb == "PUT" || !rq.bodyBytes.isEmpty()) {
            reply = nam.sendCustomRequest(req, rq.verb, rq.bodyBytes);
        } else {
            reply = nam.sendCustomRequest(req, rq.verb);
        }

        connect(reply, SIGNAL(uploadProgress(qint64,qint64)), this, SLOT(onUploadProgress(qint64,qint64)));
        connect(reply, SIGNAL(readyRead()), this, SLOT(drain()));
        connect(reply, SIGNAL(sslErrors(QList<QSslError>)), this, SLOT(onSslErrors(QList<QSslError>)));
        connect(reply, SIGNAL(finished()), this, SLOT(onFinished()));
        connect(reply, SIGNAL(socketStartedConnecting()), this, SLOT(onConnecting()));
        if (reply->isFinished()) {
            finished = true;
            total.stop();
        }
    }

    void abort(Response::End why) override
    {
        if (finished)
            return;
        if (out.end == Response::End::Finished)
            out.end = why;
        reply->abort();   // emits finished() at once
    }

    void complete() override
    {
        drain();
        out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        out.reason = reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toByteArray();
        out.headers = reply->rawHeaderPairs();
        out.error = reply->error();
        out.errorString = reply->errorString();
        if (out.end == Response::End::Finished
            && (out.error == QNetworkReply::OperationCanceledError || out.error == QNetworkReply::TimeoutError)) {
            // Nobody here aborted it, so it was the transfer timeout.
            out.end = Response::End::TransferTimeout;
        }
    }

private slots:
    void onUploadProgress(qint64 sent, qint64) { reportSent(sent); }
    void onSslErrors(const QList<QSslError> &errors) { out.sslErrors += errors; }
    void onFinished() { markFinished(); }
    void onConnecting() { t_connectionsChanged = true; }

    void drain()
    {
        if (!reply->isOpen())
            return;   // aborted: nothing more to read
        const QByteArray chunk = reply->readAll();
        if (chunk.isEmpty())
            return;
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (rq.onBodyData && status >= 200 && status < 300) {
            if (!consumerAborted && !rq.onBodyData(chunk)) {
                consumerAborted = true;
                abort(Response::End::CheckFailed);
            }
        } else if (out.body.size() < rq.maxBufferedBody) {
            out.body += chunk.left(rq.maxBufferedBody - out.body.size());
        }
    }
};

// A request with a large body on a TCP connection of its own (Request::direct), in HTTP/1.1 with
// "Connection: close". QNetworkAccessManager hands a body to its HTTP thread 16 KiB per round
// trip between the threads, which costs more CPU than the transfer itself on a fast link (a
// 1 GiB upload to Apache on loopback: ~1.7 s of CPU, four times curl's). Here the body is
// written from the calling thread in blocks of up to 1 MiB, with TCP_NODELAY set from the start.
// Only for http:// without a proxy (Client::sendsDirectly()); the response is read like any
// other (status line, headers, a body by Content-Length, chunked or until the server closes).
class SocketExchange final : public Exchange
{
    Q_OBJECT

public:
    SocketExchange() = default;
    ~SocketExchange() override
    {
        if (m_socket) {
            m_socket->disconnect(this);
            m_socket->abort();
            delete m_socket;
        }
    }

    void start(Request request, QNetworkAccessManager &, const QByteArray &authorization,
               const RemoteLimits &limits, UploadControl *control, std::function<void()> onFinished) override
    {
        begin(std::move(request), limits, control, std::move(onFinished));
        m_bodySize = rq.body ? rq.body->size() : rq.bodyBytes.size();

        QByteArray target = rq.url.toEncoded(QUrl::RemoveScheme | QUrl::RemoveAuthority | QUrl::RemoveFragment);
        if (!target.startsWith('/'))
            target.prepend('/');
        QByteArray host = rq.url.host(QUrl::FullyEncoded).toUtf8();
        if (host.contains(':'))
            host = '[' + host + ']';   // an IPv6 address
        QByteArray head = rq.verb + ' ' + target + " HTTP/1.1\r\nHost: " + host;
        if (rq.url.port() > 0)
            head += ':' + QByteArray::number(rq.url.port());
        head += "\r\nUser-Agent: " + userAgent() + "\r\nConnection: close\r\n";
        if (!authorization.isEmpty())
            head += "Authorization: " + authorization + "\r\n";
        bool hasLength = false;
        for (const auto &h : rq.headers) {
            head += h.first + ": " + h.second + "\r\n";
            hasLength = hasLength || h.first.compare("Content-Length", Qt::CaseInsensitive) == 0;
        }
        if (!hasLength)
            head += "Content-Length: " + QByteArray::number(m_bodySize) + "\r\n";
        head += "\r\n";
        m_headSize = head.size();
        m_pending = std::move(head);

        m_idle.setSingleShot(true);
        m_idle.setInterval(int(limits.transferTimeout.count()));
        connect(&m_idle, SIGNAL(timeout()), this, SLOT(onIdle()));

        m_socket = new QTcpSocket;
        m_socket->setProxy(QNetworkProxy::NoProxy);
        connect(m_socket, SIGNAL(connected()), this, SLOT(onConnected()));
        connect(m_socket, SIGNAL(bytesWritten(qint64)), this, SLOT(onBytesWritten(qint64)));
        connect(m_socket, SIGNAL(readyRead()), this, SLOT(onReadyRead()));
        connect(m_socket, SIGNAL(disconnected()), this, SLOT(onDisconnected()));
        connect(m_socket, SIGNAL(errorOccurred(QAbstractSocket::SocketError)), this,
                SLOT(onSocketError(QAbstractSocket::SocketError)));
        m_idle.start();
        m_socket->connectToHost(rq.url.host(), quint16(rq.url.port(80)));
    }

    void abort(Response::End why) override
    {
        if (finished)
            return;
        if (out.end == Response::End::Finished)
            out.end = why;
        out.error = QNetworkReply::OperationCanceledError;
        out.errorString = QStringLiteral("Operation canceled");
        finish();
    }

private slots:
    void onConnected()
    {
        m_idle.start();
        m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        pump();
    }

    void onBytesWritten(qint64 n)
    {
        m_idle.start();
        m_written += n;
        reportSent(std::max<qint64>(0, m_written - m_headSize));
        pump();
    }

    void onReadyRead()
    {
        m_idle.start();
        m_in += m_socket->readAll();
        parse();
    }

    void onDisconnected()
    {
        if (finished)
            return;
        m_in += m_socket->readAll();
        parse();
        if (finished)
            return;
        if (m_phase == Phase::Body && m_framing == Framing::UntilClose) {
            markDone();
            return;
        }
        fail(QNetworkReply::RemoteHostClosedError, QStringLiteral("Connection closed"));
    }

    void onSocketError(QAbstractSocket::SocketError e)
    {
        if (finished)
            return;
        if (e == QAbstractSocket::RemoteHostClosedError) {
            onDisconnected();
            return;
        }
        // What arrived before the error may be the complete answer (e.g. a refusal sent before
        // the body was read, followed by a reset).
        m_in += m_socket->readAll();
        parse();
        if (finished)
            return;
        QNetworkReply::NetworkError code = QNetworkReply::UnknownNetworkError;
        switch (e) {
        case QAbstractSocket::ConnectionRefusedError: code = QNetworkReply::ConnectionRefusedError; break;
        case QAbstractSocket::HostNotFoundError: code = QNetworkReply::HostNotFoundError; break;
        case QAbstractSocket::SocketTimeoutError: code = QNetworkReply::TimeoutError; break;
        case QAbstractSocket::NetworkError: code = QNetworkReply::TemporaryNetworkFailureError; break;
        default: break;
        }
        fail(code, m_socket->errorString());
    }

    void onIdle()
    {
        if (finished)
            return;
        if (out.end == Response::End::Finished)
            out.end = Response::End::TransferTimeout;
        fail(QNetworkReply::TimeoutError, QStringLiteral("Socket operation timed out"));
    }

private:
    enum class Phase { Head, Body, Done };
    enum class Framing { Length, Chunked, UntilClose };
    static constexpr qint64 kBlock = 1 << 20;        // body bytes handed to the socket at once
    static constexpr qint64 kQueued = 2 * kBlock;    // at most this much waits in its buffer

    // Keeps the socket's buffer filled with the head and the body, a block at a time.
    void pump()
    {
        if (finished || m_socket->state() != QAbstractSocket::ConnectedState)
            return;
        while (m_phase != Phase::Done && m_socket->bytesToWrite() < kQueued) {
            if (!m_pending.isEmpty()) {
                m_socket->write(m_pending);
                m_pending.clear();
                continue;
            }
            if (m_queued >= m_bodySize)
                return;
            const qint64 want = std::min(kBlock, m_bodySize - m_queued);
            qint64 n = want;
            if (rq.body) {
                // A block of its own each time: the socket keeps the QByteArray itself in its
                // buffer (shared, not copied) until it is written.
                QByteArray block(want, Qt::Uninitialized);
                n = rq.body->read(block.data(), want);
                if (n < 0) {
                    fail(QNetworkReply::UnknownContentError, rq.body->errorString());
                    return;
                }
                if (n == 0)
                    return;   // withheld (the source changed): the periodic check ends the request
                block.truncate(n);
                m_socket->write(block);
            } else {
                m_socket->write(rq.bodyBytes.mid(m_queued, n));
            }
            m_queued += n;
        }
    }

    void parse()
    {
        for (;;) {
            if (finished || m_phase == Phase::Done)
                return;
            if (m_phase == Phase::Head) {
                const qsizetype end = m_in.indexOf("\r\n\r\n");
                if (end < 0) {
                    if (m_in.size() > 256 * 1024)
                        fail(QNetworkReply::ProtocolFailure, QStringLiteral("the server's answer has no end of its headers"));
                    return;
                }
                const QList<QByteArray> lines = m_in.left(end).split('\n');
                m_in.remove(0, end + 4);
                const QByteArray statusLine = lines.value(0).trimmed();
                const qsizetype sp1 = statusLine.indexOf(' ');
                const qsizetype sp2 = statusLine.indexOf(' ', sp1 + 1);
                bool ok = false;
                const int status = statusLine.mid(sp1 + 1, (sp2 < 0 ? statusLine.size() : sp2) - sp1 - 1).toInt(&ok);
                if (!statusLine.startsWith("HTTP/1.") || sp1 < 0 || !ok) {
                    fail(QNetworkReply::ProtocolFailure, QStringLiteral("the server did not answer in HTTP/1.1"));
                    return;
                }
                if (status >= 100 && status < 200)
                    continue;   // interim answer (100 Continue): the real one follows
                out.status = status;
                out.reason = sp2 < 0 ? QByteArray() : statusLine.mid(sp2 + 1);
                out.headers.clear();
                for (qsizetype i = 1; i < lines.size(); ++i) {
                    const QByteArray line = lines.at(i).trimmed();
                    const qsizetype colon = line.indexOf(':');
                    if (colon > 0)
                        out.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
                }
                if (out.header("Transfer-Encoding").toLower().contains("chunked")) {
                    m_framing = Framing::Chunked;
                } else if (const QByteArray length = out.header("Content-Length"); !length.isEmpty()) {
                    m_framing = Framing::Length;
                    m_remaining = length.trimmed().toLongLong();
                } else {
                    m_framing = (status == 204 || status == 304) ? Framing::Length : Framing::UntilClose;
                    m_remaining = 0;
                }
                m_phase = Phase::Body;
            }
            if (m_framing == Framing::Length) {
                const qint64 n = std::min<qint64>(m_remaining, m_in.size());
                keep(m_in.left(n));
                m_in.remove(0, n);
                m_remaining -= n;
                if (m_remaining == 0)
                    markDone();
                return;
            }
            if (m_framing == Framing::UntilClose) {
                keep(m_in);
                m_in.clear();
                return;
            }
            // Chunked: "<hex size>[;ext]\r\n<data>\r\n" ... "0\r\n<trailers>\r\n"
            if (m_remaining > 0) {
                const qint64 n = std::min<qint64>(m_remaining, m_in.size());
                keep(m_in.left(n));
                m_in.remove(0, n);
                m_remaining -= n;
                if (m_remaining > 0)
                    return;
                m_remaining = -2;   // the CRLF after the data
            }
            if (m_remaining == -2) {
                if (m_in.size() < 2)
                    return;
                m_in.remove(0, 2);
                m_remaining = 0;
            }
            const qsizetype eol = m_in.indexOf("\r\n");
            if (eol < 0)
                return;
            const QByteArray sizeLine = m_in.left(eol);
            bool ok = false;
            const qint64 size = sizeLine.left(sizeLine.indexOf(';') < 0 ? sizeLine.size() : sizeLine.indexOf(';'))
                                    .trimmed().toLongLong(&ok, 16);
            if (!ok || size < 0) {
                fail(QNetworkReply::ProtocolFailure, QStringLiteral("the server sent a malformed chunked answer"));
                return;
            }
            if (size == 0) {
                markDone();   // trailers, if any, are not needed
                return;
            }
            m_in.remove(0, eol + 2);
            m_remaining = size;
        }
    }

    void keep(const QByteArray &chunk)
    {
        if (out.body.size() < rq.maxBufferedBody)
            out.body += chunk.left(rq.maxBufferedBody - out.body.size());
    }

    void markDone()
    {
        m_phase = Phase::Done;
        finish();
    }

    void fail(QNetworkReply::NetworkError code, const QString &text)
    {
        if (finished)
            return;
        out.status = 0;
        out.error = code;
        out.errorString = text;
        finish();
    }

    void finish()
    {
        if (finished)
            return;
        m_idle.stop();
        m_socket->disconnect(this);
        m_socket->abort();   // "Connection: close": nothing more is sent either way
        markFinished();
    }

    QTcpSocket *m_socket = nullptr;
    QTimer m_idle;
    QByteArray m_pending;        // the request head, until it is written
    QByteArray m_in;
    qint64 m_headSize = 0;
    qint64 m_bodySize = 0;
    qint64 m_queued = 0;         // head excluded
    qint64 m_written = 0;        // head included
    Phase m_phase = Phase::Head;
    Framing m_framing = Framing::Length;
    qint64 m_remaining = 0;
};

// Direct sending needs a plain TCP connection to the server itself.
bool directAllowed(const QUrl &url)
{
    if (url.scheme() != QLatin1String("http"))
        return false;
    const QList<QNetworkProxy> proxies = QNetworkProxyFactory::proxyForQuery(QNetworkProxyQuery(url));
    return proxies.isEmpty() || proxies.first().type() == QNetworkProxy::NoProxy;
}

} // namespace exchange

Response Client::send(Request rq, UploadControl *control,
                      const std::function<std::optional<RemoteError>()> &check) const
{
    std::optional<Request> one = std::move(rq);
    Response result;
    sendParallel(
        1, [&]() -> std::optional<Request> { return std::exchange(one, std::nullopt); },
        [&](const Response &r) {
            result = r;
            return true;
        },
        control, check);
    return result;
}

void Client::sendParallel(int lanes, const std::function<std::optional<Request>()> &next,
                          const std::function<bool(const Response &)> &done, UploadControl *control,
                          const std::function<std::optional<RemoteError>()> &check) const
{
    // The loop must exist before the manager is used: it creates this thread's event
    // dispatcher, which pool threads do not have until something needs one.
    QEventLoop loop;
    QNetworkAccessManager &nam = threadManager();
    std::vector<std::unique_ptr<exchange::Exchange>> running;
    bool stopping = false;   // start nothing new

    auto abortAll = [&](Response::End why, const std::optional<RemoteError> &error = {}) {
        stopping = true;
        for (auto &ex : running) {
            if (error && !ex->finished)
                ex->out.checkError = error;
            ex->abort(why);
        }
    };
    auto launch = [&] {
        while (!stopping && int(running.size()) < std::max(1, lanes)) {
            std::optional<Request> rq = next();
            if (!rq)
                break;
            std::unique_ptr<exchange::Exchange> ex;
            if (rq->direct && !rq->multipart && !rq->onBodyData && exchange::directAllowed(rq->url))
                ex = std::make_unique<exchange::SocketExchange>();
            else
                ex = std::make_unique<exchange::ReplyExchange>();
            ex->start(std::move(*rq), nam, m_authorization, m_limits, control, [&loop] { loop.quit(); });
            running.push_back(std::move(ex));
        }
    };

    QTimer poll;
    int ticks = 0;
    poll.setInterval(100);
    QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
        if (control && control->isStopped()) {
            abortAll(Response::End::Stopped);
            return;
        }
        if (check && (++ticks % 3) == 0) {
            if (auto e = check())
                abortAll(Response::End::CheckFailed, e);
        }
    });
    poll.start();

    launch();
    while (!running.empty()) {
        const bool anyFinished = std::any_of(running.begin(), running.end(), [](const auto &ex) { return ex->finished; });
        if (!anyFinished)
            loop.exec(QEventLoop::ExcludeUserInputEvents);
        // Outside the replies' signals: finished ones can be judged and deleted now.
        for (auto it = running.begin(); it != running.end();) {
            exchange::Exchange &ex = **it;
            if (!ex.finished) {
                ++it;
                continue;
            }
            ex.complete();
            if (ex.consumerAborted && ex.out.end == Response::End::Finished)
                ex.out.end = Response::End::CheckFailed;
            const bool goOn = done(ex.out);
            it = running.erase(it);
            if (!goOn && !stopping)
                abortAll(Response::End::Abandoned);
        }
        launch();
    }
    poll.stop();
}

RemoteError Client::errorFor(const Response &r, const QString &action) const
{
    using K = RemoteError::Kind;
    const QString prefix = action.isEmpty() ? QString() : action + QStringLiteral(": ");
    switch (r.end) {
    case Response::End::TransferTimeout:
        return RemoteError::make(K::Timeout,
                                 prefix + QStringLiteral("%1 stopped responding (no data moved "
                                                         "for %2)")
                                              .arg(hostPort(r.url),
                                                   durationText(m_limits.transferTimeout)));
    case Response::End::TotalTimeout:
        return RemoteError::make(K::Timeout,
                                 prefix + QStringLiteral("gave up after %1, the longest this "
                                                         "request may take")
                                              .arg(durationText(r.budget)));
    case Response::End::Stopped:
        return RemoteError::make(K::Stopped, prefix + QStringLiteral("stopped"));
    case Response::End::Abandoned:
        return RemoteError::make(K::Network, prefix + QStringLiteral("abandoned because a parallel request failed"));
    case Response::End::CheckFailed:
        if (r.checkError)
            return *r.checkError;
        return RemoteError::make(K::Protocol, prefix + QStringLiteral("aborted"));
    case Response::End::Finished:
        break;
    }

    if (!r.sslErrors.isEmpty() || r.error == QNetworkReply::SslHandshakeFailedError) {
        QStringList texts;
        for (const QSslError &e : r.sslErrors)
            texts << e.errorString();
        if (texts.isEmpty())
            texts << r.errorString;
        texts.removeDuplicates();
        return RemoteError::make(
            K::Tls, prefix
                        + QStringLiteral("TLS problem with the server: %1. Quire does not send "
                                         "documents to a server whose certificate it cannot "
                                         "verify (system CA certificates).")
                              .arg(texts.join(QStringLiteral("; "))));
    }

    if (r.status > 0) {
        RemoteError e;
        e.kind = K::Http;
        e.httpStatus = r.status;
        e.message = prefix + httpErrorMessage(r.status, r.reason, r.body, r.header("Content-Type"));
        if (r.status >= 300 && r.status < 400) {
            const QByteArray where = r.header("Location");
            e.message += where.isEmpty()
                             ? QStringLiteral(". The server redirects; check the remote's URL.")
                             : QStringLiteral(". The server redirects to %1; set the remote's URL "
                                              "to that address.")
                                   .arg(QString::fromUtf8(where));
        } else if (r.status == 401) {
            e.message += m_authorization.isEmpty()
                             ? QStringLiteral(". The server wants a user name and password "
                                              "(quire remote add NAME ... --user USER).")
                             : QStringLiteral(". Check the user name and password "
                                              "(quire remote test NAME).");
        }
        e.retryAfter = parseRetryAfter(r.header("Retry-After"), QDateTime::currentDateTimeUtc());
        return e;
    }

    QString what;
    switch (r.error) {
    case QNetworkReply::ConnectionRefusedError:
        what = QStringLiteral("%1 refused the connection (is the server running?)")
                   .arg(hostPort(r.url));
        break;
    case QNetworkReply::RemoteHostClosedError:
        what = QStringLiteral("the server closed the connection before answering");
        break;
    case QNetworkReply::HostNotFoundError:
        what = QStringLiteral("host %1 not found").arg(r.url.host());
        break;
    case QNetworkReply::TemporaryNetworkFailureError:
    case QNetworkReply::NetworkSessionFailedError:
        what = QStringLiteral("the network is not available");
        break;
    case QNetworkReply::UnknownNetworkError:
        // What a connection reset mid-request usually comes back as ("Unknown error").
        what = QStringLiteral("the connection to %1 broke off (%2)").arg(hostPort(r.url), r.errorString);
        break;
    default:
        what = QStringLiteral("%1 (%2)").arg(r.errorString, hostPort(r.url));
        break;
    }
    return RemoteError::make(K::Network, prefix + what);
}

// --- source files ------------------------------------------------------------------------------

SourceState statSource(const QByteArray &nativePath)
{
    SourceState s;
    int error = 0;
    const Result<FileStat> st = statPath(nativePath, true, &error);
    if (!st) {
        s.error = error == ENOENT ? QStringLiteral("the source file is gone") : st.error();
        return s;
    }
    s.size = st->size;
    s.mtimeMs = st->mtimeMs();
    return s;
}

Sha256Stream::Sha256Stream() : m_ctx(EVP_MD_CTX_new())
{
    reset();
}

Sha256Stream::~Sha256Stream()
{
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX *>(m_ctx));
}

void Sha256Stream::add(QByteArrayView data)
{
    EVP_DigestUpdate(static_cast<EVP_MD_CTX *>(m_ctx), data.data(), size_t(data.size()));
}

QByteArray Sha256Stream::hexResult()
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX *>(m_ctx), md, &len);
    return QByteArray(reinterpret_cast<const char *>(md), len).toHex();
}

void Sha256Stream::reset()
{
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX *>(m_ctx), EVP_sha256(), nullptr);
}

namespace {
// The hex digest of what ctx has seen so far, leaving ctx as it is.
QByteArray finalHex(const EVP_MD_CTX *ctx)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *probe = EVP_MD_CTX_new();
    EVP_MD_CTX_copy_ex(probe, ctx);
    EVP_DigestFinal_ex(probe, md, &len);
    EVP_MD_CTX_free(probe);
    return QByteArray(reinterpret_cast<const char *>(md), int(len)).toHex();
}
} // namespace

struct SourceDevice::Hash
{
    EVP_MD_CTX *running = EVP_MD_CTX_new();
    EVP_MD_CTX *prefix = EVP_MD_CTX_new();   // the state after [0, offset): reset() starts here
    Hash()
    {
        EVP_DigestInit_ex(running, EVP_sha256(), nullptr);
    }
    ~Hash()
    {
        EVP_MD_CTX_free(running);
        EVP_MD_CTX_free(prefix);
    }
    Hash(const Hash &) = delete;
    Hash &operator=(const Hash &) = delete;
};

SourceDevice::SourceDevice(const UploadItem &item, bool hashContent)
    : m_item(item), m_hashContent(hashContent), m_hash(std::make_unique<Hash>())
{
}

SourceDevice::~SourceDevice() = default;

std::optional<RemoteError> SourceDevice::openAt(qint64 offset, UploadControl *control, qint64 length)
{
    Q_ASSERT(length < 0 || !m_hashContent);
    using K = RemoteError::Kind;
    const SourceState st = statSource(m_item.sourcePath);
    if (!st.ok())
        return RemoteError::make(K::LocalIo, QStringLiteral("cannot read %1: %2")
                                                 .arg(qtPath(m_item.sourcePath), st.error));
    if (st.size != m_item.size || st.mtimeMs != m_item.mtimeMs)
        return RemoteError::make(K::SourceChanged, QStringLiteral("the file changed since it was hashed"));
    Result<NativeFile> file = NativeFile::open(m_item.sourcePath);
    if (!file)
        return RemoteError::make(K::LocalIo, QStringLiteral("cannot open %1: %2")
                                                 .arg(displayPath(m_item.sourcePath), file.error()));
    m_file = std::move(*file);
    m_file.adviseSequential();
    const Result<FileStat> opened = m_file.stat();
    if (!opened || opened->size != m_item.size)
        return RemoteError::make(K::SourceChanged, QStringLiteral("the file changed since it was hashed"));
    m_opened = *opened;
    m_offset = offset;
    m_end = length >= 0 ? std::min(m_item.size, offset + length) : m_item.size;
    if (!m_hashContent) {
        QIODevice::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
        return std::nullopt;
    }
    // Hash the part the server already has, so the whole file's SHA-256 is checked at the end.
    QByteArray buf(1 << 20, Qt::Uninitialized);
    qint64 done = 0;
    while (done < offset) {
        if (control && control->isStopped())
            return RemoteError::make(K::Stopped, QStringLiteral("stopped"));
        const qint64 want = std::min<qint64>(buf.size(), offset - done);
        const qint64 n = m_file.readAt(done, buf.data(), want);
        if (n < 0)
            return RemoteError::make(K::LocalIo, QStringLiteral("cannot read %1: %2")
                                                     .arg(displayPath(m_item.sourcePath), m_file.errorString()));
        if (n == 0)
            return RemoteError::make(K::SourceChanged, QStringLiteral("the file became shorter"));
        EVP_DigestUpdate(m_hash->running, buf.constData(), size_t(n));
        done += n;
    }
    EVP_MD_CTX_copy_ex(m_hash->prefix, m_hash->running);
    m_hashedTo = offset;
    if (m_hashedTo == m_end) {
        // Nothing left to send (an empty file, or a resumed upload that had everything):
        // compare now, as readData() never will.
        if (finalHex(m_hash->running) != m_item.sha256)
            return RemoteError::make(K::SourceChanged, QStringLiteral("the file changed since it was hashed"));
        m_verified = true;
    }
    QIODevice::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    return std::nullopt;
}

bool SourceDevice::seek(qint64 pos)
{
    if (pos < 0 || pos > size())
        return false;
    QIODevice::seek(pos);
    if (!m_hashContent)
        return true;
    if (pos == 0) {
        // A fresh send of the body (e.g. Qt re-sending on a new connection): hash it again.
        EVP_MD_CTX_copy_ex(m_hash->running, m_hash->prefix);
        m_hashedTo = m_offset;
        m_hashValid = true;
        m_verified = false;
    } else if (m_offset + pos != m_hashedTo) {
        m_hashValid = false;
    }
    return true;
}

qint64 SourceDevice::readData(char *data, qint64 maxSize)
{
    if (m_changed)
        return 0;   // withheld: the request is being aborted
    const qint64 at = m_offset + pos();
    if (at >= m_end || maxSize <= 0)
        return 0;
    if (at < m_bufStart || at >= m_bufStart + m_bufLen) {
        if (!fill(at))
            return m_changed ? 0 : -1;
    }
    const qint64 n = std::min(maxSize, m_bufStart + m_bufLen - at);
    std::memcpy(data, m_buf.constData() + (at - m_bufStart), size_t(n));
    return n;
}

bool SourceDevice::fill(qint64 at)
{
    // Qt asks for 16 KiB at a time; reading and hashing 1 MiB blocks keeps the system calls and
    // the per-call cost of the hash low, and lets a mismatch be found before any byte of the
    // last block is handed out.
    if (m_buf.size() != kBlockSize)
        m_buf.resize(kBlockSize);
    const qint64 want = std::min<qint64>(kBlockSize, m_end - at);
    qint64 got = 0;
    while (got < want) {
        const qint64 n = m_file.readAt(at + got, m_buf.data() + got, want - got);
        if (n < 0) {
            setErrorString(m_file.errorString());
            m_bufLen = 0;
            return false;
        }
        if (n == 0) {
            // Shorter than when it was hashed: the file changed. Never send a short body.
            m_changed = true;
            m_bufLen = 0;
            return false;
        }
        got += n;
    }
    m_bufStart = at;
    m_bufLen = got;
    if (!m_hashContent)
        return true;
    if (m_hashValid && at == m_hashedTo) {
        EVP_DigestUpdate(m_hash->running, m_buf.constData(), size_t(got));
        m_hashedTo += got;
        if (m_hashedTo == m_end) {
            if (finalHex(m_hash->running) != m_item.sha256) {
                // The server must not get a complete body with other content.
                m_changed = true;
                m_bufLen = 0;
                return false;
            }
            m_verified = true;
        }
    } else if (at > m_hashedTo || !m_hashValid) {
        m_hashValid = false;   // not read in order: only size and mtime can tell
    }
    return true;
}

std::optional<RemoteError> SourceDevice::checkUnchanged() const
{
    using K = RemoteError::Kind;
    const auto changed = [] {
        return RemoteError::make(K::SourceChanged, QStringLiteral("the file changed while it was being uploaded"));
    };
    if (m_changed)
        return changed();
    // The open file: any write changes its ctime, which nobody can set back (unlike the mtime).
    // (On Windows ctime is the creation time: there size and mtime tell.)
    if (m_file.isOpen()) {
        const Result<FileStat> now = m_file.stat();
        if (!now || !now->sameContentAs(m_opened))
            return changed();
    }
    // The path: replaced by another file (e.g. an editor saving by rename) is a change too.
    const Result<FileStat> atPath = statPath(m_item.sourcePath);
    if (!atPath || atPath->device != m_opened.device || atPath->inode != m_opened.inode)
        return changed();
    const SourceState st = statSource(m_item.sourcePath);
    if (!st.ok() || st.size != m_item.size || st.mtimeMs != m_item.mtimeMs)
        return changed();
    return std::nullopt;
}

} // namespace quire::net

#include "remotetransport.moc"
