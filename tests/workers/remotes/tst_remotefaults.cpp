// ctest-labels: uploads concurrency
// ctest-timeout: 300
// Uploads against a server that misbehaves on purpose (tests/support/faultserver.h, a real
// socket on loopback): every case ends in success or a clear error, within a bounded time,
// through the real UploadJob, catalog and remotes.

#include "faultcase.h"
#include "remotes/remotehttp.h"
#include "remotes/remotewebdav.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace quire;
using namespace quire::test;
using Behaviour = FaultServer::Behaviour;

Q_DECLARE_METATYPE(quire::test::FaultServer::RangedPut)

class TestRemoteFaults final : public QObject
{
    Q_OBJECT

private:
    using Case = FaultCase;

    // A collection bound to the fault server (kind http: one POST per upload, or webdav) with one
    // document of `size` bytes.
    std::unique_ptr<Case> makeCase(RemoteKind kind, qint64 size = 100'000,
                                   const QString &collection = QStringLiteral("Reports 2024"))
    {
        auto c = std::make_unique<Case>();
        RemoteProfile p;
        p.name = QStringLiteral("fault");
        p.kind = kind;
        if (!c->setUp(p, {}, collection, QStringLiteral("report.pdf"), pseudoRandomBytes(size, 7919)))
            return nullptr;
        return c;
    }

    // The job's result, with its events in *events.
    UploadResult run(Case &c, UploadSettings s = UploadFixture::fastSettings(), QList<UploadDocumentEvent> *events = nullptr)
    {
        return c.run(s, {}, 240'000, events);
    }

    // The requests the server saw, one a line ("PUT /path bytes a-b/n body=... at=... ms"), and
    // the messages of the upload's events (its retries say why), for a failure's message.
    static QString history(const FaultServer &server, const QList<UploadDocumentEvent> &events = {})
    {
        QStringList lines;
        for (const auto &seen : server.requests()) {
            lines << QStringLiteral("%1 %2 %3 body=%4 at=%5 ms")
                         .arg(QString::fromLatin1(seen.method), QString::fromLatin1(seen.path),
                              QString::fromLatin1(seen.header("Content-Range")), QString::number(seen.bodyBytes),
                              QString::number(seen.atMs));
        }
        for (const UploadDocumentEvent &e : events) {
            if (!e.message.isEmpty())
                lines << QStringLiteral("event (attempt %1): %2").arg(e.attempt).arg(e.message);
        }
        return lines.join(QLatin1Char('\n'));
    }

private slots:
    void serverErrorThenSuccess()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        c->server->script({Behaviour::respond("POST", 500, "database is restarting")});
        const UploadResult r = run(*c);
        QCOMPARE(r.outcome, UploadResult::Outcome::Succeeded);
        QCOMPARE(c->server->requestCount("POST"), 2);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Uploaded);
        QCOMPARE(d.attempts, 2);
        QCOMPARE(d.remoteLocation, c->server->url().resolved(QUrl(QStringLiteral("/documents/1"))).toString());
        // The multipart fields the API contract promises.
        const FaultServer::Seen last = c->server->requests().last();
        QCOMPARE(last.path, QByteArray("/collections/Reports%202024/documents"));
        QCOMPARE(last.formFields.value("name"), QByteArray("report.pdf"));
        QCOMPARE(last.formFields.value("sha256"), d.sha256);
        QCOMPARE(last.formFields.value("file"), d.sha256);   // the server's hash of the file part
        QCOMPARE(last.formFields.value("size"), QByteArray::number(c->content.size()));
    }

    // The collection's name is one segment of the API's URL whatever it holds: everything but
    // RFC 3986's unreserved characters percent-encoded, '/', '?', '#' and '%' included.
    void collectionNameIsOneSegment()
    {
        RemoteProfile p;
        p.name = QStringLiteral("api");
        p.kind = RemoteKind::Http;
        p.url = QStringLiteral("https://api.example/v1/");
        HttpRemote plain(p, QString(), RemoteLimits());
        p.url = QStringLiteral("https://api.example/c/{collection}/docs?for={collection}");
        const HttpRemote templated(p, QString(), RemoteLimits());
        const QList<std::pair<QString, QByteArray>> names = {
            {QStringLiteral("a/b"), "a%2Fb"},
            {QStringLiteral("why?"), "why%3F"},
            {QStringLiteral("#1"), "%231"},
            {QStringLiteral("50% & more"), "50%25%20%26%20more"},
            {QStringLiteral("x=1+2;y"), "x%3D1%2B2%3By"},
            {QStringLiteral("%2F"), "%252F"},
            {QString::fromUtf8("\xc3\xa9t\xc3\xa9 \xe2\x98\x80"), "%C3%A9t%C3%A9%20%E2%98%80"},
            {QStringLiteral("..."), "..."},
        };
        for (const auto &[name, segment] : names) {
            QCOMPARE(plain.documentsUrl(name).toEncoded(), "https://api.example/v1/collections/" + segment + "/documents");
            QCOMPARE(templated.documentsUrl(name).toEncoded(), "https://api.example/c/" + segment + "/docs?for=" + segment);
        }
        // "." and ".." would be dropped as dot segments (RFC 3986 5.2.4) on the way out, and
        // QUrl decodes "%2E": such names have no URL, and uploading to one is refused.
        for (const QString &name : {QString(), QStringLiteral("."), QStringLiteral("..")}) {
            QVERIFY(plain.documentsUrl(name).isEmpty());
            UploadItem item;
            item.collection = name;
            item.fileName = QStringLiteral("report.pdf");
            UploadControl control;
            const UploadOutcome o = plain.upload(item, control);
            QVERIFY(!o.ok());
            QCOMPARE(o.error->kind, RemoteError::Kind::Config);
        }

        // And on the wire, through the upload job: a name the catalog takes, with '?', '#', '&'.
        auto c = makeCase(RemoteKind::Http, 1000, QStringLiteral("Q&A #1 ?"));
        QVERIFY(c);
        const UploadResult r = run(*c);
        QCOMPARE(r.outcome, UploadResult::Outcome::Succeeded);
        QCOMPARE(c->server->requests().last().path, QByteArray("/collections/Q%26A%20%231%20%3F/documents"));
    }

    void serviceUnavailableWithRetryAfter()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        c->server->script({Behaviour::respond("POST", 503, "maintenance", {{"Retry-After", "1"}})});
        const UploadResult r = run(*c);
        QCOMPARE(r.outcome, UploadResult::Outcome::Succeeded);
        const auto seen = c->server->requests();
        QCOMPARE(seen.size(), 2);
        // Waited at least what the server asked for (a lower bound cannot be flaky).
        QVERIFY2(seen.at(1).atMs - seen.at(0).atMs >= 1000,
                 qPrintable(QStringLiteral("second attempt after %1 ms").arg(seen.at(1).atMs - seen.at(0).atMs)));
    }

    void unauthorizedIsNotRetried()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        c->server->script({Behaviour::respond("POST", 401, "{\"error\": \"token expired\"}",
                                              {{"Content-Type", "application/json"}})});
        const UploadResult r = run(*c);
        // Refused credentials are the remote's problem: said once, with the server's words, and
        // the document waits for the fix instead of failing.
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(c->server->requestCount("POST"), 1);
        QCOMPARE(r.remoteProblems.size(), 1);
        QCOMPARE(r.remoteProblems.first().error.problem, RemoteError::Problem::Credentials);
        QVERIFY2(r.error.contains(QLatin1String("HTTP 401 Unauthorized")), qPrintable(r.error));
        QVERIFY2(r.error.contains(QLatin1String("server said: token expired")), qPrintable(r.error));
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Hashed);
        QVERIFY2(d.error.contains(QLatin1String("HTTP 401 Unauthorized")), qPrintable(d.error));
        QVERIFY(r.failures.isEmpty());
    }

    void tooLargeIsNotRetried()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        c->server->script({Behaviour::respond("POST", 413, "<html><body><h1>413</h1><p>limit is 10 KB</p></body></html>",
                                              {{"Content-Type", "text/html"}})});
        run(*c);
        QCOMPARE(c->server->requestCount("POST"), 1);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Failed);
        QVERIFY2(d.error.contains(QLatin1String("HTTP 413 Content Too Large: the file is larger than the server accepts "
                                                "(server said: limit is 10 KB)")),
                 qPrintable(d.error));
    }

    void insufficientStorageGivesUpWithMessage()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        const Behaviour full = Behaviour::respond("POST", 507, "quota exceeded for user ann");
        c->server->script({full, full, full});
        const UploadResult r = run(*c);
        QCOMPARE(r.outcome, UploadResult::Outcome::SomeFailed);
        QCOMPARE(c->server->requestCount("POST"), 3);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Failed);
        QCOMPARE(d.attempts, 3);
        QVERIFY2(d.error.contains(QLatin1String("HTTP 507 Insufficient Storage: the server is out of space "
                                                "(server said: quota exceeded for user ann)")),
                 qPrintable(d.error));
        QVERIFY(d.error.endsWith(QLatin1String("[gave up after 3 attempts]")));
    }

    void connectionResetMidBody()
    {
        auto c = makeCase(RemoteKind::Http, 2 * 1024 * 1024);
        QVERIFY(c);
        Behaviour reset;
        reset.method = "POST";
        reset.kind = Behaviour::Kind::ResetMidBody;
        reset.resetAfter = 256 * 1024;
        c->server->script({reset});
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(c->server->requestCount("POST"), 2);
        QCOMPARE(c->server->requests().last().formFields.value("file"), c->fx->document(c->doc).sha256);
    }

    void neverAnswersEndsByTransferTimeout()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        const Behaviour silent = Behaviour::neverAnswer("POST");
        c->server->script({silent, silent});
        UploadSettings s = UploadFixture::fastSettings();
        s.retry.maxAttempts = 2;
        const UploadResult r = run(*c, s);   // bounded by the transfer timeout (2 s) per attempt
        // A server that does not answer is a problem of the remote: reported once, and the
        // document waits (pending) instead of failing.
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(c->server->requestCount("POST"), 2);
        QCOMPARE(r.remoteProblems.size(), 1);
        QCOMPARE(r.remoteProblems.first().remote, QStringLiteral("fault"));
        QCOMPARE(r.remoteProblems.first().error.problem, RemoteError::Problem::Unreachable);
        QVERIFY2(r.error.contains(QLatin1String("stopped responding (no data moved for 2 s)")), qPrintable(r.error));
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Hashed);
        QVERIFY2(d.error.contains(QLatin1String("waiting for remote \"fault\"")), qPrintable(d.error));
    }

    void unresponsiveServerHoldsTheRemoteOnce()
    {
        // Five files to a server that accepts connections and never answers: the push ends
        // after about one transfer timeout with one error for the remote, not five failures
        // after every retry; all five wait.
        auto c = makeCase(RemoteKind::WebDav);
        QVERIFY(c);
        for (int i = 2; i <= 5; ++i)
            QVERIFY(c->fx->addFile(c->collection, QStringLiteral("report-%1.pdf").arg(i), QByteArray(1000 + i, 'q')));
        c->server->script(QList<Behaviour>(50, Behaviour::neverAnswer()));
        UploadSettings s = UploadFixture::fastSettings();
        s.retry.maxAttempts = 5;
        const UploadResult r = run(*c, s);
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(r.remoteProblems.size(), 1);
        QCOMPARE(r.totals.filesFailed, 0);
        for (const Document &d : c->fx->documents(c->collection))
            QCOMPARE(d.status, DocStatus::Hashed);
        // Far fewer requests than 5 files x 5 attempts.
        QVERIFY2(c->server->requestCount() <= 6, qPrintable(QString::number(c->server->requestCount())));
    }

    void neverAnswersThenRecovers()
    {
        auto c = makeCase(RemoteKind::WebDav);
        QVERIFY(c);
        c->server->script({Behaviour::neverAnswer("PUT", "report.pdf")});
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
    }

    void slowResponseDoesNotTimeOut()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        // 6 s in all, never 2 s without a byte.
        c->server->script({Behaviour::trickle("POST", 201, 12, 500)});
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(c->server->requestCount("POST"), 1);
        QCOMPARE(c->fx->document(c->doc).status, DocStatus::Uploaded);
    }

    void slowReadingServerDoesNotTimeOut()
    {
        // The body takes at least ~26 s (the server reads 2.5 MB/s at most), more than twice the
        // 12 s transfer timeout, and must not time out. Why not a slower server or a shorter
        // timeout: libcurl counts progress when it hands bytes to the kernel, and on loopback the
        // kernel's send buffer grows to several MB, so at the end the client waits for that
        // buffer to drain with no progress to see (~2 s here), and on a loaded machine, under
        // ThreadSanitizer, the server's thread can also be starved for seconds (a 6 s timeout
        // fired there). Real transfer timeouts are 30 s by default.
        auto c = makeCase(RemoteKind::WebDav, 64 * 1024 * 1024);
        QVERIFY(c);
        c->server->setReceiveBuffer(32 * 1024);
        // The body, not the empty partial file or the probe.
        Behaviour slow = Behaviour::slowRead("PUT", ".upload", 256 * 1024, 100);
        slow.minContentLength = 1;
        c->server->script({slow});
        UploadSettings s = UploadFixture::fastSettings();
        s.limits.transferTimeout = std::chrono::milliseconds(12'000);
        s.limits.lanes = 1;   // one body, one connection
        s.limits.segmentSize = 64 * 1024 * 1024;
        const UploadResult r = run(*c, s);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        // One body: 64 MiB is above the resume threshold, so an empty partial file is created
        // first and the body goes in one Content-Range PUT.
        int bodies = 0;
        for (const auto &seen : c->server->requests())
            bodies += seen.method == "PUT" && seen.path.contains(".upload") && seen.bodyBytes > 0;
        QCOMPARE(bodies, 1);
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")).size(), c->content.size());
    }

    void webdavServerErrorThenSuccess()
    {
        auto c = makeCase(RemoteKind::WebDav);
        QVERIFY(c);
        c->server->script({Behaviour::respond("PUT", 502, "<html><title>502</title><body>upstream died</body></html>",
                                              {{"Content-Type", "text/html"}})
                               .onPath("report.pdf")});
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        int uploads = 0;
        for (const auto &seen : c->server->requests())
            uploads += seen.method == "PUT" && seen.path.contains("report.pdf");
        QCOMPARE(uploads, 2);
        const auto put = c->server->requests();
        bool sawChecksums = false;
        for (const auto &s : put) {
            if (s.method == "PUT" && s.path.contains("report.pdf")) {
                QCOMPARE(s.header("If-None-Match"), QByteArray("*"));
                sawChecksums = s.header("OC-Checksum") == "SHA256:" + c->fx->document(c->doc).sha256
                               && s.header("Digest").startsWith("SHA-256=");
            }
        }
        QVERIFY(sawChecksums);
    }

    void sourceChangedDuringUpload()
    {
        auto c = makeCase(RemoteKind::WebDav, 4 * 1024 * 1024);
        QVERIFY(c);
        c->server->setReceiveBuffer(16 * 1024);
        // ~25 s for the body: plenty of time to change the file.
        c->server->script({Behaviour::slowRead("PUT", "report.pdf", 16 * 1024, 100)});
        UploadSettings s = UploadFixture::fastSettings();
        s.limits.transferTimeout = std::chrono::milliseconds(30'000);
        UploadJob job(c->fx->catalog(), c->fx->store(), c->fx->pools(), UploadScope{c->collection, {}});
        job.setSettings(s);
        QSignalSpy finished(&job, &UploadJob::finished);
        const QByteArray edited = QByteArray(c->content.size(), 'E');
        job.start();
        // An editor saves the file while it is being sent: once the server is reading the body
        // (not merely once Qt has written to the socket: a body aborted before the server looked
        // at the connection would never be seen there).
        auto serverReadsBody = [&] {
            for (const auto &seen : c->server->requests()) {
                if (seen.method == "PUT" && seen.path.contains("report.pdf") && seen.bodyBytes > 0)
                    return true;
            }
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(serverReadsBody(), 60'000);
        QVERIFY(finished.isEmpty());
        {
            QFile f(c->fx->sourcePath(c->doc));
            QVERIFY(f.open(QIODevice::ReadWrite));
            QCOMPARE(f.write(edited), edited.size());
        }
        QVERIFY(finished.wait(120'000));
        const auto r = finished.first().first().value<UploadResult>();
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        // The first PUT was aborted (the server never got that body), the file hashed again and
        // the new content sent.
        int uploads = 0;
        for (const auto &seen : c->server->requests())
            uploads += seen.method == "PUT" && seen.path.contains("report.pdf");
        QCOMPARE(uploads, 2);
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), edited);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Uploaded);
        QCOMPARE(d.sha256, QCryptographicHash::hash(edited, QCryptographicHash::Sha256).toHex());
    }

    void failedSegmentIsTheOnlyOneSentAgain()
    {
        // 32 MiB in four 8 MiB segments over four connections; the first segment to arrive gets
        // a 503. The others finish, the catalog records them, and the retry sends only one.
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        c->server->script({Behaviour::respond("PUT", 503, "busy").onPath(".upload", 1)});
        QList<UploadDocumentEvent> events;
        const UploadResult r = run(*c, segmentSettings(), &events);
        if (r.outcome != UploadResult::Outcome::Succeeded || segmentRequests(*c->server) != 5)
            qInfo().noquote() << history(*c->server, events);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(segmentRequests(*c->server), 5);
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Uploaded);
        QCOMPARE(d.attempts, 2);
        QCOMPARE(c->fx->io([&] { return c->fx->catalog().uploadState(c->doc); }).valueOr("?"), QByteArray());
    }

    void smallUploadsAreLookedUpOnlyWhenAsked_data()
    {
        addBoolRows("confirm", "confirmUploads", "default");
    }

    void smallUploadsAreLookedUpOnlyWhenAsked()
    {
        // The server honours "If-None-Match: *" (probed once), so its 201 to the conditional PUT
        // is the answer: one request per small file, unless every upload is to be looked up.
        QFETCH(bool, confirm);
        auto c = makeCase(RemoteKind::WebDav);
        QVERIFY(c);
        UploadSettings s = UploadFixture::fastSettings();
        s.limits.confirmUploads = confirm;
        const UploadResult r = run(*c, s);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        int puts = 0;
        int lookups = 0;
        for (const auto &seen : c->server->requests()) {
            if (!seen.path.contains("report.pdf"))
                continue;
            puts += seen.method == "PUT";
            lookups += seen.method == "PROPFIND";
        }
        QCOMPARE(puts, 1);
        QCOMPARE(lookups, confirm ? 1 : 0);
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
    }

    void takenNameIsReadBack_data()
    {
        QTest::addColumn<bool>("cut");
        QTest::addColumn<bool>("reset");
        QTest::newRow("read back whole") << false << false;
        QTest::newRow("cut short, then closed") << true << false;
        QTest::newRow("cut short, then reset") << true << true;
    }

    void takenNameIsReadBack()
    {
        // The document's name holds a file of its size on a server that keeps no checksum: it is
        // read back to compare. The same content read whole is the document (nothing is sent); a
        // read-back that breaks off says nothing of the content, so the upload fails and no other
        // name is taken for the document.
        QFETCH(bool, cut);
        QFETCH(bool, reset);
        auto c = makeCase(RemoteKind::WebDav);
        QVERIFY(c);
        c->server->putFile(QStringLiteral("/Reports 2024/report.pdf"), c->content);
        if (cut) {
            c->server->script({Behaviour::cutShort("GET", "report.pdf", 200, c->content.left(40'000),
                                                   c->content.size(), reset)});
        }
        UploadSettings s = UploadFixture::fastSettings();
        s.retry.maxAttempts = 1;   // a second attempt would read it back whole
        QList<UploadDocumentEvent> events;
        const UploadResult r = run(*c, s, &events);
        QCOMPARE(c->server->files().keys(), QStringList{QStringLiteral("/Reports 2024/report.pdf")});
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        int reads = 0;
        for (const auto &seen : c->server->requests()) {
            QVERIFY2(!seen.path.contains("%282%29"), qPrintable(history(*c->server, events)));
            reads += seen.method == "GET" && seen.path.contains("report.pdf");
        }
        QCOMPARE(reads, 1);
        const Document d = c->fx->document(c->doc);
        if (!cut) {
            QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
            QCOMPARE(r.totals.filesAlreadyPresent, 1);
            QCOMPARE(d.status, DocStatus::Uploaded);
            return;
        }
        QCOMPARE(r.outcome, UploadResult::Outcome::SomeFailed);
        QCOMPARE(d.status, DocStatus::Failed);
        QVERIFY2(d.error.contains(QLatin1String("reading back")), qPrintable(d.error));
        QVERIFY2(d.error.contains(QLatin1String("the connection broke off after")), qPrintable(d.error));
    }

    // Segments of large files go over HTTP/1.1, a connection per lane (net::Request::fileBody);
    // the next cases are about how their answers are judged.
    static UploadSettings segmentSettings()
    {
        UploadSettings s = UploadFixture::fastSettings();
        s.limits.lanes = 4;
        s.limits.segmentSize = 8 * 1024 * 1024;
        // Four 8 MiB bodies at once into the fault server's one thread. A lane whose body is all
        // in the kernel's buffers moves no byte until the server has read and stored it, after
        // the other lanes' bodies: under ThreadSanitizer, with other tests on the same two cores,
        // that took over 10 s. A segment whose lane the transfer timeout ended is rightly sent again
        // (one more segment, or all four again when none had been recorded), which is not what
        // these cases look at: the timeout must not end a lane here unless the case is about it.
        s.limits.transferTimeout = std::chrono::milliseconds(120'000);
        return s;
    }

    static int segmentRequests(const FaultServer &server)
    {
        int n = 0;
        for (const auto &seen : server.requests()) {
            if (seen.method == "PUT" && seen.path.contains(".upload") && !seen.header("Content-Range").isEmpty())
                ++n;
        }
        return n;
    }

    void segmentAnsweredBeforeItsBody()
    {
        // The server refuses one segment as soon as it has the headers (and reads no more of its
        // body): that answer counts, the other segments are kept, the retry sends one.
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        Behaviour early = Behaviour::respond("PUT", 503, "busy, try later").onPath(".upload", 1);
        early.kind = Behaviour::Kind::RespondEarly;
        c->server->script({early});
        const UploadResult r = run(*c, segmentSettings());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(segmentRequests(*c->server), 5);
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        QCOMPARE(c->fx->document(c->doc).attempts, 2);
    }

    void segmentErrorInChunkedEncoding()
    {
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        Behaviour denied = Behaviour::respond("PUT", 403, "quota exceeded for this folder").onPath(".upload", 1);
        denied.chunked = true;
        c->server->script({denied});
        const UploadResult r = run(*c, segmentSettings());
        QCOMPARE(r.outcome, UploadResult::Outcome::SomeFailed);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Failed);
        QCOMPARE(d.attempts, 1);
        QVERIFY2(d.error.contains(QLatin1String("HTTP 403 Forbidden")), qPrintable(d.error));
        QVERIFY2(d.error.contains(QLatin1String("quota exceeded for this folder")), qPrintable(d.error));
    }

    void segmentNeverAnsweredEndsByTransferTimeout()
    {
        // The whole segment is read, then nothing: the transfer timeout ends that request, and
        // the retry sends that segment again (and any segment the timeout abandoned unfinished).
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        Behaviour silent = Behaviour::neverAnswer("PUT", ".upload");
        silent.minContentLength = 1;
        c->server->script({silent});
        UploadSettings s = segmentSettings();
        s.limits.transferTimeout = std::chrono::milliseconds(10'000);   // what ends the silence
        const UploadResult r = run(*c, s);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        const int segments = segmentRequests(*c->server);
        QVERIFY2(segments >= 5 && segments <= 8, qPrintable(QString::number(segments)));
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        QCOMPARE(c->fx->document(c->doc).attempts, 2);
    }

    void staleResumeRecordIsNotTrusted()
    {
        // The catalog says every segment is on the server, but the partial file there is much
        // shorter (cut or replaced since): it is deleted and the upload starts from the first byte.
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        const QByteArray sha = c->fx->document(c->doc).sha256;
        c->server->putFile(QStringLiteral("/Reports 2024/.quire-%1.upload").arg(QString::fromLatin1(sha)),
                           QByteArray(1024 * 1024, 'Z'));
        const QByteArray record = "quire-dav-1 " + sha + ' ' + QByteArray::number(c->content.size()) + ' '
                                  + QByteArray::number(8 * 1024 * 1024) + " 0f";
        QVERIFY(c->fx->io([&] { return c->fx->catalog().setUploadState(c->doc, record); }).ok());
        const UploadResult r = run(*c, segmentSettings());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        // One attempt, or a retry would rightly resume from what the first attempt stored: what
        // follows checks that the stale record was not trusted.
        QCOMPARE(c->fx->document(c->doc).attempts, 1);
        QCOMPARE(r.totals.filesResumed, 0);
        qint64 segmentBytes = 0;
        for (const auto &seen : c->server->requests()) {
            if (seen.method == "PUT" && !seen.header("Content-Range").isEmpty())
                segmentBytes += seen.bodyBytes;
        }
        QCOMPARE(segmentBytes, qint64(c->content.size()));
        QCOMPARE(c->server->files().keys(), QStringList{QStringLiteral("/Reports 2024/report.pdf")});
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        QCOMPARE(c->fx->io([&] { return c->fx->catalog().uploadState(c->doc); }).valueOr("?"), QByteArray());
    }

    void serverWithoutRangedPut_data()
    {
        QTest::addColumn<FaultServer::RangedPut>("mode");
        QTest::addColumn<int>("status");
        QTest::addColumn<bool>("early");   // refused as soon as the headers are in
        QTest::newRow("refused with 501 (nginx)") << FaultServer::RangedPut::Refused << 501 << true;
        QTest::newRow("refused with 400 (sabre/dav)") << FaultServer::RangedPut::Refused << 400 << false;
        QTest::newRow("refused with 501 after the body") << FaultServer::RangedPut::Refused << 501 << false;
        QTest::newRow("header ignored") << FaultServer::RangedPut::Ignored << 0 << false;
    }

    void serverWithoutRangedPut()
    {
        // A large file goes out in Content-Range segments; a server that refuses the header, or
        // ignores it and keeps each segment as the whole file, gets one plain PUT of the whole
        // file instead, and nothing partial is left behind.
        QFETCH(FaultServer::RangedPut, mode);
        QFETCH(int, status);
        QFETCH(bool, early);
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        c->server->setRangedPut(mode, status);
        if (early) {
            // Every segment that can be in flight (four lanes) is refused before its body.
            Behaviour refuse = Behaviour::respond("PUT", status, "PUT with range is unsupported").onPath(".upload", 1);
            refuse.kind = Behaviour::Kind::RespondEarly;
            c->server->script({refuse, refuse, refuse, refuse});
        }
        QList<UploadDocumentEvent> events;
        const UploadResult r = run(*c, segmentSettings(), &events);
        if (r.outcome != UploadResult::Outcome::Succeeded || c->fx->document(c->doc).attempts != 1)
            qInfo().noquote() << history(*c->server, events);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(c->server->files().keys(), QStringList{QStringLiteral("/Reports 2024/report.pdf")});
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        int segments = 0;
        int whole = 0;
        for (const auto &seen : c->server->requests()) {
            if (seen.method != "PUT")
                continue;
            segments += !seen.header("Content-Range").isEmpty();
            if (seen.path.contains("report.pdf") && seen.header("Content-Range").isEmpty()) {
                ++whole;
                QCOMPARE(seen.bodyBytes, qint64(c->content.size()));
            }
        }
        QVERIFY(segments >= 1);
        QCOMPARE(whole, 1);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Uploaded);
        QCOMPARE(d.attempts, 1);
        QCOMPARE(c->fx->io([&] { return c->fx->catalog().uploadState(c->doc); }).valueOr("?"), QByteArray());
    }

    void interruptedWithoutRangedPutStartsOver()
    {
        // Where Content-Range is refused, an upload cut off midway can only start again from the
        // first byte, and must still succeed.
        auto c = makeCase(RemoteKind::WebDav, 32 * 1024 * 1024);
        QVERIFY(c);
        c->server->setRangedPut(FaultServer::RangedPut::Refused, 501);
        Behaviour reset;
        reset.method = "PUT";
        reset.pathContains = "report.pdf";
        reset.minContentLength = 1;
        reset.kind = Behaviour::Kind::ResetMidBody;
        reset.resetAfter = 8 * 1024 * 1024;
        c->server->script({reset});
        UploadSettings s = UploadFixture::fastSettings();
        // 32 MiB bodies into the server's one thread: see segmentSettings().
        s.limits.transferTimeout = segmentSettings().limits.transferTimeout;
        const UploadResult r = run(*c, s);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QList<qint64> bodies;
        for (const auto &seen : c->server->requests()) {
            if (seen.method == "PUT" && seen.path.contains("report.pdf"))
                bodies << seen.bodyBytes;
        }
        QCOMPARE(bodies.size(), 2);
        QVERIFY2(bodies.at(0) >= 8 * 1024 * 1024 && bodies.at(0) < c->content.size(), qPrintable(QString::number(bodies.at(0))));
        QCOMPARE(bodies.at(1), qint64(c->content.size()));   // from the first byte again
        QCOMPARE(c->server->files().value(QStringLiteral("/Reports 2024/report.pdf")), c->content);
        QCOMPARE(c->server->files().size(), 1);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Uploaded);
        // Sent again by the retry, or by Qt itself: it re-sends a request once (rewinding the
        // body) when a kept-alive connection breaks under it.
        QVERIFY(d.attempts <= 2);
    }

    void endlessTrickleEndsByTotalTime()
    {
        // A response that keeps dribbling a byte every 200 ms never trips the transfer timeout
        // (2 s without a byte); the request's total budget (here 3 s + size / 64 KiB/s) ends it.
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        c->server->script({Behaviour::trickle("POST", 201, 1'000'000, 200)});
        UploadSettings s = UploadFixture::fastSettings();
        s.retry.maxAttempts = 1;
        s.limits.minTotal = std::chrono::milliseconds(3000);
        const UploadResult r = run(*c, s);
        QCOMPARE(r.outcome, UploadResult::Outcome::SomeFailed);
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Failed);
        QVERIFY2(d.error.contains(QLatin1String("the longest this request may take")), qPrintable(d.error));
    }

    void connectionRefused()
    {
        auto c = makeCase(RemoteKind::Http);
        QVERIFY(c);
        // A port nobody listens on: bind one, note it, close it.
        quint16 closedPort = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            closedPort = probe.serverPort();
        }
        RemoteProfile p;
        p.name = QStringLiteral("fault");
        p.kind = RemoteKind::Http;
        p.url = QStringLiteral("http://127.0.0.1:%1/").arg(closedPort);
        QVERIFY(c->fx->saveRemote(p));
        UploadSettings s = UploadFixture::fastSettings();
        s.retry.maxAttempts = 2;
        const UploadResult r = run(*c, s);
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(r.remoteProblems.size(), 1);
        QVERIFY2(r.error.contains(QStringLiteral("127.0.0.1:%1 refused the connection").arg(closedPort)), qPrintable(r.error));
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.status, DocStatus::Hashed);
        QVERIFY2(d.error.contains(QStringLiteral("127.0.0.1:%1 refused the connection").arg(closedPort)), qPrintable(d.error));
    }
};

QTEST_GUILESS_MAIN(TestRemoteFaults)
#include "tst_remotefaults.moc"
