#include "proxyserver.h"

#include "apacheprocess.h"
#include "davserver.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace quire::test {

ProxyServer::ProxyServer() = default;

ProxyServer::~ProxyServer()
{
    stop();
}

bool ProxyServer::available()
{
    return QFileInfo(DavServer::apacheBinary()).isExecutable()
           && QFileInfo::exists(DavServer::modulesDir() + QStringLiteral("/mod_proxy_connect.so"))
           && QFileInfo::exists(DavServer::modulesDir() + QStringLiteral("/mod_proxy_http.so"));
}

QString ProxyServer::unavailableReason()
{
    if (available())
        return {};
    return QStringLiteral("Apache with mod_proxy_connect and mod_proxy_http is not installed (%1, %2); "
                          "install it with scripts/install-deps --test, or set QUIRE_ALLOW_SKIP=1 to skip")
        .arg(DavServer::apacheBinary(), DavServer::modulesDir());
}

QUrl ProxyServer::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_port));
}

QString ProxyServer::errorLog() const
{
    return m_dir ? apache::readLog(m_dir->path() + QStringLiteral("/error.log")) : QString();
}

QList<ProxyServer::Logged> ProxyServer::requests() const
{
    if (!m_dir)
        return {};
    return apache::readAccessLog<Logged>(m_dir->path() + QStringLiteral("/access.log"), 1,
                                         [](Logged &l, const QList<QByteArray> &fields) {
        l.target = fields.at(4).split(' ').value(1);   // "METHOD target HTTP/1.1"
    });
}

bool ProxyServer::sawConnectTo(quint16 port) const
{
    const QByteArray suffix = ':' + QByteArray::number(port);
    for (const Logged &l : requests()) {
        if (l.method == "CONNECT" && (l.target == "127.0.0.1" + suffix || l.target == "localhost" + suffix))
            return true;
    }
    return false;
}

bool ProxyServer::isRunning() const
{
    return m_process.state() == QProcess::Running;
}

bool ProxyServer::start(const QList<quint16> &connectPorts)
{
    if (!available()) {
        m_error = unavailableReason();
        return false;
    }
    return apache::startOnAFreePort([&](quint16 port) { return startOnce(port, connectPorts); }, [this] { stop(); },
                                    m_error);
}

bool ProxyServer::startOnce(quint16 port, const QList<quint16> &connectPorts)
{
    m_error.clear();
    m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QStringLiteral("/quire-proxy-XXXXXX"));
    if (!m_dir->isValid()) {
        m_error = QStringLiteral("cannot create a temporary folder");
        return false;
    }
    const QString serverRoot = m_dir->path();
    apache::makeTraversable(serverRoot);

    QFile tmpl(QStringLiteral(QUIRE_TESTS_DIR "/apache/proxy.conf.in"));
    if (!tmpl.open(QIODevice::ReadOnly)) {
        m_error = QStringLiteral("cannot read %1").arg(tmpl.fileName());
        return false;
    }
    QByteArray ports;
    for (quint16 p : connectPorts)
        ports += (ports.isEmpty() ? "" : " ") + QByteArray::number(p);
    QByteArray conf = apache::fillCommon(tmpl.readAll(), serverRoot, port);
    conf.replace("@CONNECT_PORTS@", ports.isEmpty() ? QByteArray("1-65535") : ports);
    const QString confPath = serverRoot + QStringLiteral("/proxy.conf");
    if (!apache::writeFile(confPath, conf)) {
        m_error = QStringLiteral("cannot write %1").arg(confPath);
        return false;
    }
    m_port = port;
    return apache::launch(m_process, confPath, serverRoot, {}, port, [this] { return errorLog(); }, &m_error);
}

void ProxyServer::stop()
{
    apache::stop(m_process);
    m_port = 0;
}

} // namespace quire::test
