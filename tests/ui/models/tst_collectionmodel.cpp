// ctest-labels: ui
#include "catalog/catalog.h"
#include "catalog/catalogservice.h"
#include "models/collectionmodel.h"
#include "views/collectionview.h"
#include "jobs/pools.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace quire;
using quire::test::onWorker;

namespace {
constexpr int kTimeout = 60'000;

QStringList names(const CollectionModel &m)
{
    QStringList n;
    for (int r = 0; r < m.rowCount(); ++r)
        n << m.index(r, 0).data().toString();
    return n;
}
} // namespace

class tst_CollectionModel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void listsCollectionsWithCounts();
    void followsEditsInPlaceKeepingSelection();
    void badgesWhileBusyAndWhenFailed();

private:
    qint64 create(const QString &name, int documents = 0, int failed = 0);

    std::unique_ptr<uitest::UiFixture> m_fx;
    std::unique_ptr<CollectionModel> m_model;
};

void tst_CollectionModel::init()
{
    m_fx = std::make_unique<uitest::UiFixture>(QStringLiteral("c.sqlite"));
    QVERIFY(m_fx->openCatalog());
    m_model = std::make_unique<CollectionModel>(m_fx->service());
}

void tst_CollectionModel::cleanup()
{
    m_model.reset();
    m_fx.reset();
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

qint64 tst_CollectionModel::create(const QString &name, int documents, int failed)
{
    return onWorker([&] {
        const qint64 id = m_fx->catalog().createCollection(name).valueOr(0);
        QList<NewDocument> docs;
        for (int i = 0; i < documents; ++i)
            docs << NewDocument{"/nowhere/" + name.toUtf8() + QByteArray::number(i), QStringLiteral("d%1").arg(i), 10, 1};
        const auto added = m_fx->catalog().addQueued(id, docs).valueOr({});
        QList<qint64> ids;
        for (int i = 0; i < failed && i < added.size(); ++i)
            ids << added.at(i).id;
        if (!ids.isEmpty())
            (void)m_fx->catalog().setStatus(ids, DocStatus::Failed, QStringLiteral("broken"));
        return id;
    });
}

void tst_CollectionModel::listsCollectionsWithCounts()
{
    QAbstractItemModelTester tester(m_model.get(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    create(QStringLiteral("beta"), 3);
    create(QStringLiteral("Alpha"), 12);
    create(QStringLiteral("gamma"));
    QSignalSpy refreshed(m_model.get(), &CollectionModel::refreshed);
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(refreshed.count(), 1, kTimeout);
    QCOMPARE(names(*m_model), (QStringList{QStringLiteral("Alpha"), QStringLiteral("beta"), QStringLiteral("gamma")}));
    QCOMPARE(m_model->index(0, CollectionModel::CountColumn).data().toString(), QStringLiteral("12"));
    QCOMPARE(m_model->index(1, 0).data(CollectionModel::DocumentCountRole).toLongLong(), qint64(3));
    QVERIFY(m_model->index(0, 0).data(Qt::ToolTipRole).toString().contains(QLatin1String("12 documents")));
}

void tst_CollectionModel::followsEditsInPlaceKeepingSelection()
{
    create(QStringLiteral("b"));
    const qint64 c = create(QStringLiteral("c"));
    create(QStringLiteral("d"));
    CollectionView view;
    view.setModel(m_model.get());
    QSignalSpy refreshed(m_model.get(), &CollectionModel::refreshed);
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(refreshed.count(), 1, kTimeout);
    QSignalSpy current(&view, &CollectionView::currentCollectionChanged);
    QVERIFY(view.selectCollection(c));
    QCOMPARE(current.count(), 1);
    QSignalSpy resets(m_model.get(), &QAbstractItemModel::modelReset);

    // Hints from edits refresh the model by themselves (throttled).
    auto created = m_fx->service().createCollection(QStringLiteral("a"));
    QTRY_VERIFY_WITH_TIMEOUT(created.isFinished(), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(names(*m_model), (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"),
                                                           QStringLiteral("d")}), kTimeout);
    QCOMPARE(view.currentCollectionId(), c);

    auto renamed = m_fx->service().renameCollection(c, QStringLiteral("e"));
    QTRY_VERIFY_WITH_TIMEOUT(renamed.isFinished(), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(names(*m_model), (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("d"),
                                                           QStringLiteral("e")}), kTimeout);
    QCOMPARE(view.currentCollectionId(), c);   // moved with its row
    QCOMPARE(current.count(), 1);              // and never reported as a change

    const qint64 b = m_model->collectionAt(1).id;
    auto removed = m_fx->service().removeCollection(b);
    QTRY_VERIFY_WITH_TIMEOUT(removed.isFinished(), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(m_model->rowCount(), 3, kTimeout);
    QCOMPARE(view.currentCollectionId(), c);
    QCOMPARE(resets.count(), 0);   // never reset: selection and scrolling survive
}

void tst_CollectionModel::badgesWhileBusyAndWhenFailed()
{
    const qint64 broken = create(QStringLiteral("broken"), 4, 2);
    const qint64 busy = create(QStringLiteral("busy"));
    QSignalSpy refreshed(m_model.get(), &CollectionModel::refreshed);
    m_model->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(refreshed.count(), 1, kTimeout);
    const int brokenRow = m_model->rowOfId(broken);
    QCOMPARE(m_model->index(brokenRow, 0).data(CollectionModel::FailedCountRole).toLongLong(), qint64(2));
    QVERIFY(!m_model->index(brokenRow, 0).data(Qt::DecorationRole).value<QIcon>().isNull());

    for (int i = 0; i < 200; ++i)
        uitest::writeFile(m_fx->filePath(QStringLiteral("in/%1").arg(i)), QByteArray(20'000, 'z'));
    QSignalSpy idle(&m_fx->service(), &CatalogService::idle);
    m_fx->service().ingest(busy, {QFile::encodeName(m_fx->filePath(QStringLiteral("in")))});
    const int busyRow = m_model->rowOfId(busy);
    QVERIFY(m_model->index(busyRow, 0).data(CollectionModel::BusyRole).toBool());
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, kTimeout);
    QVERIFY(!m_model->index(m_model->rowOfId(busy), 0).data(CollectionModel::BusyRole).toBool());
    QTRY_COMPARE_WITH_TIMEOUT(m_model->index(m_model->rowOfId(busy), 0).data(CollectionModel::DocumentCountRole).toLongLong(),
                              qint64(200), kTimeout);
}

QTEST_MAIN(tst_CollectionModel)
#include "tst_collectionmodel.moc"
