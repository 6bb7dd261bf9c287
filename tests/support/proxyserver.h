#pragma once

#include "apacheprocess.h"

#include <QByteArray>
#include <QList>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <QUrl>

#include <memory>

namespace quire::test {

// An HTTP forward proxy on a free loopback port: a second Apache httpd (mod_proxy +
// mod_proxy_connect + mod_proxy_http, "ProxyRequests On") from tests/apache/proxy.conf.in, in a
// temporary folder of its own. It tunnels CONNECT (https through a proxy) and forwards plain
// http requests in absolute form, only from 127.0.0.1/::1 and only to 127.0.0.1, localhost or
// [::1] (anything else is answered 403 without being resolved). No authentication.
//
// Same lifetime rules as DavServer: start() waits until the port accepts connections; the
// destructor stops the server (SIGTERM, then SIGKILL) and removes the folder; as root, Apache's
// children run as www-data. Use from one thread.
class ProxyServer final
{
public:
    ProxyServer();
    ~ProxyServer();
    Q_DISABLE_COPY(ProxyServer)

    static bool available();                // Apache with mod_proxy_connect and mod_proxy_http
    static QString unavailableReason();     // "" when available

    // connectPorts: the ports CONNECT may reach (AllowCONNECT); empty = any port.
    bool start(const QList<quint16> &connectPorts = {});   // false: see error()
    void stop();
    bool isRunning() const;
    QString error() const { return m_error; }

    quint16 port() const { return m_port; }
    QUrl url() const;                       // http://127.0.0.1:<port>  (for curl -x, a client's proxy)
    QString errorLog() const;

    // One request as the proxy logged it. A CONNECT is logged when its tunnel closes (the
    // client or the server closed the connection).
    // status: 200 for a tunnel that was opened.
    struct Logged : apache::LoggedRequest
    {
        QByteArray target;          // "127.0.0.1:8443" for CONNECT, else the absolute URL
    };
    QList<Logged> requests() const;
    // Whether a CONNECT to 127.0.0.1:<port> (or localhost:<port>) was logged.
    bool sawConnectTo(quint16 port) const;

private:
    bool startOnce(quint16 port, const QList<quint16> &connectPorts);

    std::unique_ptr<QTemporaryDir> m_dir;
    QProcess m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace quire::test
