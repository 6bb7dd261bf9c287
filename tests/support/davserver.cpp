#include "davserver.h"

#include "apacheprocess.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace quire::test {

using apache::giveToApacheUser;
using apache::makeTraversable;
using apache::writeFile;

DavServer::DavServer() = default;

DavServer::DavServer(Options options) : m_options(std::move(options)) {}

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
    return QUrl(QStringLiteral("%1://%2:%3/")
                    .arg(m_options.tls.isNull() ? QStringLiteral("http") : QStringLiteral("https"),
                         m_options.ipv6 ? QStringLiteral("[::1]") : QStringLiteral("127.0.0.1"))
                    .arg(m_port));
}

QString DavServer::documentRoot() const
{
    return m_dir ? m_dir->path() + QStringLiteral("/docs") : QString();
}

RemoteProfile DavServer::remoteProfile(const QString &name) const
{
    RemoteProfile p;
    p.name = name;
    p.kind = RemoteKind::WebDav;
    p.url = baseUrl().toString();
    p.user = user();
    return p;
}

QString DavServer::errorLog() const
{
    return m_dir ? apache::readLog(m_dir->path() + QStringLiteral("/server/error.log")) : QString();
}

QList<DavServer::Logged> DavServer::accessLog() const
{
    if (!m_dir)
        return {};
    return apache::readAccessLog<Logged>(m_dir->path() + QStringLiteral("/server/access.log"), 4,
                                         [](Logged &l, const QList<QByteArray> &fields) {
        l.bytesIn = fields.at(4).toLongLong();
        l.contentRange = fields.at(5) == "-" ? QByteArray() : fields.at(5);
        l.protocol = fields.at(6);
        l.path = QString::fromUtf8(fields.at(7));   // Apache writes bytes outside ASCII as \xhh
    });
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
    for (const auto &[wanted, module] : {std::pair{!m_options.tls.isNull(), "mod_ssl.so"},
                                         std::pair{m_options.http2, "mod_http2.so"}}) {
        if (wanted && !QFileInfo::exists(modulesDir() + QLatin1Char('/') + QLatin1String(module))) {
            m_error = QStringLiteral("Apache's %1 is not installed in %2").arg(QLatin1String(module), modulesDir());
            return false;
        }
    }
    return apache::startOnAFreePort([this](quint16 port) { return startOnce(port); }, [this] { stop(); }, m_error,
                                    m_options.ipv6);
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
        makeTraversable(p);
    giveToApacheUser(docs);
    giveToApacheUser(serverRoot + QStringLiteral("/davlock"));

    // Basic auth: the {SHA} htpasswd format (base64 of SHA-1 of the UTF-8 password), so no
    // htpasswd binary is needed.
    const QByteArray sha = QCryptographicHash::hash(password().toUtf8(), QCryptographicHash::Sha1).toBase64();
    if (!writeFile(serverRoot + QStringLiteral("/htpasswd"), user().toUtf8() + ":{SHA}" + sha + '\n')) {
        m_error = QStringLiteral("cannot write htpasswd");
        return false;
    }
    // The certificate and key go to fixed names in the server's folder (the config names them
    // there), so the caller's copies may go away and restartWith() can replace them.
    if (!m_options.tls.isNull() && !installCertificate(m_options.tls))
        return false;

    QFile tmpl(QStringLiteral(QUIRE_TESTS_DIR "/apache/dav.conf.in"));
    if (!tmpl.open(QIODevice::ReadOnly)) {
        m_error = QStringLiteral("cannot read %1").arg(tmpl.fileName());
        return false;
    }
    QByteArray conf = apache::fillCommon(tmpl.readAll(), serverRoot, port, m_options.ipv6);
    conf.replace("@DOC_ROOT@", docs.toUtf8());
    const QString confPath = serverRoot + QStringLiteral("/dav.conf");
    if (!writeFile(confPath, conf)) {
        m_error = QStringLiteral("cannot write %1").arg(confPath);
        return false;
    }
    return launch(port);
}

bool DavServer::installCertificate(const TlsIdentity &certificate)
{
    const QString tls = m_dir->path() + QStringLiteral("/server/tls");
    QDir().mkpath(tls);
    for (const auto &[from, to] : {std::pair{certificate.certPath, QStringLiteral("/server.crt")},
                                   std::pair{certificate.keyPath, QStringLiteral("/server.key")}}) {
        QFile in(from);
        if (!in.open(QIODevice::ReadOnly) || !writeFile(tls + to, in.readAll())) {
            m_error = QStringLiteral("cannot copy %1 to %2").arg(from, tls + to);
            return false;
        }
    }
    // Apache reads it as the user who started it, before it drops to www-data.
    QFile::setPermissions(tls + QStringLiteral("/server.key"), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

// Starts Apache on the folder made by startOnce() and waits until the port accepts connections.
bool DavServer::launch(quint16 port)
{
    const QString serverRoot = m_dir->path() + QStringLiteral("/server");
    QStringList defines;
    if (!m_options.tls.isNull())
        defines << QStringLiteral("QUIRE_TLS");
    if (m_options.http2)
        defines << QStringLiteral("QUIRE_HTTP2");
    m_port = port;
    return apache::launch(m_process, serverRoot + QStringLiteral("/dav.conf"), serverRoot, defines, port,
                          [this] { return errorLog(); }, &m_error, m_options.ipv6);
}

bool DavServer::restartWith(const TlsIdentity &certificate)
{
    if (!m_dir || m_options.tls.isNull() || !isRunning()) {
        m_error = QStringLiteral("restartWith() needs a running https server");
        return false;
    }
    const quint16 port = m_port;
    stop();
    m_error.clear();
    if (!installCertificate(certificate))
        return false;
    m_options.tls = certificate;
    return launch(port);
}

void DavServer::stop()
{
    apache::stop(m_process);
    m_port = 0;
}

} // namespace quire::test
