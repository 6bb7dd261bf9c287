#include "faultserver.h"

#include "catalog/dbconnections.h"
#include "hashing/hasher.h"

#include <QCryptographicHash>
#include <QSqlQuery>
#include <cstring>
#include <future>
#include <optional>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSet>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslKey>
#include <QSslServer>
#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>

#ifndef Q_OS_WIN
#  include <sys/socket.h>
#endif

namespace quire::test {

struct FaultServer::State
{
    mutable std::mutex mutex;
    QList<Behaviour> script;
    QList<Seen> seen;
    QMap<QString, QByteArray> files;
    QSet<QString> dirs;
    quint16 port = 0;
    qintptr listenFd = -1;
    int receiveBuffer = 0;
    FaultServer::RangedPut rangedPut = FaultServer::RangedPut::WrittenInPlace;
    int rangedPutRefusal = 501;
    qint64 nextId = 1;
    QElapsedTimer clock;
    bool tls = false;
    QString error;

    // Nextcloud mode (setNextcloud).
    bool nextcloud = false;
    QString ncUser;
    QByteArray ncVersion;
    struct Chunk
    {
        QString name;          // as it was PUT ("00001")
        QByteArray content;
    };
    struct Upload
    {
        QByteArray destination;        // the MKCOL's Destination header
        qint64 totalLength = -1;       // OC-Total-Length of the first chunk
        QMap<int, Chunk> chunks;       // by number: the order of assembly
    };
    QMap<QString, Upload> uploads;     // by upload folder name
    int chunkPutsInFlight = 0;
    int maxChunkPutsInFlight = 0;
    int corruptChunks = 0;

    QString filesRoot() const { return QStringLiteral("/remote.php/dav/files/") + ncUser; }
    QString uploadsRoot() const { return QStringLiteral("/remote.php/dav/uploads/") + ncUser; }
    // /remote.php/webdav/... is the user's files folder, as on Nextcloud.
    QString mapPath(const QString &path) const
    {
        static const QString webdav = QStringLiteral("/remote.php/webdav");
        if (nextcloud && (path == webdav || path.startsWith(webdav + QLatin1Char('/'))))
            return filesRoot() + path.mid(webdav.size());
        return path;
    }
};

namespace {

using Behaviour = FaultServer::Behaviour;

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

QString normalizePath(const QByteArray &encodedPath)
{
    QString p = QUrl::fromPercentEncoding(encodedPath);
    while (p.size() > 1 && p.endsWith(QLatin1Char('/')))
        p.chop(1);
    return p;
}

QString parentOf(const QString &path)
{
    const qsizetype slash = path.lastIndexOf(QLatin1Char('/'));
    return slash <= 0 ? QStringLiteral("/") : path.left(slash);
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
        // A TLS socket is handed over once its handshake is done: what the client sent right
        // after it may be in already.
        if (m_socket->bytesAvailable() > 0)
            QMetaObject::invokeMethod(this, &Connection::onReadyRead, Qt::QueuedConnection);
    }

    ~Connection() override { endChunkPut(); }

private:
    enum class Phase { Headers, Body, Ignoring, Trickling };

    void onReadyRead()
    {
        if (m_phase == Phase::Body && m_behaviour.kind == Behaviour::Kind::SlowRead)
            return;   // the timer reads
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
        if (m_state->nextcloud && m_seen.method == "PUT"
            && normalizePath(QUrl(QString::fromLatin1(m_seen.path)).path(QUrl::FullyEncoded).toLatin1())
                   .startsWith(m_state->uploadsRoot() + QLatin1Char('/'))) {
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
            case Behaviour::Kind::RespondEarly:   // answered already
                m_phase = Phase::Ignoring;
                m_socket->disconnectFromHost();
                return;
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
        const QString path = m_state->mapPath(
                normalizePath(QUrl(QString::fromLatin1(m_seen.path)).path(QUrl::FullyEncoded).toLatin1()));
        if (m_state->nextcloud) {
            if (path == QLatin1String("/status.php") && (m == "GET" || m == "HEAD")) {
                const QByteArray json = "{\"installed\":true,\"maintenance\":false,\"needsDbUpgrade\":false,"
                                        "\"version\":\"" + m_state->ncVersion + "\",\"versionstring\":\""
                                        + m_state->ncVersion.left(m_state->ncVersion.lastIndexOf('.')) + "\","
                                        "\"edition\":\"\",\"productname\":\"Nextcloud\",\"extendedSupport\":false}";
                lock.unlock();
                return send(200, json, {{"Content-Type", "application/json; charset=utf-8"}}, m == "HEAD");
            }
            if (path.startsWith(m_state->uploadsRoot() + QLatin1Char('/')))
                return handleUpload(path.mid(m_state->uploadsRoot().size() + 1), lock);
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
            const QUrl dest(QString::fromLatin1(m_seen.header("Destination")));
            const QString to = m_state->mapPath(normalizePath(dest.path(QUrl::FullyEncoded).toLatin1()));
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

    // Nextcloud's chunked upload v2 under /remote.php/dav/uploads/<user>/ (rel: "<id>" or
    // "<id>/<name>"), as the developer manual describes it and Nextcloud's sabre/dav answers.
    void handleUpload(const QString &rel, std::unique_lock<std::mutex> &lock)
    {
        const QByteArray &m = m_seen.method;
        auto answer = [&](int status, const QByteArray &body = {}) {
            lock.unlock();
            send(status, body, {});
        };
        const QStringList parts = rel.split(QLatin1Char('/'));
        const QString id = parts.value(0);
        const QString name = parts.value(1);
        if (id.isEmpty() || parts.size() > 2)
            return answer(404, "no such upload");
        auto &uploads = m_state->uploads;
        const bool exists = uploads.contains(id);
        if (m == "MKCOL" && name.isEmpty()) {
            if (exists)
                return answer(405, "the upload folder exists");
            if (m_seen.header("Destination").isEmpty())
                return answer(400, "chunked upload v2 needs a Destination header");
            FaultServer::State::Upload u;
            u.destination = m_seen.header("Destination");
            uploads.insert(id, u);
            return answer(201);
        }
        if (!exists)
            return answer(404, "no such upload folder");
        FaultServer::State::Upload &upload = uploads[id];
        bool isNumber = !name.isEmpty() && name.size() <= 10;
        for (QChar c : name)
            isNumber = isNumber && c.isDigit() && c.unicode() < 128;
        const int number = isNumber ? name.toInt() : 0;
        if (m == "PUT") {
            if (number < 1 || number > 10'000)
                return answer(400, "Invalid chunk name, must be numeric between 1 and 10000");
            if (m_seen.header("Destination") != upload.destination)
                return answer(400, "the Destination header is missing or not the upload's");
            bool ok = false;
            const qint64 total = m_seen.header("OC-Total-Length").toLongLong(&ok);
            if (!ok || total < 0 || (upload.totalLength >= 0 && total != upload.totalLength))
                return answer(400, "OC-Total-Length is missing or differs from the upload's");
            if (m_received != m_body.size())
                return answer(413, "chunk too large for the test server");
            upload.totalLength = total;
            QByteArray content = m_body;
            if (m_state->corruptChunks > 0 && !content.isEmpty()) {
                --m_state->corruptChunks;
                content[0] = char(~quint8(content.at(0)));
            }
            const bool replaced = upload.chunks.contains(number);
            upload.chunks.insert(number, {name, content});
            return answer(replaced ? 204 : 201);
        }
        if (m == "PROPFIND") {
            const QByteArray folderHref = "/remote.php/dav/uploads/" + QUrl::toPercentEncoding(m_state->ncUser) + '/'
                                          + QUrl::toPercentEncoding(id) + '/';
            auto entry = [](const QByteArray &href, const QByteArray &props) {
                return "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop>" + props
                       + "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>";
            };
            QByteArray xml = "<?xml version=\"1.0\"?>\n<d:multistatus xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\" "
                             "xmlns:oc=\"http://owncloud.org/ns\" xmlns:nc=\"http://nextcloud.org/ns\">";
            const bool children = m_seen.header("Depth") != "0";
            if (name.isEmpty()) {
                xml += entry(folderHref, "<d:resourcetype><d:collection/></d:resourcetype>");
            } else if (!upload.chunks.contains(number) || upload.chunks.value(number).name != name) {
                return answer(404, "no such chunk");
            }
            for (auto it = upload.chunks.cbegin(); it != upload.chunks.cend(); ++it) {
                if ((name.isEmpty() && children) || it.key() == number) {
                    xml += entry(folderHref + QUrl::toPercentEncoding(it->name),
                                 "<d:resourcetype/><d:getcontentlength>" + QByteArray::number(it->content.size())
                                     + "</d:getcontentlength>");
                }
            }
            xml += "</d:multistatus>\n";
            lock.unlock();
            return send(207, xml, {{"Content-Type", "application/xml; charset=utf-8"}});
        }
        if (m == "GET" || m == "HEAD")
            return answer(405, "Reading intermediate uploads is not allowed");
        if (m == "DELETE") {
            if (name.isEmpty()) {
                uploads.remove(id);
                return answer(204);
            }
            return answer(upload.chunks.remove(number) > 0 ? 204 : 404);
        }
        if (m == "MOVE" && name == QLatin1String(".file")) {
            const QByteArray destination = m_seen.header("Destination");
            if (destination.isEmpty())
                return answer(400, "MOVE needs a Destination header");
            bool ok = false;
            const qint64 total = m_seen.header("OC-Total-Length").toLongLong(&ok);
            if (!ok)
                return answer(400, "MOVE of a chunked upload needs OC-Total-Length");
            const QString to = m_state->mapPath(
                    normalizePath(QUrl(QString::fromLatin1(destination)).path(QUrl::FullyEncoded).toLatin1()));
            if (!to.startsWith(m_state->filesRoot() + QLatin1Char('/')))
                return answer(400, "the Destination is not in the user's files");
            if (!m_state->dirs.contains(parentOf(to)))
                return answer(409, "the Destination's folder does not exist");
            const bool destinationExists = m_state->files.contains(to);
            if (destinationExists && m_seen.header("Overwrite") == "F")
                return answer(412, "the Destination exists");
            QByteArray assembled;
            for (auto it = upload.chunks.cbegin(); it != upload.chunks.cend(); ++it) {
                if (std::next(it) != upload.chunks.cend() && it->content.size() < 5 * 1024 * 1024)
                    return answer(400, "chunk " + it->name.toLatin1() + " is smaller than 5 MiB and not the last");
                assembled += it->content;
            }
            if (assembled.size() != total) {
                return answer(400, "Chunks on server do not sum up to " + QByteArray::number(total) + " but to "
                                       + QByteArray::number(assembled.size()) + " bytes");
            }
            const QByteArray checksum = m_seen.header("OC-Checksum");
            if (checksum.startsWith("SHA256:")
                && checksum.mid(7).toLower() != QCryptographicHash::hash(assembled, QCryptographicHash::Sha256).toHex()) {
                return answer(400, "The computed checksum does not match the one received from the client.");
            }
            m_state->files.insert(to, assembled);
            uploads.remove(id);
            return answer(destinationExists ? 204 : 201);
        }
        answer(405, "not allowed in an upload folder");
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
    QString dir = parentOf(path);
    while (!m_state->dirs.contains(dir)) {
        m_state->dirs.insert(dir);
        dir = parentOf(dir);
    }
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

void FaultServer::setNextcloud(const QString &user, const QByteArray &version)
{
    std::lock_guard lock(m_state->mutex);
    m_state->nextcloud = true;
    m_state->ncUser = QString(user.constData(), user.size());
    m_state->ncVersion = QByteArray(version.constData(), version.size());
    m_state->rangedPut = RangedPut::Refused;   // sabre/dav answers 400 to Content-Range on PUT
    m_state->rangedPutRefusal = 400;
    for (const QString &dir : {QStringLiteral("/"), QStringLiteral("/remote.php"), QStringLiteral("/remote.php/dav"),
                               QStringLiteral("/remote.php/dav/files"), m_state->filesRoot(),
                               QStringLiteral("/remote.php/dav/uploads"), m_state->uploadsRoot()})
        m_state->dirs.insert(dir);
}

QList<FaultServer::ChunkedUpload> FaultServer::chunkedUploads() const
{
    std::lock_guard lock(m_state->mutex);
    QList<ChunkedUpload> out;
    for (auto it = m_state->uploads.cbegin(); it != m_state->uploads.cend(); ++it) {
        ChunkedUpload u;
        u.id = QString(it.key().constData(), it.key().size());
        u.destination = QByteArray(it->destination.constData(), it->destination.size());
        u.totalLength = it->totalLength;
        for (auto c = it->chunks.cbegin(); c != it->chunks.cend(); ++c)
            u.chunks.insert(c.key(), c->content.size());
        out.append(u);
    }
    return out;
}

int FaultServer::maxChunkPutsInFlight() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->maxChunkPutsInFlight;
}

void FaultServer::corruptNextChunks(int count)
{
    std::lock_guard lock(m_state->mutex);
    m_state->corruptChunks = count;
}

void FaultServer::makeDirectory(const QString &path)
{
    std::lock_guard lock(m_state->mutex);
    QString dir = QString(path.constData(), path.size());
    while (!m_state->dirs.contains(dir)) {
        m_state->dirs.insert(dir);
        dir = parentOf(dir);
    }
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

UploadFixture::UploadFixture(const QString &catalogLocation)
{
    if (!m_dir.isValid())
        return;
    m_store = std::make_unique<SessionStore>();
    m_pools = std::make_unique<Pools>(2, 4);
    m_catalog = std::make_unique<Catalog>(CatalogConfig{
            catalogLocation.isEmpty() ? m_dir.filePath(QStringLiteral("catalog.sqlite")) : catalogLocation});
    m_ok = io([this] { return m_catalog->open(); }).ok();
}

UploadFixture::~UploadFixture()
{
    // Workers still finishing (e.g. after a failed QTRY) must end before the catalog goes.
    m_pools->io()->waitForDone();
    m_pools->cpu()->waitForDone();
}

bool UploadFixture::saveRemote(const RemoteProfile &profile)
{
    return RemoteProfiles(*m_store).save(profile).ok();
}

qint64 UploadFixture::createCollection(const QString &name, const QString &remote)
{
    const auto r = io([&] { return m_catalog->createCollection(name, remote); });
    return r ? *r : 0;
}

qint64 UploadFixture::addPath(qint64 collectionId, const QByteArray &path, const QString &fileName)
{
    return io([&]() -> qint64 {
        const FileHash h = Hasher::hashFile(path);
        if (!h.ok())
            return 0;
        NewDocument nd;
        nd.sourcePath = path;
        nd.fileName = fileName;
        nd.size = h.size;
        nd.mtimeMs = h.mtimeMs;
        const auto queued = m_catalog->addQueued(collectionId, {nd});
        if (!queued || queued->isEmpty())
            return 0;
        const qint64 id = queued->first().id;
        HashUpdate u;
        u.id = id;
        u.sha256 = h.sha256;
        u.size = h.size;
        u.mtimeMs = h.mtimeMs;
        const auto applied = m_catalog->applyHashes({u});
        return applied && !applied->isEmpty() && applied->first().status == DocStatus::Hashed ? id : 0;
    });
}

qint64 UploadFixture::addFile(qint64 collectionId, const QString &fileName, const QByteArray &content,
                              const QString &subdir)
{
    const QString folder = m_dir.filePath(QStringLiteral("src/") + subdir);
    QDir().mkpath(folder);
    const QString path = folder + QLatin1Char('/') + fileName;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(content) != content.size())
        return 0;
    f.close();
    return addPath(collectionId, QFile::encodeName(path), fileName);
}

qint64 UploadFixture::addSparseFile(qint64 collectionId, const QString &fileName, qint64 sparseSize)
{
    const QString folder = m_dir.filePath(QStringLiteral("src"));
    QDir().mkpath(folder);
    const QString path = folder + QLatin1Char('/') + fileName;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || !f.resize(sparseSize))
        return 0;
    f.close();
    return addPath(collectionId, QFile::encodeName(path), fileName);
}

QString UploadFixture::sourcePath(qint64 documentId)
{
    return QFile::decodeName(document(documentId).sourcePath);
}

Document UploadFixture::document(qint64 id)
{
    const auto d = io([&] { return m_catalog->document(id); });
    return d && d->has_value() ? **d : Document();
}

bool UploadFixture::exec(const QString &sql, const QVariantList &values)
{
    return io([&] {
        Result<QSqlDatabase> db = m_catalog->connections().database();
        if (!db)
            return false;
        QSqlQuery q(*db);
        if (!q.prepare(sql))
            return false;
        for (const QVariant &v : values)
            q.addBindValue(v);
        return q.exec() && q.numRowsAffected() > 0;
    });
}

QList<Document> UploadFixture::documents(qint64 collectionId)
{
    DocumentQuery q;
    q.collectionId = collectionId;
    q.sortColumn = DocColumn::Added;
    const auto r = io([&] { return m_catalog->documents(q); });
    return r ? *r : QList<Document>();
}

UploadSettings UploadFixture::fastSettings()
{
    using namespace std::chrono_literals;
    UploadSettings s;
    s.parallel = 3;
    s.retry.maxAttempts = 3;
    s.retry.initialDelay = 100ms;
    s.retry.maxDelay = 400ms;
    s.retry.maxRetryAfter = 10'000ms;
    s.limits.transferTimeout = 2000ms;
    s.limits.minTotal = 60'000ms;
    return s;
}

UploadResult UploadFixture::runJob(const UploadScope &scope, const UploadSettings &settings,
                                   SecretProvider secrets, int timeoutMs,
                                   QList<UploadDocumentEvent> *events, int *progressSignals)
{
    UploadJob job(*m_catalog, *m_store, *m_pools, scope);
    job.setSettings(settings);
    if (secrets)
        job.setSecretProvider(std::move(secrets));
    if (events)
        QObject::connect(&job, &UploadJob::documentsChanged, &job,
                         [events](const QList<UploadDocumentEvent> &e) { *events += e; });
    if (progressSignals)
        QObject::connect(&job, &UploadJob::progressChanged, &job, [progressSignals] { ++*progressSignals; });
    QSignalSpy finished(&job, &UploadJob::finished);
    job.start();
    if (!finished.wait(timeoutMs)) {
        job.cancel();
        finished.wait(30'000);
        UploadResult r;
        r.outcome = UploadResult::Outcome::Error;
        r.error = QStringLiteral("the job did not finish in time");
        return r;
    }
    return finished.first().first().value<UploadResult>();
}

void onWorker(const std::function<void()> &fn)
{
    QThread *thread = QThread::create(fn);
    QEventLoop loop;
    QObject::connect(thread, &QThread::finished, &loop, &QEventLoop::quit);
    thread->start();
    if (!thread->isFinished())
        loop.exec();
    thread->wait();
    delete thread;
}

} // namespace quire::test
