// ctest-labels: uploads webdav
// ctest-timeout: 900
// Uploads to a real Apache mod_dav server (tests/support/davserver.h, Basic auth, loopback),
// through the real UploadJob, catalog and WebDAV remote.

#include "davserver.h"
#include "faultserver.h"
#include "hashing/hasher.h"
#include "remotes/remotewebdav.h"
#include "testsupport.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

using namespace quire;
using namespace quire::test;

class TestRemoteWebDav final : public QObject
{
    Q_OBJECT

private:
    DavServer m_server;

    RemoteProfile profile(const QString &name = QStringLiteral("dav")) const { return m_server.remoteProfile(name); }

    // The collection `name` on the remote "dav" (0 when the fixture, the remote or the collection
    // could not be made).
    qint64 davCollection(UploadFixture &fx, const QString &name) const
    {
        return fx.isValid() && fx.saveRemote(profile()) ? fx.createCollection(name, QStringLiteral("dav")) : 0;
    }

    struct SparseDocument
    {
        qint64 collection = 0;
        qint64 id = 0;
    };

    // A document of `size` bytes, a sparse file of zeros, in a new collection `collection` on the
    // remote "dav" (ids of 0 when something could not be made).
    SparseDocument sparseDocument(UploadFixture &fx, const QString &collection, const QString &name, qint64 size) const
    {
        const qint64 c = davCollection(fx, collection);
        return {c, c ? fx.addSparseFile(c, name, size) : 0};
    }

    // Settings for a document of hundreds of MiB: a minute per transfer (a loaded CI machine).
    static UploadSettings bigFileSettings()
    {
        UploadSettings s = UploadFixture::fastSettings();
        s.limits.transferTimeout = std::chrono::milliseconds(60'000);
        return s;
    }

    SecretProvider secrets() const
    {
        const QString pw = m_server.password();
        return [pw](const RemoteProfile &) { return Result<QString>(pw); };
    }

    QString stored(const QString &collection, const QString &name) const
    {
        return m_server.documentRoot() + QLatin1Char('/') + collection + QLatin1Char('/') + name;
    }

    static QByteArray fileBytes(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    // Bytes Apache received (request lines, headers and bodies) in PUTs to path that began at
    // sinceMs or later, from its access log.
    qint64 bytesReceived(const QString &path, qint64 sinceMs) const
    {
        qint64 n = 0;
        for (const DavServer::Logged &l : m_server.accessLog()) {
            if (l.beganMs >= sinceMs && l.method == "PUT" && l.path == path)
                n += l.bytesIn;
        }
        return n;
    }

    // The item `verify` needs for an uploaded document of `collection`.
    static UploadItem itemOf(const Document &d, const QString &collection)
    {
        UploadItem item;
        item.collection = collection;
        item.fileName = d.fileName;
        item.size = d.size;
        item.sha256 = d.sha256;
        return item;
    }

    // Remote::verify of the document at its remote location, on a worker thread.
    static VerifyOutcome verifyOnWorker(Remote &remote, const Document &d, const QString &collection, bool deep)
    {
        VerifyOutcome out;
        onWorker([&] {
            UploadControl control;
            out = remote.verify(itemOf(d, collection), d.remoteLocation, deep, control);
        });
        return out;
    }

private slots:
    void initTestCase()
    {
        REQUIRE_DAV_SERVER();
        QVERIFY2(m_server.start(), qPrintable(m_server.error()));
    }

    void uploadAndVerify()
    {
        UploadFixture fx;
        const qint64 c = davCollection(fx, QStringLiteral("basic"));
        QVERIFY(c);
        const QByteArray content = pseudoRandomBytes(300'000, 1);
        const qint64 id = fx.addFile(c, QStringLiteral("report.pdf"), content);
        QVERIFY(id);
        QList<UploadDocumentEvent> events;
        int progressSignals = 0;
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings(), secrets(), 120'000,
                                         &events, &progressSignals);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 1);
        QVERIFY(progressSignals >= 1);
        QVERIFY(!events.isEmpty());
        QCOMPARE(events.last().status, DocStatus::Uploaded);

        const Document d = fx.document(id);
        QCOMPARE(d.status, DocStatus::Uploaded);
        QCOMPARE(d.attempts, 1);
        QCOMPARE(d.remoteLocation, m_server.baseUrl().toString() + QStringLiteral("basic/report.pdf"));
        QCOMPARE(fileBytes(stored(QStringLiteral("basic"), QStringLiteral("report.pdf"))), content);

        // verify: size from PROPFIND, and with deep the content read back and hashed.
        auto remote = Remote::create(profile(), m_server.password());
        QVERIFY(remote.ok());
        QCOMPARE(d.fileName, QStringLiteral("report.pdf"));
        QCOMPARE(d.size, qint64(content.size()));
        const VerifyOutcome shallow = verifyOnWorker(**remote, d, QStringLiteral("basic"), false);
        VerifyOutcome deep = verifyOnWorker(**remote, d, QStringLiteral("basic"), true);
        QVERIFY(shallow.ok() && deep.ok());
        QVERIFY(shallow.value.matches());
        QVERIFY(!shallow.value.checksumChecked);
        QVERIFY(deep.value.matches());
        QVERIFY(deep.value.checksumChecked);

        // A changed file on the server is noticed.
        QFile tampered(stored(QStringLiteral("basic"), QStringLiteral("report.pdf")));
        QVERIFY(tampered.open(QIODevice::ReadWrite));
        tampered.seek(1000);
        tampered.write("XXXX");
        tampered.close();
        deep = verifyOnWorker(**remote, d, QStringLiteral("basic"), true);
        QVERIFY(deep.ok());
        QVERIFY(!deep.value.matches());
        QVERIFY(deep.value.detail.contains(QLatin1String("SHA-256 differs")));
    }

    void ipv6Loopback()
    {
        // A server that listens on [::1] only, named by its IPv6 literal: uploads and verify
        // work, and Basic credentials go over plain http because ::1 is loopback.
        DavServer v6({TlsIdentity(), false, true});
        if (!v6.start())
            QFAIL(qPrintable(QStringLiteral("Apache could not listen on [::1]: ") + v6.error()));
        QCOMPARE(v6.baseUrl().host(), QStringLiteral("::1"));
        const RemoteProfile p = v6.remoteProfile(QStringLiteral("v6"));
        UploadFixture fx;
        QVERIFY(fx.isValid());
        QVERIFY(fx.saveRemote(p));
        const qint64 c = fx.createCollection(QStringLiteral("six"), p.name);
        QList<QByteArray> contents;
        qint64 first = 0;
        for (int i = 0; i < 3; ++i) {
            contents << pseudoRandomBytes(70'000 + i, 60 + i);
            const qint64 id = fx.addFile(c, QStringLiteral("v6-%1.bin").arg(i), contents.last());
            QVERIFY(id);
            if (i == 0)
                first = id;
        }
        const QString pw = v6.password();
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings(),
                                         [pw](const RemoteProfile &) { return Result<QString>(pw); });
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 3);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(fileBytes(v6.documentRoot() + QStringLiteral("/six/v6-%1.bin").arg(i)), contents.at(i));
        const Document d = fx.document(first);
        QVERIFY2(d.remoteLocation.startsWith(QStringLiteral("http://[::1]:%1/six/").arg(v6.port())),
                 qPrintable(d.remoteLocation));
        auto remote = Remote::create(p, pw);
        QVERIFY(remote.ok());
        const VerifyOutcome deep = verifyOnWorker(**remote, d, QStringLiteral("six"), true);
        QVERIFY2(deep.ok(), qPrintable(deep.ok() ? QString() : deep.error->message));
        QVERIFY(deep.value.matches());
        QVERIFY(deep.value.checksumChecked);
    }

    void collisionNamingAndNoDoubleUpload()
    {
        UploadFixture fx;
        const qint64 c = davCollection(fx, QStringLiteral("clash"));
        QVERIFY(c);
        // Two different files with the same name (from different folders).
        const qint64 a = fx.addFile(c, QStringLiteral("report.pdf"), pseudoRandomBytes(5000, 2), QStringLiteral("a"));
        const qint64 b = fx.addFile(c, QStringLiteral("report.pdf"), pseudoRandomBytes(5000, 3), QStringLiteral("b"));
        const qint64 e = fx.addFile(c, QStringLiteral("README"), pseudoRandomBytes(100, 4), QStringLiteral("a"));
        const qint64 f = fx.addFile(c, QStringLiteral("README"), pseudoRandomBytes(200, 5), QStringLiteral("b"));
        QVERIFY(a && b && e && f);
        UploadSettings s = UploadFixture::fastSettings();
        s.parallel = 1;   // deterministic: the older document gets the plain name
        UploadResult r = fx.runJob(UploadScope{c, {}}, s, secrets());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(fileBytes(stored(QStringLiteral("clash"), QStringLiteral("report.pdf"))), pseudoRandomBytes(5000, 2));
        QCOMPARE(fileBytes(stored(QStringLiteral("clash"), QStringLiteral("report (2).pdf"))), pseudoRandomBytes(5000, 3));
        QCOMPARE(fileBytes(stored(QStringLiteral("clash"), QStringLiteral("README (2)"))), pseudoRandomBytes(200, 5));
        QVERIFY(fx.document(b).remoteLocation.endsWith(QLatin1String("/clash/report%20%282%29.pdf")));

        // The catalog forgets that b was uploaded (a crash before it was recorded): uploading it
        // again finds the same content already there and stores nothing new.
        QVERIFY(fx.io([&] { return fx.catalog().transitionStatus({b}, {DocStatus::Uploaded}, DocStatus::Hashed); }).ok());
        QList<UploadDocumentEvent> events;
        r = fx.runJob(UploadScope{c, {}}, s, secrets(), 120'000, &events);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesAlreadyPresent, 1);
        QVERIFY(!QFileInfo::exists(stored(QStringLiteral("clash"), QStringLiteral("report (3).pdf"))));
        QCOMPARE(QDir(m_server.documentRoot() + QStringLiteral("/clash")).entryList(QDir::Files).size(), 4);
        QCOMPARE(fx.document(b).status, DocStatus::Uploaded);
        QVERIFY(fx.document(b).remoteLocation.endsWith(QLatin1String("/clash/report%20%282%29.pdf")));
    }

    void specialNames()
    {
        UploadFixture fx;
        const QString collection = QStringLiteral("R\u00e9sum\u00e9s #1 50% what? \U0001F600");
        const qint64 c = davCollection(fx, collection);
        QVERIFY(c);
        const QStringList names = {
            QStringLiteral("a b#c%d?e.txt"), QStringLiteral("100% sure.txt"), QStringLiteral("%41%42.txt"),
            QStringLiteral("\u00fcber \u00e9t\u00e9 \u4e2d\u6587.txt"), QStringLiteral("emoji \U0001F600\U0001F680.txt"),
            QStringLiteral("semi;colon,comma&amp=eq+plus'quote.txt"),
        };
        QList<qint64> ids;
        for (int i = 0; i < names.size(); ++i)
            ids << fx.addFile(c, names.at(i), pseudoRandomBytes(1000 + i, i));
        QVERIFY(!ids.contains(0));
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings(), secrets());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        for (int i = 0; i < names.size(); ++i) {
            QCOMPARE(fileBytes(stored(collection, names.at(i))), pseudoRandomBytes(1000 + i, i));
            // The recorded location decodes back to exactly the names.
            const QUrl loc = QUrl::fromEncoded(fx.document(ids.at(i)).remoteLocation.toUtf8(), QUrl::StrictMode);
            QCOMPARE(loc.path(QUrl::FullyDecoded), QLatin1Char('/') + collection + QLatin1Char('/') + names.at(i));
        }
    }

    void twoHundredFilesFourInParallel()
    {
        UploadFixture fx;
        const qint64 c = davCollection(fx, QStringLiteral("many"));
        QVERIFY(c);
        for (int i = 0; i < 200; ++i)
            QVERIFY(fx.addFile(c, QStringLiteral("file-%1.bin").arg(i, 3, 10, QLatin1Char('0')), pseudoRandomBytes(2000 + i * 37, i)));
        UploadSettings s = UploadFixture::fastSettings();
        s.parallel = 4;
        int progressSignals = 0;
        QList<UploadDocumentEvent> events;
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, secrets(), 300'000, &events, &progressSignals);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 200);
        QCOMPARE(r.totals.filesDone, 200);
        for (const Document &d : fx.documents(c))
            QCOMPARE(d.status, DocStatus::Uploaded);
        const QStringList onServer = QDir(m_server.documentRoot() + QStringLiteral("/many")).entryList(QDir::Files);
        QCOMPARE(onServer.size(), 200);
        for (int i = 0; i < 200; i += 17)
            QCOMPARE(fileBytes(stored(QStringLiteral("many"), QStringLiteral("file-%1.bin").arg(i, 3, 10, QLatin1Char('0')))),
                     pseudoRandomBytes(2000 + i * 37, i));
        // Coalesced: far fewer signals than documents x progress steps.
        QVERIFY(events.size() >= 200);
        // One request per file: the server honours If-None-Match, so there is no lookup before
        // and none after; and the four workers share one remote, which makes the folder once.
        int puts = 0;
        int others = 0;
        int mkcols = 0;
        for (const DavServer::Logged &l : m_server.accessLog()) {
            if (!l.path.startsWith(QLatin1String("/many/")))
                continue;
            if (l.method == "MKCOL")
                ++mkcols;
            else if (l.method == "PUT" && l.path.startsWith(QLatin1String("/many/file-")))
                ++puts;
            else if (!l.path.startsWith(QLatin1String("/many/.quire")))
                ++others;
        }
        QCOMPARE(mkcols, 1);
        QCOMPARE(puts, 200);
        QCOMPARE(others, 0);
    }

    void oneGibSparseFile()
    {
        UploadFixture fx;
        const qint64 size = 1024LL * 1024 * 1024;
        const auto [c, id] = sparseDocument(fx, QStringLiteral("big"), QStringLiteral("disk image.img"), size);
        QVERIFY(c && id);
        const UploadResult r = fx.runJob(UploadScope{c, {}}, bigFileSettings(), secrets(), 800'000);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        const QString path = stored(QStringLiteral("big"), QStringLiteral("disk image.img"));
        QCOMPARE(QFileInfo(path).size(), size);
        const FileHash h = Hasher::hashFile(QFile::encodeName(path));
        QCOMPARE(h.sha256, fx.document(id).sha256);
        // The partial file of the resumable upload is gone (moved into place).
        QCOMPARE(QDir(m_server.documentRoot() + QStringLiteral("/big")).entryList(QDir::Files | QDir::Hidden).size(), 1);
    }

    void resumeAfterInterruption()
    {
        UploadFixture fx;
        const qint64 size = 512LL * 1024 * 1024;
        const auto [c, id] = sparseDocument(fx, QStringLiteral("resume"), QStringLiteral("big.bin"), size);
        QVERIFY(c && id);
        // Not all zeros: make the first MiB distinctive so a wrong offset would show.
        {
            QFile f(fx.sourcePath(id));
            QVERIFY(f.open(QIODevice::ReadWrite));
            f.write(pseudoRandomBytes(1024 * 1024, 9));
            f.seek(size - 1000);
            f.write(pseudoRandomBytes(1000, 10));
        }
        // The file changed since it was cataloged: the job hashes it again first.
        const UploadSettings s = bigFileSettings();

        UploadJob job(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        job.setSettings(s);
        job.setSecretProvider(secrets());
        QSignalSpy finished(&job, &UploadJob::finished);
        qint64 seenBytes = 0;
        connect(&job, &UploadJob::documentsChanged, &job, [&](const QList<UploadDocumentEvent> &events) {
            for (const auto &e : events) {
                seenBytes = std::max(seenBytes, e.bytesDone);
                // Segments of 64 MiB go over 4 connections: past 320 MiB some have finished.
                if (e.status == DocStatus::Uploading && e.bytesDone >= 320 * 1024 * 1024)
                    job.cancel();   // like quitting the app mid-upload
            }
        });
        job.start();
        QVERIFY(finished.wait(300'000));
        const auto first = finished.first().first().value<UploadResult>();
        if (first.outcome == UploadResult::Outcome::Succeeded)
            QSKIP("the upload finished before it could be interrupted (machine too fast for this test)");
        QCOMPARE(first.outcome, UploadResult::Outcome::Cancelled);
        QCOMPARE(fx.document(id).status, DocStatus::Hashed);   // back in the queue
        const Document d = fx.document(id);
        const QString partial = stored(QStringLiteral("resume"), QStringLiteral(".quire-%1.upload").arg(QString::fromLatin1(d.sha256)));
        const qint64 kept = QFileInfo(partial).size();
        QVERIFY2(kept > 0, qPrintable(QStringLiteral("partial upload has %1 bytes").arg(kept)));
        // The catalog knows which segments the server has.
        const QByteArray state = fx.io([&] { return fx.catalog().uploadState(id); }).valueOr({});
        QVERIFY2(state.startsWith("quire-dav-1 " + d.sha256), state.constData());

        // The second run continues: Apache's own count of the bytes it received for the partial
        // file from then on is what was sent again.
        const qint64 secondRunBegan = QDateTime::currentMSecsSinceEpoch();
        QList<UploadDocumentEvent> events;
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, secrets(), 600'000, &events);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesResumed, 1);
        qint64 resumedFrom = 0;
        for (const auto &e : events)
            resumedFrom = std::max(resumedFrom, e.resumedFrom);
        QVERIFY2(resumedFrom >= 64 * 1024 * 1024 && resumedFrom <= size,
                 qPrintable(QStringLiteral("resumed from %1, partial had %2").arg(resumedFrom).arg(kept)));
        const qint64 sentAgain = bytesReceived(QStringLiteral("/resume/.quire-%1.upload").arg(QString::fromLatin1(d.sha256)),
                                               secondRunBegan);
        qInfo("resumed from %lld of %lld bytes; Apache received %lld bytes for the partial file in the second run",
              resumedFrom, size, sentAgain);
        QVERIFY2(sentAgain >= size - resumedFrom && sentAgain < size,
                 qPrintable(QStringLiteral("the server received %1 bytes for the %2 missing").arg(sentAgain).arg(size - resumedFrom)));
        QCOMPARE(fx.io([&] { return fx.catalog().uploadState(id); }).valueOr("?"), QByteArray());
        const QString path = stored(QStringLiteral("resume"), QStringLiteral("big.bin"));
        QCOMPARE(QFileInfo(path).size(), size);
        QCOMPARE(Hasher::hashFile(QFile::encodeName(path)).sha256, fx.document(id).sha256);
        QVERIFY(!QFileInfo::exists(partial));
    }

    void wrongPasswordIsNotRetried()
    {
        UploadFixture fx;
        const qint64 c = davCollection(fx, QStringLiteral("denied"));
        QVERIFY(c);
        const qint64 id = fx.addFile(c, QStringLiteral("x.txt"), "hello");
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings(),
                                         [](const RemoteProfile &) { return Result<QString>(QStringLiteral("nope-Z9q")); });
        // A refused password is the remote's problem, reported once; the document waits.
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(r.remoteProblems.size(), 1);
        QCOMPARE(r.remoteProblems.first().error.problem, RemoteError::Problem::Credentials);
        QVERIFY(!r.error.contains(QLatin1String("nope-Z9q")));
        const Document d = fx.document(id);
        QCOMPARE(d.status, DocStatus::Hashed);
        QCOMPARE(d.attempts, 1);
        QVERIFY2(d.error.contains(QLatin1String("HTTP 401 Unauthorized")), qPrintable(d.error));
        QVERIFY2(d.error.contains(QLatin1String("Check the user name and password")), qPrintable(d.error));
        QVERIFY(!d.error.contains(QLatin1String("nope-Z9q")));
    }

    void missingPasswordHoldsTheRemote()
    {
        // No password to be had (no keychain): said once for the remote, the documents wait.
        UploadFixture fx;
        const qint64 c = davCollection(fx, QStringLiteral("nokey"));
        QVERIFY(c);
        const qint64 a = fx.addFile(c, QStringLiteral("a.txt"), "alpha");
        const qint64 b = fx.addFile(c, QStringLiteral("b.txt"), "beta");
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings(), [](const RemoteProfile &) {
            return Result<QString>::failure(QStringLiteral("the keychain has no password for remote \"dav\""));
        });
        QCOMPARE(r.outcome, UploadResult::Outcome::Error);
        QCOMPARE(r.remoteProblems.size(), 1);
        QCOMPARE(r.remoteProblems.first().remote, QStringLiteral("dav"));
        QCOMPARE(r.remoteProblems.first().error.problem, RemoteError::Problem::Credentials);
        QVERIFY2(r.error.contains(QLatin1String("the keychain has no password")), qPrintable(r.error));
        QCOMPARE(r.totals.filesFailed, 0);
        QCOMPARE(fx.document(a).status, DocStatus::Hashed);
        QCOMPARE(fx.document(b).status, DocStatus::Hashed);
    }

    void connectionTest()
    {
        auto good = Remote::create(profile(), m_server.password());
        auto bad = Remote::create(profile(), QStringLiteral("nope"));
        QVERIFY(good.ok() && bad.ok());
        Result<QString> ok = Result<QString>::failure({}), denied = Result<QString>::failure({});
        onWorker([&] {
            UploadControl control;
            ok = (*good)->test(control);
            denied = (*bad)->test(control);
        });
        QVERIFY2(ok.ok(), qPrintable(ok.error()));
        QVERIFY(ok->contains(QLatin1String("writable")));
        QVERIFY(!denied.ok());
        QVERIFY2(denied.error().contains(QLatin1String("401")), qPrintable(denied.error()));
        // The probe file is gone again.
        QVERIFY(QDir(m_server.documentRoot()).entryList({QStringLiteral(".quire-connection-test-*")}, QDir::Files | QDir::Hidden).isEmpty());
    }

    void cleanupTestCase()
    {
        const QString log = m_server.errorLog();
        if (log.contains(QLatin1String("[core:error]")) || log.contains(QLatin1String("segfault")))
            qWarning("Apache error log:\n%s", qPrintable(log));
    }
};

QTEST_GUILESS_MAIN(TestRemoteWebDav)
#include "tst_remotewebdav.moc"
