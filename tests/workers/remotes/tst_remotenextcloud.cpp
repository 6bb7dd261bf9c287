// ctest-labels: uploads webdav
// ctest-timeout: 600
// Nextcloud's chunked upload v2 for WebDAV remotes, against the fault server in Nextcloud mode
// (tests/support/faultserver.h: status.php, the files tree and the uploads tree over a real
// loopback socket, following the developer manual's "Chunked file upload"): detection, chunks in
// parallel lanes, each failure recovering, resume of the missing chunks only (also after
// kill -9 of a `quire push`), cancel, and a refused checksum.

#include "catalog/catalog.h"
#include "faultcase.h"
#include "remotes/nextcloudchunks.h"
#include "remotes/remotewebdav.h"
#include "testsupport.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>

using namespace quire;
using namespace quire::test;
using Behaviour = FaultServer::Behaviour;

namespace {

constexpr qint64 MiB = 1024 * 1024;
const QString kUser = QStringLiteral("alice");
const QString kFiles = QStringLiteral("/remote.php/dav/files/alice");
const QString kCollection = QStringLiteral("Reports 2024");
const QString kStoredScan = kFiles + QStringLiteral("/Reports 2024/big scan.pdf");   // where makeCase()'s document goes

QByteArray sha256(const QByteArray &b)
{
    return QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex();
}

bool isChunkPut(const FaultServer::Seen &s)
{
    return s.method == "PUT" && s.path.contains("/remote.php/dav/uploads/");
}

} // namespace

class TestRemoteNextcloud final : public QObject
{
    Q_OBJECT

private:
    struct Case : FaultCase
    {
        std::unique_ptr<Remote> remote;   // made by makeRemoteCase()
    };

    // A collection on a WebDAV remote at <server>/<urlPath> with one document of `size` bytes;
    // the server in Nextcloud mode unless told otherwise.
    std::unique_ptr<Case> makeCase(qint64 size, const QString &urlPath = QStringLiteral("remote.php/dav/files/alice/"),
                                   bool nextcloud = true)
    {
        auto c = std::make_unique<Case>();
        if (nextcloud)
            c->server->setNextcloud(kUser);
        RemoteProfile p;
        p.name = QStringLiteral("cloud");
        p.kind = RemoteKind::WebDav;
        p.user = kUser;
        if (!c->setUp(p, urlPath, kCollection, QStringLiteral("big scan.pdf"), pseudoRandomBytes(size, quint32(size % 97))))
            return nullptr;
        return c;
    }

    // makeCase() in Nextcloud mode with a Remote of the case's profile, for the tests that call
    // Remote::upload themselves.
    std::unique_ptr<Case> makeRemoteCase(qint64 size, const UploadSettings &s = chunkSettings())
    {
        auto c = makeCase(size);
        if (c)
            c->remote = remoteFor(*c, s);
        return c && c->remote ? std::move(c) : nullptr;
    }

    static SecretProvider secrets()
    {
        return [](const RemoteProfile &) { return Result<QString>(QStringLiteral("pw")); };
    }

    // 5 MiB chunks (the protocol's smallest), four lanes; a transfer timeout that a machine busy
    // with other work does not reach by accident (the counts below assume no extra attempt).
    static UploadSettings chunkSettings()
    {
        UploadSettings s = UploadFixture::fastSettings();
        s.limits.transferTimeout = std::chrono::milliseconds(15'000);
        s.limits.chunkSize = 5 * MiB;
        s.limits.lanes = 4;
        return s;
    }

    static UploadResult run(Case &c, const UploadSettings &s = chunkSettings(),
                            QList<UploadDocumentEvent> *events = nullptr)
    {
        return c.run(s, secrets(), 120'000, events);
    }

    static UploadItem itemOf(Case &c)
    {
        return uploadItemFor(c.fx->document(c.doc), kCollection);
    }

    struct Attempt
    {
        UploadOutcome out;
        QByteArray state;            // the last resume state reported ("" = cleared)
        int stateReports = 0;
        qint64 lastDone = -1;        // the last progress reported

        QString error() const { return out.ok() ? QString() : out.error->message; }
    };

    // One Remote::upload on a worker thread, as the upload job makes it.
    static Attempt uploadOnce(Remote &remote, const UploadItem &item)
    {
        Attempt a;
        a.state = item.resumeState;
        onWorker([&] {
            UploadControl control;
            control.saveResumeState = [&](const QByteArray &s) {
                a.state = s;
                ++a.stateReports;
            };
            control.progress = [&](qint64 done, qint64) { a.lastDone = done; };
            a.out = remote.upload(item, control);
        });
        return a;
    }

    static std::unique_ptr<Remote> remoteFor(const Case &c, const UploadSettings &s = chunkSettings())
    {
        auto r = Remote::create(c.profile, QStringLiteral("pw"), s.limits);
        return r ? std::move(*r) : nullptr;
    }

    static qint64 chunkBytes(const FaultServer &server, qsizetype fromRequest = 0)
    {
        return server.bodyBytes("PUT", "/remote.php/dav/uploads/", fromRequest);
    }

    static int count(const FaultServer &server, const QByteArray &method, const QByteArray &pathContains)
    {
        int n = 0;
        for (const auto &s : server.requests())
            n += s.method == method && s.path.contains(pathContains);
        return n;
    }

    // Bytes of the chunks a record says the server has.
    static qint64 recordedBytes(const QByteArray &state, const UploadItem &item)
    {
        const auto r = nextcloud::ChunkRecord::decode(state, item);
        if (!r)
            return -1;
        qint64 n = 0;
        for (int i = 0; i < nextcloud::chunkCount(item.size, r->chunkSize); ++i) {
            if (r->isDone(i))
                n += std::min(r->chunkSize, item.size - i * r->chunkSize);
        }
        return n;
    }

    // --- quire as a child process (kill -9) -----------------------------------------------------

    static QProcessEnvironment environment(const QString &dir)
    {
        QProcessEnvironment env = quireEnvironment(dir);
        env.insert(QStringLiteral("QUIRE_PASSWORD"), QStringLiteral("pw"));
        // Under ThreadSanitizer the child's teardown after Qt's own thread hand-overs (pool
        // threads joined inside uninstrumented Qt) would be reported; this test is about the
        // protocol, the concurrency suites check the threads.
        env.insert(QStringLiteral("TSAN_OPTIONS"), QStringLiteral("report_bugs=0"));
        return env;
    }

    using Run = QuireRun;
    static Run quire(const QString &dir, const QStringList &args) { return runQuire(args, environment(dir)); }

    // The catalog's document and upload record, read in this process.
    static std::pair<Document, QByteArray> catalogState(const QString &dir)
    {
        std::pair<Document, QByteArray> found;
        onWorker([&] {
            Catalog catalog(CatalogConfig{dir + QStringLiteral("/catalog.sqlite")});
            if (!catalog.open())
                return;
            const auto docs = catalog.documents(DocumentQuery{});
            if (!docs || docs->isEmpty())
                return;
            found.first = docs->first();
            found.second = catalog.uploadState(found.first.id).valueOr({});
        });
        return found;
    }

private slots:
    void helpers()
    {
        using namespace nextcloud;
        // Endpoints from URLs.
        auto ep = endpointFor(QUrl(QStringLiteral("https://cloud.example.org/remote.php/dav/files/ann/Quire/")), {});
        QVERIFY(ep);
        QVERIFY(!ep->needsProbe);
        QCOMPARE(ep->user, QStringLiteral("ann"));
        QCOMPARE(ep->filesBase.toString(), QStringLiteral("https://cloud.example.org/remote.php/dav/files/ann/Quire/"));
        QCOMPARE(ep->uploadsRoot.toString(), QStringLiteral("https://cloud.example.org/remote.php/dav/uploads/ann/"));
        QCOMPARE(ep->statusUrl.toString(), QStringLiteral("https://cloud.example.org/status.php"));
        // In a sub-folder, a user id with an '@', no trailing slash.
        ep = endpointFor(QUrl(QStringLiteral("https://h:8443/nextcloud/remote.php/dav/files/ann%40example.org")), {});
        QVERIFY(ep);
        QCOMPARE(ep->user, QStringLiteral("ann@example.org"));
        QCOMPARE(ep->uploadsRoot.toEncoded(), QByteArray("https://h:8443/nextcloud/remote.php/dav/uploads/ann%40example.org/"));
        QCOMPARE(ep->statusUrl.toEncoded(), QByteArray("https://h:8443/nextcloud/status.php"));
        // The old WebDAV URL: the profile's user, and status.php must confirm.
        ep = endpointFor(QUrl(QStringLiteral("http://127.0.0.1:8080/remote.php/webdav/Backups/")), QStringLiteral("bob smith"));
        QVERIFY(ep);
        QVERIFY(ep->needsProbe);
        QCOMPARE(ep->filesBase.toEncoded(), QByteArray("http://127.0.0.1:8080/remote.php/dav/files/bob%20smith/Backups/"));
        QCOMPARE(ep->uploadsRoot.toEncoded(), QByteArray("http://127.0.0.1:8080/remote.php/dav/uploads/bob%20smith/"));
        QVERIFY(!endpointFor(QUrl(QStringLiteral("http://h/remote.php/webdav/")), {}));   // no user to name
        QVERIFY(!endpointFor(QUrl(QStringLiteral("http://h/dav/files/ann/")), QStringLiteral("ann")));
        QVERIFY(!endpointFor(QUrl(QStringLiteral("http://h/remote.php/dav/files//x/")), QStringLiteral("ann")));
        QVERIFY(!endpointFor(QUrl(QStringLiteral("http://h/remote.php/dav/")), QStringLiteral("ann")));

        // status.php.
        QVERIFY(isNextcloudStatus(R"({"installed":true,"maintenance":false,"version":"28.0.4.1","productname":"Nextcloud"})"));
        QVERIFY(isNextcloudStatus(R"({"installed":true,"version":"30.0.1.2","productname":"ACME Files"})"));   // themed
        QVERIFY(!isNextcloudStatus(R"({"installed":true,"version":"10.13.4.1","productname":"ownCloud"})"));
        QVERIFY(!isNextcloudStatus(R"({"installed":true,"version":"7.0.0","productname":"Infinite Scale"})"));
        QVERIFY(!isNextcloudStatus(R"({"installed":false,"version":"28.0.4.1","productname":"Nextcloud"})"));
        QVERIFY(!isNextcloudStatus(R"({"installed":true,"productname":"Nextcloud"})"));
        QVERIFY(!isNextcloudStatus("<html><body>Not Found</body></html>"));

        // Chunk sizes and names.
        QCOMPARE(chunkName(1), QByteArray("00001"));
        QCOMPARE(chunkName(10'000), QByteArray("10000"));
        QCOMPARE(chunkSizeFor(1024 * MiB, 10 * MiB, 4), 10 * MiB);
        QCOMPARE(chunkSizeFor(1024 * MiB, 1 * MiB, 4), 5 * MiB);          // the protocol's minimum
        QCOMPARE(chunkSizeFor(1024 * MiB, 500 * MiB, 4), 100 * MiB);      // at most 100 MiB
        QCOMPARE(chunkSizeFor(24 * MiB, 10 * MiB, 4), 6 * MiB);           // four lanes busy
        QCOMPARE(chunkSizeFor(17 * MiB, 10 * MiB, 4), 5 * MiB);           // never under 5 MiB
        const qint64 huge = 2'000'000 * MiB;                               // ~1.9 TiB
        QVERIFY(chunkCount(huge, chunkSizeFor(huge, 10 * MiB, 4)) <= kMaxChunks);

        // The transfer id: the same for the same document and collection, another for another.
        UploadItem item;
        item.collection = QStringLiteral("Scans");
        item.size = 23 * MiB;
        item.sha256 = QByteArray(64, 'a');
        const QString id = transferId(item);
        QVERIFY2(id.startsWith(QStringLiteral("quire-") + QString(40, QLatin1Char('a')) + QLatin1Char('-')), qPrintable(id));
        QCOMPARE(id.size(), 6 + 40 + 1 + 8);
        UploadItem other = item;
        other.collection = QStringLiteral("Other");
        QVERIFY(transferId(other) != id);

        // The resume record.
        ChunkRecord r{item.sha256, item.size, 5 * MiB, id, 2, {}};
        QCOMPARE(r.encode(), "quire-nc-1 " + item.sha256 + " " + QByteArray::number(23 * MiB) + " 5242880 "
                                 + id.toLatin1() + " 2 -");
        r.setDone(0);
        r.setDone(4);
        QCOMPARE(r.doneCount(), 2);
        const auto back = ChunkRecord::decode(r.encode(), item);
        QVERIFY(back);
        QVERIFY(back->isDone(0) && back->isDone(4) && !back->isDone(1));
        QCOMPARE(back->slot, 2);
        QVERIFY(!ChunkRecord::decode(r.encode(), other));                       // another transfer id
        UploadItem longer = item;
        longer.size += 1;
        QVERIFY(!ChunkRecord::decode(r.encode(), longer));
        QByteArray bad = r.encode();
        bad.replace(" 11", " 1z");
        QVERIFY(!ChunkRecord::decode(bad, item));
        ChunkRecord beyond = r;
        beyond.setDone(5);   // the file has chunks 0..4 only
        QVERIFY(!ChunkRecord::decode(beyond.encode(), item));
        QVERIFY(!ChunkRecord::decode("quire-dav-1 " + item.sha256 + " 1 2 03", item));

        // A folder listing: only numbered children of that folder count.
        const QByteArray folder = "/remote.php/dav/uploads/ann/" + id.toLatin1() + "/";
        auto response = [](const QByteArray &href, const QByteArray &props) {
            return "<d:response><d:href>" + href + "</d:href><d:propstat><d:prop>" + props
                   + "</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>";
        };
        auto file = [](qint64 n) { return "<d:resourcetype/><d:getcontentlength>" + QByteArray::number(n) + "</d:getcontentlength>"; };
        const QByteArray head = "<?xml version=\"1.0\"?><d:multistatus xmlns:d=\"DAV:\">";
        QByteArray xml = head + response(folder, "<d:resourcetype><d:collection/></d:resourcetype>")
                         + response(folder + "00001", file(5 * MiB))
                         + response("https://cloud.example.org" + folder + "00003", file(123))
                         + response(folder + ".target", file(0)) + response(folder + "0", file(1))
                         + response(folder + "10001", file(1)) + response(folder + "12a", file(1))
                         + response(folder + "00002/", "<d:resourcetype><d:collection/></d:resourcetype>")
                         + response("/remote.php/dav/uploads/ann/another/00004", file(1)) + "</d:multistatus>";
        auto listing = parseListing(xml, folder);
        QVERIFY(listing);
        QVERIFY(listing->folderFound);
        QCOMPARE(listing->chunks.size(), 2);
        QCOMPARE(listing->chunks.at(0).number, 1);
        QCOMPARE(listing->chunks.at(0).size, 5 * MiB);
        QCOMPARE(listing->chunks.at(1).number, 3);
        QCOMPARE(listing->chunks.at(1).size, qint64(123));
        QCOMPARE(listing->ignored, 6);
        // The same chunk under two names, a negative size, broken XML: not usable.
        QVERIFY(!parseListing(head + response(folder + "1", file(1)) + response(folder + "00001", file(1)) + "</d:multistatus>", folder));
        QVERIFY(!parseListing(head + response(folder + "1", "<d:getcontentlength>-5</d:getcontentlength>") + "</d:multistatus>", folder));
        QVERIFY(!parseListing(head + "<d:response><d:href>", folder));
    }

    void chunkedUploadEndToEnd()
    {
        // 17 MiB in four chunks of 5 MiB (the last 2 MiB) over four lanes. The first chunk is read
        // slowly by the server, so the others are seen while it is still arriving.
        const qint64 size = 17 * MiB;
        auto c = makeCase(size, QStringLiteral("remote.php/dav/files/alice/Quire/"));
        QVERIFY(c);
        c->server->makeDirectory(kFiles + QStringLiteral("/Quire"));
        c->server->script({Behaviour::slowRead("PUT", "/00001", 512 * 1024, 50)});
        QList<UploadDocumentEvent> events;
        const UploadResult r = run(*c, chunkSettings(), &events);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));

        const Document d = c->fx->document(c->doc);
        const QString final = kFiles + QStringLiteral("/Quire/Reports 2024/big scan.pdf");
        QCOMPARE(d.status, DocStatus::Uploaded);
        QCOMPARE(d.attempts, 1);
        QCOMPARE(c->server->files().value(final).size(), size);
        QCOMPARE(sha256(c->server->files().value(final)), d.sha256);
        QVERIFY(c->server->files().value(final) == c->content);
        QCOMPARE(d.remoteLocation, c->profile.url + QStringLiteral("Reports%202024/big%20scan.pdf"));
        QVERIFY(c->server->chunkedUploads().isEmpty());   // assembled and gone
        QCOMPARE(c->fx->io([&] { return c->fx->catalog().uploadState(c->doc); }).valueOr("?"), QByteArray());

        // The protocol, request by request.
        const QByteArray dest = c->profile.url.toUtf8() + "Reports%202024/big%20scan.pdf";
        const QByteArray folder = "/remote.php/dav/uploads/alice/" + nextcloud::transferId(itemOf(*c)).toLatin1();
        int mkcols = 0, moves = 0, statusProbes = 0, ranged = 0;
        QStringList chunkNames;
        for (const auto &s : c->server->requests()) {
            statusProbes += s.path == "/status.php";
            ranged += !s.header("Content-Range").isEmpty();
            if (s.method == "MKCOL" && s.path.startsWith(folder)) {
                ++mkcols;
                QCOMPARE(s.header("Destination"), dest);
            } else if (isChunkPut(s)) {
                QVERIFY2(s.path.startsWith(folder + '/'), s.path.constData());
                chunkNames << QString::fromLatin1(s.path.mid(folder.size() + 1));
                QCOMPARE(s.header("Destination"), dest);
                QCOMPARE(s.header("OC-Total-Length"), QByteArray::number(size));
                QCOMPARE(s.bodyBytes, chunkNames.last() == QLatin1String("00004") ? 2 * MiB : 5 * MiB);
            } else if (s.method == "MOVE") {
                ++moves;
                QCOMPARE(s.path, folder + "/.file");
                QCOMPARE(s.header("Destination"), dest);
                QCOMPARE(s.header("OC-Total-Length"), QByteArray::number(size));
                QCOMPARE(s.header("OC-Checksum"), "SHA256:" + d.sha256);
                QCOMPARE(s.header("Overwrite"), QByteArray("F"));
            }
        }
        chunkNames.sort();
        QCOMPARE(chunkNames, (QStringList{QStringLiteral("00001"), QStringLiteral("00002"), QStringLiteral("00003"),
                                          QStringLiteral("00004")}));
        QCOMPARE(mkcols, 1);
        QCOMPARE(moves, 1);
        QCOMPARE(statusProbes, 0);   // the URL says Nextcloud
        QCOMPARE(ranged, 0);
        QCOMPARE(chunkBytes(*c->server), size);
        // Parallel lanes: chunks 2-4 arrived while chunk 1 was still being read.
        QVERIFY2(c->server->maxChunkPutsInFlight() >= 3, qPrintable(QString::number(c->server->maxChunkPutsInFlight())));
        qint64 maxDone = 0;
        for (const auto &e : events)
            maxDone = std::max(maxDone, e.bytesDone);
        QCOMPARE(maxDone, size);
    }

    void detectedByStatusPhp()
    {
        // The old WebDAV URL: status.php says Nextcloud (asked once for two large files), the
        // chunks go to the profile user's uploads folder and land in the same files.
        auto c = makeCase(16 * MiB, QStringLiteral("remote.php/webdav/"));
        QVERIFY(c);
        const QByteArray second = pseudoRandomBytes(21 * MiB, 5);
        const qint64 doc2 = c->fx->addFile(c->collection, QStringLiteral("second.bin"), second);
        QVERIFY(doc2);
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 2);
        QCOMPARE(c->server->files().value(kStoredScan), c->content);
        QCOMPARE(c->server->files().value(kFiles + QStringLiteral("/Reports 2024/second.bin")), second);
        QCOMPARE(count(*c->server, "GET", "/status.php"), 1);
        QCOMPARE(count(*c->server, "MOVE", "/.file"), 2);
        QCOMPARE(count(*c->server, "MKCOL", "/remote.php/dav/uploads/alice/quire-"), 2);
        for (const auto &s : c->server->requests()) {
            if (s.method == "MOVE") {
                QVERIFY2(s.header("Destination").startsWith(c->server->url().toEncoded() + "remote.php/dav/files/alice/Reports%202024/"),
                         s.header("Destination").constData());
            }
        }
        QCOMPARE(chunkBytes(*c->server), 37 * MiB);
        QCOMPARE(c->fx->document(c->doc).remoteLocation, c->profile.url + QStringLiteral("Reports%202024/big%20scan.pdf"));
    }

    void otherServersKeepContentRange_data()
    {
        QTest::addColumn<QString>("urlPath");
        QTest::addColumn<int>("statusProbes");
        QTest::addColumn<int>("uploadFolders");
        // Apache-like, no status.php: the old WebDAV URL is not taken for Nextcloud.
        QTest::newRow("remote.php/webdav, no status.php") << QStringLiteral("remote.php/webdav/") << 1 << 0;
        // The URL looks like Nextcloud's, but there is no uploads folder (409): remembered, and
        // the segments are used.
        QTest::newRow("remote.php/dav/files, no uploads") << QStringLiteral("remote.php/dav/files/alice/") << 0 << 1;
        QTest::newRow("plain folder") << QStringLiteral("dav/") << 0 << 0;
    }

    void otherServersKeepContentRange()
    {
        QFETCH(QString, urlPath);
        QFETCH(int, statusProbes);
        QFETCH(int, uploadFolders);
        auto c = makeCase(32 * MiB, urlPath, /*nextcloud=*/false);
        QVERIFY(c);
        c->server->makeDirectory(QLatin1Char('/') + urlPath.chopped(1));
        UploadSettings s = chunkSettings();
        s.limits.segmentSize = 8 * MiB;
        const UploadResult r = run(*c, s);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(c->server->files().value(QLatin1Char('/') + urlPath + QStringLiteral("Reports 2024/big scan.pdf")), c->content);
        QCOMPARE(count(*c->server, "GET", "/status.php"), statusProbes);
        QCOMPARE(count(*c->server, "MKCOL", "/remote.php/dav/uploads/"), uploadFolders);
        int segments = 0;
        for (const auto &seen : c->server->requests())
            segments += seen.method == "PUT" && !seen.header("Content-Range").isEmpty();
        QCOMPARE(c->fx->document(c->doc).attempts, 1);
        QCOMPARE(segments, 4);
        QCOMPARE(chunkBytes(*c->server), 0);
    }

    void chunkFailureRecovers_data()
    {
        QTest::addColumn<bool>("reset");
        QTest::addColumn<int>("status");
        QTest::newRow("refused with 500") << false << 500;
        QTest::newRow("refused with 503") << false << 503;
        QTest::newRow("connection reset mid-chunk") << true << 0;
    }

    void chunkFailureRecovers()
    {
        // One chunk of four fails; the others finish and are recorded, and the retry sends only
        // that chunk again.
        QFETCH(bool, reset);
        QFETCH(int, status);
        const qint64 size = 20 * MiB;
        auto c = makeCase(size);
        QVERIFY(c);
        Behaviour b = Behaviour::respond("PUT", status, "the chunk could not be stored");
        if (reset) {
            b.kind = Behaviour::Kind::ResetMidBody;
            b.resetAfter = 1 * MiB;
        }
        b.pathContains = "/00002";
        c->server->script({b});
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        const Document d = c->fx->document(c->doc);
        QCOMPARE(d.attempts, 2);
        QCOMPARE(c->server->files().value(kStoredScan), c->content);
        QList<qint64> second;
        int puts = 0;
        for (const auto &s : c->server->requests()) {
            if (!isChunkPut(s))
                continue;
            ++puts;
            if (s.path.endsWith("/00002"))
                second << s.bodyBytes;
        }
        QCOMPARE(puts, 5);
        QCOMPARE(second.size(), 2);
        if (reset)
            QVERIFY2(second.at(0) >= 1 * MiB && second.at(0) < 5 * MiB, qPrintable(QString::number(second.at(0))));
        else
            QCOMPARE(second.at(0), 5 * MiB);
        QCOMPARE(second.at(1), 5 * MiB);
        QCOMPARE(chunkBytes(*c->server), size + second.at(0));
        // The retry listed the folder before it sent anything.
        QCOMPARE(count(*c->server, "PROPFIND", "/remote.php/dav/uploads/alice/quire-"), 1);
        QCOMPARE(count(*c->server, "MKCOL", "/remote.php/dav/uploads/"), 1);
        QVERIFY(c->server->chunkedUploads().isEmpty());
        QCOMPARE(c->fx->io([&] { return c->fx->catalog().uploadState(c->doc); }).valueOr("?"), QByteArray());
    }

    void moveFailureRecovers()
    {
        // The assembling MOVE fails once: the retry sends no chunk again, only the MOVE.
        const qint64 size = 18 * MiB;
        auto c = makeCase(size);
        QVERIFY(c);
        c->server->script({Behaviour::respond("MOVE", 500, "<s:exception>Sabre\\DAV\\Exception</s:exception>",
                                              {{"Content-Type", "application/xml"}})
                               .onPath("/.file")});
        const UploadResult r = run(*c);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(c->fx->document(c->doc).attempts, 2);
        QCOMPARE(c->server->files().value(kStoredScan), c->content);
        QCOMPARE(count(*c->server, "MOVE", "/.file"), 2);
        QCOMPARE(chunkBytes(*c->server), size);
        QCOMPARE(r.totals.filesResumed, 1);
        QVERIFY(c->server->chunkedUploads().isEmpty());
    }

    void resumeSendsOnlyMissingChunks()
    {
        // 28 MiB in six chunks over two lanes; chunk 4 is refused and nothing after it is
        // started. The next attempt lists the folder and sends what the record and the server do
        // not both have: chunk 4 on, and also a chunk the server has but the record does not list
        // (its confirmation was lost).
        const qint64 size = 28 * MiB;
        UploadSettings s = chunkSettings();
        s.limits.lanes = 2;
        auto c = makeRemoteCase(size, s);
        QVERIFY(c);
        c->server->script({Behaviour::respond("PUT", 503, "busy").onPath("/00004")});
        UploadItem item = itemOf(*c);
        const Attempt first = uploadOnce(*c->remote, item);
        QVERIFY(!first.out.ok());
        QCOMPARE(first.out.error->httpStatus, 503);
        QVERIFY(first.out.error->retryable());
        auto record = nextcloud::ChunkRecord::decode(first.state, item);
        QVERIFY2(record, first.state.constData());
        QCOMPARE(record->chunkSize, 5 * MiB);
        QVERIFY(record->isDone(0) && record->isDone(1) && !record->isDone(3));
        const QList<FaultServer::ChunkedUpload> folders = c->server->chunkedUploads();
        QCOMPARE(folders.size(), 1);
        QCOMPARE(folders.first().id, nextcloud::transferId(item));
        for (int i = 0; i < 6; ++i)
            QCOMPARE(folders.first().chunks.contains(i + 1), record->isDone(i));

        // The record forgets chunk 2: it is sent again although the server lists it.
        nextcloud::ChunkRecord forgetful = *record;
        forgetful.done.clear();
        for (int i = 0; i < 6; ++i) {
            if (record->isDone(i) && i != 1)
                forgetful.setDone(i);
        }
        item.resumeState = forgetful.encode();
        const qint64 trusted = recordedBytes(item.resumeState, item);
        QVERIFY(trusted >= 5 * MiB);
        const qsizetype before = c->server->requests().size();
        const Attempt second = uploadOnce(*c->remote, item);
        QVERIFY2(second.out.ok(), qPrintable(second.error()));
        QCOMPARE(second.out.value.resumedFrom, trusted);
        QCOMPARE(second.out.value.bytesSent, size - trusted);
        QCOMPARE(chunkBytes(*c->server, before), size - trusted);
        QCOMPARE(second.state, QByteArray());   // cleared once stored
        QCOMPARE(second.lastDone, size);
        QCOMPARE(c->server->files().value(kStoredScan), c->content);
        QVERIFY(c->server->chunkedUploads().isEmpty());
        int resent2 = 0;
        for (qsizetype i = before; i < c->server->requests().size(); ++i)
            resent2 += isChunkPut(c->server->requests().at(i)) && c->server->requests().at(i).path.endsWith("/00002");
        QCOMPARE(resent2, 1);
    }

    void goneFolderStartsOver()
    {
        // The upload folder is gone when the next attempt comes (Nextcloud expires it after
        // 24 h): every chunk is sent again into a new one, despite the record.
        const qint64 size = 16 * MiB;
        auto c = makeRemoteCase(size);
        QVERIFY(c);
        c->server->script({Behaviour::respond("MOVE", 502, "bad gateway").onPath("/.file")});
        UploadItem item = itemOf(*c);
        const Attempt first = uploadOnce(*c->remote, item);
        QVERIFY(!first.out.ok());
        QCOMPARE(recordedBytes(first.state, item), size);   // every chunk is there
        onWorker([&] {
            UploadControl control;
            c->remote->discardPartial(item, control);
        });
        QVERIFY(c->server->chunkedUploads().isEmpty());
        item.resumeState = first.state;
        const qsizetype before = c->server->requests().size();
        const Attempt second = uploadOnce(*c->remote, item);
        QVERIFY2(second.out.ok(), qPrintable(second.error()));
        QCOMPARE(second.out.value.resumedFrom, qint64(0));
        QCOMPARE(chunkBytes(*c->server, before), size);
        QCOMPARE(c->server->files().value(kStoredScan), c->content);
    }

    void cancelDeletesUploadFolder()
    {
        // A document cancelled mid-upload: its upload folder is deleted, and so is the record.
        auto c = makeCase(24 * MiB);
        QVERIFY(c);
        c->server->setReceiveBuffer(64 * 1024);
        // ~8 s for the chunk: time to cancel.
        c->server->script({Behaviour::slowRead("PUT", "/00003", 64 * 1024, 100)});
        UploadSettings s = chunkSettings();
        s.limits.transferTimeout = std::chrono::milliseconds(20'000);
        UploadJob job(c->fx->catalog(), c->fx->store(), c->fx->pools(), UploadScope{c->collection, {}});
        job.setSettings(s);
        job.setSecretProvider(secrets());
        QSignalSpy finished(&job, &UploadJob::finished);
        job.start();
        auto storedChunks = [&] {
            const auto folders = c->server->chunkedUploads();
            return folders.isEmpty() ? 0 : int(folders.first().chunks.size());
        };
        QTRY_VERIFY_WITH_TIMEOUT(storedChunks() >= 2, 60'000);
        QVERIFY(finished.isEmpty());
        job.cancelDocuments({c->doc});
        QVERIFY(finished.wait(60'000));
        const auto r = finished.first().first().value<UploadResult>();
        QCOMPARE(r.totals.filesCancelled, qint64(1));
        QCOMPARE(r.totals.filesUploaded, qint64(0));
        QCOMPARE(c->fx->document(c->doc).status, DocStatus::Cancelled);
        QTRY_VERIFY_WITH_TIMEOUT(c->server->chunkedUploads().isEmpty(), 10'000);
        QCOMPARE(count(*c->server, "DELETE", "/remote.php/dav/uploads/alice/quire-"), 1);
        QVERIFY(!c->server->files().contains(kStoredScan));
        QCOMPARE(c->fx->io([&] { return c->fx->catalog().uploadState(c->doc); }).valueOr("?"), QByteArray());
    }

    void wrongChecksumIsAnError()
    {
        // A chunk is stored with a byte changed: the server refuses to assemble a file whose
        // SHA-256 is not the one sent (400). That is an error, never a success; the chunks are
        // discarded, and the next upload sends them all again and succeeds.
        const qint64 size = 16 * MiB;
        auto c = makeRemoteCase(size);
        QVERIFY(c);
        c->server->corruptNextChunks(1);
        UploadItem item = itemOf(*c);
        const Attempt first = uploadOnce(*c->remote, item);
        QVERIFY(!first.out.ok());
        QCOMPARE(first.out.error->kind, RemoteError::Kind::Http);
        QCOMPARE(first.out.error->httpStatus, 400);
        QVERIFY2(first.out.error->message.contains(QLatin1String("checksum does not match")), qPrintable(first.out.error->message));
        QVERIFY(!c->server->files().contains(kStoredScan));
        QVERIFY(c->server->chunkedUploads().isEmpty());
        QCOMPARE(first.state, QByteArray());
        QCOMPARE(count(*c->server, "MOVE", "/.file"), 1);

        const qsizetype before = c->server->requests().size();
        const Attempt second = uploadOnce(*c->remote, item);
        QVERIFY2(second.out.ok(), qPrintable(second.error()));
        QCOMPARE(chunkBytes(*c->server, before), size);
        QCOMPARE(c->server->files().value(kStoredScan), c->content);
    }

    void nameTakenWhileUploading()
    {
        // Another client stores a different file under the name between the chunks and the
        // MOVE: "Overwrite: F" gets 412, and the file goes to "big scan (2).pdf".
        auto c = makeRemoteCase(16 * MiB);
        QVERIFY(c);
        const QString name = kStoredScan;
        // ~0.8 s for the last chunk's 1 MiB.
        c->server->script({Behaviour::slowRead("PUT", "/00004", 64 * 1024, 50)});
        c->server->setReceiveBuffer(64 * 1024);
        const UploadItem item = itemOf(*c);
        UploadOutcome out;
        std::atomic<bool> done{false};
        QThread *worker = QThread::create([&] {
            UploadControl control;
            out = c->remote->upload(item, control);
            done = true;
        });
        worker->start();
        QTRY_VERIFY_WITH_TIMEOUT(count(*c->server, "PUT", "/00004") == 1, 30'000);
        c->server->putFile(name, "someone else's file");
        QTRY_VERIFY_WITH_TIMEOUT(done.load(), 60'000);
        worker->wait();
        delete worker;
        QVERIFY2(out.ok(), qPrintable(out.ok() ? QString() : out.error->message));
        QCOMPARE(out.value.storedName, QStringLiteral("big scan (2).pdf"));
        QCOMPARE(c->server->files().value(name), QByteArray("someone else's file"));
        QCOMPARE(c->server->files().value(kFiles + QStringLiteral("/Reports 2024/big scan (2).pdf")), c->content);
        QCOMPARE(count(*c->server, "MOVE", "/.file"), 2);
    }

    void killedPushResumes()
    {
        // `quire push` of 60 MiB (12 chunks, two lanes, 6 MiB/s) is killed with SIGKILL once the
        // server holds four chunks; the next push lists the upload folder and sends only the
        // chunks the catalog had not recorded.
        FaultServer server;
        server.setNextcloud(kUser);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QVERIFY(writeQuireSettings(dir.path(), {{QStringLiteral("settings/uploads/chunkMiB"), 5},
                                                {QStringLiteral("settings/uploads/lanesPerFile"), 2},
                                                {QStringLiteral("settings/uploads/transferTimeoutSecs"), 30}}));
        const QString url = server.url().toString() + QStringLiteral("remote.php/dav/files/alice/");
        Run r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("nc"), QStringLiteral("--kind"),
                                   QStringLiteral("webdav"), QStringLiteral("--url"), url, QStringLiteral("--user"), kUser});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = quire(dir.path(), {QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("Scans"),
                               QStringLiteral("--remote"), QStringLiteral("nc")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const qint64 size = 60 * MiB;
        const QByteArray content = pseudoRandomBytes(size, 3);
        const QString src = dir.filePath(QStringLiteral("src/scan #7.tiff"));
        QVERIFY(createFile(src, content));
        r = quire(dir.path(), {QStringLiteral("add"), QStringLiteral("--no-upload"), QStringLiteral("-c"), QStringLiteral("Scans"), src});
        QVERIFY2(r.exitCode == 0, r.err.constData());

        QProcess push;
        push.setProcessEnvironment(environment(dir.path()));
        push.start(quireBinary(), {QStringLiteral("push"), QStringLiteral("--limit-rate"), QStringLiteral("6M")});
        QVERIFY(push.waitForStarted(10'000));
        auto storedChunks = [&] {
            const auto folders = server.chunkedUploads();
            return folders.isEmpty() ? 0 : int(folders.first().chunks.size());
        };
        QTRY_VERIFY_WITH_TIMEOUT(storedChunks() >= 4 || push.state() != QProcess::Running, 120'000);
        QCOMPARE(push.state(), QProcess::Running);
        push.kill();   // SIGKILL: no chance to clean up
        QVERIFY(push.waitForFinished(30'000));
        const auto [killed, record] = catalogState(dir.path());
        QCOMPARE(killed.status, DocStatus::Uploading);
        QVERIFY2(record.startsWith("quire-nc-1 " + killed.sha256), record.constData());
        UploadItem item;
        item.collection = QStringLiteral("Scans");
        item.size = size;
        item.sha256 = killed.sha256;
        const qint64 recorded = recordedBytes(record, item);
        QVERIFY2(recorded >= 10 * MiB && recorded < size, qPrintable(QString::number(recorded)));
        QVERIFY(!server.files().contains(kFiles + QStringLiteral("/Scans/scan #7.tiff")));

        const qsizetype before = server.requests().size();
        r = quire(dir.path(), {QStringLiteral("push")});
        QVERIFY2(r.exitCode == 0, (r.out + r.err).constData());
        QVERIFY2(r.out.contains("uploaded Scans/scan #7.tiff (resumed from"), r.out.constData());
        const qint64 sentAgain = chunkBytes(server, before);
        qInfo("killed with %lld of %lld bytes recorded; the next push sent %lld", recorded, size, sentAgain);
        QCOMPARE(sentAgain, size - recorded);
        QCOMPARE(server.files().value(kFiles + QStringLiteral("/Scans/scan #7.tiff")), content);
        QVERIFY(server.chunkedUploads().isEmpty());
        const auto [done, after] = catalogState(dir.path());
        QCOMPARE(done.status, DocStatus::Uploaded);
        QCOMPARE(after, QByteArray());
        QCOMPARE(done.remoteLocation, url + QStringLiteral("Scans/scan%20%237.tiff"));
    }
};

QTEST_GUILESS_MAIN(TestRemoteNextcloud)
#include "tst_remotenextcloud.moc"
