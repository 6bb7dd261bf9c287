#include "platform/singleinstance.h"

#include "hashing/hasher.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QLockFile>
#include <QPointer>
#include <QStandardPaths>
#include <QTimer>

#include <algorithm>

#ifndef Q_OS_WIN
#  include <cerrno>
#  include <sys/stat.h>
#  include <unistd.h>
#endif

#ifdef Q_OS_WIN
#  include <windows.h>
#endif

namespace quire {

namespace {

constexpr qint64 kMaxRequest = 64 * 1024 * 1024;   // a request is one line of JSON
constexpr int kRequestTimeoutMs = 10'000;           // a client that connects and says nothing
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
    const QString base = QStringLiteral("quire-")
        + QString::fromLatin1(Hasher::hashBytes(key.toUtf8()).left(24));
#ifdef Q_OS_WIN
    m_name = base;   // \\.\pipe\<name>; the pipe's ACL admits this user only
    m_lockPath = QDir(QStandardPaths::writableLocation(QStandardPaths::TempLocation)).filePath(base + QStringLiteral(".lock"));
#else
    const QString dir = privateFolder();
    // A Unix socket path has room for 107 bytes: a longer one would be cut short.
    if (!dir.isEmpty() && QFile::encodeName(dir).size() + 1 + base.size() < 104) {
        m_name = QDir(dir).filePath(base);
        m_lockPath = m_name + QStringLiteral(".lock");
    }
#endif
    m_server.setSocketOptions(QLocalServer::UserAccessOption);
    connect(&m_server, &QLocalServer::newConnection, this, &SingleInstance::onNewConnection);
}

SingleInstance::~SingleInstance() = default;

QString SingleInstance::privateFolder()
{
#ifdef Q_OS_WIN
    return {};
#else
    // A folder, not a symlink, owned by this user, that nobody else may enter or list.
    const auto isPrivate = [](const QByteArray &path) {
        struct stat st{};
        return ::lstat(path.constData(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()
            && (st.st_mode & 077) == 0;
    };
    const QByteArray runtime = qgetenv("XDG_RUNTIME_DIR");
    if (runtime.startsWith('/') && isPrivate(runtime))
        return QFile::decodeName(runtime);
    // Not QStandardPaths::RuntimeLocation: without XDG_RUNTIME_DIR it is a folder in /tmp.
    const QString cache = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation);
    if (cache.isEmpty() || !QDir().mkpath(cache))
        return {};
    const QByteArray dir = QFile::encodeName(QDir(cache).filePath(QStringLiteral("quire-run")));
    if (::mkdir(dir.constData(), 0700) != 0 && errno != EEXIST)
        return {};
    struct stat st{};
    if (::lstat(dir.constData(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() && (st.st_mode & 077) != 0)
        ::chmod(dir.constData(), 0700);   // made by hand, or by a looser umask: made private again
    return isPrivate(dir) ? QFile::decodeName(dir) : QString();
#endif
}

SingleInstance::Role SingleInstance::claim(const QString &collection, const QList<QByteArray> &paths, int timeoutMs)
{
    if (m_name.isEmpty())
        return Role::Alone;
    const QDeadlineTimer deadline(timeoutMs);
    const auto left = [&] { return int(std::max<qint64>(1, deadline.remainingTime())); };
    QLockFile lock(m_lockPath);
    lock.setStaleLockTime(30'000);
    if (!lock.tryLock(std::min(left(), timeoutMs / 3 + 1)))
        return Role::Alone;

    QLocalSocket peer;
    peer.connectToServer(m_name);
    if (peer.waitForConnected(std::min(left(), 2'000))) {
#ifdef Q_OS_WIN
        AllowSetForegroundWindow(ASFW_ANY);   // or Windows only flashes the window's taskbar button
#endif
        peer.write(encodeRequest(collection, paths));
        QByteArray reply;
        while (!reply.contains('\n') && !deadline.hasExpired()
               && (peer.bytesToWrite() > 0 ? peer.waitForBytesWritten(left()) : peer.waitForReadyRead(left())))
            reply += peer.readAll();
        return reply == kAccepted ? Role::HandedOver : Role::Alone;
    }
    // Nobody answers: a socket file left by a process that was killed is removed first
    // (Unix), then this process listens. The lock keeps another start from doing the same.
    QLocalServer::removeServer(m_name);
    return m_server.listen(m_name) ? Role::Primary : Role::Alone;
}

void SingleInstance::stopListening()
{
    m_server.close();
}

void SingleInstance::onNewConnection()
{
    while (QLocalSocket *socket = m_server.nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        // A client that connects and then says nothing is dropped after a while.
        QTimer::singleShot(kRequestTimeoutMs, socket, &QLocalSocket::abort);
        auto handle = [this, socket = QPointer<QLocalSocket>(socket)] {
            if (!socket)
                return;
            if (socket->state() != QLocalSocket::ConnectedState) {
                socket->deleteLater();   // gone before it was read: no disconnected() to come
                return;
            }
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
