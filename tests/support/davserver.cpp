#include "davserver.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTcpServer>
#include <QTcpSocket>
#include <QThread>

#ifndef Q_OS_WIN
#  include <grp.h>
#  include <pwd.h>
#  include <sys/stat.h>
#  include <unistd.h>
#endif

namespace quire::test {

namespace {

quint16 freeLoopbackPort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
}

#ifndef Q_OS_WIN
// Hands a path to www-data when running as root (Apache's children run as that user).
void giveToApacheUser(const QString &path)
{
    if (::geteuid() != 0)
        return;
    const passwd *pw = ::getpwnam("www-data");
    const group *gr = ::getgrnam("www-data");
    if (pw && gr)
        (void)::chown(QFile::encodeName(path).constData(), pw->pw_uid, gr->gr_gid);
}
#endif

} // namespace

DavServer::DavServer() = default;

DavServer::~DavServer()
{
    stop();
}

QString DavServer::apacheBinary()
{
    const QString env = qEnvironmentVariable("QUIRE_APACHE2");
    return env.isEmpty() ? QStringLiteral("/usr/sbin/apache2") : env;
}

QString DavServer::modulesDir()
{
    return QStringLiteral("/usr/lib/apache2/modules");
}

bool DavServer::available()
{
    return QFileInfo(apacheBinary()).isExecutable()
           && QFileInfo::exists(modulesDir() + QStringLiteral("/mod_dav_fs.so"));
}

QString DavServer::unavailableReason()
{
    if (available())
        return {};
    return QStringLiteral("Apache with mod_dav is not installed (%1, %2/mod_dav_fs.so); install it "
                          "with scripts/install-deps --test, or set QUIRE_ALLOW_SKIP=1 to skip")
        .arg(apacheBinary(), modulesDir());
}

bool DavServer::skipAllowed()
{
    return qEnvironmentVariable("QUIRE_ALLOW_SKIP") == QLatin1String("1");
}

QUrl DavServer::baseUrl() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/").arg(m_port));
}

QString DavServer::documentRoot() const
{
    return m_dir ? m_dir->path() + QStringLiteral("/docs") : QString();
}

QString DavServer::errorLog() const
{
    if (!m_dir)
        return {};
    QFile f(m_dir->path() + QStringLiteral("/server/error.log"));
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

QList<DavServer::Logged> DavServer::accessLog() const
{
    QList<Logged> out;
    if (!m_dir)
        return out;
    QFile f(m_dir->path() + QStringLiteral("/server/access.log"));
    if (!f.open(QIODevice::ReadOnly))
        return out;
    while (!f.atEnd()) {
        QByteArray line = f.readLine();
        if (!line.endsWith('\n'))
            break;   // still being written
        line.chop(1);
        const QList<QByteArray> fields = line.split('\t');
        if (fields.size() != 6)
            continue;
        Logged l;
        l.beganMs = fields.at(0).toLongLong();
        l.method = fields.at(1);
        l.status = fields.at(2).toInt();
        l.bytesIn = fields.at(3).toLongLong();
        l.contentRange = fields.at(4) == "-" ? QByteArray() : fields.at(4);
        l.path = QString::fromUtf8(fields.at(5));   // Apache writes bytes outside ASCII as \xhh
        out.append(l);
    }
    return out;
}

bool DavServer::isRunning() const
{
    return m_process.state() == QProcess::Running;
}

bool DavServer::start()
{
    if (!available()) {
        m_error = unavailableReason();
        return false;
    }
    // The free port may be taken between probing and Apache binding it: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
        const quint16 port = freeLoopbackPort();
        if (port != 0 && startOnce(port))
            return true;
        stop();
        if (!m_error.contains(QLatin1String("Address already in use")))
            return false;
    }
    return false;
}

bool DavServer::startOnce(quint16 port)
{
    m_error.clear();
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/quire-dav-XXXXXX"));
    if (!m_dir->isValid()) {
        m_error = QStringLiteral("cannot create a temporary folder");
        return false;
    }
    const QString root = m_dir->path();
    const QString serverRoot = root + QStringLiteral("/server");
    const QString docs = root + QStringLiteral("/docs");
    QDir().mkpath(serverRoot + QStringLiteral("/davlock"));
    QDir().mkpath(docs);
    // Apache's children must be able to reach the folders (QTemporaryDir makes them 0700).
    for (const QString &p : {root, serverRoot, docs, serverRoot + QStringLiteral("/davlock")})
        QFile::setPermissions(p, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                                     | QFileDevice::ReadGroup | QFileDevice::ExeGroup
                                     | QFileDevice::ReadOther | QFileDevice::ExeOther);
#ifndef Q_OS_WIN
    giveToApacheUser(docs);
    giveToApacheUser(serverRoot + QStringLiteral("/davlock"));
#endif

    // Basic auth: the {SHA} htpasswd format (base64 of SHA-1 of the UTF-8 password), so no
    // htpasswd binary is needed.
    const QByteArray sha = QCryptographicHash::hash(password().toUtf8(), QCryptographicHash::Sha1).toBase64();
    if (!writeFile(serverRoot + QStringLiteral("/htpasswd"), user().toUtf8() + ":{SHA}" + sha + '\n')) {
        m_error = QStringLiteral("cannot write htpasswd");
        return false;
    }

    QFile tmpl(QStringLiteral(QUIRE_TESTS_DIR "/apache/dav.conf.in"));
    if (!tmpl.open(QIODevice::ReadOnly)) {
        m_error = QStringLiteral("cannot read %1").arg(tmpl.fileName());
        return false;
    }
    QByteArray conf = tmpl.readAll();
#ifndef Q_OS_WIN
    const bool root_ = ::geteuid() == 0;
#else
    const bool root_ = false;
#endif
    conf.replace("@SERVER_ROOT@", serverRoot.toUtf8());
    conf.replace("@DOC_ROOT@", docs.toUtf8());
    conf.replace("@PORT@", QByteArray::number(port));
    conf.replace("@MODULES@", modulesDir().toUtf8());
    conf.replace("@USER_LINE@", root_ ? "User www-data" : "");
    conf.replace("@GROUP_LINE@", root_ ? "Group www-data" : "");
    const QString confPath = serverRoot + QStringLiteral("/dav.conf");
    if (!writeFile(confPath, conf)) {
        m_error = QStringLiteral("cannot write %1").arg(confPath);
        return false;
    }

    m_process.setProgram(apacheBinary());
    m_process.setArguments({QStringLiteral("-f"), confPath, QStringLiteral("-d"), serverRoot,
                            QStringLiteral("-DFOREGROUND")});
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.start();
    if (!m_process.waitForStarted(10'000)) {
        m_error = QStringLiteral("cannot start %1: %2").arg(apacheBinary(), m_process.errorString());
        return false;
    }
    m_port = port;

    const QDeadlineTimer deadline(30'000);
    while (!deadline.hasExpired()) {
        if (m_process.state() != QProcess::Running) {
            m_error = QStringLiteral("Apache exited at once: %1 %2")
                          .arg(QString::fromUtf8(m_process.readAll()), errorLog());
            return false;
        }
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, port);
        if (probe.waitForConnected(500))
            return true;
        m_process.waitForFinished(100);
    }
    m_error = QStringLiteral("Apache did not accept connections within 30 s: %1").arg(errorLog());
    return false;
}

void DavServer::stop()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.terminate();
        if (!m_process.waitForFinished(15'000)) {
            m_process.kill();
            m_process.waitForFinished(5'000);
        }
    }
    m_port = 0;
}

} // namespace quire::test
