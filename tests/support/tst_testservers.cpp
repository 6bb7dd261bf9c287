// ctest-labels: webdav
// ctest-timeout: 300
// The test servers themselves (tests/support/): the certificate authority (TestCa), Apache
// mod_dav over https and HTTP/2 (DavServer::Options), the CONNECT proxy (ProxyServer) and the
// fault server over TLS, checked from the outside with the curl command-line tool, so the client
// tests built on them can trust what they see.

#include "davserver.h"
#include "faultserver.h"
#include "proxyserver.h"
#include "testca.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace quire::test;
using Behaviour = FaultServer::Behaviour;

namespace {

struct CurlResult
{
    int exitCode = -1;
    QByteArray out;     // stdout (the body, then what -w writes)
    QByteArray err;     // stderr (-sS: curl's error message)
    QString describe() const
    {
        return QStringLiteral("curl exit code %1; stdout: %2; stderr: %3")
            .arg(exitCode)
            .arg(QString::fromUtf8(out.left(2000)), QString::fromUtf8(err.left(2000)));
    }
};

QString curlBinary()
{
    return QStandardPaths::findExecutable(QStringLiteral("curl"));
}

// curl without the user's .curlrc (-q) and without proxies from the environment.
void setUpCurl(QProcess &p, const QStringList &args)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                             "NO_PROXY", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"})
        env.remove(QString::fromLatin1(name));
    p.setProcessEnvironment(env);
    p.setProgram(curlBinary());
    p.setArguments(QStringList{QStringLiteral("-q"), QStringLiteral("-sS")} + args);
}

CurlResult curl(const QStringList &args)
{
    QProcess p;
    setUpCurl(p, args);
    p.start();
    CurlResult r;
    if (!p.waitForStarted(10'000)) {
        r.err = p.errorString().toUtf8();
        return r;
    }
    p.closeWriteChannel();
    if (!p.waitForFinished(120'000)) {
        p.kill();
        p.waitForFinished(5'000);
        r.err = "did not finish within 120 s";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// The last line of stdout: what `-w '\n%{http_code} %{http_version}'` wrote.
QByteArray statusLine(const CurlResult &r)
{
    return r.out.mid(r.out.lastIndexOf('\n') + 1);
}

const QString kStatus = QStringLiteral("\n%{http_code} %{http_version}");

// SHA-256 of the certificate a TLS server on 127.0.0.1:port presents, as TestCa prints it.
QByteArray servedFingerprint(quint16 port, const QString &caPath)
{
    QSslSocket s;
    QSslConfiguration config = QSslConfiguration::defaultConfiguration();
    config.setCaCertificates(QSslCertificate::fromPath(caPath));
    s.setSslConfiguration(config);
    s.connectToHostEncrypted(QStringLiteral("127.0.0.1"), port);
    if (!s.waitForEncrypted(30'000))
        return "no handshake: " + s.errorString().toUtf8();
    return s.peerCertificate().digest(QCryptographicHash::Sha256).toHex(':').toUpper();
}

} // namespace

class TestTestServers final : public QObject
{
    Q_OBJECT

private:
    TestCa m_ca;
    QTemporaryDir m_tmp;

    QString writeSample(const QString &name, const QByteArray &content)
    {
        const QString path = m_tmp.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(content) != content.size())
            return {};
        return path;
    }

    static QString userPass(const DavServer &dav) { return dav.user() + QLatin1Char(':') + dav.password(); }

private slots:
    void initTestCase()
    {
        QString missing;
        if (!DavServer::available())
            missing = DavServer::unavailableReason();
        else if (!ProxyServer::available())
            missing = ProxyServer::unavailableReason();
        else if (!TestCa::available())
            missing = TestCa::unavailableReason();
        else if (curlBinary().isEmpty())
            missing = QStringLiteral("the curl command-line tool is not installed (scripts/install-deps --test)");
        if (!missing.isEmpty()) {
            if (DavServer::skipAllowed())
                QSKIP(qPrintable(missing));
            QFAIL(qPrintable(missing));
        }
        QVERIFY(m_tmp.isValid());
        QVERIFY2(m_ca.create(), qPrintable(m_ca.error()));
    }

    void caIssuesWhatItSays()
    {
        QVERIFY(QFileInfo::exists(m_ca.caCertPath()));
        const QRegularExpression hex(QStringLiteral("^([0-9A-F]{2}:){31}[0-9A-F]{2}$"));
        for (const TlsIdentity &id : {m_ca.good(), m_ca.wrongHost(), m_ca.expired(), m_ca.selfSigned(), m_ca.replaced()}) {
            QVERIFY2(QFileInfo::exists(id.certPath) && QFileInfo::exists(id.keyPath), qPrintable(id.certPath));
            const QByteArray fp = TestCa::sha256Fingerprint(id.certPath);
            QVERIFY2(hex.match(QString::fromLatin1(fp)).hasMatch(), fp.constData());
            // The same digest as Qt computes from the file.
            const QList<QSslCertificate> certs = QSslCertificate::fromPath(id.certPath);
            QCOMPARE(certs.size(), 1);
            QCOMPARE(certs.first().digest(QCryptographicHash::Sha256).toHex(':').toUpper(), fp);
        }
        QVERIFY(TestCa::sha256Fingerprint(m_ca.good().certPath) != TestCa::sha256Fingerprint(m_ca.replaced().certPath));
        QVERIFY(TestCa::sha256Fingerprint(m_tmp.filePath(QStringLiteral("missing.pem"))).isEmpty());

        const QSslCertificate good = QSslCertificate::fromPath(m_ca.good().certPath).first();
        const QSslCertificate ca = QSslCertificate::fromPath(m_ca.caCertPath()).first();
        QCOMPARE(good.issuerDisplayName(), ca.subjectDisplayName());
        QVERIFY(good.effectiveDate() < QDateTime::currentDateTimeUtc());
        QVERIFY(good.expiryDate() > QDateTime::currentDateTimeUtc().addDays(7));
        const QSslCertificate expired = QSslCertificate::fromPath(m_ca.expired().certPath).first();
        QVERIFY(expired.expiryDate() < QDateTime::currentDateTimeUtc());
        QCOMPARE(expired.issuerDisplayName(), ca.subjectDisplayName());
        const QSslCertificate self = QSslCertificate::fromPath(m_ca.selfSigned().certPath).first();
        QVERIFY(self.isSelfSigned());
        QVERIFY(!good.isSelfSigned());
        const auto wrongSan = QSslCertificate::fromPath(m_ca.wrongHost().certPath).first().subjectAlternativeNames();
        QCOMPARE(wrongSan.values(QSsl::DnsEntry), QStringList{QStringLiteral("other.invalid")});
        QVERIFY(wrongSan.values(QSsl::IpAddressEntry).isEmpty());
    }

    // The default server is the plain-http one the upload tests have always used; the log now
    // also has the protocol and the client's port.
    void plainDavAsBefore()
    {
        DavServer dav;
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        QCOMPARE(dav.baseUrl().scheme(), QStringLiteral("http"));
        const QString file = writeSample(QStringLiteral("plain.txt"), "plain http\n");
        const QString url = dav.baseUrl().resolved(QUrl(QStringLiteral("plain.txt"))).toString();
        const CurlResult put = curl({QStringLiteral("-u"), userPass(dav), QStringLiteral("-T"), file, url,
                                     QStringLiteral("-w"), kStatus});
        QVERIFY2(put.exitCode == 0, qPrintable(put.describe()));
        QCOMPARE(statusLine(put), QByteArray("201 1.1"));
        QList<DavServer::Logged> log;
        QTRY_VERIFY_WITH_TIMEOUT(!(log = dav.accessLog()).isEmpty(), 10'000);
        QCOMPARE(log.last().method, QByteArray("PUT"));
        QCOMPARE(log.last().status, 201);
        QCOMPARE(log.last().protocol, QByteArray("HTTP/1.1"));
        QCOMPARE(log.last().path, QStringLiteral("/plain.txt"));
        QVERIFY(log.last().clientPort != 0);
        QVERIFY(log.last().bytesIn > 11);
    }

    void httpsAndHttp2()
    {
        DavServer dav({m_ca.good(), true});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        QCOMPARE(dav.baseUrl().toString(), QStringLiteral("https://127.0.0.1:%1/").arg(dav.port()));
        const QString file = writeSample(QStringLiteral("h2.txt"), "over h2\n");
        const QString url = dav.baseUrl().resolved(QUrl(QStringLiteral("h2.txt"))).toString();
        const CurlResult put = curl({QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"), userPass(dav),
                                     QStringLiteral("-T"), file, url, QStringLiteral("-w"), kStatus});
        QVERIFY2(put.exitCode == 0, qPrintable(put.describe()));
        QCOMPARE(statusLine(put), QByteArray("201 2"));
        QFile stored(dav.documentRoot() + QStringLiteral("/h2.txt"));
        QVERIFY(stored.open(QIODevice::ReadOnly));
        QCOMPARE(stored.readAll(), QByteArray("over h2\n"));

        // Two requests in one curl run share a connection (one client port); another run opens
        // its own.
        const CurlResult twice = curl({QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"),
                                       userPass(dav), QStringLiteral("-o"), QStringLiteral("/dev/null"),
                                       QStringLiteral("-o"), QStringLiteral("/dev/null"), url, url});
        QVERIFY2(twice.exitCode == 0, qPrintable(twice.describe()));
        QList<DavServer::Logged> log;
        QTRY_VERIFY_WITH_TIMEOUT((log = dav.accessLog()).size() == 3, 10'000);
        QCOMPARE(log.at(0).method, QByteArray("PUT"));
        for (const DavServer::Logged &l : log)
            QCOMPARE(l.protocol, QByteArray("HTTP/2.0"));
        QCOMPARE(log.at(1).method, QByteArray("GET"));
        QCOMPARE(log.at(1).status, 200);
        QCOMPARE(log.at(1).clientPort, log.at(2).clientPort);
        QVERIFY(log.at(0).clientPort != log.at(1).clientPort);

        // HTTP/1.1 is still offered through ALPN.
        const CurlResult h1 = curl({QStringLiteral("--http1.1"), QStringLiteral("--cacert"), m_ca.caCertPath(),
                                    QStringLiteral("-u"), userPass(dav), QStringLiteral("-o"), QStringLiteral("/dev/null"),
                                    url, QStringLiteral("-w"), kStatus});
        QVERIFY2(h1.exitCode == 0, qPrintable(h1.describe()));
        QCOMPARE(statusLine(h1), QByteArray("200 1.1"));
        QTRY_VERIFY_WITH_TIMEOUT((log = dav.accessLog()).size() == 4, 10'000);
        QCOMPARE(log.last().protocol, QByteArray("HTTP/1.1"));
    }

    void httpsWithoutHttp2()
    {
        DavServer dav({m_ca.good(), false});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        const CurlResult r = curl({QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"), userPass(dav),
                                   QStringLiteral("-X"), QStringLiteral("PROPFIND"), QStringLiteral("-H"),
                                   QStringLiteral("Depth: 0"), QStringLiteral("-o"), QStringLiteral("/dev/null"),
                                   dav.baseUrl().toString(), QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("207 1.1"));
    }

    void unknownCaIsRefused()
    {
        DavServer dav({m_ca.good(), true});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        // Only the system's CAs: ours is not among them.
        const CurlResult r = curl({QStringLiteral("-u"), userPass(dav), dav.baseUrl().toString()});
        QVERIFY2(r.exitCode == 60, qPrintable(r.describe()));   // CURLE_PEER_FAILED_VERIFICATION
        QVERIFY2(r.err.contains("unable to get local issuer certificate"), r.err.constData());
    }

    void badCertificatesAreRefused_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<QByteArray>("message");   // from curl's error
        QTest::newRow("wrongHost") << QStringLiteral("wrongHost") << QByteArray("no alternative certificate subject name matches");
        QTest::newRow("expired") << QStringLiteral("expired") << QByteArray("certificate has expired");
        QTest::newRow("selfSigned") << QStringLiteral("selfSigned") << QByteArray("self-signed certificate");
    }

    void badCertificatesAreRefused()
    {
        QFETCH(QString, variant);
        QFETCH(QByteArray, message);
        const TlsIdentity id = variant == QLatin1String("wrongHost") ? m_ca.wrongHost()
                               : variant == QLatin1String("expired") ? m_ca.expired()
                                                                     : m_ca.selfSigned();
        DavServer dav({id, true});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        const CurlResult r = curl({QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"), userPass(dav),
                                   dav.baseUrl().toString()});
        QVERIFY2(r.exitCode == 60, qPrintable(r.describe()));
        QVERIFY2(r.err.contains(message), r.err.constData());
        QVERIFY(dav.accessLog().isEmpty());
    }

    // What "trust this certificate" amounts to for a self-signed server: it is its own CA.
    void selfSignedTrustedExplicitly()
    {
        DavServer dav({m_ca.selfSigned(), false});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        const CurlResult r = curl({QStringLiteral("--cacert"), m_ca.selfSigned().certPath, QStringLiteral("-u"),
                                   userPass(dav), QStringLiteral("-X"), QStringLiteral("MKCOL"),
                                   dav.baseUrl().resolved(QUrl(QStringLiteral("nas/"))).toString(),
                                   QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("201 1.1"));
        QCOMPARE(servedFingerprint(dav.port(), m_ca.selfSigned().certPath),
                 TestCa::sha256Fingerprint(m_ca.selfSigned().certPath));
    }

    void certificateReplacedOnTheSamePort()
    {
        DavServer dav({m_ca.good(), true});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        const quint16 port = dav.port();
        QCOMPARE(servedFingerprint(port, m_ca.caCertPath()), TestCa::sha256Fingerprint(m_ca.good().certPath));
        const QString file = writeSample(QStringLiteral("kept.txt"), "kept across the restart\n");
        const QString url = dav.baseUrl().resolved(QUrl(QStringLiteral("kept.txt"))).toString();
        CurlResult r = curl({QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"), userPass(dav),
                             QStringLiteral("-T"), file, url});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));

        QVERIFY2(dav.restartWith(m_ca.replaced()), qPrintable(dav.error()));
        QCOMPARE(dav.port(), port);
        QVERIFY(dav.isRunning());
        QCOMPARE(servedFingerprint(port, m_ca.caCertPath()), TestCa::sha256Fingerprint(m_ca.replaced().certPath));
        r = curl({QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"), userPass(dav), url});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QByteArray("kept across the restart\n"));

        // A plain-http server has no certificate to replace.
        DavServer plain;
        QVERIFY2(plain.start(), qPrintable(plain.error()));
        QVERIFY(!plain.restartWith(m_ca.replaced()));
        QVERIFY(plain.isRunning());
    }

    void putThroughConnectProxy()
    {
        DavServer dav({m_ca.good(), true});
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        ProxyServer proxy;
        QVERIFY2(proxy.start({dav.port()}), qPrintable(proxy.error()));
        QCOMPARE(proxy.url().toString(), QStringLiteral("http://127.0.0.1:%1").arg(proxy.port()));

        const QString file = writeSample(QStringLiteral("proxied.txt"), "through the tunnel\n");
        const QString url = dav.baseUrl().resolved(QUrl(QStringLiteral("proxied.txt"))).toString();
        const CurlResult r = curl({QStringLiteral("-p"), QStringLiteral("-x"), proxy.url().toString(),
                                   QStringLiteral("--cacert"), m_ca.caCertPath(), QStringLiteral("-u"), userPass(dav),
                                   QStringLiteral("-T"), file, url, QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("201 2"));
        // Logged when the tunnel closes (curl has exited).
        QTRY_VERIFY2_WITH_TIMEOUT(proxy.sawConnectTo(dav.port()), qPrintable(proxy.errorLog()), 10'000);
        const ProxyServer::Logged tunnel = proxy.requests().first();
        QCOMPARE(tunnel.method, QByteArray("CONNECT"));
        QCOMPARE(tunnel.target, QByteArray("127.0.0.1:") + QByteArray::number(dav.port()));
        QCOMPARE(tunnel.status, 200);
        QList<DavServer::Logged> log;
        QTRY_VERIFY_WITH_TIMEOUT((log = dav.accessLog()).size() == 1, 10'000);
        QCOMPARE(log.first().method, QByteArray("PUT"));
        QCOMPARE(log.first().status, 201);

        // CONNECT only to the ports it was given.
        const CurlResult other = curl({QStringLiteral("-p"), QStringLiteral("-x"), proxy.url().toString(),
                                       QStringLiteral("http://127.0.0.1:%1/").arg(proxy.port())});
        QVERIFY2(other.exitCode == 56, qPrintable(other.describe()));   // CURLE_RECV_ERROR
        QVERIFY2(other.err.contains("403"), other.err.constData());
    }

    void plainRequestsThroughProxy()
    {
        DavServer dav;
        QVERIFY2(dav.start(), qPrintable(dav.error()));
        ProxyServer proxy;
        QVERIFY2(proxy.start(), qPrintable(proxy.error()));
        const QString url = dav.baseUrl().toString();
        const CurlResult r = curl({QStringLiteral("-x"), proxy.url().toString(), QStringLiteral("-u"), userPass(dav),
                                   QStringLiteral("-X"), QStringLiteral("PROPFIND"), QStringLiteral("-H"),
                                   QStringLiteral("Depth: 0"), QStringLiteral("-o"), QStringLiteral("/dev/null"), url,
                                   QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("207 1.1"));
        QList<ProxyServer::Logged> log;
        QTRY_VERIFY_WITH_TIMEOUT(!(log = proxy.requests()).isEmpty(), 10'000);
        QCOMPARE(log.first().method, QByteArray("PROPFIND"));
        QCOMPARE(log.first().target, url.toUtf8());
        QCOMPARE(log.first().status, 207);
        QVERIFY(!proxy.sawConnectTo(dav.port()));

        // Never anywhere but this machine: refused before the name is looked at (0.0.0.0 would
        // reach this machine anyway).
        const CurlResult away = curl({QStringLiteral("-x"), proxy.url().toString(), QStringLiteral("-o"),
                                      QStringLiteral("/dev/null"),
                                      QStringLiteral("http://0.0.0.0:%1/").arg(dav.port()), QStringLiteral("-w"), kStatus});
        QVERIFY2(away.exitCode == 0, qPrintable(away.describe()));
        QCOMPARE(statusLine(away), QByteArray("403 1.1"));
    }

    void faultServerOverTls()
    {
        FaultServer server({m_ca.good()});
        QVERIFY2(server.error().isEmpty(), qPrintable(server.error()));
        QVERIFY(server.isTls());
        QCOMPARE(server.url().toString(), QStringLiteral("https://127.0.0.1:%1/").arg(server.port()));
        QCOMPARE(server.baseUrl(), server.url());
        const QString ca = m_ca.caCertPath();
        const QString base = server.url().toString();
        // No "Expect: 100-continue" (the fault server does not answer it; curl would wait a second).
        const QString noExpect = QStringLiteral("-HExpect:");

        CurlResult r = curl({QStringLiteral("--cacert"), ca, QStringLiteral("-X"), QStringLiteral("MKCOL"),
                             base + QStringLiteral("in"), QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("201 1.1"));
        const QString file = writeSample(QStringLiteral("fault.bin"), QByteArray(200'000, 'f'));
        r = curl({QStringLiteral("--cacert"), ca, noExpect, QStringLiteral("-T"), file, base + QStringLiteral("in/a.bin"),
                  QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("201 1.1"));
        QCOMPARE(server.files().value(QStringLiteral("/in/a.bin")).size(), 200'000);

        // Not trusted without the CA.
        r = curl({base + QStringLiteral("in/a.bin")});
        QCOMPARE(r.exitCode, 60);

        // Scripted answers.
        server.script({Behaviour::respond("PUT", 503, "busy", {{"Retry-After", "7"}}),
                       Behaviour::respond("PUT", 401, {}, {{"WWW-Authenticate", "Basic realm=\"nas\""}}),
                       Behaviour::respond("PUT", 507, "full")});
        for (const QByteArray &expected : {QByteArray("503"), QByteArray("401"), QByteArray("507")}) {
            r = curl({QStringLiteral("--cacert"), ca, QStringLiteral("-i"), noExpect, QStringLiteral("-T"), file,
                      base + QStringLiteral("in/b.bin"), QStringLiteral("-w"), kStatus});
            QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
            QCOMPARE(statusLine(r), expected + " 1.1");
            if (expected == "503")
                QVERIFY2(r.out.contains("Retry-After: 7\r\n"), r.out.constData());
            if (expected == "401")
                QVERIFY2(r.out.contains("WWW-Authenticate: Basic realm=\"nas\"\r\n"), r.out.constData());
        }

        // The connection reset in the middle of the body.
        Behaviour reset;
        reset.method = "PUT";
        reset.kind = Behaviour::Kind::ResetMidBody;
        reset.resetAfter = 50'000;
        server.script({reset});
        r = curl({QStringLiteral("--cacert"), ca, noExpect, QStringLiteral("-T"), file, base + QStringLiteral("in/c.bin")});
        QVERIFY2(r.exitCode == 55 || r.exitCode == 56, qPrintable(r.describe()));   // send / receive error
        const FaultServer::Seen cut = server.requests().last();
        QCOMPARE(cut.path, QByteArray("/in/c.bin"));
        QVERIFY2(cut.bodyBytes >= 50'000 && cut.bodyBytes < 200'000, QByteArray::number(cut.bodyBytes).constData());
        QVERIFY(!server.files().contains(QStringLiteral("/in/c.bin")));

        // An answer before the body: curl sees it and stops sending.
        Behaviour early;
        early.method = "PUT";
        early.kind = Behaviour::Kind::RespondEarly;
        early.status = 413;
        early.body = "too large";
        server.script({early});
        r = curl({QStringLiteral("--cacert"), ca, noExpect, QStringLiteral("-T"), file, base + QStringLiteral("in/d.bin"),
                  QStringLiteral("-w"), kStatus});
        QVERIFY2(statusLine(r) == "413 1.1", qPrintable(r.describe()));

        // A slow answer and a slow reader: slow, but complete.
        Behaviour trickle;
        trickle.method = "GET";
        trickle.kind = Behaviour::Kind::Trickle;
        trickle.trickleIntervalMs = 20;
        trickle.trickleBytes = 3;
        trickle.trickleChunks = 5;
        Behaviour slow;
        slow.method = "PUT";
        slow.kind = Behaviour::Kind::SlowRead;
        slow.trickleIntervalMs = 5;
        slow.trickleBytes = 20'000;
        server.script({trickle, slow});
        r = curl({QStringLiteral("--cacert"), ca, base + QStringLiteral("in/a.bin")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.out, QByteArray(15, 'x'));
        r = curl({QStringLiteral("--cacert"), ca, noExpect, QStringLiteral("-T"), file, base + QStringLiteral("in/e.bin"),
                  QStringLiteral("-w"), kStatus});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(statusLine(r), QByteArray("201 1.1"));
        QCOMPARE(server.files().value(QStringLiteral("/in/e.bin")), QByteArray(200'000, 'f'));

        // No answer at all: the request is read whole, and the client is left waiting.
        Behaviour silent;
        silent.method = "GET";
        silent.kind = Behaviour::Kind::NeverAnswer;
        server.script({silent});
        QProcess waiting;
        setUpCurl(waiting, {QStringLiteral("--cacert"), ca, base + QStringLiteral("in/a.bin")});
        waiting.start();
        QVERIFY(waiting.waitForStarted(10'000));
        const int before = server.requestCount("GET");
        QTRY_VERIFY_WITH_TIMEOUT(server.requestCount("GET") == before + 1, 30'000);
        QCOMPARE(waiting.state(), QProcess::Running);
        QVERIFY(waiting.readAllStandardOutput().isEmpty());
        waiting.kill();
        QVERIFY(waiting.waitForFinished(10'000));
    }

    void faultServerWithoutCertificateSaysWhy()
    {
        FaultServer server({TlsIdentity{m_tmp.filePath(QStringLiteral("none.crt")), m_tmp.filePath(QStringLiteral("none.key"))}});
        QVERIFY(!server.error().isEmpty());
        QCOMPARE(server.port(), quint16(0));
    }
};

QTEST_GUILESS_MAIN(TestTestServers)
#include "tst_testservers.moc"
