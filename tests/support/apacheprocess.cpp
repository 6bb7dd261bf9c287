#include "apacheprocess.h"

#include "davserver.h"

#include <QDeadlineTimer>
#include <QFile>
#include <QTcpSocket>

#ifndef Q_OS_WIN
#  include <grp.h>
#  include <pwd.h>
#  include <sys/stat.h>
#  include <unistd.h>
#endif

namespace quire::test::apache {

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

void makeTraversable(const QString &path)
{
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                                    | QFileDevice::ReadGroup | QFileDevice::ExeGroup
                                    | QFileDevice::ReadOther | QFileDevice::ExeOther);
}

bool runningAsRoot()
{
#ifndef Q_OS_WIN
    return ::geteuid() == 0;
#else
    return false;
#endif
}

void giveToApacheUser(const QString &path)
{
#ifndef Q_OS_WIN
    if (!runningAsRoot())
        return;
    const passwd *pw = ::getpwnam("www-data");
    const group *gr = ::getgrnam("www-data");
    if (pw && gr)
        (void)::chown(QFile::encodeName(path).constData(), pw->pw_uid, gr->gr_gid);
#else
    Q_UNUSED(path);
#endif
}

QByteArray fillCommon(QByteArray conf, const QString &serverRoot, quint16 port, bool ipv6)
{
    const bool root = runningAsRoot();
    conf.replace("@SERVER_ROOT@", serverRoot.toUtf8());
    conf.replace("@HOST@", ipv6 ? "[::1]" : "127.0.0.1");
    conf.replace("@PORT@", QByteArray::number(port));
    conf.replace("@MODULES@", DavServer::modulesDir().toUtf8());
    conf.replace("@USER_LINE@", root ? "User www-data" : "");
    conf.replace("@GROUP_LINE@", root ? "Group www-data" : "");
    return conf;
}

bool launch(QProcess &process, const QString &confPath, const QString &serverRoot, const QStringList &defines,
            quint16 port, const std::function<QString()> &errorLog, QString *error, bool ipv6)
{
    QStringList args{QStringLiteral("-f"), confPath, QStringLiteral("-d"), serverRoot, QStringLiteral("-DFOREGROUND")};
    for (const QString &d : defines)
        args << QStringLiteral("-D") + d;
    process.setProgram(DavServer::apacheBinary());
    process.setArguments(args);
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start();
    if (!process.waitForStarted(10'000)) {
        *error = QStringLiteral("cannot start %1: %2").arg(DavServer::apacheBinary(), process.errorString());
        return false;
    }

    const QDeadlineTimer deadline(30'000);
    while (!deadline.hasExpired()) {
        if (process.state() != QProcess::Running) {
            *error = QStringLiteral("Apache exited at once: %1 %2")
                         .arg(QString::fromUtf8(process.readAll()), errorLog());
            return false;
        }
        QTcpSocket probe;
        probe.connectToHost(ipv6 ? QHostAddress::LocalHostIPv6 : QHostAddress::LocalHost, port);
        if (probe.waitForConnected(500))
            return true;
        process.waitForFinished(100);
    }
    *error = QStringLiteral("Apache did not accept connections within 30 s: %1").arg(errorLog());
    stop(process);
    return false;
}

bool startOnAFreePort(const std::function<bool(quint16)> &startOnce, const std::function<void()> &stop,
                      const QString &error, bool ipv6)
{
    for (int attempt = 0; attempt < 5; ++attempt) {
        const quint16 port = freeLoopbackPort(ipv6);
        if (port != 0 && startOnce(port))
            return true;
        stop();
        if (!error.contains(QLatin1String("Address already in use")))
            return false;
    }
    return false;
}

QString readLog(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

QList<QList<QByteArray>> readTabLog(const QString &path, int fields)
{
    QList<QList<QByteArray>> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    while (!f.atEnd()) {
        QByteArray line = f.readLine();
        if (!line.endsWith('\n'))
            break;   // still being written
        line.chop(1);
        QList<QByteArray> split = line.split('\t');
        if (split.size() == fields)
            out.append(std::move(split));
    }
    return out;
}

void stop(QProcess &process)
{
    if (process.state() != QProcess::NotRunning) {
        process.terminate();
        if (!process.waitForFinished(15'000)) {
            process.kill();
            process.waitForFinished(5'000);
        }
    }
}

} // namespace quire::test::apache
