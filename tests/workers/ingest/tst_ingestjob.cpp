// ctest-labels: concurrency ingest
// ctest-timeout: 600
#include "catalog/catalog.h"
#include "catalog/dbconnections.h"
#include "catalogservers.h"
#include "hashing/hasher.h"
#include "ingest/ingestjob.h"
#include "jobs/pools.h"
#include "testsupport.h"

#include <QDir>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <filesystem>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace quire;

namespace {

void writeFile(const QByteArray &path, const QByteArray &content)
{
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    QVERIFY2(fd >= 0, path.constData());
    QCOMPARE(::write(fd, content.constData(), size_t(content.size())), ssize_t(content.size()));
    ::close(fd);
}

template <typename F>
auto onWorker(QThreadPool &, F fn)
{
    return quire::test::onWorker(std::move(fn));
}

} // namespace

class tst_IngestJob final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Every test runs against a SQLite file, a PostgreSQL and a MariaDB test server.
    void initTestCase_data();
    void init();
    void cleanup();

    void ingestsTreeIntoCollection();
    void marksDuplicates();
    void badInputIsReportedPerFile();
    void oddNamesRoundTrip();
    void vanishedBetweenListingAndHashing();
    void cancelKeepsWhatWasCataloged();
    void readdingIsUnchanged();
    void concurrentJobsOnSamePaths();
    void smallAndLargeFilesTogether();
    void signalsAreCoalescedOnJobThread();
    void hugeSparseFile();
    void relativePathsAreRecordedAbsolute();
    void serverRestartMidIngest();
    void twoProcessesIngestOverlappingFolders();
    void killedMidIngestLosesNothing();

private:
    // Every document of the collection: no path twice; hashed rows valid; with `complete`,
    // exactly `files` of them, all hashed, `originals` of them not duplicates.
    void checkRows(qint64 collectionId, int files, int originals, bool complete);
    // `quire add --no-upload` of `paths` into `collection` of this test's catalog, as a process
    // of its own (killed with SIGKILL after timeoutMs).
    test::ProgramResult runAdd(const QString &collection, const QStringList &paths, int timeoutMs);
    QByteArray dir() const { return QFile::encodeName(m_dir->path()); }
    qint64 makeCollection(const QString &name);
    IngestResult run(IngestJob &job);
    // A job that ingests `paths` into the collection, run to its end.
    IngestResult ingest(qint64 collectionId, QList<QByteArray> paths);
    QList<Document> docs(qint64 collectionId);

    QString backend() const;

    test::CatalogServers m_servers;
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_location;
    std::atomic<int> m_runs{0};   // runAdd() may run on two threads at once
    std::unique_ptr<Catalog> m_catalog;
    std::unique_ptr<Pools> m_pools;
    QThreadPool m_testPool;
};

void tst_IngestJob::initTestCase_data()
{
    test::CatalogServers::addBackendRows();
}

QString tst_IngestJob::backend() const
{
    QFETCH_GLOBAL(QString, backend);
    return backend;
}

void tst_IngestJob::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QString skip, fail;
    m_location = m_servers.newLocation(backend(), m_dir->path(), &skip, &fail);
    if (!skip.isEmpty())
        QSKIP(qPrintable(skip));
    QVERIFY2(!m_location.isEmpty(), qPrintable(fail));
    m_catalog = std::make_unique<Catalog>(CatalogConfig{m_location});
    m_pools = std::make_unique<Pools>(2, 2);
    QVERIFY(::mkdir((dir() + "/in").constData(), 0755) == 0);
    const Status opened = onWorker(m_testPool, [this] { return m_catalog->open(); });
    QVERIFY2(opened.ok(), qPrintable(opened.error()));
}

void tst_IngestJob::cleanup()
{
    m_pools.reset();
    m_testPool.waitForDone();
    m_catalog.reset();
    // QTemporaryDir cannot remove names that are not valid UTF-8; std::filesystem uses the bytes.
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir().toStdString()), ec);
    m_dir.reset();
}

qint64 tst_IngestJob::makeCollection(const QString &name)
{
    auto id = onWorker(m_testPool, [&] { return m_catalog->createCollection(name); });
    if (!id.ok())
        qFatal("createCollection: %s", qPrintable(id.error()));
    return *id;
}

IngestResult tst_IngestJob::run(IngestJob &job)
{
    QSignalSpy finished(&job, &IngestJob::finished);
    job.start();
    if (!QTest::qWaitFor([&] { return finished.count() == 1; }, 300'000))
        qFatal("the ingest job did not finish");
    return finished.first().first().value<IngestResult>();
}

IngestResult tst_IngestJob::ingest(qint64 collectionId, QList<QByteArray> paths)
{
    IngestJob job(*m_catalog, *m_pools, collectionId, std::move(paths));
    return run(job);
}

QList<Document> tst_IngestJob::docs(qint64 collectionId)
{
    DocumentQuery q;
    q.collectionId = collectionId;
    q.sortColumn = DocColumn::Name;
    auto r = onWorker(m_testPool, [&] { return m_catalog->documents(q); });
    if (!r.ok())
        qFatal("documents: %s", qPrintable(r.error()));
    return *r;
}

void tst_IngestJob::ingestsTreeIntoCollection()
{
    QVERIFY(::mkdir((dir() + "/in/sub").constData(), 0755) == 0);
    QVERIFY(::mkdir((dir() + "/in/sub/deeper").constData(), 0755) == 0);
    QHash<QByteArray, QByteArray> contents;
    for (int i = 0; i < 300; ++i) {
        const QByteArray rel = (i % 3 == 0 ? "/in/" : i % 3 == 1 ? "/in/sub/" : "/in/sub/deeper/")
                               + QByteArray("file-") + QByteArray::number(i) + ".txt";
        const QByteArray content = "document number " + QByteArray::number(i) + '\n';
        writeFile(dir() + rel, content);
        contents.insert(QByteArray("file-") + QByteArray::number(i) + ".txt", content);
    }
    const qint64 id = makeCollection(QStringLiteral("Tree"));
    const IngestResult r = ingest(id, {dir() + "/in"});
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.filesFound, 300);
    QCOMPARE(r.totals.filesHashed, 300);
    QCOMPARE(r.totals.filesDone, 300);
    QCOMPARE(r.totals.filesFailed, 0);
    QVERIFY(!r.totals.walking);

    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 300);
    for (const Document &d : all) {
        QCOMPARE(d.status, DocStatus::Hashed);
        QVERIFY(contents.contains(d.fileName.toUtf8()));
        const QByteArray content = contents.value(d.fileName.toUtf8());
        QCOMPARE(d.sha256, Hasher::hashBytes(content));
        QCOMPARE(d.size, content.size());
    }
}

void tst_IngestJob::marksDuplicates()
{
    writeFile(dir() + "/in/a.txt", "same bytes");
    writeFile(dir() + "/in/b.txt", "same bytes");
    writeFile(dir() + "/in/c.txt", "other bytes");
    const qint64 id = makeCollection(QStringLiteral("Dupes"));
    const IngestResult r = ingest(id, {dir() + "/in"});
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.filesHashed, 2);
    QCOMPARE(r.totals.filesDuplicate, 1);

    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 3);
    qint64 original = 0;
    qint64 duplicateOf = -1;
    for (const Document &d : all) {
        if (d.sha256 == Hasher::hashBytes("same bytes")) {
            if (d.status == DocStatus::Duplicate)
                duplicateOf = d.duplicateOf;
            else
                original = d.id;
        }
    }
    QVERIFY(original != 0);
    QCOMPARE(duplicateOf, original);

    // The same content in another collection is not a duplicate.
    const qint64 other = makeCollection(QStringLiteral("Other"));
    QCOMPARE(ingest(other, {dir() + "/in/a.txt"}).totals.filesHashed, 1);
}

void tst_IngestJob::badInputIsReportedPerFile()
{
    writeFile(dir() + "/in/good.txt", "good");
    writeFile(dir() + "/in/empty.txt", QByteArray());
    QVERIFY(::mkfifo((dir() + "/in/pipe").constData(), 0644) == 0);
    QVERIFY(::symlink("nowhere", (dir() + "/in/dangling").constData()) == 0);
    const qint64 id = makeCollection(QStringLiteral("Bad input"));
    const IngestResult r = ingest(id, {dir() + "/in", dir() + "/does-not-exist"});

    QCOMPARE(r.outcome, IngestResult::Outcome::SomeFailed);   // the missing root
    QCOMPARE(r.totals.filesHashed, 2);
    QCOMPARE(r.totals.filesFailed, 1);
    QCOMPARE(r.totals.filesSkipped, 2);                        // FIFO and dangling link
    bool sawMissing = false, sawFifo = false;
    for (const IngestIssue &i : r.issues) {
        if (i.path.endsWith("does-not-exist")) {
            sawMissing = true;
            QVERIFY(!i.skipped);
            QVERIFY2(i.reason.contains(QLatin1String("No such file")), qPrintable(i.reason));
        }
        if (i.path.endsWith("pipe")) {
            sawFifo = true;
            QVERIFY(i.skipped);
        }
    }
    QVERIFY(sawMissing);
    QVERIFY(sawFifo);

    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 2);
    for (const Document &d : all) {
        QCOMPARE(d.status, DocStatus::Hashed);
        if (d.fileName == QLatin1String("empty.txt"))
            QCOMPARE(d.sha256, QByteArray("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }
}

void tst_IngestJob::oddNamesRoundTrip()
{
    const QList<QByteArray> names = {
        "with spaces.txt", "new\nline.txt", "back\\slash.txt", "invalid-\xff\xfe-utf8.txt",
        "emoji-\xf0\x9f\x93\x84.txt", "-leading-dash", "quote'\"s.txt",
    };
    for (const QByteArray &n : names)
        writeFile(dir() + "/in/" + n, "content of " + n);
    const qint64 id = makeCollection(QStringLiteral("Odd names"));
    const IngestResult r = ingest(id, {dir() + "/in"});
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.filesHashed, names.size());

    QSet<QByteArray> seen;
    for (const Document &d : docs(id)) {
        QVERIFY(d.sourcePath.startsWith(dir() + "/in/"));
        const QByteArray n = d.sourcePath.mid(dir().size() + 4);
        QVERIFY2(names.contains(n), d.sourcePath.constData());
        QCOMPARE(d.sha256, Hasher::hashBytes("content of " + n));
        seen.insert(n);
    }
    QCOMPARE(seen.size(), names.size());
}

void tst_IngestJob::vanishedBetweenListingAndHashing()
{
    writeFile(dir() + "/in/stays.txt", "stays");
    writeFile(dir() + "/in/vanishes.txt", "vanishes");
    const qint64 id = makeCollection(QStringLiteral("Vanish"));
    IngestJob job(*m_catalog, *m_pools, id, {dir() + "/in"});
    QSignalSpy finished(&job, &IngestJob::finished);
    job.setPaused(true);   // listing and cataloging go on; hashing waits
    job.start();
    QTRY_VERIFY_WITH_TIMEOUT(!job.progress().walking && job.progress().filesFound == 2, 60'000);
    // Both are cataloged as queued before any is hashed.
    QTRY_COMPARE_WITH_TIMEOUT(docs(id).size(), 2, 60'000);
    QVERIFY(::unlink((dir() + "/in/vanishes.txt").constData()) == 0);
    job.setPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120'000);
    const auto r = finished.first().first().value<IngestResult>();
    QCOMPARE(r.outcome, IngestResult::Outcome::SomeFailed);
    QCOMPARE(r.totals.filesHashed, 1);
    QCOMPARE(r.totals.filesFailed, 1);
    QCOMPARE(r.issues.size(), 1);
    QVERIFY(r.issues.first().path.endsWith("vanishes.txt"));
    QVERIFY2(r.issues.first().reason.contains(QLatin1String("No such file")), qPrintable(r.issues.first().reason));

    for (const Document &d : docs(id)) {
        if (d.fileName == QLatin1String("vanishes.txt")) {
            QCOMPARE(d.status, DocStatus::Failed);
            QVERIFY(!d.error.isEmpty());
        } else {
            QCOMPARE(d.status, DocStatus::Hashed);
        }
    }
}

void tst_IngestJob::cancelKeepsWhatWasCataloged()
{
    for (int i = 0; i < 50; ++i)
        writeFile(dir() + "/in/f" + QByteArray::number(i), QByteArray::number(i));
    const qint64 id = makeCollection(QStringLiteral("Cancel"));
    IngestJob job(*m_catalog, *m_pools, id, {dir() + "/in"});
    QSignalSpy finished(&job, &IngestJob::finished);
    job.setPaused(true);
    job.start();
    QTRY_VERIFY_WITH_TIMEOUT(!job.progress().walking && job.progress().filesFound == 50, 60'000);
    QTRY_COMPARE_WITH_TIMEOUT(docs(id).size(), 50, 60'000);
    job.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120'000);
    const auto r = finished.first().first().value<IngestResult>();
    QCOMPARE(r.outcome, IngestResult::Outcome::Cancelled);
    QCOMPARE(r.totals.filesDone, 50);
    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 50);   // what was cataloged stays
    for (const Document &d : all)
        QCOMPARE(d.status, DocStatus::Cancelled);

    // Adding again picks the cancelled documents up and finishes them.
    IngestJob again(*m_catalog, *m_pools, id, {dir() + "/in"});
    const IngestResult r2 = run(again);
    QCOMPARE(r2.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r2.totals.filesHashed, 50);
    QCOMPARE(docs(id).size(), 50);
}

void tst_IngestJob::readdingIsUnchanged()
{
    for (int i = 0; i < 20; ++i)
        writeFile(dir() + "/in/f" + QByteArray::number(i), "x" + QByteArray::number(i));
    const qint64 id = makeCollection(QStringLiteral("Again"));
    IngestJob first(*m_catalog, *m_pools, id, {dir() + "/in"});
    QCOMPARE(run(first).totals.filesHashed, 20);
    IngestJob second(*m_catalog, *m_pools, id, {dir() + "/in"});
    const IngestResult r = run(second);
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.filesUnchanged, 20);
    QCOMPARE(r.totals.filesHashed, 0);
    QCOMPARE(docs(id).size(), 20);
}

// Two jobs adding the same folder to one collection at the same time: small new files are
// hashed before they are cataloged, so both jobs may find a path new; each path must still end
// up as exactly one document, hashed, and both jobs must account for every file.
void tst_IngestJob::concurrentJobsOnSamePaths()
{
    for (int i = 0; i < 600; ++i)
        writeFile(dir() + "/in/c" + QByteArray::number(i), "content " + QByteArray::number(i % 500));
    const qint64 id = makeCollection(QStringLiteral("Together"));
    IngestJob a(*m_catalog, *m_pools, id, {dir() + "/in"});
    IngestJob b(*m_catalog, *m_pools, id, {dir() + "/in"});
    QSignalSpy aDone(&a, &IngestJob::finished);
    QSignalSpy bDone(&b, &IngestJob::finished);
    a.start();
    b.start();
    QTRY_VERIFY_WITH_TIMEOUT(aDone.count() == 1 && bDone.count() == 1, 300'000);
    for (QSignalSpy *spy : {&aDone, &bDone}) {
        const auto r = spy->first().first().value<IngestResult>();
        QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
        QCOMPARE(r.totals.filesFound, 600);
        QCOMPARE(r.totals.filesDone, 600);
        QCOMPARE(r.totals.filesFailed, 0);
    }
    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 600);
    QSet<QByteArray> paths;
    int originals = 0;
    for (const Document &d : all) {
        paths.insert(d.sourcePath);
        QVERIFY2(d.status == DocStatus::Hashed || d.status == DocStatus::Duplicate, qPrintable(statusName(d.status)));
        originals += d.status == DocStatus::Hashed;
    }
    QCOMPARE(paths.size(), 600);
    QCOMPARE(originals, 500);   // 100 files repeat the content of another
}

// Large files are listed as queued before they are hashed (with progress); small ones are
// cataloged once hashed. Both end up right, in one collection, with duplicates across the two.
void tst_IngestJob::smallAndLargeFilesTogether()
{
    const QByteArray big(9 << 20, 'L');   // above the size that reports hashing progress
    writeFile(dir() + "/in/big1.bin", big);
    writeFile(dir() + "/in/small.txt", "small");
    writeFile(dir() + "/in/big2.bin", big);
    const qint64 id = makeCollection(QStringLiteral("Mixed"));
    IngestJob job(*m_catalog, *m_pools, id, {dir() + "/in"});
    QList<DocumentEvent> events;
    connect(&job, &IngestJob::documentsChanged, this, [&](const QList<DocumentEvent> &e) { events += e; });
    const IngestResult r = run(job);
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.filesHashed, 2);
    QCOMPARE(r.totals.filesDuplicate, 1);
    QCOMPARE(r.totals.bytesDone, 2 * big.size() + 5);
    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 3);
    QHash<QString, Document> byName;
    for (const Document &d : all)
        byName.insert(d.fileName, d);
    QCOMPARE(byName.value(QStringLiteral("small.txt")).status, DocStatus::Hashed);
    QCOMPARE(byName.value(QStringLiteral("small.txt")).sha256, Hasher::hashBytes("small"));
    const Document b1 = byName.value(QStringLiteral("big1.bin")), b2 = byName.value(QStringLiteral("big2.bin"));
    QCOMPARE(QSet<DocStatus>({b1.status, b2.status}), QSet<DocStatus>({DocStatus::Hashed, DocStatus::Duplicate}));
    QCOMPARE(b1.sha256, Hasher::hashBytes(big));
    // Every document's last event carries its final status.
    QHash<qint64, DocStatus> last;
    for (const DocumentEvent &e : std::as_const(events))
        last.insert(e.id, e.status);
    for (const Document &d : all)
        QCOMPARE(last.value(d.id, DocStatus::Queued), d.status);
}

void tst_IngestJob::signalsAreCoalescedOnJobThread()
{
    for (int i = 0; i < 2000; ++i)
        writeFile(dir() + "/in/n" + QByteArray::number(i), QByteArray::number(i * 7919));
    const qint64 id = makeCollection(QStringLiteral("Signals"));
    IngestJob job(*m_catalog, *m_pools, id, {dir() + "/in"});
    QThread *const mine = QThread::currentThread();
    int batches = 0;
    QHash<qint64, DocStatus> last;
    bool wrongThread = false;
    connect(&job, &IngestJob::documentsChanged, this, [&](const QList<DocumentEvent> &events) {
        wrongThread |= QThread::currentThread() != mine;
        ++batches;
        for (const DocumentEvent &e : events)
            last.insert(e.id, e.status);
    });
    QSignalSpy progress(&job, &IngestJob::progressChanged);
    const IngestResult r = run(job);
    QVERIFY(!wrongThread);
    QCOMPARE(r.totals.filesHashed, 2000);
    // Every document was reported, in far fewer batches than documents.
    QCOMPARE(last.size(), 2000);
    for (DocStatus s : std::as_const(last))
        QCOMPARE(s, DocStatus::Hashed);
    QVERIFY2(batches < 2000, qPrintable(QString::number(batches)));
    QVERIFY(progress.count() >= 1);
    QCOMPARE(progress.last().first().value<IngestProgress>().filesDone, 2000);
}

void tst_IngestJob::hugeSparseFile()
{
    const QByteArray path = dir() + "/in/huge.bin";
    const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    QVERIFY(fd >= 0);
    const qint64 size = (qint64(4) << 30) + 4096;   // over 4 GiB
    QCOMPARE(::ftruncate(fd, size), 0);
    ::close(fd);
    const qint64 id = makeCollection(QStringLiteral("Huge"));
    const IngestResult r = ingest(id, {path});
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.bytesDone, size);
    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 1);
    QCOMPARE(all.first().size, size);
    QCOMPARE(all.first().sha256.size(), 64);
}

void tst_IngestJob::relativePathsAreRecordedAbsolute()
{
    // `quire add docs/a.txt`: uploads and "Show in Folder" run later, from any folder, so the
    // catalog must hold where the file is, not where it was relative to.
    QVERIFY(::mkdir((dir() + "/in/rel").constData(), 0755) == 0);
    writeFile(dir() + "/in/rel/a.txt", "relative a");
    writeFile(dir() + "/in/b.txt", "relative b");
    const QString before = QDir::currentPath();
    QVERIFY(QDir::setCurrent(m_dir->filePath(QStringLiteral("in"))));
    const qint64 id = makeCollection(QStringLiteral("Relative"));
    IngestJob job(*m_catalog, *m_pools, id, {"./rel/", "rel/../b.txt"});
    QVERIFY(QDir::setCurrent(before));   // the job resolved them when it was made
    const IngestResult r = run(job);
    QCOMPARE(r.outcome, IngestResult::Outcome::Succeeded);
    QCOMPARE(r.totals.filesDone, 2);
    const QList<Document> all = docs(id);
    QCOMPARE(all.size(), 2);
    // The current folder as the system has it (the temp folder may be reached through a link).
    const QByteArray physical = QFile::encodeName(QFileInfo(m_dir->path()).canonicalFilePath());
    QCOMPARE(all.at(0).sourcePath, physical + "/in/rel/a.txt");
    QCOMPARE(all.at(1).sourcePath, physical + "/in/rel/../b.txt");   // ".." kept: links may lead elsewhere
}

QTEST_GUILESS_MAIN(tst_IngestJob)
// The database server stops in the middle of an ingest and comes back: the job ends with
// success (its writes were retried) or with a clear error, nothing is half written, and running
// it again records every file exactly once.
void tst_IngestJob::serverRestartMidIngest()
{
    if (backend() == QLatin1StringView("sqlite"))
        QSKIP("a SQLite catalog has no server");
    constexpr int kFiles = 3000;
    QVERIFY(::mkdir((dir() + "/in/a").constData(), 0755) == 0);
    QVERIFY(::mkdir((dir() + "/in/b").constData(), 0755) == 0);
    for (int i = 0; i < kFiles; ++i)
        writeFile(dir() + (i % 2 ? "/in/a/r" : "/in/b/r") + QByteArray::number(i), "restart " + QByteArray::number(i % 2900));
    const qint64 id = makeCollection(QStringLiteral("Restart"));

    IngestJob job(*m_catalog, *m_pools, id, {dir() + "/in"});
    QSignalSpy finished(&job, &IngestJob::finished);
    int recorded = 0;
    connect(&job, &IngestJob::documentsChanged, this, [&](const QList<DocumentEvent> &e) { recorded += int(e.size()); });
    job.start();
    QVERIFY(QTest::qWaitFor([&] { return recorded >= 200 || finished.count() == 1; }, 120'000));
    // Down until the job has run into it, as in a quick restart: a job's thread found its
    // connection gone and dropped it (often while the server is still shutting down; once it is
    // down no new connection opens, so the count of open connections only falls).
    const ConnectionManager &connections = m_catalog->connections();
    const int openBefore = connections.openConnections();
    auto jobMetTheOutage = [&] {
        return QTest::qWaitFor([&] { return connections.openConnections() < openBefore || finished.count() == 1; },
                               60'000);
    };
    bool restarted = false;
    bool met = false;
    if (backend() == QLatin1StringView("postgres")) {
        test::PgServer *pg = m_servers.postgres();
        restarted = pg->stopServer();
        met = jobMetTheOutage();
        restarted = pg->startAgain() && restarted;
        QVERIFY2(restarted, qPrintable(pg->error()));
    } else {
        test::MariaDbServer *maria = m_servers.mariaDb();
        restarted = maria->stop();
        met = jobMetTheOutage();
        restarted = maria->start() && restarted;
        QVERIFY2(restarted, qPrintable(maria->error()));
    }
    QVERIFY2(met, "the job did not come back to the stopped server within 60 s");
    QVERIFY(QTest::qWaitFor([&] { return finished.count() == 1; }, 300'000));
    const auto first = finished.first().first().value<IngestResult>();
    if (first.outcome == IngestResult::Outcome::Error) {
        // It names the catalog (the server), not just the driver's words.
        QVERIFY2(first.error.contains(CatalogConfig{m_location}.displayLocation()), qPrintable(first.error));
    } else {
        QVERIFY2(first.outcome == IngestResult::Outcome::Succeeded,
                 qPrintable(QStringLiteral("outcome %1: %2").arg(int(first.outcome)).arg(first.error)));
    }
    qInfo("first run: outcome %d, %lld of %d files done; %s", int(first.outcome), qlonglong(first.totals.filesDone),
          kFiles, qPrintable(first.error));

    // Whatever the first run did is whole: a hashed row has its hash, and no path is there twice.
    checkRows(id, kFiles, 2900, false);
    if (QTest::currentTestFailed())
        return;

    IngestJob again(*m_catalog, *m_pools, id, {dir() + "/in"});
    const IngestResult second = run(again);
    QVERIFY2(second.outcome == IngestResult::Outcome::Succeeded, qPrintable(second.error));
    QCOMPARE(second.totals.filesFound, kFiles);
    checkRows(id, kFiles, 2900, true);
}

void tst_IngestJob::checkRows(qint64 collectionId, int files, int originals, bool complete)
{
    const QList<Document> all = docs(collectionId);
    QSet<QByteArray> paths;
    int hashed = 0;
    for (const Document &d : all) {
        QVERIFY2(!paths.contains(d.sourcePath), d.sourcePath.constData());
        paths.insert(d.sourcePath);
        if (d.status == DocStatus::Hashed || d.status == DocStatus::Duplicate)
            QVERIFY2(!Catalog::documentRowError(d), qPrintable(Catalog::documentRowError(d).value_or(QString())));
        else
            QVERIFY2(!complete && (d.status == DocStatus::Queued || d.status == DocStatus::Hashing),
                     qPrintable(statusName(d.status)));
        hashed += d.status == DocStatus::Hashed;
    }
    QVERIFY(all.size() <= files);
    if (complete) {
        QCOMPARE(all.size(), files);
        QCOMPARE(hashed, originals);
    }
}

test::ProgramResult tst_IngestJob::runAdd(const QString &collection, const QStringList &paths, int timeoutMs)
{
    QStringList args{QStringLiteral("--catalog"), m_location, QStringLiteral("--config"),
                     m_dir->filePath(QStringLiteral("settings-%1.json").arg(++m_runs)), QStringLiteral("add"),
                     QStringLiteral("--collection"), collection, QStringLiteral("--no-upload")};
    // Under ThreadSanitizer (tsan preset) the child's reports are off: the command line hands its
    // job between threads through Qt's event queue, whose lock TSan cannot see (tests/tsan.supp);
    // what these tests check is the catalog the processes share.
    return test::runProgram(test::quireBinary(), args + paths, {}, timeoutMs,
                            {{"QUIRE_MACHINE_ID", "same-machine"}, {"TSAN_OPTIONS", "report_bugs=0"}});
}

// `quire add` killed (SIGKILL) in the middle of a big folder: what it recorded is whole, no path
// is there twice, and adding the folder again records every file once.
void tst_IngestJob::killedMidIngestLosesNothing()
{
    constexpr int kFiles = 4000;
    for (int i = 0; i < kFiles; ++i)
        writeFile(dir() + "/in/k" + QByteArray::number(i), "killed " + QByteArray::number(i % 3900));
    const qint64 id = makeCollection(QStringLiteral("Killed"));
    const test::ProgramResult killed = runAdd(QStringLiteral("Killed"), {QFile::decodeName(dir() + "/in")}, 700);
    qInfo("quire add %s", killed.finished ? "finished before the kill" : "was killed mid-ingest");
    if (killed.finished)
        QVERIFY2(killed.ok(), qPrintable(killed.error + QString::fromUtf8(killed.err)));
    checkRows(id, kFiles, 3900, false);
    if (QTest::currentTestFailed())
        return;
    const test::ProgramResult again = runAdd(QStringLiteral("Killed"), {QFile::decodeName(dir() + "/in")}, 300'000);
    QVERIFY2(again.ok(), qPrintable(again.error + QString::fromUtf8(again.err)));
    checkRows(id, kFiles, 3900, true);
}

// Two processes (the command line) add overlapping folders into one catalog at the same time:
// every file once, none lost, duplicates marked as such.
void tst_IngestJob::twoProcessesIngestOverlappingFolders()
{
    constexpr int kFiles = 600;
    QVERIFY(::mkdir((dir() + "/in/shared").constData(), 0755) == 0);
    QVERIFY(::mkdir((dir() + "/in/onlyA").constData(), 0755) == 0);
    QVERIFY(::mkdir((dir() + "/in/onlyB").constData(), 0755) == 0);
    for (int i = 0; i < kFiles; ++i) {
        const QByteArray folder = i % 3 == 0 ? "/in/shared/" : i % 3 == 1 ? "/in/onlyA/" : "/in/onlyB/";
        writeFile(dir() + folder + "p" + QByteArray::number(i), "two processes " + QByteArray::number(i % 550));
    }
    const qint64 id = makeCollection(QStringLiteral("Shared"));
    auto add = [&](const QByteArray &other) {
        return runAdd(QStringLiteral("Shared"), {QFile::decodeName(dir() + "/in/shared"), QFile::decodeName(dir() + other)},
                      300'000);
    };
    test::ProgramResult a, b;
    std::thread first([&] { a = add("/in/onlyA"); });
    std::thread second([&] { b = add("/in/onlyB"); });
    first.join();
    second.join();
    QVERIFY2(a.ok(), qPrintable(a.error + QString::fromUtf8(a.err)));
    QVERIFY2(b.ok(), qPrintable(b.error + QString::fromUtf8(b.err)));

    checkRows(id, kFiles, 550, true);
}

#include "tst_ingestjob.moc"
