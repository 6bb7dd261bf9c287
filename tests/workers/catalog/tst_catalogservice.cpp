// ctest-labels: ui
#include "catalog/catalog.h"
#include "catalogservers.h"
#include "catalog/catalogservice.h"
#include "hashing/hasher.h"
#include "jobs/pools.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace quire;
using quire::test::onWorker;

namespace {
constexpr int kTimeout = 60'000;

// Waits (spinning the event loop, never blocking it) for a future to resolve.
template <typename T>
T await(QFuture<T> f)
{
    if (!QTest::qWaitFor([&] { return f.isFinished(); }, kTimeout))
        qFatal("future did not resolve");
    return f.result();   // finished: result() does not wait (nor steal work)
}
} // namespace

class tst_CatalogService final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Every test runs against a SQLite file, a PostgreSQL and a MariaDB test server.
    void initTestCase_data() { test::CatalogServers::addBackendRows(); }
    void init();
    void cleanup();

    void queriesRunOffTheGuiThread();
    void editsEmitHints();
    void ensureCollectionIsIdempotent();
    void collectionRemotes();
    void removeAndRestoreRoundTrip();
    void ingestTracksJobsAndSummary();
    void pauseAndCancelAll();
    void retryFailedReingestsSources();
    void verifyComparesWithTheFile();
    void suggestsCollectionNames_data();
    void suggestsCollectionNames();

private:
    test::CatalogServers m_servers;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Catalog> m_catalog;
    std::unique_ptr<Pools> m_pools;
    std::unique_ptr<CatalogService> m_service;
};

void tst_CatalogService::init()
{
    QFETCH_GLOBAL(QString, backend);
    m_dir = std::make_unique<QTemporaryDir>();
    QString skip, fail;
    const QString location = m_servers.newLocation(backend, m_dir->path(), &skip, &fail);
    if (!skip.isEmpty())
        QSKIP(qPrintable(skip));
    QVERIFY2(!location.isEmpty(), qPrintable(fail));
    m_catalog = std::make_unique<Catalog>(CatalogConfig{location});
    m_pools = std::make_unique<Pools>(2, 2);
    m_service = std::make_unique<CatalogService>(*m_catalog, *m_pools);
    const Status opened = await(m_service->open());
    QVERIFY2(opened.ok(), qPrintable(opened.error()));
}

void tst_CatalogService::cleanup()
{
    m_service.reset();
    m_pools.reset();
    m_catalog.reset();
    m_dir.reset();
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

void tst_CatalogService::queriesRunOffTheGuiThread()
{
    const auto id = await(m_service->createCollection(QStringLiteral("One")));
    QVERIFY(id.ok());
    const auto list = await(m_service->collections());
    QVERIFY(list.ok());
    QCOMPARE(list->size(), 1);
    QCOMPARE(list->first().name, QStringLiteral("One"));
    const auto byName = await(m_service->collectionByName(QStringLiteral("One")));
    QVERIFY(byName.ok() && byName->has_value());
    QCOMPARE((*byName)->id, *id);
    const auto count = await(m_service->countDocuments(DocumentQuery{}));
    QVERIFY(count.ok());
    QCOMPARE(*count, qint64(0));
    QVERIFY(m_service->connectionStats().opened >= 1);
    QCOMPARE(m_service->connectionStats().queriesInFlight, 0);
}

void tst_CatalogService::editsEmitHints()
{
    QSignalSpy collections(m_service.get(), &CatalogService::collectionsChanged);
    QSignalSpy documents(m_service.get(), &CatalogService::documentsChanged);
    const auto id = await(m_service->createCollection(QStringLiteral("Two")));
    QVERIFY(id.ok());
    // Edits resolve after their hint was emitted, on this thread.
    QCOMPARE(collections.count(), 1);
    QVERIFY(await(m_service->renameCollection(*id, QStringLiteral("Deux"))).ok());
    QCOMPARE(collections.count(), 2);
    QVERIFY(!await(m_service->renameCollection(*id, QStringLiteral("a/b"))).ok());
    QCOMPARE(collections.count(), 2);   // no hint for a failed edit
    QVERIFY(await(m_service->removeCollection(*id)).ok());
    QCOMPARE(collections.count(), 3);
    QCOMPARE(documents.count(), 1);
    QCOMPARE(documents.first().first().toLongLong(), *id);
}

void tst_CatalogService::ensureCollectionIsIdempotent()
{
    const auto a = await(m_service->ensureCollection(QStringLiteral("Inbox")));
    const auto b = await(m_service->ensureCollection(QStringLiteral("Inbox")));
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(*a, *b);
    QVERIFY(!await(m_service->ensureCollection(QStringLiteral(".."))).ok());
}

void tst_CatalogService::collectionRemotes()
{
    QSignalSpy collections(m_service.get(), &CatalogService::collectionsChanged);
    const auto remoteOf = [&](qint64 id) {
        const auto c = await(m_service->collection(id));
        return c.ok() && c->has_value() ? (*c)->remote : QStringLiteral("<missing>");
    };
    // Created with a remote; an existing collection keeps its own when "ensured" with another.
    const auto a = await(m_service->createCollection(QStringLiteral("Papers"), QStringLiteral("nas")));
    QVERIFY(a.ok());
    QCOMPARE(remoteOf(*a), QStringLiteral("nas"));
    const auto b = await(m_service->ensureCollection(QStringLiteral("Scans"), QStringLiteral("shelf")));
    QVERIFY(b.ok());
    QCOMPARE(remoteOf(*b), QStringLiteral("shelf"));
    QCOMPARE(*await(m_service->ensureCollection(QStringLiteral("Scans"), QStringLiteral("nas"))), *b);
    QCOMPARE(remoteOf(*b), QStringLiteral("shelf"));

    // Changed and cleared on the I/O pool; the hint comes before the future resolves.
    collections.clear();
    QVERIFY(await(m_service->setCollectionRemote(*a, QStringLiteral("shelf"))).ok());
    QCOMPARE(collections.count(), 1);
    QCOMPARE(remoteOf(*a), QStringLiteral("shelf"));
    QVERIFY(await(m_service->setCollectionRemote(*a, QString())).ok());
    QCOMPARE(collections.count(), 2);
    QCOMPARE(remoteOf(*a), QString());
    // A collection that is gone: a failure that names it, and no hint.
    QVERIFY(await(m_service->removeCollection(*b)).ok());
    collections.clear();
    const Status gone = await(m_service->setCollectionRemote(*b, QStringLiteral("nas")));
    QVERIFY(!gone.ok());
    QVERIFY2(gone.error().contains(QLatin1String("no such collection")), qPrintable(gone.error()));
    QCOMPARE(collections.count(), 0);
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

void tst_CatalogService::removeAndRestoreRoundTrip()
{
    const qint64 c = *await(m_service->createCollection(QStringLiteral("R")));
    const QList<QueuedDocument> queued = onWorker([&] {
        QList<NewDocument> docs;
        for (int i = 0; i < 10; ++i)
            docs << NewDocument{"/nowhere/" + QByteArray::number(i), QStringLiteral("n%1").arg(i), i, i};
        return m_catalog->addQueued(c, docs).valueOr({});
    });
    QCOMPARE(queued.size(), 10);
    const QList<qint64> ids{queued.at(2).id, queued.at(5).id};
    const auto removed = await(m_service->removeDocuments(ids));
    QVERIFY(removed.ok());
    QCOMPARE(removed->size(), 2);
    QCOMPARE(uitest::documentsOf(*m_catalog, c).size(), 8);
    QVERIFY(await(m_service->restoreDocuments(*removed)).ok());
    const QList<Document> back = uitest::documentsOf(*m_catalog, c);
    QCOMPARE(back.size(), 10);
    QVERIFY(std::any_of(back.cbegin(), back.cend(), [&](const Document &d) { return d.id == ids.first(); }));
}

void tst_CatalogService::ingestTracksJobsAndSummary()
{
    const qint64 c = *await(m_service->createCollection(QStringLiteral("I")));
    for (int i = 0; i < 20; ++i)
        uitest::writeFile(m_dir->filePath(QStringLiteral("in/%1.txt").arg(i)), QByteArray(1000 + i, 'x'));
    QSignalSpy started(m_service.get(), &CatalogService::jobStarted);
    QSignalSpy finished(m_service.get(), &CatalogService::jobFinished);
    QSignalSpy idle(m_service.get(), &CatalogService::idle);
    QSignalSpy events(m_service.get(), &CatalogService::documentEvents);
    IngestJob *job = m_service->ingest(c, {QFile::encodeName(m_dir->filePath(QStringLiteral("in")))});
    QVERIFY(job);
    QCOMPARE(started.count(), 1);
    QVERIFY(m_service->isBusy());
    QVERIFY(m_service->isCollectionBusy(c));
    QCOMPARE(m_service->busyCollections(), QList<qint64>{c});
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, kTimeout);
    QCOMPARE(finished.count(), 1);
    QVERIFY(!m_service->isBusy());
    QVERIFY(events.count() >= 1);
    // Totals survive the job (until the next batch of work starts).
    const WorkSummary s = m_service->summary();
    QCOMPARE(s.runningJobs, 0);
    QCOMPARE(s.filesFound, qint64(20));
    QCOMPARE(s.filesDone, qint64(20));
    QCOMPARE(uitest::documentsOf(*m_catalog, c).size(), 20);
    const auto counts = await(m_service->statusCounts(c));
    QVERIFY(counts.ok());
    QCOMPARE(counts->value(DocStatus::Hashed), qint64(20));
}

void tst_CatalogService::pauseAndCancelAll()
{
    const qint64 c = *await(m_service->createCollection(QStringLiteral("P")));
    for (int i = 0; i < 50; ++i)
        uitest::writeFile(m_dir->filePath(QStringLiteral("p/%1.bin").arg(i)), QByteArray(64 * 1024, char(i)));
    QSignalSpy paused(m_service.get(), &CatalogService::pausedChanged);
    QSignalSpy finished(m_service.get(), &CatalogService::jobFinished);
    m_service->setPaused(true);   // jobs started while paused start paused
    IngestJob *job = m_service->ingest(c, {QFile::encodeName(m_dir->filePath(QStringLiteral("p")))});
    QVERIFY(job->isPaused());
    QCOMPARE(paused.count(), 1);
    m_service->cancelAll();
    QVERIFY(!m_service->isPaused());   // cancel resumes so that the jobs can notice
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    const auto result = finished.first().at(1).value<IngestResult>();
    QVERIFY(result.outcome == IngestResult::Outcome::Cancelled || result.outcome == IngestResult::Outcome::Succeeded);
}

void tst_CatalogService::retryFailedReingestsSources()
{
    const qint64 c = *await(m_service->createCollection(QStringLiteral("F")));
    const QString path = m_dir->filePath(QStringLiteral("later.txt"));
    uitest::writeFile(path, "now it exists");
    const qint64 id = onWorker([&] {
        const auto q = m_catalog->addQueued(c, {NewDocument{QFile::encodeName(path), QStringLiteral("later.txt"), 1, 1}});
        const qint64 docId = q.valueOr({}).value(0).id;
        (void)m_catalog->setStatus({docId}, DocStatus::Failed, QStringLiteral("No such file or directory"));
        return docId;
    });
    QVERIFY(id > 0);
    QSignalSpy idle(m_service.get(), &CatalogService::idle);
    const auto retried = await(m_service->retryFailed(c));
    QVERIFY(retried.ok());
    QCOMPARE(*retried, 1);
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, kTimeout);
    bool hashed = false;
    for (const Document &d : uitest::documentsOf(*m_catalog, c))
        hashed = hashed || (d.sourcePath == QFile::encodeName(path) && d.status == DocStatus::Hashed);
    QVERIFY(hashed);
    QCOMPARE(*await(m_service->retryFailed(c)), 0);
}

void tst_CatalogService::verifyComparesWithTheFile()
{
    const qint64 c = *await(m_service->createCollection(QStringLiteral("V")));
    const QString path = m_dir->filePath(QStringLiteral("v.txt"));
    uitest::writeFile(path, "original");
    QSignalSpy idle(m_service.get(), &CatalogService::idle);
    m_service->ingest(c, {QFile::encodeName(path)});
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, kTimeout);
    const QList<Document> docs = uitest::documentsOf(*m_catalog, c);
    QCOMPARE(docs.size(), 1);
    const qint64 id = docs.first().id;

    auto v = await(m_service->verify(id));
    QVERIFY(v.ok());
    QCOMPARE(v->outcome, VerifyResult::Outcome::Match);
    QCOMPARE(v->actual, Hasher::hashBytes("original"));

    uitest::writeFile(path, "changed!");
    v = await(m_service->verify(id));
    QCOMPARE(v->outcome, VerifyResult::Outcome::Mismatch);
    QCOMPARE(v->actual, Hasher::hashBytes("changed!"));

    QFile::remove(path);
    v = await(m_service->verify(id));
    QCOMPARE(v->outcome, VerifyResult::Outcome::Unreadable);
    QVERIFY(!v->error.isEmpty());

    QVERIFY(!await(m_service->verify(id + 1000)).ok());
}

void tst_CatalogService::suggestsCollectionNames_data()
{
    QTest::addColumn<QStringList>("paths");
    QTest::addColumn<QString>("expected");
    QTest::newRow("a folder") << QStringList{QStringLiteral("Scans 2024")} << QStringLiteral("Scans 2024");
    QTest::newRow("a folder, trailing slash") << QStringList{QStringLiteral("Scans 2024/")} << QStringLiteral("Scans 2024");
    QTest::newRow("a file") << QStringList{QStringLiteral("Scans 2024/a.pdf")} << QStringLiteral("Scans 2024");
    QTest::newRow("several") << QStringList{QStringLiteral("Scans 2024/a.pdf"), QStringLiteral("Scans 2024/b.pdf")}
                             << QStringLiteral("Scans 2024");
    QTest::newRow("nothing") << QStringList{} << QStringLiteral("Fallback");
}

void tst_CatalogService::suggestsCollectionNames()
{
    QFETCH(QStringList, paths);
    QFETCH(QString, expected);
    uitest::writeFile(m_dir->filePath(QStringLiteral("Scans 2024/a.pdf")), "a");
    uitest::writeFile(m_dir->filePath(QStringLiteral("Scans 2024/b.pdf")), "b");
    QList<QByteArray> native;
    for (const QString &p : paths)
        native << QFile::encodeName(m_dir->path() + QLatin1Char('/') + p);
    QCOMPARE(await(m_service->suggestCollectionName(native, QStringLiteral("Fallback"))), expected);
}

QTEST_MAIN(tst_CatalogService)
#include "tst_catalogservice.moc"
