// ctest-labels: uploads concurrency
// ctest-timeout: 600
// UploadJob and UploadController with the real catalog, pools and remotes: the catalog as the queue
// (crash recovery, conditional claims in batches, results recorded in batches), sources that
// changed, pause/resume/cancel per document, collection and everything, and coalesced signals.

#include "catalogservers.h"
#include "faultserver.h"
#include "catalog/catalogservice.h"
#include "catalog/machine.h"
#include "catalog/transaction.h"
#include "upload/uploadcontroller.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTest>

#include <array>
#include <functional>

using namespace quire;
using namespace quire::test;
using namespace std::chrono_literals;
using Behaviour = FaultServer::Behaviour;

// An UploadFixture on the catalog of the test's "backend" column (a SQLite file, or a database
// on the PostgreSQL or MariaDB test server), or the test skipped/failed with the reason.
#define SHARED_CATALOG_FIXTURE(fx)                                                            \
    QFETCH(QString, backend);                                                                \
    QString skip_, fail_;                                                                    \
    QTemporaryDir sqliteDir_;                                                                \
    const QString location_ = m_servers.newLocation(backend, sqliteDir_.path(), &skip_, &fail_); \
    if (!skip_.isEmpty())                                                                    \
        QSKIP(qPrintable(skip_));                                                            \
    QVERIFY2(!location_.isEmpty(), qPrintable(fail_));                                       \
    UploadFixture fx(location_);                                                             \
    QVERIFY(fx.isValid())

namespace {

// Keeps the last event `sender` reported of each document.
template <typename Sender>
void keepLastEvents(Sender *sender, QHash<qint64, UploadDocumentEvent> &last)
{
    QObject::connect(sender, &Sender::documentsChanged, sender, [&last](const QList<UploadDocumentEvent> &events) {
        for (const auto &e : events)
            last.insert(e.id, e);
    });
}

// The result of the first finished() signal a spy recorded.
UploadResult firstResult(const QSignalSpy &finished)
{
    return finished.first().first().value<UploadResult>();
}

// An UploadJob on a collection, with the pauses of single documents it obeys, the last event it
// reported of each document and its finished() signals.
struct WatchedJob
{
    UploadJob job;
    std::shared_ptr<UploadPauses> pauses = std::make_shared<UploadPauses>();
    QHash<qint64, UploadDocumentEvent> last;
    QSignalSpy finished{&job, &UploadJob::finished};

    WatchedJob(UploadFixture &fx, qint64 collectionId, const UploadSettings &settings)
        : job(fx.catalog(), fx.store(), fx.pools(), UploadScope{collectionId, {}})
    {
        job.setSettings(settings);
        job.setPauses(pauses);
        keepLastEvents(&job, last);
    }
};

} // namespace

class TestUploadJob final : public QObject
{
    Q_OBJECT

private:
    CatalogServers m_servers;

    static RemoteProfile folderProfile(UploadFixture &fx, const QString &name = QStringLiteral("folder"))
    {
        RemoteProfile p;
        p.name = name;
        p.kind = RemoteKind::Local;
        p.url = fx.dir() + QStringLiteral("/remote-") + name;
        return p;
    }

    // The collection `name` on the remote "folder" (0 when the fixture, the remote or the
    // collection could not be made).
    static qint64 folderCollection(UploadFixture &fx, const QString &name)
    {
        return fx.isValid() && fx.saveRemote(folderProfile(fx)) ? fx.createCollection(name, QStringLiteral("folder")) : 0;
    }

    // folderCollection() with `count` documents: fileName with %1 replaced by 0..count-1, of
    // content(i) (0 when any could not be made).
    static qint64 numberedCollection(UploadFixture &fx, const QString &name, int count, const QString &fileName,
                                     const std::function<QByteArray(int)> &content)
    {
        const qint64 c = folderCollection(fx, name);
        for (int i = 0; c && i < count; ++i) {
            if (!fx.addFile(c, fileName.arg(i), content(i)))
                return 0;
        }
        return c;
    }

    // numberedCollection() with documents that say "<name> <i>".
    static qint64 numberedCollection(UploadFixture &fx, const QString &name, int count, const QString &fileName)
    {
        return numberedCollection(fx, name, count, fileName, [&](int i) { return name.toUtf8() + ' ' + QByteArray::number(i); });
    }

    // UploadFixture::fastSettings() with `parallel` documents uploaded at a time.
    static UploadSettings parallelSettings(int parallel)
    {
        UploadSettings s = UploadFixture::fastSettings();
        s.parallel = parallel;
        return s;
    }

    static QString stored(UploadFixture &fx, const QString &collection, const QString &name,
                          const QString &remote = QStringLiteral("folder"))
    {
        return fx.dir() + QStringLiteral("/remote-") + remote + QLatin1Char('/') + collection + QLatin1Char('/') + name;
    }

    static QByteArray bytes(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    static QString describe(const UploadResult &r)
    {
        QStringList parts{r.error};
        for (const UploadFailure &f : r.failures)
            parts << f.fileName + QStringLiteral(": ") + f.error;
        return parts.join(QStringLiteral(" | "));
    }

    // A remote that keeps uploads in flight for a long time: a fault server reading slowly.
    static RemoteProfile slowProfile(FaultServer &server)
    {
        Behaviour slow;
        slow.method = "PUT";
        slow.minContentLength = 100'000;   // the documents, not the If-None-Match probe
        slow.kind = Behaviour::Kind::SlowRead;
        slow.trickleBytes = 8 * 1024;
        slow.trickleIntervalMs = 200;
        QList<Behaviour> many;
        for (int i = 0; i < 20; ++i)
            many << slow;
        server.setReceiveBuffer(8 * 1024);
        server.script(many);
        RemoteProfile p;
        p.name = QStringLiteral("slow");
        p.kind = RemoteKind::WebDav;
        p.url = server.url().toString();
        return p;
    }

    // The collection "slow" on the remote "slow" that `server` serves (0 when not made).
    static qint64 slowCollection(UploadFixture &fx, FaultServer &server)
    {
        return fx.isValid() && fx.saveRemote(slowProfile(server))
                   ? fx.createCollection(QStringLiteral("slow"), QStringLiteral("slow"))
                   : 0;
    }

    // Documents "<letter>.bin" of `size` bytes, each filled with its letter: their ids in order
    // (0 for one that could not be added).
    template <typename... Letters>
    static std::array<qint64, sizeof...(Letters)> addFilled(UploadFixture &fx, qint64 collectionId, int size, Letters... letters)
    {
        return {fx.addFile(collectionId, QStringLiteral("%1.bin").arg(QLatin1Char(letters)), QByteArray(size, letters))...};
    }

    static UploadSettings slowSettings(int parallel = UploadFixture::fastSettings().parallel)
    {
        UploadSettings s = parallelSettings(parallel);
        s.limits.transferTimeout = 60'000ms;   // the slow server must not time out here
        return s;
    }

    // How many documents of the collection have each status (read on the I/O pool).
    static QHash<DocStatus, int> statusCounts(UploadFixture &fx, qint64 collectionId)
    {
        QHash<DocStatus, int> n;
        for (const Document &d : fx.documents(collectionId))
            ++n[d.status];
        return n;
    }

private slots:
    void parallelUploadsWithCoalescedSignals()
    {
        UploadFixture fx;
        const qint64 c = numberedCollection(fx, QStringLiteral("many"), 60, QStringLiteral("f%1.txt"),
                                            [](int i) { return QByteArray(1000 + i, char('a' + i % 26)); });
        QVERIFY(c);
        UploadSettings s = parallelSettings(4);
        QList<UploadDocumentEvent> events;
        int progressSignals = 0;
        QElapsedTimer clock;
        clock.start();
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, {}, 120'000, &events, &progressSignals);
        const qint64 elapsed = clock.elapsed();
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 60);
        QCOMPARE(r.totals.filesTotal, 60);
        QCOMPARE(r.totals.bytesDone, r.totals.bytesTotal);
        for (int i = 0; i < 60; ++i)
            QCOMPARE(bytes(stored(fx, QStringLiteral("many"), QStringLiteral("f%1.txt").arg(i))).size(), 1000 + i);
        // At most one emission per 50 ms flush (plus the final one), however many documents.
        QVERIFY2(progressSignals <= elapsed / 50 + 2, qPrintable(QStringLiteral("%1 signals in %2 ms").arg(progressSignals).arg(elapsed)));
        int finalEvents = 0;
        for (const auto &e : events)
            finalEvents += e.status == DocStatus::Uploaded;
        QCOMPARE(finalEvents, 60);
    }

    void recoversUploadsLeftByACrash()
    {
        UploadFixture fx;
        const qint64 c = folderCollection(fx, QStringLiteral("crash"));
        QVERIFY(c);
        QList<qint64> ids;
        for (int i = 0; i < 24; ++i)
            ids.append(fx.addFile(c, QStringLiteral("f%1.txt").arg(i), "content " + QByteArray::number(i)));
        // As a kill -9 leaves them: a batch claimed together (`uploading`), of which the first
        // eight were copied to the remote before their results were recorded.
        QCOMPARE(fx.io([&] { return fx.catalog().transitionStatus(ids, {DocStatus::Hashed}, DocStatus::Uploading); })->size(), 24);
        QDir().mkpath(QFileInfo(stored(fx, QStringLiteral("crash"), QStringLiteral("f0.txt"))).path());
        for (int i = 0; i < 8; ++i) {
            QFile f(stored(fx, QStringLiteral("crash"), QStringLiteral("f%1.txt").arg(i)));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("content " + QByteArray::number(i));
        }
        // The next push takes them as pending.
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 24);
        QCOMPARE(r.totals.filesAlreadyPresent, 8);
        for (const qint64 id : std::as_const(ids))
            QCOMPARE(fx.document(id).status, DocStatus::Uploaded);
        // Nothing stored twice.
        QCOMPARE(QDir(QFileInfo(stored(fx, QStringLiteral("crash"), QStringLiteral("f0.txt"))).path()).entryList(QDir::Files).size(), 24);
    }

    // Claims and results go to the catalog in batches: a claim per 32 documents at most, and
    // the results of whatever finished within a flush tick (50 ms) or 64 at a time, instead of
    // two write transactions per document. Everything is recorded when finished() arrives.
    void batchesCatalogWrites()
    {
        UploadFixture fx;
        constexpr int kDocs = 200;
        const qint64 c = numberedCollection(fx, QStringLiteral("batch"), kDocs, QStringLiteral("b%1.txt"));
        QVERIFY(c);
        UploadSettings s = parallelSettings(4);
        QList<UploadDocumentEvent> events;
        const qint64 before = Transaction::committedCount();
        QElapsedTimer clock;
        clock.start();
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, {}, 120'000, &events);
        const qint64 elapsedMs = clock.elapsed();
        const qint64 commits = Transaction::committedCount() - before;
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, kDocs);
        qInfo("%d documents uploaded in %lld ms with %lld catalog write transactions", kDocs, qlonglong(elapsedMs),
              qlonglong(commits));
        // The number of result transactions grows with the time the uploads take (one per tick
        // when they trickle in), not with the number of documents: claims, plus a write per tick
        // or per 64 results, plus one per worker leaving.
        const qint64 bound = (kDocs + 31) / 32 + s.parallel + elapsedMs / 45 + 1 + kDocs / 64 + s.parallel;
        QVERIFY2(commits <= bound, qPrintable(QStringLiteral("%1 write transactions in %2 ms").arg(commits).arg(elapsedMs)));
        QSet<qint64> reported;
        for (const UploadDocumentEvent &e : std::as_const(events)) {
            if (e.status == DocStatus::Uploaded) {
                QVERIFY2(!reported.contains(e.id), "one final event per document");
                reported.insert(e.id);
                QVERIFY(!e.location.isEmpty());
            }
        }
        QCOMPARE(reported.size(), kDocs);
        for (const Document &d : fx.documents(c)) {
            QCOMPARE(d.status, DocStatus::Uploaded);
            QCOMPARE(d.attempts, 1);
            QVERIFY(!d.remoteLocation.isEmpty());
        }
    }

    // Pausing and cancelling while uploads finish fast: what was uploaded is recorded before the
    // workers stop (and before finished()), and documents claimed but not started go back to
    // `hashed` with their attempt uncounted. Nothing is left `uploading`.
    void pauseAndCancelRecordFinishedUploads()
    {
        UploadFixture fx;
        constexpr int kDocs = 300;
        const qint64 c = numberedCollection(fx, QStringLiteral("stop"), kDocs, QStringLiteral("s%1.txt"));
        QVERIFY(c);
        UploadSettings s = parallelSettings(3);
        UploadJob job(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        job.setSettings(s);
        QSet<qint64> reported;
        bool cancelOnNext = false;
        connect(&job, &UploadJob::documentsChanged, &job, [&](const QList<UploadDocumentEvent> &events) {
            bool any = false;
            for (const auto &e : events) {
                if (e.status == DocStatus::Uploaded) {
                    reported.insert(e.id);
                    any = true;
                }
            }
            if (any && !job.isPaused() && !cancelOnNext)
                job.setPaused(true);
            else if (any && cancelOnNext)
                job.cancel();
        });
        QSignalSpy finished(&job, &UploadJob::finished);
        job.start();
        QTRY_VERIFY_WITH_TIMEOUT(job.isPaused(), 60'000);

        // Paused: the workers leave once their uploads are recorded and their claims given back.
        QTRY_VERIFY_WITH_TIMEOUT(job.progress().active == 0 && statusCounts(fx, c).value(DocStatus::Uploading) == 0
                                         && statusCounts(fx, c).value(DocStatus::Uploaded) == job.progress().filesUploaded,
                                 60'000);
        QCOMPARE(finished.size(), 0);   // a paused job does not finish
        {
            const auto counts = statusCounts(fx, c);
            QCOMPARE(counts.value(DocStatus::Uploaded) + counts.value(DocStatus::Hashed), kDocs);
            for (const Document &d : fx.documents(c)) {
                if (d.status == DocStatus::Hashed)
                    QVERIFY2(d.attempts <= 1, qPrintable(QStringLiteral("%1 attempts").arg(d.attempts)));
            }
        }

        // Resumed, then cancelled at the next recorded upload.
        cancelOnNext = true;
        job.setPaused(false);
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60'000);
        const auto r = firstResult(finished);
        QVERIFY2(r.outcome == UploadResult::Outcome::Cancelled || r.outcome == UploadResult::Outcome::Succeeded,
                 qPrintable(describe(r)));
        const auto counts = statusCounts(fx, c);
        QCOMPARE(counts.value(DocStatus::Uploading), 0);
        QCOMPARE(counts.value(DocStatus::Uploaded) + counts.value(DocStatus::Hashed), kDocs);
        // Everything reported uploaded is recorded, and only that.
        QCOMPARE(qint64(counts.value(DocStatus::Uploaded)), r.totals.filesUploaded);
        QCOMPARE(reported.size(), counts.value(DocStatus::Uploaded));
        for (const Document &d : fx.documents(c)) {
            if (d.status == DocStatus::Uploaded) {
                QVERIFY(reported.contains(d.id));
                QVERIFY(QFile::exists(stored(fx, QStringLiteral("stop"), d.fileName)));
            } else {
                QVERIFY2(d.attempts <= 2, qPrintable(QStringLiteral("%1 attempts").arg(d.attempts)));
            }
        }
    }

    // Documents claimed together wait, `uploading`, while the one before them is sent. Cancelling
    // or pausing one of them, or the job, gives them back at once, with no attempt counted.
    void waitingClaimsAreGivenBack()
    {
        FaultServer server;
        UploadFixture fx;
        const qint64 c = slowCollection(fx, server);
        QVERIFY(c);
        const auto [a, b, d, e] = addFilled(fx, c, 1 << 20, 'a', 'b', 'd', 'e');
        WatchedJob w(fx, c, slowSettings(1));
        w.job.start();
        // One lane: a is being sent, b, d and e were claimed with it and wait.
        QTRY_VERIFY_WITH_TIMEOUT(w.last.value(a).bytesDone > 0, 60'000);
        for (const qint64 id : {a, b, d, e}) {
            QCOMPARE(fx.document(id).status, DocStatus::Uploading);
            QCOMPARE(fx.document(id).attempts, 1);
        }
        QCOMPARE(w.job.progress().active, 1);
        QCOMPARE(w.job.progress().filesTotal, 4);

        w.job.cancelDocuments({b});
        w.pauses->pauseDocument(d);
        w.job.stopDocument(d);
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(b).status, DocStatus::Cancelled, 30'000);
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(d).status, DocStatus::Hashed, 30'000);
        QCOMPARE(fx.document(b).attempts, 0);
        QCOMPARE(fx.document(d).attempts, 0);
        QTRY_COMPARE_WITH_TIMEOUT(w.last.value(b).status, DocStatus::Cancelled, 30'000);
        QCOMPARE(fx.document(a).status, DocStatus::Uploading);   // still being sent
        QCOMPARE(fx.document(e).status, DocStatus::Uploading);   // still waiting for the lane

        w.job.cancel();
        QTRY_COMPARE_WITH_TIMEOUT(w.finished.size(), 1, 60'000);
        const auto r = firstResult(w.finished);
        QCOMPARE(r.outcome, UploadResult::Outcome::Cancelled);
        QCOMPARE(r.totals.filesCancelled, 1);
        QCOMPARE(r.totals.filesUploaded, 0);
        QCOMPARE(fx.document(a).status, DocStatus::Hashed);   // stopped while sent: attempt counted
        QCOMPARE(fx.document(a).attempts, 1);
        QCOMPARE(fx.document(e).status, DocStatus::Hashed);   // never started: not counted
        QCOMPARE(fx.document(e).attempts, 0);
        QCOMPARE(fx.document(d).status, DocStatus::Hashed);
        QVERIFY(server.files().isEmpty());
    }

    void twoJobsNeverUploadTheSameDocument()
    {
        UploadFixture fx;
        constexpr int kDocs = 160;
        const qint64 c = numberedCollection(fx, QStringLiteral("race"), kDocs, QStringLiteral("r%1.txt"),
                                            [](int i) { return QByteArray(500, char('A' + i % 26)) + QByteArray::number(i); });
        QVERIFY(c);
        // Two jobs at once on the same collection, as two processes would, each claiming batches
        // for its workers: the conditional claim in the catalog gives every document to exactly
        // one of them.
        UploadJob one(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        UploadJob two(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        UploadSettings s = parallelSettings(4);
        for (UploadJob *j : {&one, &two}) {
            j->setSettings(s);
            j->setRecoverInterrupted(false);   // each would otherwise re-queue the other's claims
        }
        QSignalSpy f1(&one, &UploadJob::finished), f2(&two, &UploadJob::finished);
        one.start();
        two.start();
        QTRY_VERIFY_WITH_TIMEOUT(f1.size() == 1 && f2.size() == 1, 120'000);
        const auto r1 = firstResult(f1);
        const auto r2 = firstResult(f2);
        QCOMPARE(r1.totals.filesUploaded + r2.totals.filesUploaded, kDocs);
        QCOMPARE(r1.totals.filesAlreadyPresent + r2.totals.filesAlreadyPresent, 0);
        const QStringList onDisk = QDir(fx.dir() + QStringLiteral("/remote-folder/race")).entryList(QDir::Files);
        QCOMPARE(onDisk.size(), kDocs);
        for (const Document &d : fx.documents(c)) {
            QCOMPARE(d.status, DocStatus::Uploaded);
            QCOMPARE(d.attempts, 1);
        }
    }

    void changedSourceIsHashedAgain()
    {
        UploadFixture fx;
        const qint64 c = folderCollection(fx, QStringLiteral("changed"));
        QVERIFY(c);
        const qint64 a = fx.addFile(c, QStringLiteral("a.txt"), "original a");
        const qint64 b = fx.addFile(c, QStringLiteral("b.txt"), "original b");
        const QByteArray oldSha = fx.document(a).sha256;
        // a gets new content; b becomes a copy of a's new content (a duplicate now).
        for (const qint64 id : {a, b}) {
            QFile f(fx.sourcePath(id));
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write("new content, longer than before");
        }
        UploadSettings s = parallelSettings(1);
        QList<UploadDocumentEvent> events;
        const UploadResult r = fx.runJob(UploadScope{c, {}}, s, {}, 60'000, &events);
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        const Document da = fx.document(a);
        QCOMPARE(da.status, DocStatus::Uploaded);
        QVERIFY(da.sha256 != oldSha);
        QCOMPARE(da.size, qint64(31));
        QCOMPARE(bytes(stored(fx, QStringLiteral("changed"), QStringLiteral("a.txt"))), QByteArray("new content, longer than before"));
        QCOMPARE(fx.document(b).status, DocStatus::Duplicate);
        QCOMPARE(fx.document(b).duplicateOf, a);
        QVERIFY(!QFile::exists(stored(fx, QStringLiteral("changed"), QStringLiteral("b.txt"))));
    }

    // A shared catalog is written by other machines and programs: a row whose SHA-256 is not
    // 64 hex digits, or whose name is not its source file's one path component, fails with its
    // id named and nothing of it reaches the remote; the good rows go on.
    void badCatalogRowsAreReportedNeverUsed_data() { test::CatalogServers::addBackendRows(); }
    void badCatalogRowsAreReportedNeverUsed()
    {
        SHARED_CATALOG_FIXTURE(fx);
        const qint64 c = folderCollection(fx, QStringLiteral("shared"));
        QVERIFY(c);
        const qint64 good = fx.addFile(c, QStringLiteral("good.txt"), "good");
        // A real file with a newline and a backslash in its name is not a bad row.
#ifdef Q_OS_WIN
        const qint64 odd = fx.addFile(c, QStringLiteral("odd name #1.txt"), "odd");
#else
        const qint64 odd = fx.addFile(c, QStringLiteral("odd\nname\\x.txt"), "odd");
#endif
        const qint64 traversal = fx.addFile(c, QStringLiteral("t.txt"), "t");
        const qint64 newline = fx.addFile(c, QStringLiteral("n.txt"), "n");
        const qint64 slash = fx.addFile(c, QStringLiteral("s.txt"), "s");
        const qint64 upper = fx.addFile(c, QStringLiteral("u.txt"), "u");
        QVERIFY(good && odd && traversal && newline && slash && upper);
        auto set = [&](qint64 id, const char *column, const QString &value) {
            return fx.exec(QStringLiteral("UPDATE documents SET %1 = ? WHERE id = ?").arg(QLatin1String(column)),
                           {value, id});
        };
        QVERIFY(set(traversal, "sha256", QStringLiteral("../../x")));
        QVERIFY(set(upper, "sha256", QString::fromLatin1(fx.document(upper).sha256.toUpper())));
        QVERIFY(set(newline, "file_name", QStringLiteral("n.txt\r\nX-Injected: 1")));
        QVERIFY(set(slash, "file_name", QStringLiteral("../../s.txt")));

        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings());
        QCOMPARE(r.outcome, UploadResult::Outcome::SomeFailed);
        QCOMPARE(r.totals.filesUploaded, 2);
        QCOMPARE(fx.document(good).status, DocStatus::Uploaded);
        QCOMPARE(fx.document(odd).status, DocStatus::Uploaded);
        const QList<std::pair<qint64, QString>> bad = {{traversal, QStringLiteral("SHA-256")},
                                                       {upper, QStringLiteral("SHA-256")},
                                                       {newline, QStringLiteral("not the name of its source file")},
                                                       {slash, QStringLiteral("path separator")}};
        for (const auto &[id, why] : bad) {
            const Document d = fx.document(id);
            QCOMPARE(d.status, DocStatus::Failed);
            QVERIFY2(d.error.contains(QStringLiteral("document #%1").arg(id)) && d.error.contains(why), qPrintable(d.error));
            QVERIFY2(!d.error.contains(QLatin1String("..")) && !d.error.contains(u'\n'), qPrintable(d.error));
        }
        // The remote holds the two good documents and nothing else, anywhere under it.
        QStringList stored;
        QDirIterator it(fx.dir() + QStringLiteral("/remote-folder"), QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
        while (it.hasNext())
            stored << it.next().mid(fx.dir().size());
        QCOMPARE(stored.size(), 2);
        QVERIFY2(!QFileInfo::exists(fx.dir() + QStringLiteral("/s.txt")) && !QFileInfo::exists(fx.dir() + QStringLiteral("/x")),
                 qPrintable(stored.join(u' ')));
    }

    // A shared catalog: a document added on another machine names a file there. This machine
    // neither uploads it nor takes back its upload in flight; its own and those from before
    // machines were recorded go as usual.
    void documentsOfAnotherMachineAreNotUploaded_data() { test::CatalogServers::addBackendRows(); }
    void documentsOfAnotherMachineAreNotUploaded()
    {
        SHARED_CATALOG_FIXTURE(fx);
        const qint64 c = folderCollection(fx, QStringLiteral("team"));
        QVERIFY(c);
        const qint64 mine = fx.addFile(c, QStringLiteral("mine.txt"), "mine");
        const qint64 legacy = fx.addFile(c, QStringLiteral("legacy.txt"), "legacy");
        const qint64 theirs = fx.addFile(c, QStringLiteral("theirs.txt"), "theirs");
        const qint64 inFlight = fx.addFile(c, QStringLiteral("in-flight.txt"), "in flight");
        QVERIFY(mine && legacy && theirs && inFlight);
        QCOMPARE(fx.document(mine).machineId, thisMachine().id);
        const bool set = fx.exec(QStringLiteral("UPDATE documents SET machine_id = '' WHERE id = ?"), {legacy})
                         && fx.exec(QStringLiteral("UPDATE documents SET machine_id = 'other-machine' WHERE id IN (?, ?)"),
                                    {theirs, inFlight})
                         && fx.exec(QStringLiteral("UPDATE documents SET status = 'uploading' WHERE id = ?"), {inFlight});
        QVERIFY(set);

        UploadJob job(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        job.setSettings(UploadFixture::fastSettings());
        job.setRecoverInterrupted(true);
        job.setRetryFailed(true);
        QSignalSpy finished(&job, &UploadJob::finished);
        job.start();
        QVERIFY(finished.wait(60'000));
        QCOMPARE(fx.document(mine).status, DocStatus::Uploaded);
        QCOMPARE(fx.document(legacy).status, DocStatus::Uploaded);
        QCOMPARE(fx.document(theirs).status, DocStatus::Hashed);
        QCOMPARE(fx.document(inFlight).status, DocStatus::Uploading);
        QVERIFY(!QFile::exists(stored(fx, QStringLiteral("team"), QStringLiteral("theirs.txt"))));
        QVERIFY(!QFile::exists(stored(fx, QStringLiteral("team"), QStringLiteral("in-flight.txt"))));
        QCOMPARE(bytes(stored(fx, QStringLiteral("team"), QStringLiteral("legacy.txt"))), QByteArray("legacy"));

        // Asked for by id, as the window's "Upload now" does, it still stays.
        const UploadResult r = fx.runJob(UploadScope{c, {theirs}}, UploadFixture::fastSettings());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded, qPrintable(describe(r)));
        QCOMPARE(r.totals.filesUploaded, 0);
        QCOMPARE(fx.document(theirs).status, DocStatus::Hashed);
    }

    void missingProfileFailsWithReason()
    {
        UploadFixture fx;
        QVERIFY(fx.isValid());
        const qint64 c = fx.createCollection(QStringLiteral("orphan"), QStringLiteral("gone"));
        const qint64 id = fx.addFile(c, QStringLiteral("x.txt"), "x");
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings());
        QCOMPARE(r.outcome, UploadResult::Outcome::SomeFailed);
        QCOMPARE(fx.document(id).status, DocStatus::Failed);
        QVERIFY2(fx.document(id).error.contains(QLatin1String("remote \"gone\", which does not exist")),
                 qPrintable(fx.document(id).error));

        // quire push retries failed uploads once the remote exists.
        RemoteProfile p = folderProfile(fx, QStringLiteral("gone"));
        QVERIFY(fx.saveRemote(p));
        UploadJob job(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        job.setSettings(UploadFixture::fastSettings());
        job.setRetryFailed(true);
        QSignalSpy finished(&job, &UploadJob::finished);
        job.start();
        QVERIFY(finished.wait(60'000));
        QCOMPARE(fx.document(id).status, DocStatus::Uploaded);
    }

    void cancelAndPauseWhileUploading()
    {
        FaultServer server;
        UploadFixture fx;
        const qint64 c = slowCollection(fx, server);
        QVERIFY(c);
        const auto [a, b, d] = addFilled(fx, c, 4 << 20, 'a', 'b', 'd');
        WatchedJob w(fx, c, slowSettings(2));
        w.job.start();
        // a and b are in flight (two at a time), d waits.
        QTRY_VERIFY_WITH_TIMEOUT(w.last.value(a).bytesDone > 0 && w.last.value(b).bytesDone > 0, 60'000);
        QCOMPARE(fx.document(a).status, DocStatus::Uploading);

        w.job.cancelDocuments({a});            // in flight: aborted, cancelled
        w.pauses->pauseDocument(b);
        w.job.stopDocument(b);                 // in flight: back to hashed, left alone
        w.job.cancelDocuments({d});            // pending: cancelled without starting
        QTRY_VERIFY_WITH_TIMEOUT(w.finished.size() == 1, 60'000);
        QCOMPARE(fx.document(a).status, DocStatus::Cancelled);
        QCOMPARE(fx.document(b).status, DocStatus::Hashed);
        QCOMPARE(fx.document(d).status, DocStatus::Cancelled);
        QVERIFY(server.files().isEmpty());   // nothing half-stored under a real name
        const auto r = firstResult(w.finished);
        QCOMPARE(r.totals.filesCancelled, 2);
        QCOMPARE(r.totals.filesUploaded, 0);
    }

    void queuePausesResumesAndCancels()
    {
        FaultServer server;
        UploadFixture fx;
        const qint64 slow = slowCollection(fx, server);
        const qint64 quick = folderCollection(fx, QStringLiteral("quick"));
        QVERIFY(slow && quick);
        const qint64 a = fx.addFile(slow, QStringLiteral("a.bin"), QByteArray(1 << 20, 'a'));
        CatalogService service(fx.catalog(), fx.pools());
        UploadController queue(service, fx.store());
        UploadSettings s = slowSettings();
        queue.setSettings(s);
        QHash<qint64, UploadDocumentEvent> last;
        keepLastEvents(&queue, last);
        QSignalSpy idle(&queue, &UploadController::idle);
        QSignalSpy paused(&queue, &UploadController::pausedChanged);
        queue.start();
        QTRY_VERIFY_WITH_TIMEOUT(last.value(a).bytesDone > 0, 60'000);

        // Pause everything: the upload in flight goes back to the queue.
        queue.pauseAll();
        QCOMPARE(paused.size(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(a).status, DocStatus::Hashed, 30'000);
        // New work while paused waits too.
        const qint64 q1 = fx.addFile(quick, QStringLiteral("q1.txt"), "quick one");
        queue.collectionHashed(quick);
        QCoreApplication::sendPostedEvents();
        QVERIFY(queue.isPaused());
        QCOMPARE(queue.progress().active, 0);
        QCOMPARE(fx.document(q1).status, DocStatus::Hashed);

        // Pause the slow collection only, resume everything: the quick one is uploaded.
        queue.pauseCollection(slow);
        queue.resumeAll();
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(q1).status, DocStatus::Uploaded, 60'000);
        QCOMPARE(fx.document(a).status, DocStatus::Hashed);
        QTRY_VERIFY_WITH_TIMEOUT(idle.size() >= 1, 60'000);

        // Cancel the slow collection: a is not uploaded any more.
        queue.cancelCollection(slow);
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(a).status, DocStatus::Cancelled, 60'000);
        QTRY_VERIFY_WITH_TIMEOUT(!queue.isBusy(), 60'000);

        // A paused document stays; resuming it uploads it.
        const qint64 q2 = fx.addFile(quick, QStringLiteral("q2.txt"), "quick two");
        queue.pauseDocument(q2);
        queue.collectionHashed(quick);
        QTRY_VERIFY_WITH_TIMEOUT(!queue.isBusy(), 60'000);
        QCOMPARE(fx.document(q2).status, DocStatus::Hashed);
        queue.resumeDocument(q2);
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(q2).status, DocStatus::Uploaded, 60'000);
        QCOMPARE(bytes(stored(fx, QStringLiteral("quick"), QStringLiteral("q2.txt"))), QByteArray("quick two"));
    }

    void deletingARunningJobReturnsAtOnce()
    {
        FaultServer server;
        UploadFixture fx;
        const qint64 c = slowCollection(fx, server);
        QVERIFY(c);
        const qint64 a = fx.addFile(c, QStringLiteral("a.bin"), QByteArray(2 << 20, 'a'));
        auto *job = new UploadJob(fx.catalog(), fx.store(), fx.pools(), UploadScope{c, {}});
        job->setSettings(slowSettings());
        QFuture<UploadResult> result = job->result();
        job->start();
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(a).status, DocStatus::Uploading, 30'000);
        delete job;   // like closing the window: the work stops on its own
        QTRY_VERIFY_WITH_TIMEOUT(result.isFinished(), 30'000);
        QCOMPARE(result.result().outcome, UploadResult::Outcome::Cancelled);
        QTRY_COMPARE_WITH_TIMEOUT(fx.document(a).status, DocStatus::Hashed, 30'000);
    }
};

QTEST_GUILESS_MAIN(TestUploadJob)
#include "tst_uploadjob.moc"
