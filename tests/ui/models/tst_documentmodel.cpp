// ctest-labels: ui
// ctest-timeout: 600
#include "catalog/catalog.h"
#include "catalog/catalogservice.h"
#include "models/documentmodel.h"
#include "hashing/hasher.h"
#include "jobs/pools.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAbstractItemModelTester>
#include <QMimeData>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace quire;
using quire::test::onWorker;

namespace {
constexpr int kDocuments = 100'000;
constexpr int kBatch = 200;

QByteArray hexFor(qint64 n)
{
    return Hasher::hashBytes(QByteArray::number(n));
}

QList<qint64> idsOf(const QList<Document> &docs)
{
    QList<qint64> ids;
    for (const Document &d : docs)
        ids << d.id;
    return ids;
}

QList<qint64> modelIds(const DocumentModel &model)
{
    QList<qint64> ids;
    for (int row = 0; row < model.rowCount(); ++row)
        ids << model.documentAt(row).id;
    return ids;
}
} // namespace

class tst_DocumentModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();

    void firstRowsArriveWithoutLoadingTheRest();
    void fetchMoreAppendsTheNextBatch();
    void sortMatchesSql_data();
    void sortMatchesSql();
    void filterMatchesSql_data();
    void filterMatchesSql();
    void staleRepliesAreDropped();
    void statusEventsUpdateTheRightRows();
    void removedRowsDisappearOnRefresh();
    void changeWhileLoadingIsNotLost();
    void dragOutCarriesSourceFiles();

private:
    // Waits for the model's current query to deliver its first rows.
    bool waitLoaded(QSignalSpy &spy, int count = 1);
    QList<Document> sqlRows(DocumentQuery q, qint64 limit);

    std::unique_ptr<uitest::UiFixture> m_fx;   // for the whole test case: filling it takes a while
    std::unique_ptr<DocumentModel> m_model;
    qint64 m_collection = 0;
    qint64 m_other = 0;
};

void tst_DocumentModel::initTestCase()
{
    m_fx = std::make_unique<uitest::UiFixture>(QStringLiteral("catalog.sqlite"), 2, 3);
    QVERIFY(m_fx->isValid());
    const Status opened = onWorker([this] { return m_fx->catalog().open(); });
    QVERIFY2(opened.ok(), qPrintable(opened.error()));

    // 100,000 documents in a few big transactions, on a worker (the catalog refuses the GUI thread).
    const QString error = onWorker([this]() -> QString {
        auto c = m_fx->catalog().createCollection(QStringLiteral("Big"));
        if (!c)
            return c.error();
        m_collection = *c;
        auto o = m_fx->catalog().createCollection(QStringLiteral("Other"));
        if (!o)
            return o.error();
        m_other = *o;
        const int chunk = 25'000;
        for (int start = 0; start < kDocuments; start += chunk) {
            QList<NewDocument> docs;
            docs.reserve(chunk);
            for (int i = start; i < start + chunk; ++i) {
                // Names out of insertion order, with shared substrings to filter on.
                const int k = int((qint64(i) * 7919) % kDocuments);
                NewDocument d;
                d.fileName = QStringLiteral("file%1-%2.txt").arg(k, 6, 10, QLatin1Char('0')).arg(i % 3 ? u"a" : u"B");
                d.sourcePath = "/nonexistent/quire-test/" + QByteArray::number(i) + ".txt";
                d.size = (i * 37) % 100'000;
                d.mtimeMs = 1'700'000'000'000 + i;
                docs << d;
            }
            auto added = m_fx->catalog().addQueued(m_collection, docs);
            if (!added)
                return added.error();
        }
        // Some variety: hashes for a few thousand, failures and duplicates for some.
        QList<HashUpdate> hashes;
        for (qint64 id = 1; id <= 3000; ++id) {
            HashUpdate u;
            u.id = id;
            u.sha256 = hexFor(id);
            u.size = (id * 37) % 100'000;
            u.mtimeMs = 1'700'000'000'000 + id - 1;
            hashes << u;
        }
        if (auto r = m_fx->catalog().applyHashes(hashes); !r)
            return r.error();
        QList<qint64> failed;
        for (qint64 id = 5000; id < 6000; id += 3)
            failed << id;
        if (auto r = m_fx->catalog().setStatus(failed, DocStatus::Failed, QStringLiteral("Permission denied")); !r)
            return r.error();
        QList<NewDocument> few;
        for (int i = 0; i < 5; ++i) {
            NewDocument d;
            d.fileName = QStringLiteral("other%1.txt").arg(i);
            d.sourcePath = "/nonexistent/quire-other/" + QByteArray::number(i);
            few << d;
        }
        if (auto r = m_fx->catalog().addQueued(m_other, few); !r)
            return r.error();
        return {};
    });
    QVERIFY2(error.isEmpty(), qPrintable(error));
}

void tst_DocumentModel::cleanupTestCase()
{
    m_model.reset();
    m_fx.reset();
}

void tst_DocumentModel::init()
{
    m_model = std::make_unique<DocumentModel>(m_fx->service());
    m_model->setBatchSize(kBatch);
}

void tst_DocumentModel::cleanup()
{
    m_model.reset();
    // Whatever ran, no catalog connection was ever made on this (the GUI) thread.
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

bool tst_DocumentModel::waitLoaded(QSignalSpy &spy, int count)
{
    return QTest::qWaitFor([&] { return spy.count() >= count && !m_model->isBusy(); }, 60'000);
}

QList<Document> tst_DocumentModel::sqlRows(DocumentQuery q, qint64 limit)
{
    q.offset = 0;
    q.limit = limit;
    return onWorker([&] { return m_fx->catalog().documents(q).valueOr({}); });
}

void tst_DocumentModel::firstRowsArriveWithoutLoadingTheRest()
{
    QAbstractItemModelTester tester(m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_collection);
    QVERIFY(m_model->isLoading());
    QCOMPARE(m_model->rowCount(), 0);   // nothing was queried on this thread
    QVERIFY(waitLoaded(loaded));
    QCOMPARE(m_model->rowCount(), kBatch);
    QVERIFY(m_model->canFetchMore({}));
    QTRY_COMPARE_WITH_TIMEOUT(m_model->totalCount(), qint64(kDocuments + 0), 30'000);
    QCOMPARE(m_model->rowCount(), kBatch);
}

void tst_DocumentModel::fetchMoreAppendsTheNextBatch()
{
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    QSignalSpy fetched(m_model.get(), &DocumentModel::batchFetched);
    m_model->setCollection(m_collection);
    QVERIFY(waitLoaded(loaded));
    m_model->fetchMore({});
    m_model->fetchMore({});   // while one is in flight: coalesced, not doubled
    QTRY_VERIFY_WITH_TIMEOUT(fetched.count() >= 1 && !m_model->isBusy(), 30'000);
    QTRY_VERIFY_WITH_TIMEOUT(!m_model->isBusy(), 30'000);
    const int rows = m_model->rowCount();
    QVERIFY(rows == 2 * kBatch || rows == 3 * kBatch);
    QCOMPARE(modelIds(*m_model), idsOf(sqlRows(m_model->query(), rows)));
}

void tst_DocumentModel::sortMatchesSql_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<Qt::SortOrder>("order");
    for (int c = 0; c < DocumentModel::ColumnCount; ++c) {
        QTest::addRow("column %d ascending", c) << c << Qt::AscendingOrder;
        QTest::addRow("column %d descending", c) << c << Qt::DescendingOrder;
    }
}

void tst_DocumentModel::sortMatchesSql()
{
    QFETCH(int, column);
    QFETCH(Qt::SortOrder, order);
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_collection);
    QVERIFY(waitLoaded(loaded));
    m_model->sort(column, order);
    if (DocumentModel::docColumn(column) != DocColumn::Added || order != Qt::AscendingOrder)
        QVERIFY(waitLoaded(loaded, 2));
    QCOMPARE(m_model->rowCount(), kBatch);

    DocumentQuery q;
    q.collectionId = m_collection;
    q.sortColumn = DocumentModel::docColumn(column);
    q.order = order;
    QCOMPARE(modelIds(*m_model), idsOf(sqlRows(q, kBatch)));

    // The next batch continues the same order.
    QSignalSpy fetched(m_model.get(), &DocumentModel::batchFetched);
    m_model->fetchMore({});
    QTRY_VERIFY_WITH_TIMEOUT(fetched.count() >= 1 && !m_model->isBusy(), 30'000);
    QCOMPARE(modelIds(*m_model), idsOf(sqlRows(q, 2 * kBatch)));
}

void tst_DocumentModel::filterMatchesSql_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QList<DocStatus>>("statuses");
    QTest::addColumn<int>("sortColumn");
    QTest::newRow("name substring") << QStringLiteral("file0012") << QList<DocStatus>{} << int(DocumentModel::NameColumn);
    QTest::newRow("case-insensitive") << QStringLiteral("-b.TXT") << QList<DocStatus>{} << int(DocumentModel::AddedColumn);
    QTest::newRow("hash prefix") << QString::fromLatin1(hexFor(42).left(6)) << QList<DocStatus>{}
                                 << int(DocumentModel::HashColumn);
    QTest::newRow("failed") << QString() << QList<DocStatus>{DocStatus::Failed} << int(DocumentModel::NameColumn);
    QTest::newRow("hashed and text") << QStringLiteral("file00") << QList<DocStatus>{DocStatus::Hashed}
                                     << int(DocumentModel::SizeColumn);
    QTest::newRow("nothing matches") << QStringLiteral("no such document") << QList<DocStatus>{}
                                     << int(DocumentModel::NameColumn);
}

void tst_DocumentModel::filterMatchesSql()
{
    QFETCH(QString, text);
    QFETCH(QList<DocStatus>, statuses);
    QFETCH(int, sortColumn);
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_collection);
    m_model->setFilterText(text);
    m_model->setStatusFilter(statuses);
    m_model->sort(sortColumn, Qt::AscendingOrder);
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 1 && !m_model->isBusy(), 60'000);

    DocumentQuery q;
    q.collectionId = m_collection;
    q.text = text;
    q.statuses = statuses;
    q.sortColumn = DocumentModel::docColumn(sortColumn);
    const QList<Document> expected = sqlRows(q, kBatch);
    QCOMPARE(modelIds(*m_model), idsOf(expected));
    const qint64 total = onWorker([&] { return m_fx->catalog().countDocuments(q).valueOr(-1); });
    QTRY_COMPARE_WITH_TIMEOUT(m_model->totalCount(), total, 30'000);
    QCOMPARE(m_model->canFetchMore({}), total > kBatch);
}

void tst_DocumentModel::staleRepliesAreDropped()
{
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_collection);
    // Each change supersedes the previous query before its reply can arrive.
    m_model->setFilterText(QStringLiteral("a"));
    m_model->setCollection(m_other);
    m_model->setFilterText(QStringLiteral("other3"));
    QTRY_VERIFY_WITH_TIMEOUT(loaded.count() >= 1 && !m_model->isBusy(), 60'000);
    // Every query the model started has run, and every reply has been handed to the model (a
    // finished future reaches its watcher as a posted event): a stale one would have landed.
    QVERIFY(m_fx->pools().io()->waitForDone(60'000));
    QCoreApplication::sendPostedEvents();
    QCoreApplication::sendPostedEvents();
    QCOMPARE(m_model->rowCount(), 1);
    QCOMPARE(m_model->documentAt(0).fileName, QStringLiteral("other3.txt"));
    QCOMPARE(loaded.count(), 1);
}

void tst_DocumentModel::statusEventsUpdateTheRightRows()
{
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_collection);
    QVERIFY(waitLoaded(loaded));
    const Document a = m_model->documentAt(7);
    const Document b = m_model->documentAt(150);
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);

    DocumentEvent ea{a.id, m_collection, DocStatus::Hashing, a.fileName, a.sourcePath, 1000, 500, {}, {}, 0};
    DocumentEvent eb{b.id, m_collection, DocStatus::Failed, b.fileName, b.sourcePath, b.size, 0, {}, QStringLiteral("Input/output error"), 0};
    DocumentEvent elsewhere{a.id + 1, m_other, DocStatus::Failed, {}, {}, 0, 0, {}, QStringLiteral("x"), 0};
    m_model->applyEvents({ea, eb, elsewhere});
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, 10'000);   // one coalesced dataChanged

    const int ra = m_model->rowOfId(a.id);
    const int rb = m_model->rowOfId(b.id);
    QCOMPARE(ra, 7);
    QCOMPARE(rb, 150);
    QCOMPARE(m_model->index(ra, 0).data(DocumentModel::StatusRole).toInt(), int(DocStatus::Hashing));
    QCOMPARE(m_model->index(ra, 0).data(DocumentModel::ProgressRole).toDouble(), 0.5);
    QCOMPARE(m_model->index(rb, 0).data(DocumentModel::StatusRole).toInt(), int(DocStatus::Failed));
    QVERIFY(m_model->index(rb, DocumentModel::StatusColumn).data().toString().contains(QLatin1String("Input/output error")));
    // The event for another collection's document changed nothing here.
    if (const int r = m_model->rowOfId(a.id + 1); r >= 0)
        QVERIFY(m_model->documentAt(r).error != QLatin1String("x"));

    // Hashed: the progress bar goes, the hash appears.
    const QByteArray hash = hexFor(999'999);
    m_model->applyEvents({DocumentEvent{a.id, m_collection, DocStatus::Hashed, a.fileName, a.sourcePath, 1000, 1000, hash, {}, 0}});
    QTRY_COMPARE_WITH_TIMEOUT(m_model->index(ra, 0).data(DocumentModel::StatusRole).toInt(), int(DocStatus::Hashed), 10'000);
    QCOMPARE(m_model->index(ra, 0).data(DocumentModel::ProgressRole).toDouble(), -1.0);
    QCOMPARE(m_model->index(ra, 0).data(DocumentModel::Sha256Role).toString(), QString::fromLatin1(hash));
}

void tst_DocumentModel::removedRowsDisappearOnRefresh()
{
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_other);
    QVERIFY(waitLoaded(loaded));
    QCOMPARE(m_model->rowCount(), 5);
    const qint64 gone = m_model->documentAt(2).id;

    auto removed = m_fx->service().removeDocuments({gone});
    QTRY_VERIFY_WITH_TIMEOUT(removed.isFinished(), 30'000);
    QVERIFY(removed.result().ok());
    // The service's change hint makes the model refresh by itself.
    QTRY_COMPARE_WITH_TIMEOUT(m_model->rowCount(), 4, 30'000);
    QCOMPARE(m_model->rowOfId(gone), -1);

    auto restored = m_fx->service().restoreDocuments(removed.result().value());
    QTRY_VERIFY_WITH_TIMEOUT(restored.isFinished(), 30'000);
    QVERIFY(restored.result().ok());
    QTRY_COMPARE_WITH_TIMEOUT(m_model->rowCount(), 5, 30'000);
    QCOMPARE(m_model->rowOfId(gone), 2);
}

void tst_DocumentModel::changeWhileLoadingIsNotLost()
{
    // The window opens a collection while documents are being added to it: the first batch is
    // read, a document is committed, and the model hears of it before that batch arrives.
    const qint64 fresh = onWorker([this] { return m_fx->catalog().createCollection(QStringLiteral("Fresh")).valueOr(-1); });
    QVERIFY(fresh > 0);
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(fresh);
    // The first query has run: its (empty) reply waits in this thread's event queue.
    QVERIFY(m_fx->pools().io()->waitForDone(60'000));
    QVERIFY(m_model->isBusy());
    const bool added = onWorker([&] {
        NewDocument d;
        d.fileName = QStringLiteral("late.txt");
        d.sourcePath = "/nonexistent/quire-late/late.txt";
        return m_fx->catalog().addQueued(fresh, {d}).ok();
    });
    QVERIFY(added);
    m_model->refresh();
    QVERIFY(waitLoaded(loaded));
    QTRY_COMPARE_WITH_TIMEOUT(m_model->rowCount(), 1, 30'000);
    QCOMPARE(m_model->documentAt(0).fileName, QStringLiteral("late.txt"));
}

void tst_DocumentModel::dragOutCarriesSourceFiles()
{
    QSignalSpy loaded(m_model.get(), &DocumentModel::loaded);
    m_model->setCollection(m_other);
    QVERIFY(waitLoaded(loaded));
    std::unique_ptr<QMimeData> mime(m_model->mimeData({m_model->index(0, 0), m_model->index(0, 2), m_model->index(1, 0)}));
    QVERIFY(mime);
    const QList<QUrl> urls = mime->urls();
    QCOMPARE(urls.size(), 2);
    QCOMPARE(urls.at(0), QUrl::fromLocalFile(QFile::decodeName(m_model->documentAt(0).sourcePath)));
    QCOMPARE(m_model->supportedDragActions(), Qt::CopyAction);
}

QTEST_MAIN(tst_DocumentModel)
#include "tst_documentmodel.moc"
