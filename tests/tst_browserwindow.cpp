// ctest-labels: ui
// ctest-timeout: 600
#include "browserwindow.h"
#include "catalog.h"
#include "catalogservice.h"
#include "collectionmodel.h"
#include "collectionnamedialog.h"
#include "collectionview.h"
#include "detailspane.h"
#include "documentmodel.h"
#include "documentview.h"
#include "pools.h"
#include "sessionstore.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAction>
#include <QClipboard>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUndoStack>

using namespace quire;
using quire::test::onWorker;

namespace {

constexpr int kTimeout = 60'000;

// Drags mime data over `target` at `pos` and drops it there, as the window system would.
bool dragAndDrop(QWidget *target, QPoint pos, const QList<QUrl> &urls)
{
    QMimeData mime;
    mime.setUrls(urls);
    QDragEnterEvent enter(pos, Qt::CopyAction | Qt::MoveAction | Qt::LinkAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &enter);
    if (!enter.isAccepted())
        return false;
    QDragMoveEvent move(pos, Qt::CopyAction | Qt::MoveAction | Qt::LinkAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &move);
    if (!move.isAccepted())
        return false;
    QDropEvent drop(QPointF(pos), Qt::CopyAction | Qt::MoveAction | Qt::LinkAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(target, &drop);
    return drop.isAccepted() && drop.dropAction() == Qt::CopyAction;
}

} // namespace

class tst_BrowserWindow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void emptyStateInvitesDrops();
    void dropOntoWindowAddsToSelectedCollection();
    void dropOntoCollectionAddsToThatOne();
    void dropOntoEmptySpaceAsksForNewCollection();
    void dropOntoEmptyWindowAsksForNewCollection();
    void ingestUpdatesStatusesLive();
    void removeDocumentsWithUndo();
    void collectionActions();
    void filterAndDetails();
    void remembersLayoutAndCollection();

private:
    void makeWindow(const QString &collection = {});
    QString makeTree(const QString &name, int files);
    qint64 create(const QString &name);
    QUrl url(const QString &path) const { return QUrl::fromLocalFile(path); }
    bool waitIdle();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SessionStore> m_store;
    std::unique_ptr<Catalog> m_catalog;
    std::unique_ptr<Pools> m_pools;
    std::unique_ptr<CatalogService> m_service;
    std::unique_ptr<BrowserWindow> m_window;
};

void tst_BrowserWindow::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_store = std::make_unique<SessionStore>();   // in memory
    m_catalog = std::make_unique<Catalog>(CatalogConfig{m_dir->filePath(QStringLiteral("catalog.sqlite"))});
    m_pools = std::make_unique<Pools>(2, 2);
    m_service = std::make_unique<CatalogService>(*m_catalog, *m_pools);
}

void tst_BrowserWindow::cleanup()
{
    m_window.reset();
    m_service.reset();
    m_pools.reset();
    m_catalog.reset();
    m_store.reset();
    m_dir.reset();
    // Nothing in the window ever opened a catalog connection on the GUI thread.
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

void tst_BrowserWindow::makeWindow(const QString &collection)
{
    m_window = std::make_unique<BrowserWindow>(*m_service, *m_store);
    QSignalSpy ready(m_window.get(), &BrowserWindow::ready);
    m_window->show();
    m_window->start(collection);
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, kTimeout);
}

QString tst_BrowserWindow::makeTree(const QString &name, int files)
{
    const QString root = m_dir->filePath(name);
    for (int i = 0; i < files; ++i)
        uitest::writeFile(root + QStringLiteral("/sub%1/f%2.txt").arg(i % 2).arg(i), "content " + name.toUtf8() + QByteArray::number(i));
    return root;
}

qint64 tst_BrowserWindow::create(const QString &name)
{
    return onWorker([&] {
        (void)m_catalog->open();
        return m_catalog->createCollection(name).valueOr(0);
    });
}

bool tst_BrowserWindow::waitIdle()
{
    return QTest::qWaitFor([&] { return !m_service->isBusy(); }, kTimeout);
}

void tst_BrowserWindow::emptyStateInvitesDrops()
{
    makeWindow();
    QCOMPARE(m_window->collectionModel()->rowCount(), 0);
    QCOMPARE(m_window->documentView()->emptyTitle(), QStringLiteral("Drop documents here"));
    QVERIFY(m_window->acceptDrops());
    QVERIFY(m_window->findChild<QAction *>(QStringLiteral("actionAddFiles"))->isEnabled());
    QVERIFY(!m_window->findChild<QAction *>(QStringLiteral("actionRemoveDocuments"))->isEnabled());
}

void tst_BrowserWindow::dropOntoWindowAddsToSelectedCollection()
{
    const qint64 a = create(QStringLiteral("A"));
    create(QStringLiteral("B"));
    makeWindow(QStringLiteral("A"));
    QCOMPARE(m_window->currentCollectionId(), a);

    const QString tree = makeTree(QStringLiteral("tree"), 4);
    const QString single = m_dir->filePath(QStringLiteral("single.txt"));
    uitest::writeFile(single, "single");
    QVERIFY(dragAndDrop(m_window.get(), QPoint(400, 300), {url(tree), url(single)}));

    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(*m_catalog, a),
                              (QStringList{QStringLiteral("f0.txt"), QStringLiteral("f1.txt"), QStringLiteral("f2.txt"),
                                           QStringLiteral("f3.txt"), QStringLiteral("single.txt")}),
                              kTimeout);
    QVERIFY(waitIdle());
    QCOMPARE(uitest::fileNamesOf(*m_catalog, uitest::collectionIdOf(*m_catalog, QStringLiteral("B"))), QStringList());
    // The table shows them, hashed, without anyone asking.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->documentModel()->rowCount(), 5, kTimeout);
    for (int row = 0; row < 5; ++row)
        QTRY_COMPARE_WITH_TIMEOUT(m_window->documentModel()->index(row, 0).data(DocumentModel::StatusRole).toInt(),
                                  int(DocStatus::Hashed), kTimeout);
}

void tst_BrowserWindow::dropOntoCollectionAddsToThatOne()
{
    const qint64 a = create(QStringLiteral("A"));
    const qint64 b = create(QStringLiteral("B"));
    makeWindow(QStringLiteral("A"));
    CollectionView *view = m_window->collectionView();
    const int row = m_window->collectionModel()->rowOfId(b);
    QVERIFY(row >= 0);
    const QPoint onB = view->visualRect(m_window->collectionModel()->index(row, 0)).center();

    const QString tree = makeTree(QStringLiteral("forB"), 3);
    QVERIFY(dragAndDrop(view->viewport(), onB, {url(tree)}));
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(*m_catalog, b).size(), 3, kTimeout);
    QVERIFY(waitIdle());
    QCOMPARE(uitest::fileNamesOf(*m_catalog, a), QStringList());
    QCOMPARE(m_window->currentCollectionId(), a);   // the selection stays where it was
    // The count in the list follows.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->collectionModel()->index(row, CollectionModel::CountColumn).data().toString(),
                              QStringLiteral("3"), kTimeout);
}

void tst_BrowserWindow::dropOntoEmptySpaceAsksForNewCollection()
{
    create(QStringLiteral("A"));
    makeWindow(QStringLiteral("A"));
    CollectionView *view = m_window->collectionView();
    const QPoint below(view->viewport()->width() / 2, view->viewport()->height() - 5);
    QVERIFY(!view->indexAt(below).isValid());

    const QString tree = makeTree(QStringLiteral("Holiday Photos"), 2);
    QVERIFY(dragAndDrop(view->viewport(), below, {url(tree)}));

    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = m_window->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    QTRY_VERIFY(dialog->isVisible());
    QCOMPARE(dialog->name(), QStringLiteral("Holiday Photos"));   // the folder's name is suggested
    dialog->setName(QStringLiteral("Trip"));
    dialog->accept();

    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(*m_catalog, QStringLiteral("Trip")) > 0, kTimeout);
    const qint64 trip = uitest::collectionIdOf(*m_catalog, QStringLiteral("Trip"));
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(*m_catalog, trip), (QStringList{QStringLiteral("f0.txt"), QStringLiteral("f1.txt")}),
                              kTimeout);
    QVERIFY(waitIdle());
    // The new collection is selected.
    QTRY_COMPARE_WITH_TIMEOUT(m_window->currentCollectionId(), trip, kTimeout);
}

void tst_BrowserWindow::dropOntoEmptyWindowAsksForNewCollection()
{
    makeWindow();
    const QString file = m_dir->filePath(QStringLiteral("inbox/letter.pdf"));
    uitest::writeFile(file, "%PDF");
    // Dropped onto the (empty) table: the table does not take drops, the window does.
    QVERIFY(dragAndDrop(m_window->documentView()->viewport(), QPoint(50, 50), {url(file)}));
    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = m_window->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    QCOMPARE(dialog->name(), QStringLiteral("inbox"));   // a file: its folder's name
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(*m_catalog, QStringLiteral("inbox")) > 0, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(*m_catalog, uitest::collectionIdOf(*m_catalog, QStringLiteral("inbox"))),
                              QStringList{QStringLiteral("letter.pdf")}, kTimeout);
    QVERIFY(waitIdle());
}

void tst_BrowserWindow::ingestUpdatesStatusesLive()
{
    const qint64 a = create(QStringLiteral("A"));
    makeWindow(QStringLiteral("A"));
    const QString tree = makeTree(QStringLiteral("many"), 300);
    const QString dup1 = m_dir->filePath(QStringLiteral("dups/one.txt"));
    const QString dup2 = m_dir->filePath(QStringLiteral("dups/two.txt"));
    uitest::writeFile(dup1, "same");
    uitest::writeFile(dup2, "same");
    QSignalSpy finished(m_service.get(), &CatalogService::jobFinished);
    m_window->addPaths(0, {QFile::encodeName(tree), QFile::encodeName(m_dir->filePath(QStringLiteral("dups")))});
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(uitest::documentsOf(*m_catalog, a).size(), 302);

    // Every loaded row ends up with the catalog's status (events and refreshes reach the rows).
    DocumentModel *model = m_window->documentModel();
    QTRY_VERIFY_WITH_TIMEOUT(model->totalCount() == 302, kTimeout);
    const QList<Document> truth = uitest::documentsOf(*m_catalog, a);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            if (model->rowCount() == 0)
                return false;
            for (const Document &d : truth) {
                const int row = model->rowOfId(d.id);
                if (row >= 0 && (model->documentAt(row).status != d.status || model->documentAt(row).sha256 != d.sha256))
                    return false;
            }
            return true;
        }(),
        kTimeout);
    int duplicates = 0;
    for (const Document &d : truth)
        duplicates += d.status == DocStatus::Duplicate;
    QCOMPARE(duplicates, 1);
}

void tst_BrowserWindow::removeDocumentsWithUndo()
{
    const qint64 a = create(QStringLiteral("A"));
    makeWindow(QStringLiteral("A"));
    m_window->addPaths(a, {QFile::encodeName(makeTree(QStringLiteral("r"), 6))});
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(*m_catalog, a).size(), 6, kTimeout);
    QVERIFY(waitIdle());
    DocumentModel *model = m_window->documentModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 6, kTimeout);
    const QList<Document> before = uitest::documentsOf(*m_catalog, a);

    DocumentView *view = m_window->documentView();
    view->selectRow(1);
    view->selectionModel()->select(model->index(3, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    const QList<qint64> removedIds{model->documentAt(1).id, model->documentAt(3).id};
    QAction *remove = m_window->findChild<QAction *>(QStringLiteral("actionRemoveDocuments"));
    QVERIFY(remove->isEnabled());
    remove->trigger();

    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = m_window->findChild<QMessageBox *>(QStringLiteral("confirmRemoveDocuments"))) != nullptr,
                             kTimeout);
    QAbstractButton *confirm = nullptr;
    for (QAbstractButton *b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            confirm = b;
    }
    QVERIFY(confirm);
    confirm->click();

    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(*m_catalog, a).size(), 4, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, kTimeout);
    for (qint64 id : removedIds)
        QCOMPARE(model->rowOfId(id), -1);
    QVERIFY(m_window->findChild<QWidget *>(QStringLiteral("undoBar"))->isVisible());
    QVERIFY(m_window->undoStack()->canUndo());

    m_window->findChild<QPushButton *>(QStringLiteral("undoBarButton"))->click();
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(*m_catalog, a).size(), 6, kTimeout);
    const QList<Document> after = uitest::documentsOf(*m_catalog, a);
    for (int i = 0; i < before.size(); ++i) {
        QCOMPARE(after.at(i).id, before.at(i).id);
        QCOMPARE(after.at(i).sha256, before.at(i).sha256);
        QCOMPARE(after.at(i).status, before.at(i).status);
    }
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 6, kTimeout);
    for (qint64 id : removedIds)
        QVERIFY(model->rowOfId(id) >= 0);

    // Redo removes them again.
    m_window->undoStack()->redo();
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(*m_catalog, a).size(), 4, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, kTimeout);
}

void tst_BrowserWindow::collectionActions()
{
    const qint64 a = create(QStringLiteral("Alpha"));
    makeWindow(QStringLiteral("Alpha"));

    // New collection: the dialog refuses a taken name, then creates and selects it.
    m_window->findChild<QAction *>(QStringLiteral("actionNewCollection"))->trigger();
    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = m_window->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    dialog->setName(QStringLiteral("Alpha"));
    QVERIFY(!dialog->problem().isEmpty());
    dialog->setName(QStringLiteral("a/b"));
    QVERIFY(!dialog->problem().isEmpty());
    dialog->setName(QStringLiteral("Zeta"));
    QVERIFY(dialog->problem().isEmpty());
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(*m_catalog, QStringLiteral("Zeta")) > 0, kTimeout);
    const qint64 zeta = uitest::collectionIdOf(*m_catalog, QStringLiteral("Zeta"));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->currentCollectionId(), zeta, kTimeout);

    // Rename it so that it sorts first: the selection follows it.
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->findChild<CollectionNameDialog *>(), kTimeout);
    m_window->findChild<QAction *>(QStringLiteral("actionRenameCollection"))->trigger();
    QTRY_VERIFY_WITH_TIMEOUT((dialog = m_window->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    QCOMPARE(dialog->name(), QStringLiteral("Zeta"));
    dialog->setName(QStringLiteral("Aardvark"));
    dialog->accept();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->collectionModel()->index(0, 0).data().toString(), QStringLiteral("Aardvark"), kTimeout);
    QCOMPARE(m_window->currentCollectionId(), zeta);

    // Remove it (after confirming): Alpha remains and gets selected.
    m_window->findChild<QAction *>(QStringLiteral("actionRemoveCollection"))->trigger();
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = m_window->findChild<QMessageBox *>(QStringLiteral("confirmRemoveCollection"))) != nullptr,
                             kTimeout);
    for (QAbstractButton *b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            b->click();
    }
    QTRY_COMPARE_WITH_TIMEOUT(uitest::collectionIdOf(*m_catalog, QStringLiteral("Aardvark")), qint64(0), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->collectionModel()->rowCount(), 1, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->currentCollectionId(), a, kTimeout);
}

void tst_BrowserWindow::filterAndDetails()
{
    const qint64 a = create(QStringLiteral("A"));
    makeWindow(QStringLiteral("A"));
    const QString tree = makeTree(QStringLiteral("f"), 5);
    m_window->addPaths(a, {QFile::encodeName(tree)});
    QVERIFY(waitIdle());
    DocumentModel *model = m_window->documentModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, kTimeout);

    m_window->filterEdit()->setText(QStringLiteral("f3"));
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, kTimeout);
    QCOMPARE(model->documentAt(0).fileName, QStringLiteral("f3.txt"));
    m_window->filterEdit()->clear();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, kTimeout);
    m_window->statusFilter()->setCurrentIndex(m_window->statusFilter()->findText(QStringLiteral("Failed")));
    QTRY_VERIFY_WITH_TIMEOUT(model->rowCount() == 0 && !model->isBusy(), kTimeout);
    QCOMPARE(m_window->documentView()->emptyTitle(), QStringLiteral("No documents match"));
    m_window->statusFilter()->setCurrentIndex(0);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, kTimeout);

    // Details of the selected document, with the full hash; Copy Hash puts it on the clipboard.
    m_window->documentView()->selectRow(2);
    const Document doc = model->documentAt(2);
    QCOMPARE(m_window->detailsPane()->documentId(), doc.id);
    m_window->findChild<QAction *>(QStringLiteral("actionCopyHash"))->trigger();
    QCOMPARE(QGuiApplication::clipboard()->text(), QString::fromLatin1(doc.sha256));
    QCOMPARE(doc.sha256.size(), 64);
}

void tst_BrowserWindow::remembersLayoutAndCollection()
{
    create(QStringLiteral("A"));
    const qint64 b = create(QStringLiteral("B"));
    makeWindow(QStringLiteral("B"));
    m_window->documentView()->horizontalHeader()->resizeSection(DocumentModel::NameColumn, 333);
    m_window->close();
    QCOMPARE(m_store->value(QStringLiteral("settings/ui/lastCollection")).valueOr({}).toLongLong(), b);
    QVERIFY(!m_store->value(QStringLiteral("settings/ui/geometry")).valueOr({}).toString().isEmpty());
    m_window.reset();

    makeWindow();   // no collection asked for: the last one
    QCOMPARE(m_window->currentCollectionId(), b);
    QCOMPARE(m_window->documentView()->horizontalHeader()->sectionSize(DocumentModel::NameColumn), 333);
}

QTEST_MAIN(tst_BrowserWindow)
#include "tst_browserwindow.moc"
