#pragma once

// What FaultServer's sources share: the server's state (behind its mutex) and the parts of its
// answers that are kept apart from the connection handling (Nextcloud's chunked uploads).

#include "faultserver.h"

#include <QElapsedTimer>
#include <QSet>

#include <condition_variable>

namespace quire::test {

namespace faultserver {

// The folder a DAV path is in ("/" for a top-level one).
QString parentOf(const QString &path);
// The path of a request target or a Destination header, decoded, without a trailing '/'.
QString requestPath(const QByteArray &target);

} // namespace faultserver

struct FaultServer::State
{
    mutable std::mutex mutex;
    std::condition_variable requestArrived;   // notified when seen grows
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
    // Adds dir and the parents it lacks to the DAV tree.
    void makeDirectories(QString dir)
    {
        while (!dirs.contains(dir)) {
            dirs.insert(dir);
            dir = faultserver::parentOf(dir);
        }
    }
};

namespace faultserver {

// An answer to send: status, body and headers (a Content-Type for a body without one is added
// when it is sent).
struct Answer
{
    Answer(int status, QByteArray body = {}, QList<std::pair<QByteArray, QByteArray>> headers = {})
        : status(status), body(std::move(body)), headers(std::move(headers))
    {
    }
    int status;
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers;
};

// GET /status.php of a Nextcloud server of state.ncVersion.
QByteArray nextcloudStatus(const FaultServer::State &state);

// A request to Nextcloud's chunked upload v2 under /remote.php/dav/uploads/<user>/ (rel: "<id>"
// or "<id>/<name>"), with its whole body; `received` counts the body bytes that arrived (the body
// keeps at most 64 MiB of them). Called with the state's mutex held.
Answer nextcloudUpload(FaultServer::State &state, const FaultServer::Seen &seen, const QByteArray &body,
                       qint64 received, const QString &rel);

} // namespace faultserver

} // namespace quire::test
