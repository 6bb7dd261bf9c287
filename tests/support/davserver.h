#pragma once

#include <QList>
#include <QProcess>
#include <QString>
#include <QTemporaryDir>
#include <QUrl>

#include "apacheprocess.h"
#include "remotes/remoteprofile.h"
#include "testca.h"

#include <memory>

namespace quire::test {

// A real Apache httpd (Debian's /usr/sbin/apache2) serving WebDAV (mod_dav + mod_dav_fs) with
// Basic auth on a free loopback port, from tests/apache/dav.conf.in. Everything it uses
// (ServerRoot, DocumentRoot, DavLockDB, PidFile, ErrorLog, htpasswd, the certificate) is in a
// temporary folder; the system's Apache configuration and service are never touched.
//
// By default it speaks plain HTTP/1.1. With Options it serves https (mod_ssl, a certificate and
// key from TestCa) and/or HTTP/2 (mod_http2, "Protocols h2 h2c http/1.1": h2 through ALPN over
// TLS, h2c by Upgrade or prior knowledge over plain http).
//
// As root, Apache's children run as www-data (the folders are handed to that user); otherwise
// as the current user. start() waits until the port accepts connections; the destructor stops
// the server (SIGTERM, then SIGKILL) and removes the folder. Use from one thread.
class DavServer final
{
public:
    struct Options
    {
        TlsIdentity tls;        // null: plain http; else https with this certificate and key
        bool http2 = false;     // mod_http2 as well
        bool ipv6 = false;      // listen on [::1] instead of 127.0.0.1
    };

    DavServer();                            // plain http, HTTP/1.1 only
    explicit DavServer(Options options);
    ~DavServer();
    Q_DISABLE_COPY(DavServer)

    static QString apacheBinary();          // /usr/sbin/apache2 (or $QUIRE_APACHE2)
    static QString modulesDir();            // /usr/lib/apache2/modules
    static bool available();                // both exist
    // Empty when Apache can be used; else the message to fail (or, with QUIRE_ALLOW_SKIP=1, skip)
    // with (REQUIRE_DAV_SERVER() does either).
    static QString unavailableReason();
    static bool skipAllowed();              // $QUIRE_ALLOW_SKIP == "1"

    bool start();                           // false: see error()
    // A WebDAV remote named name on this server (its URL and user).
    RemoteProfile remoteProfile(const QString &name) const;
    void stop();
    // https only: stops the server, puts `certificate` in place of the one it served and starts
    // it again on the same port, with the same documents and logs (connections that were open
    // are closed). False (see error()) when it is not an https server or cannot be started again.
    bool restartWith(const TlsIdentity &certificate);
    bool isRunning() const;
    QString error() const { return m_error; }

    quint16 port() const { return m_port; }
    QUrl baseUrl() const;                   // http(s)://127.0.0.1:<port>/ or http(s)://[::1]:<port>/ (the DAV root)
    const Options &options() const { return m_options; }
    QString user() const { return QStringLiteral("quire"); }
    QString password() const { return QStringLiteral("s3cret pass\u00e9"); }
    QString documentRoot() const;           // where Apache stores the files
    QString errorLog() const;               // the error log's content (for failure messages)

    // One request as Apache logged it (the access log of tests/apache/dav.conf.in). A request
    // is logged when it ends, also when the client went away in the middle of its body.
    struct Logged : apache::LoggedRequest
    {
        qint64 bytesIn = 0;         // bytes received: request line, headers and body
        QByteArray contentRange;    // its Content-Range header, "" without one
        QString path;               // decoded
        QByteArray protocol;        // "HTTP/1.1", "HTTP/2.0"
    };
    QList<Logged> accessLog() const;

private:
    bool startOnce(quint16 port);
    bool launch(quint16 port);
    bool installCertificate(const TlsIdentity &certificate);

    Options m_options;
    std::unique_ptr<QTemporaryDir> m_dir;
    QProcess m_process;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace quire::test

// In a test function: skips where Apache is missing and skipping is allowed, fails where it is not.
#define REQUIRE_DAV_SERVER()                                                              \
    do {                                                                                  \
        if (!quire::test::DavServer::available()) {                                       \
            if (quire::test::DavServer::skipAllowed())                                    \
                QSKIP(qPrintable(quire::test::DavServer::unavailableReason()));           \
            QFAIL(qPrintable(quire::test::DavServer::unavailableReason()));               \
        }                                                                                 \
    } while (false)
