#include "singleinstance.h"

#include <QCryptographicHash>
#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QLockFile>
#include <QPointer>

namespace quire {

namespace {

constexpr qint64 kMaxRequest = 64 * 1024 * 1024;   // a request is one line of JSON
constexpr char kAccepted[] = "ok\n";

QByteArray encodeRequest(const QString &collection, const QList<QByteArray> &paths)
{
    QJsonArray list;
    for (const QByteArray &p : paths)
        list.append(QString::fromLatin1(p.toBase64()));   // path bytes need not be UTF-8
    return QJsonDocument(QJsonObject{{QStringLiteral("collection"), collection}, {QStringLiteral("paths"), list}})
               .toJson(QJsonDocument::Compact)
           + '\n';
}

} // namespace

SingleInstance::SingleInstance(const QString &key, QObject *parent)
    : QObject(parent)
{
    // Short: a Unix socket path has room for about 100 bytes.
    m_name = QStringLiteral("quire-")
             + QString::fromLatin1(QCryptographicHash::hash(key.toUtf8(), QCryptographicHash::Sha256).toHex().left(24));
    m_server.setSocketOptions(QLocalServer::UserAccessOption);
    connect(&m_server, &QLocalServer::newConnection, this, &SingleInstance::onNewConnection);
}

SingleInstance::~SingleInstance() = default;

SingleInstance::Role SingleInstance::claim(const QString &collection, const QList<QByteArray> &paths, int timeoutMs)
{
    QLockFile lock(QDir::temp().filePath(m_name + QStringLiteral(".lock")));
    lock.setStaleLockTime(30'000);
    if (!lock.tryLock(timeoutMs))
        return Role::Alone;

    QLocalSocket peer;
    peer.connectToServer(m_name);
    if (peer.waitForConnected(timeoutMs)) {
        peer.write(encodeRequest(collection, paths));
        if (!peer.waitForBytesWritten(timeoutMs))
            return Role::Alone;
        QByteArray reply;
        while (!reply.contains('\n') && peer.waitForReadyRead(timeoutMs))
            reply += peer.readAll();
        return reply == kAccepted ? Role::HandedOver : Role::Alone;
    }
    // Nobody answers: a socket file left by a process that was killed is removed first
    // (Unix), then this process listens. The lock keeps another start from doing the same.
    QLocalServer::removeServer(m_name);
    return m_server.listen(m_name) ? Role::Primary : Role::Alone;
}

void SingleInstance::onNewConnection()
{
    while (QLocalSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        auto handle = [this, socket = QPointer<QLocalSocket>(socket)] {
            if (!socket || socket->state() != QLocalSocket::ConnectedState)
                return;
            if (!socket->canReadLine()) {
                if (socket->bytesAvailable() > kMaxRequest)
                    socket->abort();
                return;
            }
            const QJsonObject request = QJsonDocument::fromJson(socket->readLine()).object();
            QList<QByteArray> paths;
            for (const QJsonValue &v : request.value(QStringLiteral("paths")).toArray())
                paths.append(QByteArray::fromBase64(v.toString().toLatin1()));
            socket->write(kAccepted);
            socket->flush();
            socket->disconnectFromServer();
            Q_EMIT filesReceived(request.value(QStringLiteral("collection")).toString(), paths);
        };
        connect(socket, &QLocalSocket::readyRead, this, handle);
        // What arrived before the connection was made is read too.
        QMetaObject::invokeMethod(this, handle, Qt::QueuedConnection);
    }
}

} // namespace quire
