#include "faultserverstate.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#include <chrono>
#include <cstring>
#include <future>
#include <optional>

#ifndef Q_OS_WIN
#  include <sys/socket.h>
#endif
#ifdef Q_OS_LINUX
#  include <poll.h>
#endif

namespace quire::test {

namespace faultserver {

QString parentOf(const QString &path)
{
    const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
    return slash <= 0 ? QStringLiteral("/") : path.left(slash);
}

QString requestPath(const QByteArray &target)
{
    QString p = QUrl::fromPercentEncoding(QUrl(QString::fromLatin1(target)).path(QUrl::FullyEncoded).toLatin1());
    while (p.size() > 1 && p.endsWith(QLatin1Char('/')))
        p.chop(1);
    return p;
}

} // namespace faultserver


namespace {

using Behaviour = FaultServer::Behaviour;
using faultserver::parentOf;
using faultserver::requestPath;

QByteArray reasonFor(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 207: return "Multi-Status";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return "Status";
    }
}

// One client connection; lives in the server thread.
class Connection final : public QObject
{
public:
    Connection(QTcpSocket *socket, std::shared_ptr<FaultServer::State> state)
        : m_socket(socket), m_state(std::move(state))
    {
        m_socket->setParent(this);
        connect(m_socket, &QTcpSocket::readyRead, this, &Connection::onReadyRead);
        connect(m_socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
        m_slowTimer.setParent(this);
        connect(&m_slowTimer, &QTimer::timeout, this, &Connection::slowReadTick);
        m_trickleTimer.setParent(this);
        connect(&m_trickleTimer, &QTimer::timeout, this, &Connection::trickleTick);
        m_stallTimer.setParent(this);
        connect(&m_stallTimer, &QTimer::timeout, this, &Connection::stalledTick);
        // A TLS socket is handed over once its handshake is done: what the client sent right
        // after it may be in already.
        if (m_socket->bytesAvailable() > 0)
            QMetaObject::invokeMethod(this, &Connection::onReadyRead, Qt::QueuedConnection);
    }

    ~Connection() override { endChunkPut(); }

private:
    enum class Phase { Headers, Body, Ignoring, Trickling, Stalled };

    void onReadyRead()
    {
        if ((m_phase == Phase::Body && m_behaviour.kind == Behaviour::Kind::SlowRead) || m_phase == Phase::Stalled)
            return;   // the timer reads, or nothing does
        if (m_phase == Phase::Ignoring || m_phase == Phase::Trickling) {
            m_socket->readAll();
            return;
        }
        m_buffer += m_socket->readAll();
        process();
    }

    void process()
    {
        for (;;) {
            if (m_phase == Phase::Headers) {
                const qsizetype end = m_buffer.indexOf("\r\n\r\n");
                if (end < 0)
                    return;
                parseHeaders(m_buffer.left(end));
                m_buffer.remove(0, end + 4);
                m_phase = Phase::Body;
                if (m_scripted && m_behaviour.kind == Behaviour::Kind::RespondEarly) {
                    auto headers = m_behaviour.headers;
                    headers.append(std::pair<QByteArray, QByteArray>("Connection", "close"));
                    send(m_behaviour.status, m_behaviour.body, headers);
                    // Read no more of the body: a client that does not stop sending stalls, so
                    // it can never have sent the whole request before the answer reached it.
                    // (What came with the headers counts as received.)
                    m_socket->setReadBufferSize(1);
                    feedBody(m_buffer.left(m_contentLength));
                    m_buffer.clear();
                    endChunkPut();
                    m_phase = Phase::Stalled;
                    m_stallTimer.start(100);
                    return;
                }
                if (m_behaviour.kind == Behaviour::Kind::SlowRead) {
                    m_socket->setReadBufferSize(qMax(1, m_behaviour.trickleBytes));
                    m_slowTimer.start(m_behaviour.trickleIntervalMs);
                    return;
                }
            }
            if (m_phase != Phase::Body)
                return;
            const qint64 want = m_contentLength - m_received;
            const QByteArray chunk = m_buffer.left(want);
            m_buffer.remove(0, chunk.size());
            if (!feedBody(chunk))
                return;   // reset
            if (m_received < m_contentLength)
                return;
            complete();
            if (m_phase != Phase::Headers || m_buffer.isEmpty())
                return;
        }
    }

    void parseHeaders(const QByteArray &block)
    {
        const QList<QByteArray> lines = block.split('\n');
        const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
        m_seen = FaultServer::Seen();
        m_seen.method = requestLine.value(0);
        m_seen.path = requestLine.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray line = lines.at(i).trimmed();
            const qsizetype colon = line.indexOf(':');
            if (colon > 0)
                m_seen.headers.append({line.left(colon).trimmed(), line.mid(colon + 1).trimmed()});
        }
        m_contentLength = m_seen.header("Content-Length").toLongLong();
        m_received = 0;
        m_body.clear();
        m_hash.reset();

        std::lock_guard lock(m_state->mutex);
        m_seen.atMs = m_state->clock.elapsed();
        m_behaviour = Behaviour();
        m_scripted = false;
        for (qsizetype i = 0; i < m_state->script.size(); ++i) {
            const Behaviour &b = m_state->script.at(i);
            if ((b.method.isEmpty() || b.method == m_seen.method)
                && (b.pathContains.isEmpty() || m_seen.path.contains(b.pathContains))
                && m_contentLength >= b.minContentLength) {
                m_behaviour = b;
                m_scripted = true;
                m_state->script.removeAt(i);
                break;
            }
        }
        m_seenIndex = m_state->seen.size();
        m_state->seen.append(m_seen);
        m_state->requestArrived.notify_all();
        if (m_state->nextcloud && m_seen.method == "PUT"
            && requestPath(m_seen.path).startsWith(m_state->uploadsRoot() + QLatin1Char('/'))) {
            m_chunkPut = true;
            m_state->maxChunkPutsInFlight = std::max(m_state->maxChunkPutsInFlight, ++m_state->chunkPutsInFlight);
        }
    }

    // A chunk PUT's body is no longer being received (it is complete, or the connection went).
    void endChunkPut()
    {
        if (!m_chunkPut)
            return;
        m_chunkPut = false;
        std::lock_guard lock(m_state->mutex);
        --m_state->chunkPutsInFlight;
    }

    bool feedBody(const QByteArray &chunk)
    {
        m_received += chunk.size();
        m_hash.addData(chunk);
        if (m_body.size() < 64 * 1024 * 1024)
            m_body += chunk;
        updateSeen();
        if (m_scripted && m_behaviour.kind == Behaviour::Kind::ResetMidBody && m_received >= m_behaviour.resetAfter) {
            resetConnection();
            return false;
        }
        return true;
    }

    void updateSeen()
    {
        std::lock_guard lock(m_state->mutex);
        if (m_seenIndex < m_state->seen.size()) {
            FaultServer::Seen &s = m_state->seen[m_seenIndex];
            s.bodyBytes = m_received;
            s.bodySha256 = m_hash.result().toHex();
        }
    }

    void resetConnection()
    {
#ifndef Q_OS_WIN
        // SO_LINGER 0: close() sends RST instead of FIN, like a crashing proxy.
        const linger lg{1, 0};
        ::setsockopt(int(m_socket->socketDescriptor()), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
#endif
        endChunkPut();
        m_socket->abort();
        m_phase = Phase::Ignoring;
        deleteLater();
    }

    // The head of an answer announcing declaredLength body bytes and the body that comes, handed
    // to the kernel, then the end of the connection.
    void cutShort()
    {
        QByteArray out = "HTTP/1.1 " + QByteArray::number(m_behaviour.status) + ' ' + reasonFor(m_behaviour.status)
                         + "\r\n";
        for (const auto &h : std::as_const(m_behaviour.headers))
            out += h.first + ": " + h.second + "\r\n";
        out += "Content-Length: " + QByteArray::number(m_behaviour.declaredLength) + "\r\n\r\n" + m_behaviour.body;
        m_socket->write(out);
        while (m_socket->bytesToWrite() > 0 && m_socket->waitForBytesWritten(5000)) {
        }
        m_phase = Phase::Ignoring;
        if (m_behaviour.reset) {
            resetConnection();
            return;
        }
        m_socket->disconnectFromHost();
    }

    // A stalled connection reads nothing, so Qt would not see the client close it: ask the kernel
    // whether the client has hung up, and go when it has.
    void stalledTick()
    {
#ifdef Q_OS_LINUX
        pollfd p{int(m_socket->socketDescriptor()), POLLRDHUP, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
            m_stallTimer.stop();
            m_socket->abort();
            deleteLater();
        }
#endif
    }

    void slowReadTick()
    {
        // With a limited read buffer, QAbstractSocket may stop watching the socket once its
        // buffer was full; look at the socket now so the last bytes are not left in the kernel.
        if (m_socket->bytesAvailable() < m_behaviour.trickleBytes)
            m_socket->waitForReadyRead(0);
        // Body bytes that arrived together with the headers come first.
        const qint64 want = std::min<qint64>(m_behaviour.trickleBytes, m_contentLength - m_received);
        QByteArray chunk = m_buffer.left(want);
        m_buffer.remove(0, chunk.size());
        if (chunk.size() < want)
            chunk += m_socket->read(want - chunk.size());
        if (!chunk.isEmpty())
            feedBody(chunk);
        if (m_received >= m_contentLength) {
            m_slowTimer.stop();
            m_socket->setReadBufferSize(0);
            m_scripted = false;   // answer by default
            complete();
            m_buffer += m_socket->readAll();
            if (m_phase == Phase::Headers && !m_buffer.isEmpty())
                process();
        }
    }

    void trickleTick()
    {
        if (m_trickleLeft <= 0) {
            m_trickleTimer.stop();
            m_phase = Phase::Headers;
            return;
        }
        --m_trickleLeft;
        m_socket->write(QByteArray(m_behaviour.trickleBytes, 'x'));
        if (m_trickleLeft == 0) {
            m_trickleTimer.stop();
            m_phase = Phase::Headers;
        }
    }

    void send(int status, const QByteArray &body, const QList<std::pair<QByteArray, QByteArray>> &headers,
              bool head = false)
    {
        QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonFor(status) + "\r\n";
        bool hasType = false;
        for (const auto &h : headers) {
            out += h.first + ": " + h.second + "\r\n";
            hasType = hasType || h.first.compare("Content-Type", Qt::CaseInsensitive) == 0;
        }
        if (!hasType && !body.isEmpty())
            out += "Content-Type: text/plain; charset=utf-8\r\n";
        if (m_scripted && m_behaviour.chunked && !head) {
            // Two chunks and the last (empty) one.
            const qsizetype half = body.size() / 2;
            out += "Transfer-Encoding: chunked\r\n\r\n";
            for (const QByteArray &part : {body.left(half), body.mid(half)}) {
                if (!part.isEmpty())
                    out += QByteArray::number(part.size(), 16) + ";ext=1\r\n" + part + "\r\n";
            }
            out += "0\r\n\r\n";
            m_socket->write(out);
            return;
        }
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n";
        if (!head)
            out += body;
        m_socket->write(out);
    }

    void complete()
    {
        endChunkPut();
        updateSeen();
        m_phase = Phase::Headers;
        if (m_scripted) {
            switch (m_behaviour.kind) {
            case Behaviour::Kind::Respond:
                send(m_behaviour.status, m_behaviour.body, m_behaviour.headers);
                return;
            case Behaviour::Kind::NeverAnswer:
                m_phase = Phase::Ignoring;
                return;
            case Behaviour::Kind::Trickle: {
                const qint64 total = qint64(m_behaviour.trickleBytes) * m_behaviour.trickleChunks;
                QByteArray head = "HTTP/1.1 " + QByteArray::number(m_behaviour.status) + ' '
                                  + reasonFor(m_behaviour.status) + "\r\nContent-Type: text/plain\r\n"
                                  + "Content-Length: " + QByteArray::number(total) + "\r\n\r\n";
                m_socket->write(head);
                m_trickleLeft = m_behaviour.trickleChunks;
                m_phase = Phase::Trickling;
                m_trickleTimer.start(m_behaviour.trickleIntervalMs);
                return;
            }
            case Behaviour::Kind::ResetMidBody:   // the body was shorter than resetAfter
                resetConnection();
                return;
            case Behaviour::Kind::CutShort:
                cutShort();
                return;
            case Behaviour::Kind::RespondEarly:   // not here: answered as its headers came (process())
            case Behaviour::Kind::SlowRead:
                break;
            }
        }
        if (m_seen.method == "POST")
            handleApi();
        else
            handleDav();
    }

    void handleApi()
    {
        QMap<QByteArray, QByteArray> fields;
        const QByteArray type = m_seen.header("Content-Type");
        const qsizetype b = type.indexOf("boundary=");
        if (b >= 0) {
            QByteArray boundary = type.mid(b + 9);
            if (boundary.startsWith('"'))
                boundary = boundary.mid(1, boundary.indexOf('"', 1) - 1);
            const QByteArray delimiter = "--" + boundary;
            qsizetype pos = m_body.indexOf(delimiter);
            while (pos >= 0) {
                const qsizetype start = pos + delimiter.size();
                if (m_body.mid(start, 2) == "--")
                    break;
                const qsizetype next = m_body.indexOf("\r\n" + delimiter, start);
                if (next < 0)
                    break;
                const QByteArray part = m_body.mid(start + 2, next - start - 2);
                const qsizetype headEnd = part.indexOf("\r\n\r\n");
                const QByteArray headers = part.left(headEnd);
                const QByteArray content = part.mid(headEnd + 4);
                const qsizetype n = headers.indexOf("name=\"");
                const QByteArray name = headers.mid(n + 6, headers.indexOf('"', n + 6) - n - 6);
                const qsizetype f = headers.indexOf("filename=\"");
                if (f >= 0) {
                    fields.insert(name, QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
                    fields.insert("filename", headers.mid(f + 10, headers.lastIndexOf('"') - f - 10));
                } else {
                    fields.insert(name, content);
                }
                pos = next + 2;
            }
        }
        qint64 id = 0;
        {
            std::lock_guard lock(m_state->mutex);
            id = m_state->nextId++;
            if (m_seenIndex < m_state->seen.size())
                m_state->seen[m_seenIndex].formFields = fields;
        }
        QJsonObject o;
        o.insert(QStringLiteral("id"), id);
        o.insert(QStringLiteral("location"), QStringLiteral("/documents/%1").arg(id));
        send(201, QJsonDocument(o).toJson(QJsonDocument::Compact), {{"Content-Type", "application/json"}});
    }

    void handleDav()
    {
        const QByteArray &m = m_seen.method;
        std::unique_lock lock(m_state->mutex);
        const QString path = m_state->mapPath(requestPath(m_seen.path));
        if (m_state->nextcloud) {
            if (path == QLatin1String("/status.php") && (m == "GET" || m == "HEAD")) {
                const QByteArray json = faultserver::nextcloudStatus(*m_state);
                lock.unlock();
                return send(200, json, {{"Content-Type", "application/json; charset=utf-8"}}, m == "HEAD");
            }
            if (path.startsWith(m_state->uploadsRoot() + QLatin1Char('/'))) {
                const faultserver::Answer a = faultserver::nextcloudUpload(
                        *m_state, m_seen, m_body, m_received, path.mid(m_state->uploadsRoot().size() + 1));
                lock.unlock();
                return send(a.status, a.body, a.headers);
            }
        }
        auto &files = m_state->files;
        auto &dirs = m_state->dirs;
        dirs.insert(QStringLiteral("/"));
        const bool isFile = files.contains(path);
        const bool isDir = dirs.contains(path);
        if (m == "MKCOL") {
            if (isFile || isDir) {
                lock.unlock();
                return send(405, {}, {});
            }
            if (!dirs.contains(parentOf(path))) {
                lock.unlock();
                return send(409, {}, {});
            }
            dirs.insert(path);
            lock.unlock();
            return send(201, {}, {});
        }
        if (m == "PUT") {
            if (!dirs.contains(parentOf(path))) {
                lock.unlock();
                return send(409, "parent missing", {});
            }
            if (m_seen.header("If-None-Match") == "*" && isFile) {
                lock.unlock();
                return send(412, "exists", {});
            }
            const QByteArray range = m_seen.header("Content-Range");
            if (!range.isEmpty() && m_state->rangedPut == FaultServer::RangedPut::Refused) {
                const int status = m_state->rangedPutRefusal;
                lock.unlock();
                return send(status, "Content-Range on PUT is not supported", {});
            }
            if (!range.isEmpty() && m_state->rangedPut == FaultServer::RangedPut::WrittenInPlace) {
                // "bytes a-b/total"
                // Written in place, as mod_dav_fs does (segments may arrive in any order).
                const qint64 from = range.mid(6, range.indexOf('-') - 6).toLongLong();
                QByteArray &content = files[path];
                if (content.size() < from + m_body.size())
                    content.resize(from + m_body.size(), '\0');
                std::memcpy(content.data() + from, m_body.constData(), size_t(m_body.size()));
            } else {
                files.insert(path, m_body);
            }
            lock.unlock();
            return send(isFile ? 204 : 201, {}, {});
        }
        if (m == "PROPFIND") {
            if (!isFile && !isDir) {
                lock.unlock();
                return send(404, {}, {});
            }
            QByteArray props = isDir ? QByteArray("<D:resourcetype><D:collection/></D:resourcetype>")
                                     : "<D:resourcetype/><D:getcontentlength>"
                                           + QByteArray::number(files.value(path).size())
                                           + "</D:getcontentlength>";
            if (!isDir && m_state->nextcloud) {
                // Nextcloud reports the checksum it keeps for a file.
                props += "<oc:checksums><oc:checksum>SHA256:"
                         + QCryptographicHash::hash(files.value(path), QCryptographicHash::Sha256).toHex()
                         + "</oc:checksum></oc:checksums>";
            }
            lock.unlock();
            const QByteArray xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\" "
                                   "xmlns:oc=\"http://owncloud.org/ns\">"
                                   "<D:response><D:href>" + m_seen.path + "</D:href><D:propstat><D:prop>"
                                   + props + "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>"
                                   "</D:response></D:multistatus>\n";
            return send(207, xml, {{"Content-Type", "application/xml; charset=utf-8"}});
        }
        if (m == "GET" || m == "HEAD") {
            if (!isFile) {
                lock.unlock();
                return send(404, {}, {});
            }
            const QByteArray content = files.value(path);
            lock.unlock();
            return send(200, content, {{"Content-Type", "application/octet-stream"}}, m == "HEAD");
        }
        if (m == "DELETE") {
            const bool existed = files.remove(path) > 0 || dirs.remove(path);
            lock.unlock();
            return send(existed ? 204 : 404, {}, {});
        }
        if (m == "MOVE") {
            const QString to = m_state->mapPath(requestPath(m_seen.header("Destination")));
            if (!isFile) {
                lock.unlock();
                return send(404, {}, {});
            }
            const bool exists = files.contains(to);
            if (exists && m_seen.header("Overwrite") == "F") {
                lock.unlock();
                return send(412, {}, {});
            }
            files.insert(to, files.take(path));
            lock.unlock();
            return send(exists ? 204 : 201, {}, {});
        }
        lock.unlock();
        send(405, {}, {});
    }

    QTcpSocket *m_socket;
    std::shared_ptr<FaultServer::State> m_state;
    bool m_chunkPut = false;        // a chunk PUT is counted in chunkPutsInFlight
    Phase m_phase = Phase::Headers;
    QByteArray m_buffer;
    QByteArray m_body;
    FaultServer::Seen m_seen;
    qsizetype m_seenIndex = 0;
    Behaviour m_behaviour;
    bool m_scripted = false;
    qint64 m_contentLength = 0;
    qint64 m_received = 0;
    QCryptographicHash m_hash{QCryptographicHash::Sha256};
    QTimer m_slowTimer;
    QTimer m_stallTimer;   // Stalled: looks for the client's hang-up
    QTimer m_trickleTimer;
    int m_trickleLeft = 0;
};

} // namespace

FaultServer::Behaviour FaultServer::Behaviour::respond(QByteArray method, int status, QByteArray body,
                                                       QList<std::pair<QByteArray, QByteArray>> headers)
{
    Behaviour b;
    b.method = std::move(method);
    b.kind = Kind::Respond;
    b.status = status;
    b.body = std::move(body);
    b.headers = std::move(headers);
    return b;
}

FaultServer::Behaviour FaultServer::Behaviour::neverAnswer(QByteArray method, QByteArray pathContains)
{
    Behaviour b;
    b.method = std::move(method);
    b.pathContains = std::move(pathContains);
    b.kind = Kind::NeverAnswer;
    return b;
}

FaultServer::Behaviour FaultServer::Behaviour::slowRead(QByteArray method, QByteArray pathContains, int bytes,
                                                        int intervalMs)
{
    Behaviour b;
    b.method = std::move(method);
    b.pathContains = std::move(pathContains);
    b.kind = Kind::SlowRead;
    b.trickleBytes = bytes;
    b.trickleIntervalMs = intervalMs;
    return b;
}

FaultServer::Behaviour FaultServer::Behaviour::trickle(QByteArray method, int status, int chunks, int intervalMs)
{
    Behaviour b;
    b.method = std::move(method);
    b.kind = Kind::Trickle;
    b.status = status;
    b.trickleBytes = 1;
    b.trickleChunks = chunks;
    b.trickleIntervalMs = intervalMs;
    return b;
}

FaultServer::Behaviour FaultServer::Behaviour::cutShort(QByteArray method, QByteArray pathContains, int status,
                                                        QByteArray body, qint64 declaredLength, bool reset)
{
    Behaviour b = respond(std::move(method), status, std::move(body));
    b.pathContains = std::move(pathContains);
    b.kind = Kind::CutShort;
    b.declaredLength = declaredLength;
    b.reset = reset;
    return b;
}

QByteArray FaultServer::Seen::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

FaultServer::FaultServer() : FaultServer(Options()) {}

namespace {

// The server's TLS configuration from PEM files (an EC or RSA key). *error says why when null.
std::optional<QSslConfiguration> tlsConfiguration(const TlsIdentity &tls, QString *error)
{
    if (!QSslSocket::supportsSsl()) {
        *error = QStringLiteral("Qt has no TLS backend with server support");
        return std::nullopt;
    }
    const QList<QSslCertificate> certs = QSslCertificate::fromPath(tls.certPath, QSsl::Pem);
    QFile keyFile(tls.keyPath);
    const QByteArray keyPem = keyFile.open(QIODevice::ReadOnly) ? keyFile.readAll() : QByteArray();
    QSslKey key;
    for (QSsl::KeyAlgorithm algorithm : {QSsl::Ec, QSsl::Rsa}) {
        key = QSslKey(keyPem, algorithm, QSsl::Pem, QSsl::PrivateKey);
        if (!key.isNull())
            break;
    }
    if (certs.isEmpty() || key.isNull()) {
        *error = QStringLiteral("cannot read the certificate %1 or its key %2").arg(tls.certPath, tls.keyPath);
        return std::nullopt;
    }
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setLocalCertificate(certs.first());
    config.setPrivateKey(key);
    config.setPeerVerifyMode(QSslSocket::VerifyNone);   // no client certificates
    config.setAllowedNextProtocols({QByteArray(QSslConfiguration::NextProtocolHttp1_1)});
    return config;
}

} // namespace

FaultServer::FaultServer(Options options) : m_state(std::make_shared<State>())
{
    m_state->clock.start();
    std::optional<QSslConfiguration> tls;
    if (!options.tls.isNull()) {
        m_state->tls = true;
        tls = tlsConfiguration(options.tls, &m_state->error);
    }
    // The server lives entirely in its thread: created, run and destroyed there. The hand-over
    // goes through pthread_create and a std::promise, which ThreadSanitizer sees (Qt's queued
    // calls use locks it cannot see).
    std::promise<void> ready;
    std::future<void> started = ready.get_future();
    auto state = m_state;
    const bool wantTls = m_state->tls;
    m_thread = QThread::create([state, &ready, wantTls, tls] {
        std::unique_ptr<QTcpServer> owner;
        if (wantTls) {
            auto sslServer = std::make_unique<QSslServer>();
            if (tls)
                sslServer->setSslConfiguration(*tls);
            owner = std::move(sslServer);
        } else {
            owner = std::make_unique<QTcpServer>();
        }
        QTcpServer &server = *owner;
        // Without a usable certificate a TLS server does not listen (port 0, error() says why).
        if (!wantTls || tls)
            server.listen(QHostAddress::LocalHost, 0);
        {
            std::lock_guard lock(state->mutex);
            state->port = server.serverPort();
            state->listenFd = server.socketDescriptor();
            if (state->error.isEmpty() && !server.isListening())
                state->error = QStringLiteral("cannot listen on 127.0.0.1: %1").arg(server.errorString());
        }
        const auto accept = [state, &server] {
            while (QTcpSocket *s = server.nextPendingConnection()) {
                int rcv = 0;
                {
                    std::lock_guard lock(state->mutex);
                    rcv = state->receiveBuffer;
                }
                if (rcv > 0)
                    s->setSocketOption(QAbstractSocket::ReceiveBufferSizeSocketOption, rcv);
                // A child of the server, so what is still open goes with it; it deletes itself
                // when the client disconnects.
                (new Connection(s, state))->setParent(&server);
            }
        };
        QObject::connect(&server, &QTcpServer::newConnection, &server, accept);
        // QSslServer hands a connection over when its handshake is done, after newConnection.
        if (wantTls)
            QObject::connect(&server, &QTcpServer::pendingConnectionAvailable, &server, accept);
        ready.set_value();
        QEventLoop loop;
        loop.exec();   // until QThread::quit() (honoured even if it came first)
    });
    m_thread->setObjectName(QStringLiteral("faultserver"));
    m_thread->start();
    started.wait();
}

FaultServer::~FaultServer()
{
    m_thread->quit();
    m_thread->wait();
    delete m_thread;
}

quint16 FaultServer::port() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->port;
}

QUrl FaultServer::url() const
{
    return QUrl(QStringLiteral("%1://127.0.0.1:%2/")
                    .arg(isTls() ? QStringLiteral("https") : QStringLiteral("http"))
                    .arg(port()));
}

bool FaultServer::isTls() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->tls;
}

QString FaultServer::error() const
{
    std::lock_guard lock(m_state->mutex);
    return QString(m_state->error.constData(), m_state->error.size());
}

// What crosses between the test's thread and the server's thread is copied element by element
// while the lock is held, never handed over as a shallow copy of a Qt container: an implicitly
// shared container decides whether it may write in place from a relaxed load of its reference
// count, so the server thread could otherwise write into a buffer the test thread read a moment
// before without any ordering between the two (and the files' bytes are written in place by
// Content-Range PUTs).
void FaultServer::script(QList<Behaviour> behaviours)
{
    std::lock_guard lock(m_state->mutex);
    for (const Behaviour &b : std::as_const(behaviours))
        m_state->script.append(b);
}

QList<FaultServer::Seen> FaultServer::requests() const
{
    std::lock_guard lock(m_state->mutex);
    QList<Seen> out;
    out.reserve(m_state->seen.size());
    for (const Seen &s : std::as_const(m_state->seen))
        out.append(s);   // the members are only ever replaced on the server's side, not changed in place
    return out;
}

int FaultServer::requestCount(const QByteArray &method) const
{
    std::lock_guard lock(m_state->mutex);
    int n = 0;
    for (const Seen &s : m_state->seen)
        n += method.isEmpty() || s.method == method;
    return n;
}

bool FaultServer::waitForRequests(int count, int timeoutMs) const
{
    std::unique_lock lock(m_state->mutex);
    return m_state->requestArrived.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                                            [&] { return m_state->seen.size() >= count; });
}

QMap<QString, QByteArray> FaultServer::files() const
{
    std::lock_guard lock(m_state->mutex);
    QMap<QString, QByteArray> out;
    for (auto it = m_state->files.cbegin(); it != m_state->files.cend(); ++it)
        out.insert(QString(it.key().constData(), it.key().size()), QByteArray(it.value().constData(), it.value().size()));
    return out;
}

void FaultServer::putFile(const QString &path, const QByteArray &content)
{
    std::lock_guard lock(m_state->mutex);
    m_state->files.insert(QString(path.constData(), path.size()), QByteArray(content.constData(), content.size()));
    m_state->makeDirectories(faultserver::parentOf(path));
}

void FaultServer::setRangedPut(RangedPut mode, int refusalStatus)
{
    std::lock_guard lock(m_state->mutex);
    m_state->rangedPut = mode;
    m_state->rangedPutRefusal = refusalStatus;
}

void FaultServer::setReceiveBuffer(int bytes)
{
    qintptr fd = -1;
    {
        std::lock_guard lock(m_state->mutex);
        m_state->receiveBuffer = bytes;
        fd = m_state->listenFd;
    }
#ifndef Q_OS_WIN
    // On the listening socket too: accepted sockets inherit it, and the TCP window is sized from
    // it during the handshake (setting it on an accepted socket is too late to matter).
    if (fd >= 0)
        ::setsockopt(int(fd), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
#endif
}

void FaultServer::makeDirectory(const QString &path)
{
    std::lock_guard lock(m_state->mutex);
    m_state->makeDirectories(QString(path.constData(), path.size()));
}

qint64 FaultServer::bodyBytes(const QByteArray &method, const QByteArray &pathContains, qsizetype fromRequest) const
{
    std::lock_guard lock(m_state->mutex);
    qint64 n = 0;
    for (qsizetype i = std::max<qsizetype>(0, fromRequest); i < m_state->seen.size(); ++i) {
        const Seen &s = m_state->seen.at(i);
        if ((method.isEmpty() || s.method == method) && s.path.contains(pathContains))
            n += s.bodyBytes;
    }
    return n;
}

} // namespace quire::test
