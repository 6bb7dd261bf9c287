// ctest-labels: uploads concurrency
// The HTTP client of the network remotes (workers/net/): requests against a real HTTP server on
// loopback (FaultServer), credentials kept to the remote's own origin, header values checked,
// early answers, speed limits, fingerprints and environment secrets.

#include "settings/credentials.h"
#include "faultserver.h"
#include "net/http.h"
#include "net/ratelimit.h"
#include "remotes/remotehttp.h"
#include "remotes/remotewebdav.h"

#include <QElapsedTimer>
#include <QNetworkInterface>
#include <QScopeGuard>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <atomic>
#include <thread>

using namespace quire;
using namespace quire::test;
using namespace std::chrono_literals;
using Behaviour = FaultServer::Behaviour;

namespace {

RemoteProfile davProfile(const QUrl &url, const QString &user = QStringLiteral("alice"))
{
    RemoteProfile p;
    p.name = QStringLiteral("dav");
    p.kind = RemoteKind::WebDav;
    p.url = url.toString();
    p.user = user;
    return p;
}

RemoteLimits fastLimits()
{
    RemoteLimits l;
    l.transferTimeout = 2s;
    return l;
}

// The client blocks and refuses the GUI thread: run it on a thread of its own. (std::thread
// rather than a QThread: ThreadSanitizer sees its join, not QThread::wait's.)
void onThread(const std::function<void()> &fn)
{
    std::thread t(fn);
    t.join();
}

net::Response sendOnWorker(const net::Client &client, net::Request rq, UploadControl *control = nullptr)
{
    net::Response out;
    onThread([&] { out = client.send(rq, control); });
    return out;
}

} // namespace

class TestHttpClient final : public QObject
{
    Q_OBJECT

private slots:
    void fingerprints_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray canonical =
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
        QTest::newRow("as openssl prints it") << QStringLiteral("sha256 Fingerprint=") + QString::fromLatin1(canonical) << canonical;
        QTest::newRow("lower case, no colons")
            << QString::fromLatin1(QByteArray(canonical).replace(':', "").toLower()) << canonical;
        QTest::newRow("spaces") << QString::fromLatin1(QByteArray(canonical).replace(':', " ")) << canonical;
        QTest::newRow("too short") << QStringLiteral("AB:CD") << QByteArray();
        QTest::newRow("not hex") << QString::fromLatin1(QByteArray(canonical).replace("AB", "XY")) << QByteArray();
        QTest::newRow("SHA-1 length") << QStringLiteral("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01") << QByteArray();
    }
    void fingerprints()
    {
        QFETCH(QString, text);
        QFETCH(QByteArray, expected);
        QCOMPARE(net::normalizeFingerprint(text).value_or(QByteArray()), expected);
    }

    void rates_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("bytes");   // -1: refused
        QTest::newRow("plain") << "800000" << qint64(800000);
        QTest::newRow("k") << "512k" << qint64(512 * 1024);
        QTest::newRow("M") << "10M" << qint64(10 * 1024 * 1024);
        QTest::newRow("MiB/s") << "1.5MiB/s" << qint64(1.5 * 1024 * 1024);
        QTest::newRow("G") << "1G" << qint64(1024) * 1024 * 1024;
        QTest::newRow("zero") << "0" << qint64(0);
        QTest::newRow("negative") << "-1" << qint64(-1);
        QTest::newRow("words") << "fast" << qint64(-1);
        QTest::newRow("absurd") << "99999999999G" << qint64(-1);
    }
    void rates()
    {
        QFETCH(QString, text);
        QFETCH(qint64, bytes);
        QCOMPARE(net::parseRate(text).value_or(-1), bytes);
    }

    void rateLimiterGrantsNoMoreThanItsBurst()
    {
        net::RateLimiter unlimited;
        net::RateLimiter::Clock::time_point retry{};
        QCOMPARE(unlimited.take(1 << 30, &retry), qint64(1) << 30);

        net::RateLimiter limiter(100 * 1024);   // 100 KiB/s: a burst of at most 16 KiB
        qint64 granted = 0;
        bool refused = false;
        const auto before = net::RateLimiter::Clock::now();
        for (int i = 0; i < 100 && !refused; ++i) {
            const qint64 n = limiter.take(64 * 1024, &retry);
            refused = n == 0;
            granted += n;
        }
        QVERIFY(refused);
        // The burst, plus what trickled in meanwhile (100 KiB/s over however long that took).
        const double seconds = std::chrono::duration<double>(net::RateLimiter::Clock::now() - before).count();
        QVERIFY2(granted <= 16 * 1024 + qint64(seconds * 100 * 1024) + 1, qPrintable(QString::number(granted)));
        QVERIFY(retry > before);
        limiter.giveBack(4096);
        QCOMPARE(limiter.take(4096, &retry), qint64(4096));
    }

    void environmentSecretsNameTheirRemote()
    {
        QCOMPARE(Credentials::environmentVariableFor(QStringLiteral("nas-1.home")), QStringLiteral("QUIRE_PASSWORD_NAS_1_HOME"));
        RemoteProfile nas = davProfile(QUrl(QStringLiteral("https://nas.example/dav/")));
        nas.name = QStringLiteral("nas-1.home");
        RemoteProfile other = nas;
        other.name = QStringLiteral("other");

        qputenv("QUIRE_PASSWORD", "generic");
        qputenv("QUIRE_PASSWORD_NAS_1_HOME", "own");
        Credentials::setSoleRemote(QString());
        QCOMPARE(Credentials::environmentSecret(nas).value_or(QStringLiteral("-")), QStringLiteral("own"));
        // Plain QUIRE_PASSWORD goes to no remote unless the command touches exactly that one.
        QCOMPARE(Credentials::environmentSecret(other).value_or(QStringLiteral("-")), QStringLiteral("-"));
        Credentials::setSoleRemote(QStringLiteral("other"));
        QCOMPARE(Credentials::environmentSecret(other).value_or(QStringLiteral("-")), QStringLiteral("generic"));
        QCOMPARE(Credentials::environmentSecret(nas).value_or(QStringLiteral("-")), QStringLiteral("own"));
        Credentials::setSoleRemote(QString());
        qunsetenv("QUIRE_PASSWORD");
        qunsetenv("QUIRE_PASSWORD_NAS_1_HOME");
    }

    void sequentialRequests()
    {
        FaultServer server;
        const net::Client client(davProfile(server.url()), QStringLiteral("pw"), fastLimits());
        QStringList problems;
        onThread([&] {
            for (int i = 0; i < 5; ++i) {
                net::Request rq;
                rq.verb = "PUT";
                rq.url = net::childUrl(server.url(), {QStringLiteral("f%1").arg(i)});
                rq.bodyBytes = QByteArray(1000 + i, 'x');
                rq.uploadBytes = rq.bodyBytes.size();
                const net::Response r = client.send(rq);
                if (!r.isHttpSuccess())
                    problems << client.errorFor(r, QString()).message;
                else if (r.bytesSent != 1000 + i)
                    problems << QStringLiteral("sent %1 of %2 bytes").arg(r.bytesSent).arg(1000 + i);
            }
        });
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QLatin1Char('\n'))));
        QCOMPARE(server.requestCount("PUT"), 5);
        QCOMPARE(server.files().value(QStringLiteral("/f4")).size(), 1004);
    }

    void credentialsStayWithTheirOrigin()
    {
        FaultServer own;
        FaultServer elsewhere;
        const net::Client client(davProfile(own.url()), QStringLiteral("pw"), fastLimits());
        net::Request rq;
        rq.verb = "GET";
        rq.url = own.url();
        (void)sendOnWorker(client, rq);
        rq.url = elsewhere.url();   // e.g. a document location the server names on another origin
        (void)sendOnWorker(client, rq);
        QCOMPARE(own.requests().size(), 1);
        QCOMPARE(elsewhere.requests().size(), 1);
        QVERIFY(own.requests().first().header("Authorization").startsWith("Basic "));
        QCOMPARE(elsewhere.requests().first().header("Authorization"), QByteArray());
    }

    void redirectsAreReportedNotFollowed()
    {
        FaultServer own;
        FaultServer elsewhere;
        const QByteArray target = elsewhere.url().toEncoded() + "stolen";
        own.script({Behaviour::respond("PUT", 307, "moved", {{"Location", target}})});
        const net::Client client(davProfile(own.url()), QStringLiteral("pw"), fastLimits());
        net::Request rq;
        rq.verb = "PUT";
        rq.url = net::childUrl(own.url(), {QStringLiteral("a.txt")});
        rq.bodyBytes = "hello";
        const net::Response r = sendOnWorker(client, rq);
        QCOMPARE(r.status, 307);
        QVERIFY(!r.isHttpSuccess());
        QCOMPARE(elsewhere.requests().size(), 0);
        const RemoteError e = client.errorFor(r, QStringLiteral("uploading a.txt"));
        QVERIFY2(e.message.contains(QString::fromLatin1(target)), qPrintable(e.message));
    }

    void headerWithLineBreakIsNeverSent()
    {
        FaultServer server;
        const net::Client client(davProfile(server.url()), QStringLiteral("pw"), fastLimits());
        net::Request rq;
        rq.verb = "PUT";
        rq.url = net::childUrl(server.url(), {QStringLiteral("a.txt")});
        rq.headers = {{"OC-Checksum", "SHA256:abc\r\nX-Evil: 1"}};
        rq.bodyBytes = "hello";
        const net::Response r = sendOnWorker(client, rq);
        QCOMPARE(r.failure, net::Response::Failure::BadRequest);
        QCOMPARE(server.requests().size(), 0);
        QCOMPARE(client.errorFor(r, QString()).kind, RemoteError::Kind::Config);
    }

    void earlyAnswerIsNotSuccess()
    {
        // A 201 that arrives before the server read the body is never taken for a stored file.
        // The server reads no more after its answer, so the body cannot all have gone out
        // before the answer came.
        FaultServer server;
        Behaviour early = Behaviour::respond("PUT", 201, "created");
        early.kind = Behaviour::Kind::RespondEarly;
        server.script({early});
        const net::Client client(davProfile(server.url()), QStringLiteral("pw"), fastLimits());
        const QByteArray body(16 * 1024 * 1024, 'b');
        net::Request rq;
        rq.verb = "PUT";
        rq.url = net::childUrl(server.url(), {QStringLiteral("big.bin")});
        rq.bodyBytes = body;
        rq.uploadBytes = body.size();
        const net::Response r = sendOnWorker(client, rq);
        const QString seen = QStringLiteral("status %1, sent %2").arg(r.status).arg(r.bytesSent);
        QVERIFY2(!r.isHttpSuccess(), qPrintable(seen));
        QVERIFY2(r.status == 201 && r.answeredEarly(), qPrintable(seen));
        const RemoteError e = client.errorFor(r, QString());
        QVERIFY2(e.message.contains(QLatin1String("before it had the whole request")), qPrintable(e.message));
    }

    void serverThatNeverAnswersTimesOut()
    {
        FaultServer server;
        server.script({Behaviour::neverAnswer()});
        const net::Client client(davProfile(server.url()), QStringLiteral("pw"), fastLimits());
        net::Request rq;
        rq.verb = "GET";
        rq.url = server.url();
        const net::Response r = sendOnWorker(client, rq);
        QCOMPARE(r.end, net::Response::End::TransferTimeout);
        const RemoteError e = client.errorFor(r, QString());
        QCOMPARE(e.kind, RemoteError::Kind::Timeout);
        QVERIFY2(e.message.contains(QLatin1String("stopped responding (no data moved for 2 s)")), qPrintable(e.message));
    }

    void stopEndsAWaitAtOnce()
    {
        FaultServer server;
        server.script({Behaviour::neverAnswer()});
        RemoteLimits limits;
        limits.transferTimeout = 600s;
        const net::Client client(davProfile(server.url()), QStringLiteral("pw"), limits);
        UploadControl control;
        net::Request rq;
        rq.verb = "GET";
        rq.url = server.url();
        std::atomic_bool sent{false};
        net::Response r;
        std::thread stopper([&] {
            // Stopped once the request is at the server, while the client waits for its answer.
            sent = server.waitForRequests(1, 60'000);
            control.requestStop(UploadControl::Stop::Cancel);
        });
        onThread([&] { r = client.send(rq, &control); });
        stopper.join();
        QVERIFY(sent);
        QCOMPARE(r.end, net::Response::End::Stopped);
    }

    void credentialsGoInTheClearOnlyToLoopbackAddresses()
    {
        // The remote's name is loopback, but the request would leave through a proxy at an
        // address that is not: the check on the connected address (not on the name) refuses to
        // send Basic credentials over plain http there, before any byte; a remote that allows
        // it explicitly sends them.
        QHostAddress outside;
        for (const QHostAddress &a : QNetworkInterface::allAddresses()) {
            if (a.protocol() == QAbstractSocket::IPv4Protocol && !a.isLoopback() && !a.isLinkLocal()) {
                outside = a;
                break;
            }
        }
        if (outside.isNull())
            QSKIP("this machine has no IPv4 address other than loopback to listen on");
        QTcpServer proxy;
        QVERIFY2(proxy.listen(outside, 0), qPrintable(proxy.errorString()));
        const QByteArray proxyUrl = "http://" + outside.toString().toLatin1() + ':' + QByteArray::number(proxy.serverPort());
        const QByteArray savedProxy = qgetenv("http_proxy");
        const QByteArray savedNoProxy = qgetenv("no_proxy");
        const QByteArray savedNoProxyUpper = qgetenv("NO_PROXY");
        qputenv("http_proxy", proxyUrl);
        qunsetenv("no_proxy");
        qunsetenv("NO_PROXY");
        auto restore = qScopeGuard([&] {
            if (savedProxy.isNull())
                qunsetenv("http_proxy");
            else
                qputenv("http_proxy", savedProxy);
            if (!savedNoProxy.isNull())
                qputenv("no_proxy", savedNoProxy);
            if (!savedNoProxyUpper.isNull())
                qputenv("NO_PROXY", savedNoProxyUpper);
        });

        // What the "proxy" received on the connection the client made (if it made one).
        auto received = [&proxy]() -> QByteArray {
            if (!proxy.hasPendingConnections() && !proxy.waitForNewConnection(2000))
                return {};
            QTcpSocket *c = proxy.nextPendingConnection();
            QByteArray got = c->readAll();
            while (c->waitForReadyRead(200))
                got += c->readAll();
            delete c;
            return got;
        };

        net::Request rq;
        rq.verb = "GET";
        rq.url = QUrl(QStringLiteral("http://127.0.0.1:9/private/"));
        RemoteProfile p = davProfile(rq.url);
        const net::Client strict(p, QStringLiteral("pw"), fastLimits());
        const net::Response refused = sendOnWorker(strict, rq);
        QCOMPARE(refused.failure, net::Response::Failure::InsecureCredentials);
        const RemoteError e = strict.errorFor(refused, QString());
        QVERIFY2(e.message.contains(QLatin1String("unencrypted")), qPrintable(e.message));
        QVERIFY2(e.message.contains(QStringLiteral("the connection goes to %1,").arg(outside.toString())), qPrintable(e.message));
        QCOMPARE(received(), QByteArray());

        p.options.insert(QStringLiteral("allowInsecureAuth"), QStringLiteral("true"));
        const net::Client allowed(p, QStringLiteral("pw"), fastLimits());
        const net::Response sent = sendOnWorker(allowed, rq);   // the "proxy" never answers
        QCOMPARE(sent.failure == net::Response::Failure::InsecureCredentials, false);
        const QByteArray request = received();
        QVERIFY2(request.startsWith("GET http://127.0.0.1:9/private/ HTTP/1.1\r\n"), request.constData());
        QVERIFY(request.contains("Authorization: Basic "));
    }

    void rateLimitHoldsTheSpeed()
    {
        // 256 KiB at 512 KiB/s take about half a second; without the limit it is instantaneous
        // on loopback. The bound is loose (a loaded machine is only ever slower).
        FaultServer server;
        RemoteProfile p = davProfile(server.url());
        p.options.insert(QStringLiteral("limitRate"), QStringLiteral("512k"));
        const net::Client client(p, QStringLiteral("pw"), fastLimits());
        net::Request rq;
        rq.verb = "PUT";
        rq.url = net::childUrl(server.url(), {QStringLiteral("limited.bin")});
        rq.bodyBytes = QByteArray(256 * 1024, 'r');
        rq.uploadBytes = rq.bodyBytes.size();
        QElapsedTimer clock;
        clock.start();
        const net::Response r = sendOnWorker(client, rq);
        QVERIFY2(r.isHttpSuccess(), qPrintable(client.errorFor(r, QString()).message));
        QVERIFY2(clock.elapsed() >= 350, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(server.files().value(QStringLiteral("/limited.bin")).size(), 256 * 1024);
    }
};

QTEST_GUILESS_MAIN(TestHttpClient)
#include "tst_httpclient.moc"
