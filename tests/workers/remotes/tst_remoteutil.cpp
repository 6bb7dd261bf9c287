// ctest-labels: uploads
// The pure parts of the remotes: names, URLs, error messages, Retry-After, the retry policy,
// profiles and the WebDAV multistatus parser.

#include "remotes/remote.h"
#include "remotes/remoteprofile.h"
#include "remotes/remotetransport.h"
#include "remotes/remotewebdav.h"
#include "settings/sessionstore.h"
#include "upload/uploadpolicy.h"

#include <QTest>
#include <QTimeZone>

using namespace quire;
using namespace std::chrono_literals;

class TestRemoteUtil final : public QObject
{
    Q_OBJECT

private slots:
    void collisionName_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("n");
        QTest::addColumn<QString>("expected");
        QTest::newRow("first") << "report.pdf" << 1 << "report.pdf";
        QTest::newRow("second") << "report.pdf" << 2 << "report (2).pdf";
        QTest::newRow("no extension") << "README" << 3 << "README (3)";
        QTest::newRow("dotfile") << ".bashrc" << 2 << ".bashrc (2)";
        QTest::newRow("two dots") << "archive.tar.gz" << 2 << "archive.tar (2).gz";
        QTest::newRow("unicode") << QStringLiteral("r\u00e9sum\u00e9 \U0001F600.txt") << 2
                                 << QStringLiteral("r\u00e9sum\u00e9 \U0001F600 (2).txt");
    }
    void collisionName()
    {
        QFETCH(QString, name);
        QFETCH(int, n);
        QFETCH(QString, expected);
        QCOMPARE(quire::collisionName(name, n), expected);
    }

    void safeFileName()
    {
        QCOMPARE(quire::safeFileName(QStringLiteral("a/b\\c")), QStringLiteral("a_b_c"));
        QCOMPARE(quire::safeFileName(QStringLiteral("..")), QStringLiteral("_"));
        QCOMPARE(quire::safeFileName(QString()), QStringLiteral("_"));
        QCOMPARE(quire::safeFileName(QStringLiteral("tab\there")), QStringLiteral("tab_here"));
        QCOMPARE(quire::safeFileName(QStringLiteral("50% #1?.txt")), QStringLiteral("50% #1?.txt"));
    }

    void windowsSafeFileName_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << QStringLiteral("Report 2026.pdf") << QStringLiteral("Report 2026.pdf");
        QTest::newRow("reserved characters") << QStringLiteral("Q1: \"Finance\" <draft>|v2?*.txt")
                                             << QStringLiteral("Q1_ _Finance_ _draft__v2__.txt");
        QTest::newRow("separators and controls") << QStringLiteral("a/b\\c\td") << QStringLiteral("a_b_c_d");
        QTest::newRow("trailing dots and spaces") << QStringLiteral("notes. .") << QStringLiteral("notes___");
        QTest::newRow("device") << QStringLiteral("con") << QStringLiteral("con_");
        QTest::newRow("device with extension") << QStringLiteral("NUL.tar.gz") << QStringLiteral("NUL_.tar.gz");
        QTest::newRow("numbered device") << QStringLiteral("com1.txt") << QStringLiteral("com1_.txt");
        QTest::newRow("not a device") << QStringLiteral("console.txt") << QStringLiteral("console.txt");
        QTest::newRow("COM without a digit") << QStringLiteral("COMX.txt") << QStringLiteral("COMX.txt");
        QTest::newRow("dot dot") << QStringLiteral("..") << QStringLiteral("_");
        QTest::newRow("unicode kept") << QStringLiteral("Zoë – Ångström.pdf") << QStringLiteral("Zoë – Ångström.pdf");
    }

    void windowsSafeFileName()
    {
        QFETCH(QString, name);
        QFETCH(QString, expected);
        QCOMPARE(quire::windowsSafeFileName(name), expected);
    }

    void encodeSegment_data()
    {
        QTest::addColumn<QString>("segment");
        QTest::addColumn<QByteArray>("encoded");
        QTest::newRow("space") << "a b" << QByteArray("a%20b");
        QTest::newRow("hash") << "#1" << QByteArray("%231");
        QTest::newRow("percent") << "100%" << QByteArray("100%25");
        QTest::newRow("question") << "why?" << QByteArray("why%3F");
        QTest::newRow("slash") << "a/b" << QByteArray("a%2Fb");
        QTest::newRow("non-ascii") << QStringLiteral("\u00e9") << QByteArray("%C3%A9");
        QTest::newRow("emoji") << QStringLiteral("\U0001F600") << QByteArray("%F0%9F%98%80");
        QTest::newRow("unreserved") << "a-b_c.d~e" << QByteArray("a-b_c.d~e");
    }
    void encodeSegment()
    {
        QFETCH(QString, segment);
        QFETCH(QByteArray, encoded);
        QCOMPARE(net::encodeSegment(segment), encoded);
    }

    void childUrl()
    {
        const QUrl base(QStringLiteral("http://example.org/dav/my%20files"));
        const QUrl u = net::childUrl(base, {QStringLiteral("50% #1?"), QStringLiteral("\u00e9t\u00e9 \U0001F600.txt")});
        QCOMPARE(u.toEncoded(), QByteArray("http://example.org/dav/my%20files/50%25%20%231%3F/%C3%A9t%C3%A9%20%F0%9F%98%80.txt"));
        // The decoded path gives the names back exactly.
        QCOMPARE(u.path(QUrl::FullyDecoded), QStringLiteral("/dav/my files/50% #1?/\u00e9t\u00e9 \U0001F600.txt"));
        const QUrl folder = net::childUrl(QUrl(QStringLiteral("http://h/")), {QStringLiteral("c")}, true);
        QCOMPARE(folder.toEncoded(), QByteArray("http://h/c/"));
    }

    void loopback()
    {
        QVERIFY(net::isLoopbackHost(QStringLiteral("localhost")));
        QVERIFY(net::isLoopbackHost(QStringLiteral("127.0.0.1")));
        QVERIFY(net::isLoopbackHost(QStringLiteral("127.8.9.10")));
        QVERIFY(net::isLoopbackHost(QStringLiteral("::1")));
        QVERIFY(!net::isLoopbackHost(QStringLiteral("example.org")));
        QVERIFY(!net::isLoopbackHost(QStringLiteral("10.0.0.1")));
    }

    void httpErrorMessage()
    {
        const QByteArray apachePage =
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>507 Insufficient Storage</title>\n"
            "</head><body>\n<h1>Insufficient Storage</h1>\n<p>The method could not be performed on the resource\n"
            "because the server is unable to store the representation needed to\nsuccessfully complete the request.</p>\n"
            "</body></html>\n";
        const QString msg = quire::httpErrorMessage(507, "Insufficient Storage", apachePage, "text/html; charset=iso-8859-1");
        QCOMPARE(msg, QStringLiteral("HTTP 507 Insufficient Storage: the server is out of space (server said: The method "
                                     "could not be performed on the resource because the server is unable to store the "
                                     "representation needed to successfully complete the request.)"));
        QCOMPARE(quire::httpErrorMessage(418, "I'm a teapot", {}, {}), QStringLiteral("HTTP 418 I'm a teapot"));
        QCOMPARE(quire::httpErrorMessage(599, {}, "quota & stuff", "text/plain"),
                 QStringLiteral("HTTP 599 (server said: quota & stuff)"));
        const QString longText = quire::serverText(QByteArray(1000, 'x'), "text/plain", 50);
        QCOMPARE(longText.size(), 53);
        QVERIFY(longText.endsWith(QLatin1String("...")));
    }

    void retryAfter()
    {
        const QDateTime now(QDate(2026, 1, 2), QTime(3, 4, 5), QTimeZone::utc());
        QCOMPARE(parseRetryAfter("120", now), std::optional(std::chrono::milliseconds(120'000)));
        QCOMPARE(parseRetryAfter(" 0 ", now), std::optional(std::chrono::milliseconds(0)));
        QCOMPARE(parseRetryAfter("Fri, 02 Jan 2026 03:04:35 GMT", now), std::optional(std::chrono::milliseconds(30'000)));
        QCOMPARE(parseRetryAfter("Friday, 02-Jan-26 03:05:05 GMT", now), std::optional(std::chrono::milliseconds(60'000)));
        QCOMPARE(parseRetryAfter("Fri Jan  2 03:04:15 2026", now), std::optional(std::chrono::milliseconds(10'000)));
        QCOMPARE(parseRetryAfter("Thu, 01 Jan 2026 00:00:00 GMT", now), std::optional(std::chrono::milliseconds(0)));
        QVERIFY(!parseRetryAfter("", now));
        QVERIFY(!parseRetryAfter("soon", now));
        QVERIFY(!parseRetryAfter("-5", now));
    }

    void retryable_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("retry");
        using K = RemoteError::Kind;
        QTest::newRow("network") << int(K::Network) << 0 << true;
        QTest::newRow("timeout") << int(K::Timeout) << 0 << true;
        QTest::newRow("tls") << int(K::Tls) << 0 << false;
        QTest::newRow("refused") << int(K::Refused) << 0 << false;
        QTest::newRow("408") << int(K::Http) << 408 << true;
        QTest::newRow("429") << int(K::Http) << 429 << true;
        QTest::newRow("500") << int(K::Http) << 500 << true;
        QTest::newRow("503") << int(K::Http) << 503 << true;
        QTest::newRow("507") << int(K::Http) << 507 << true;
        QTest::newRow("501") << int(K::Http) << 501 << false;
        QTest::newRow("400") << int(K::Http) << 400 << false;
        QTest::newRow("401") << int(K::Http) << 401 << false;
        QTest::newRow("404") << int(K::Http) << 404 << false;
        QTest::newRow("413") << int(K::Http) << 413 << false;
    }
    void retryable()
    {
        QFETCH(int, kind);
        QFETCH(int, status);
        QFETCH(bool, retry);
        RemoteError e;
        e.kind = RemoteError::Kind(kind);
        e.httpStatus = status;
        QCOMPARE(e.retryable(), retry);
    }

    void retryPolicy()
    {
        RetryPolicy p;
        p.maxAttempts = 4;
        p.initialDelay = 1000ms;
        p.maxDelay = 5000ms;
        p.maxRetryAfter = 60'000ms;
        RemoteError e = RemoteError::make(RemoteError::Kind::Network, QStringLiteral("reset"));
        QVERIFY(p.shouldRetry(e, 1));
        QVERIFY(p.shouldRetry(e, 3));
        QVERIFY(!p.shouldRetry(e, 4));
        // Equal jitter: between d/2 and d, d doubling up to maxDelay.
        QCOMPARE(p.delayAfter(1, e, 0.0), 500ms);
        QCOMPARE(p.delayAfter(1, e, 1.0), 1000ms);
        QCOMPARE(p.delayAfter(2, e, 0.0), 1000ms);
        QCOMPARE(p.delayAfter(3, e, 1.0), 4000ms);
        QCOMPARE(p.delayAfter(10, e, 1.0), 5000ms);
        // Retry-After is the floor.
        e.kind = RemoteError::Kind::Http;
        e.httpStatus = 503;
        e.retryAfter = 7000ms;
        QCOMPARE(p.delayAfter(1, e, 0.0), 7000ms);
        QCOMPARE(p.delayAfter(1, e, 1.0), 7250ms);
        // Longer than the policy waits: not retried, and the message says why.
        e.retryAfter = 3600'000ms;
        QVERIFY(!p.shouldRetry(e, 1));
        e.message = QStringLiteral("HTTP 503 Service Unavailable");
        QVERIFY(p.finalMessage(e, 1).contains(QLatin1String("asked to wait 3600 s")));
        QVERIFY(p.finalMessage(RemoteError::make(RemoteError::Kind::Network, QStringLiteral("x")), 4)
                    .endsWith(QLatin1String("[gave up after 4 attempts]")));
        e.retryAfter.reset();
        e.httpStatus = 404;
        QVERIFY(!p.shouldRetry(e, 1));
    }

    void limits()
    {
        RemoteLimits l;
        l.minTotal = 120'000ms;
        l.minBytesPerSecond = 1024 * 1024;
        QCOMPARE(l.totalFor(0), 120'000ms);
        QCOMPARE(l.totalFor(1024LL * 1024 * 1024), 120'000ms + 1024'000ms);
    }

    void settingsFromStore()
    {
        SessionStore store;
        QVERIFY(store.setValue(UploadSettings::key("parallel"), 4).ok());
        QVERIFY(store.setValue(UploadSettings::key("transferTimeoutSecs"), 2).ok());
        QVERIFY(store.setValue(UploadSettings::key("attempts"), 999).ok());
        const UploadSettings s = UploadSettings::fromStore(store);
        QCOMPARE(s.parallel, 4);
        QCOMPARE(s.limits.transferTimeout, 2000ms);
        QCOMPARE(s.retry.maxAttempts, 20);   // clamped
        QCOMPARE(UploadSettings::fromStore(SessionStore()).parallel, 3);
    }

    void profiles()
    {
        SessionStore store;
        RemoteProfiles profiles(store);
        auto list = profiles.list();
        QVERIFY(list.ok());
        QCOMPARE(list->size(), 1);
        QCOMPARE(list->first().name, QStringLiteral("local"));
        QCOMPARE(list->first().url, RemoteProfile::defaultLocalFolder());

        const RemoteProfile dav{.name = QStringLiteral("nas"), .kind = RemoteKind::WebDav,
                                .url = QStringLiteral("https://nas.example/dav/"), .user = QStringLiteral("ann"), .options = {}};
        QVERIFY(profiles.save(dav).ok());
        QCOMPARE(store.value(QStringLiteral("settings/remotes/nas"))->toMap().value(QStringLiteral("kind")).toString(),
                 QStringLiteral("webdav"));
        auto found = profiles.find(QStringLiteral("nas"));
        QVERIFY(found.ok() && found->has_value());
        QCOMPARE((*found)->user, QStringLiteral("ann"));
        QVERIFY((*found)->needsSecret());
        QCOMPARE(profiles.list()->size(), 2);

        RemoteProfile bad = dav;
        bad.options.insert(QStringLiteral("password"), QStringLiteral("x"));
        QVERIFY(!profiles.save(bad).ok());
        bad = dav;
        bad.url = QStringLiteral("https://ann:pw@nas.example/");
        QVERIFY(profiles.save(bad).error().contains(QLatin1String("password")));
        bad = dav;
        bad.url = QStringLiteral("ftp://nas.example/");
        QVERIFY(!profiles.save(bad).ok());
        bad = dav;
        bad.name = QStringLiteral("a/b");
        QVERIFY(!profiles.save(bad).ok());

        QVERIFY(profiles.remove(QStringLiteral("nas")).ok());
        QVERIFY(!profiles.remove(QStringLiteral("nas")).ok());
        QVERIFY(!profiles.remove(QStringLiteral("local")).ok());
    }

    void insecureAuthRefused()
    {
        RemoteProfile p{.name = QStringLiteral("far"), .kind = RemoteKind::WebDav,
                        .url = QStringLiteral("http://files.example.org/dav/"), .user = QStringLiteral("ann"), .options = {}};
        auto r = Remote::create(p, QStringLiteral("secret"));
        QVERIFY(!r.ok());
        QVERIFY2(r.error().contains(QLatin1String("--allow-insecure-auth")), qPrintable(r.error()));
        QVERIFY(!r.error().contains(QLatin1String("secret")));
        p.options.insert(QStringLiteral("allowInsecureAuth"), true);
        QVERIFY(Remote::create(p, QStringLiteral("secret")).ok());
        p.options.clear();
        p.url = QStringLiteral("https://files.example.org/dav/");
        QVERIFY(Remote::create(p, QStringLiteral("secret")).ok());
        p.url = QStringLiteral("http://127.0.0.1:8080/dav/");
        QVERIFY(Remote::create(p, QStringLiteral("secret")).ok());
        p.user.clear();
        p.url = QStringLiteral("http://files.example.org/dav/");
        QVERIFY(Remote::create(p).ok());   // no credentials, nothing to protect
    }

    void multistatus()
    {
        const QByteArray apache =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n"
            "<D:response xmlns:lp1=\"DAV:\" xmlns:lp2=\"http://apache.org/dav/props/\">\n"
            "<D:href>/c/a%20b.txt</D:href>\n<D:propstat>\n<D:prop>\n<lp1:resourcetype/>\n"
            "<lp1:getcontentlength>1000</lp1:getcontentlength>\n<lp1:getetag>\"3e8-1\"</lp1:getetag>\n"
            "</D:prop>\n<D:status>HTTP/1.1 200 OK</D:status>\n</D:propstat>\n"
            "<D:propstat>\n<D:prop>\n<checksums xmlns=\"http://owncloud.org/ns\"/>\n</D:prop>\n"
            "<D:status>HTTP/1.1 404 Not Found</D:status>\n</D:propstat>\n</D:response>\n</D:multistatus>\n";
        auto p = WebDavRemote::parseMultistatus(apache);
        QVERIFY(p);
        QCOMPARE(p->size, 1000);
        QVERIFY(!p->isCollection);
        QCOMPARE(p->etag, QByteArray("\"3e8-1\""));
        QVERIFY(p->sha256.isEmpty());

        const QByteArray nextcloud =
            "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">"
            "<d:response><d:href>/remote.php/dav/files/ann/c/</d:href><d:propstat><d:prop>"
            "<d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status>"
            "</d:propstat></d:response></d:multistatus>";
        p = WebDavRemote::parseMultistatus(nextcloud);
        QVERIFY(p && p->isCollection);

        const QByteArray withChecksum =
            "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\">"
            "<d:response><d:href>/f</d:href><d:propstat><d:prop><d:getcontentlength>3</d:getcontentlength>"
            "<oc:checksums><oc:checksum>SHA1:abc MD5:def SHA256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD</oc:checksum></oc:checksums>"
            "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>";
        p = WebDavRemote::parseMultistatus(withChecksum);
        QVERIFY(p);
        QCOMPARE(p->sha256, QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));

        QVERIFY(!WebDavRemote::parseMultistatus("<html>not dav</html>"));
    }
};

QTEST_GUILESS_MAIN(TestRemoteUtil)
#include "tst_remoteutil.moc"
