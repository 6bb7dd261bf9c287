// ctest-labels: uploads webdav tls
// ctest-timeout: 900
// https remotes against real servers on loopback: Apache with mod_ssl and mod_http2 serving
// certificates from a throwaway CA (tests/support/testca.h), an Apache CONNECT proxy, and the
// fault server over TLS. What is trusted (a CA file, a certificate trusted by its fingerprint),
// what is refused (untrusted, wrong host, expired, replaced) before anything is sent, HTTP/2
// with many files on one connection, proxies, and the fault matrix over https.

#include "settings/credentials.h"
#include "davserver.h"
#include "faultserver.h"
#include "net/http.h"
#include "proxyserver.h"
#include "remotes/remotewebdav.h"
#include "testca.h"
#include "testsupport.h"

#include <QFile>
#include <QProcess>
#include <QSet>
#include <QTest>

#include <thread>

using namespace quire;
using namespace quire::test;
using Behaviour = FaultServer::Behaviour;

namespace {

using Run = QuireRun;

} // namespace

class TestRemoteTls final : public QObject
{
    Q_OBJECT

private:
    TestCa m_ca;

    static RemoteProfile profileFor(const DavServer &server, const QString &name = QStringLiteral("nas"))
    {
        return server.remoteProfile(name);
    }

    static SecretProvider secretsOf(const DavServer &server)
    {
        const QString pw = server.password();
        return [pw](const RemoteProfile &) { return Result<QString>(pw); };
    }

    static Result<QString> testRemote(const RemoteProfile &p, const QString &password)
    {
        Result<QString> out = Result<QString>::failure(QStringLiteral("not run"));
        onWorker([&] {
            auto remote = Remote::create(p, password);
            if (!remote) {
                out = Result<QString>::failure(remote.error());
                return;
            }
            UploadControl control;
            out = (*remote)->test(control);
        });
        return out;
    }

    static Run quire(const QString &dir, const QStringList &args, const QProcessEnvironment &extra = {},
                     const QByteArray &input = {})
    {
        QProcessEnvironment env = quireEnvironment(dir);
        for (const QString &k : {QStringLiteral("http_proxy"), QStringLiteral("https_proxy"), QStringLiteral("HTTPS_PROXY"),
                                 QStringLiteral("ALL_PROXY"), QStringLiteral("all_proxy"), QStringLiteral("no_proxy"),
                                 QStringLiteral("NO_PROXY")})
            env.remove(k);
        for (const QString &k : extra.keys())
            env.insert(k, extra.value(k));
        return runQuire(args, env, input);
    }

    static QProcessEnvironment passwordEnv(const QString &remote, const QString &password)
    {
        QProcessEnvironment env;
        env.insert(Credentials::environmentVariableFor(remote), password);
        return env;
    }

    static int requestsLogged(const DavServer &server)
    {
        return int(server.accessLog().size());
    }

private slots:
    void initTestCase()
    {
        for (const QString &why : {DavServer::unavailableReason(), TestCa::unavailableReason()}) {
            if (why.isEmpty())
                continue;
            if (DavServer::skipAllowed())
                QSKIP(qPrintable(why));
            QFAIL(qPrintable(why));
        }
        QVERIFY2(m_ca.create(), qPrintable(m_ca.error()));
    }

    void caFileHttp2AndKeepAlive()
    {
        // A server whose CA only the CA file knows: trusted through it. HTTP/2 is negotiated for
        // the requests without a file body (MKCOL, the collection's probe); the documents go over
        // HTTP/1.1 (net::Request::fileBody), one after another on one kept-alive connection.
        DavServer server({m_ca.good(), true});
        QVERIFY2(server.start(), qPrintable(server.error()));
        UploadFixture fx;
        QVERIFY(fx.isValid());
        RemoteProfile p = profileFor(server);
        p.options.insert(QStringLiteral("caFile"), m_ca.caCertPath());
        QVERIFY(fx.saveRemote(p));
        const qint64 c = fx.createCollection(QStringLiteral("tls"), p.name);
        for (int i = 0; i < 20; ++i)
            QVERIFY(fx.addFile(c, QStringLiteral("doc-%1.txt").arg(i), QByteArray(5000 + i, char('a' + i % 26))));
        UploadSettings s = UploadFixture::fastSettings();
        s.parallel = 1;
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, secretsOf(server));
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 20);
        QSet<quint16> documentPorts;
        int puts = 0;
        int http2 = 0;
        for (const DavServer::Logged &l : server.accessLog()) {
            if (l.method == "PUT" && l.path.contains(QLatin1String("doc-"))) {
                ++puts;
                QCOMPARE(l.protocol, QByteArray("HTTP/1.1"));
                documentPorts.insert(l.clientPort);
            } else if (l.method == "MKCOL") {
                QCOMPARE(l.protocol, QByteArray("HTTP/2.0"));
                ++http2;
            }
        }
        QCOMPARE(puts, 20);
        QCOMPARE(http2, 1);
        QVERIFY2(documentPorts.size() == 1, qPrintable(QString::number(documentPorts.size())));

        // Requests without a file body run side by side as streams of one HTTP/2 connection:
        // ten GETs at once (as `quire verify --deep` reads documents back).
        const int before = int(server.accessLog().size());
        QList<net::Response> got;
        std::thread([&] {
            RemoteLimits limits;
            limits.transferTimeout = std::chrono::seconds(20);
            const net::Client client(p, server.password(), limits);
            int i = 0;
            client.sendParallel(
                10,
                [&]() -> std::optional<net::Request> {
                    if (i == 10)
                        return std::nullopt;
                    net::Request rq;
                    rq.verb = "GET";
                    rq.url = server.baseUrl().resolved(QUrl(QStringLiteral("tls/doc-%1.txt").arg(i++)));
                    return rq;
                },
                [&](const net::Response &r) {
                    got.append(r);
                    return true;
                },
                nullptr, {});
        }).join();
        QCOMPARE(got.size(), 10);
        for (const net::Response &r : std::as_const(got)) {
            QCOMPARE(r.status, 200);
            QCOMPARE(r.httpVersion, QByteArray("HTTP/2"));
        }
        QList<DavServer::Logged> log;
        QTRY_VERIFY_WITH_TIMEOUT((log = server.accessLog()).size() >= before + 10, 10'000);
        QSet<quint16> getPorts;
        for (qsizetype k = before; k < log.size(); ++k) {
            QCOMPARE(log.at(k).method, QByteArray("GET"));
            QCOMPARE(log.at(k).protocol, QByteArray("HTTP/2.0"));
            getPorts.insert(log.at(k).clientPort);
        }
        QCOMPARE(getPorts.size(), 1);
    }

    void refusedCertificates_data()
    {
        QTest::addColumn<QString>("which");
        QTest::addColumn<bool>("withCaFile");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<int>("problem");
        QTest::newRow("CA not trusted") << "good" << false << "is not trusted" << int(RemoteError::Problem::Untrusted);
        QTest::newRow("self-signed (a NAS)") << "selfSigned" << true << "is not trusted" << int(RemoteError::Problem::Untrusted);
        QTest::newRow("wrong host name") << "wrongHost" << true << "is for other.invalid, not for 127.0.0.1"
                                         << int(RemoteError::Problem::Untrusted);
        QTest::newRow("expired") << "expired" << true << "expired" << int(RemoteError::Problem::Untrusted);
    }
    void refusedCertificates()
    {
        QFETCH(QString, which);
        QFETCH(bool, withCaFile);
        QFETCH(QString, expected);
        QFETCH(int, problem);
        const TlsIdentity id = which == QLatin1String("good") ? m_ca.good()
                               : which == QLatin1String("selfSigned") ? m_ca.selfSigned()
                               : which == QLatin1String("wrongHost") ? m_ca.wrongHost()
                                                                      : m_ca.expired();
        DavServer server({id, true});
        QVERIFY2(server.start(), qPrintable(server.error()));
        const int before = requestsLogged(server);
        RemoteProfile p = profileFor(server);
        if (withCaFile)
            p.options.insert(QStringLiteral("caFile"), m_ca.caCertPath());

        const auto tested = testRemote(p, server.password());
        QVERIFY(!tested.ok());
        QVERIFY2(tested.error().contains(expected), qPrintable(tested.error()));
        QVERIFY2(tested.error().contains(QLatin1String("Nothing was sent")), qPrintable(tested.error()));

        // An upload: the remote's problem, said once; the document waits; nothing reached the
        // server (no request at all, so no credentials and no body).
        UploadFixture fx;
        QVERIFY(fx.isValid());
        QVERIFY(fx.saveRemote(p));
        const qint64 c = fx.createCollection(QStringLiteral("refused"), p.name);
        const qint64 a = fx.addFile(c, QStringLiteral("a.txt"), "alpha");
        const qint64 b = fx.addFile(c, QStringLiteral("b.txt"), "beta");
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings(), secretsOf(server));
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(r.remoteProblems.size(), 1);
        QCOMPARE(int(r.remoteProblems.first().error.problem), problem);
        QCOMPARE(r.remoteProblems.first().error.kind, RemoteError::Kind::Tls);
        QVERIFY(r.remoteProblems.first().error.certificate.isValid());
        QCOMPARE(fx.document(a).status, DocStatus::Hashed);
        QCOMPARE(fx.document(b).status, DocStatus::Hashed);
        QCOMPARE(r.totals.filesFailed, 0);
        QCOMPARE(requestsLogged(server), before);
    }

    void trustByFingerprintThenReplacedCertificate()
    {
        // What a home NAS needs: its self-signed certificate trusted by its fingerprint, from the
        // command line; then the server's certificate is replaced and the remote refuses it,
        // naming both fingerprints, until the new one is trusted.
        DavServer server({m_ca.selfSigned(), true});
        QVERIFY2(server.start(), qPrintable(server.error()));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QProcessEnvironment pw = passwordEnv(QStringLiteral("nas"), server.password());
        Run r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("nas"), QStringLiteral("--kind"),
                                   QStringLiteral("webdav"), QStringLiteral("--url"), server.baseUrl().toString(),
                                   QStringLiteral("--user"), server.user()},
                  pw);
        QCOMPARE(r.exitCode, 0);
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("test"), QStringLiteral("nas")}, pw);
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("quire remote trust nas"), r.err.constData());

        const QByteArray selfFp = TestCa::sha256Fingerprint(m_ca.selfSigned().certPath);
        const QByteArray otherFp = TestCa::sha256Fingerprint(m_ca.good().certPath);
        QVERIFY(!selfFp.isEmpty());
        // A fingerprint that is not the server's: nothing is trusted.
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("trust"), QStringLiteral("nas"),
                               QStringLiteral("--fingerprint"), QString::fromLatin1(otherFp)});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("nothing trusted"), r.err.constData());
        // Its own, written as openssl prints it but in lower case without colons.
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("trust"), QStringLiteral("nas"),
                               QStringLiteral("--fingerprint"), QString::fromLatin1(selfFp).remove(QLatin1Char(':')).toLower()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains(selfFp), r.out.constData());
        QVERIFY(r.out.contains("SHA-256:"));
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("test"), QStringLiteral("nas")}, pw);
        QVERIFY2(r.exitCode == 0, r.err.constData());

        // The certificate changes: refused before anything is sent, both fingerprints named.
        QVERIFY2(server.restartWith(m_ca.replaced()), qPrintable(server.error()));
        const int before = requestsLogged(server);
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("test"), QStringLiteral("nas")}, pw);
        QCOMPARE(r.exitCode, 1);
        const QByteArray newFp = TestCa::sha256Fingerprint(m_ca.replaced().certPath);
        QVERIFY2(r.err.contains("has changed") && r.err.contains(selfFp) && r.err.contains(newFp), r.err.constData());
        QCOMPARE(requestsLogged(server), before);

        // Trusted again, interactively: the answer on standard input.
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("trust"), QStringLiteral("nas")}, {}, "n\n");
        QCOMPARE(r.exitCode, 1);
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("trust"), QStringLiteral("nas")}, {}, "y\n");
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("test"), QStringLiteral("nas")}, pw);
        QVERIFY2(r.exitCode == 0, r.err.constData());
    }

    void throughAConnectProxy()
    {
        DavServer server({m_ca.good(), true});
        QVERIFY2(server.start(), qPrintable(server.error()));
        if (!ProxyServer::available())
            QFAIL(qPrintable(ProxyServer::unavailableReason()));
        ProxyServer proxy;
        QVERIFY2(proxy.start({server.port()}), qPrintable(proxy.error()));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QProcessEnvironment env = passwordEnv(QStringLiteral("nas"), server.password());
        Run r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("nas"), QStringLiteral("--kind"),
                                   QStringLiteral("webdav"), QStringLiteral("--url"), server.baseUrl().toString(),
                                   QStringLiteral("--user"), server.user(), QStringLiteral("--ca-file"), m_ca.caCertPath()},
                  env);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        env.insert(QStringLiteral("https_proxy"), proxy.url().toString());
        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("test"), QStringLiteral("nas")}, env);
        QVERIFY2(r.exitCode == 0, r.err.constData());
        // Apache logs a CONNECT when its tunnel closes, which can be just after the client exited.
        QTRY_VERIFY2_WITH_TIMEOUT(proxy.sawConnectTo(server.port()), qPrintable(proxy.errorLog()), 10'000);
    }

    void faultsOverHttps_data()
    {
        QTest::addColumn<int>("fault");
        QTest::addColumn<bool>("uploaded");
        QTest::addColumn<QString>("expected");
        QTest::newRow("reset mid-body, then fine") << 0 << true << QString();
        QTest::newRow("503 with Retry-After, then fine") << 1 << true << QString();
        QTest::newRow("401") << 2 << false << QStringLiteral("HTTP 401");
        QTest::newRow("507") << 3 << false << QStringLiteral("HTTP 507");
        QTest::newRow("early 201 is not success") << 4 << true << QString();
        QTest::newRow("stall, then fine") << 5 << true << QString();
    }
    void faultsOverHttps()
    {
        QFETCH(int, fault);
        QFETCH(bool, uploaded);
        QFETCH(QString, expected);
        FaultServer::Options options;
        options.tls = m_ca.good();
        FaultServer server(options);
        Behaviour b;
        switch (fault) {
        case 0:
            b.method = "PUT";
            b.kind = Behaviour::Kind::ResetMidBody;
            b.resetAfter = 64 * 1024;
            break;
        case 1:
            b = Behaviour::respond("PUT", 503, "busy", {{"Retry-After", "1"}});
            break;
        case 2:
            b = Behaviour::respond("PUT", 401, "who are you");
            break;
        case 3:
            b = Behaviour::respond("PUT", 507, "full");
            break;
        case 4:
            b = Behaviour::respond("PUT", 201, "created");
            b.kind = Behaviour::Kind::RespondEarly;
            break;
        default:
            b = Behaviour::neverAnswer("PUT");
            break;
        }
        b.pathContains = "big.bin";
        QList<Behaviour> script{b};
        if (fault == 3)
            script = {b, b, b, b, b};
        server.script(script);
        UploadFixture fx;
        QVERIFY(fx.isValid());
        RemoteProfile p;
        p.name = QStringLiteral("faulty");
        p.kind = RemoteKind::WebDav;
        p.url = server.url().toString();
        p.user = QStringLiteral("u");
        p.options.insert(QStringLiteral("caFile"), m_ca.caCertPath());
        QVERIFY(fx.saveRemote(p));
        const qint64 c = fx.createCollection(QStringLiteral("faults"), p.name);
        QByteArray content(3 * 1024 * 1024, Qt::Uninitialized);
        for (qsizetype i = 0; i < content.size(); ++i)
            content[i] = char((i * 13) % 251);
        const qint64 id = fx.addFile(c, QStringLiteral("big.bin"), content);
        UploadSettings s = UploadFixture::fastSettings();
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, [](const RemoteProfile &) { return Result<QString>(QStringLiteral("pw")); });
        const Document d = fx.document(id);
        if (uploaded) {
            QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
            QCOMPARE(d.status, DocStatus::Uploaded);
            QCOMPARE(server.files().value(QStringLiteral("/faults/big.bin")), content);
        } else {
            QVERIFY(d.status != DocStatus::Uploaded);
            const QString said = r.error + d.error;
            QVERIFY2(said.contains(expected), qPrintable(said));
        }
    }
};

QTEST_GUILESS_MAIN(TestRemoteTls)
#include "tst_remotetls.moc"
