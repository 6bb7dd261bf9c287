// ctest-labels: ui
// ctest-timeout: 600
#include "views/browserwindow.h"
#include "catalog/catalog.h"
#include "dialogs/catalogpassworddialog.h"
#include "catalog/dbconnections.h"
#include "catalog/catalogservice.h"
#include "models/collectionmodel.h"
#include "dialogs/collectionnamedialog.h"
#include "views/collectionview.h"
#include "views/detailspane.h"
#include "models/documentmodel.h"
#include "views/documentview.h"
#include "common/fileopenreceiver.h"
#include "jobs/pools.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAction>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileOpenEvent>
#include <QGuiApplication>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
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
    void catalogServerAsksForItsPassword();

    void emptyStateInvitesDrops();
    void dropOntoWindowAddsToSelectedCollection();
    void dropOntoCollectionAddsToThatOne();
    void dropOntoEmptySpaceAsksForNewCollection();
    void dropOntoEmptyWindowAsksForNewCollection();
    void ingestUpdatesStatusesLive();
    void finishedAddingReplacesOnlyItsOwnMessage();
    void removeDocumentsWithUndo();
    void collectionActions();
    void uploadToSetsTheCollectionsRemote();
    void uploadToUndoAndMissingRemotes();
    void newCollectionDialogChoosesTheRemote();
    void filterAndDetails();
    void remembersLayoutAndCollection();
    void filesOpenedBySystemGoToTheirCollection();

private:
    QString makeTree(const QString &name, int files);
    qint64 create(const QString &name);
    QUrl url(const QString &path) const { return QUrl::fromLocalFile(path); }
    BrowserWindow *window() const { return m_fx->window(); }
    // The collection's remote as the catalog has it, read back through the service.
    QString remoteOf(qint64 collectionId);
    void saveLocalRemote(const QString &name);
    // Opens Collection › Upload To as a person would (it fills itself as it opens).
    QMenu *openUploadTo();
    // The object name of the checked entry of Upload To.
    static QString checkedIn(QMenu *menu);

    std::unique_ptr<uitest::UiFixture> m_fx;   // the catalog is not opened: the window does it
};

void tst_BrowserWindow::init()
{
    m_fx = std::make_unique<uitest::UiFixture>();
    QVERIFY(m_fx->isValid());
}

void tst_BrowserWindow::cleanup()
{
    m_fx.reset();
    // Nothing in the window ever opened a catalog connection on the GUI thread.
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

QString tst_BrowserWindow::makeTree(const QString &name, int files)
{
    const QString root = m_fx->filePath(name);
    for (int i = 0; i < files; ++i)
        uitest::writeFile(root + QStringLiteral("/sub%1/f%2.txt").arg(i % 2).arg(i), "content " + name.toUtf8() + QByteArray::number(i));
    return root;
}

qint64 tst_BrowserWindow::create(const QString &name)
{
    return onWorker([&] {
        (void)m_fx->catalog().open();
        return m_fx->catalog().createCollection(name).valueOr(0);
    });
}

QString tst_BrowserWindow::remoteOf(qint64 collectionId)
{
    QFuture<Result<std::optional<Collection>>> f = m_fx->service().collection(collectionId);
    if (!QTest::qWaitFor([&] { return f.isFinished(); }, kTimeout))
        return QStringLiteral("<timed out>");
    const auto c = f.result();   // finished: does not wait
    return c.ok() && c->has_value() ? (*c)->remote : QStringLiteral("<missing>");
}

void tst_BrowserWindow::saveLocalRemote(const QString &name)
{
    RemoteProfile p;
    p.name = name;
    p.url = m_fx->filePath(QStringLiteral("remotes/") + name);
    QVERIFY(RemoteProfiles(m_fx->store()).save(p).ok());
}

QMenu *tst_BrowserWindow::openUploadTo()
{
    QMenu *menu = window()->uploadToMenu();
    menu->popup(window()->mapToGlobal(QPoint(40, 40)));
    if (!QTest::qWaitFor([&] { return menu->isVisible(); }, kTimeout))
        return nullptr;
    return menu;
}

QString tst_BrowserWindow::checkedIn(QMenu *menu)
{
    QStringList checked;
    for (QAction *a : menu->actions()) {
        if (a->isCheckable() && a->isChecked())
            checked << a->objectName();
    }
    return checked.join(QLatin1Char(','));
}

void tst_BrowserWindow::emptyStateInvitesDrops()
{
    QVERIFY(m_fx->startWindow());
    QCOMPARE(window()->collectionModel()->rowCount(), 0);
    QCOMPARE(window()->documentView()->emptyTitle(), QStringLiteral("Drop documents here"));
    QVERIFY(window()->acceptDrops());
    QVERIFY(window()->findChild<QAction *>(QStringLiteral("actionAddFiles"))->isEnabled());
    QVERIFY(!window()->findChild<QAction *>(QStringLiteral("actionRemoveDocuments"))->isEnabled());
}

void tst_BrowserWindow::dropOntoWindowAddsToSelectedCollection()
{
    const qint64 a = create(QStringLiteral("A"));
    create(QStringLiteral("B"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    QCOMPARE(window()->currentCollectionId(), a);

    const QString tree = makeTree(QStringLiteral("tree"), 4);
    const QString single = m_fx->filePath(QStringLiteral("single.txt"));
    uitest::writeFile(single, "single");
    QVERIFY(dragAndDrop(window(), QPoint(400, 300), {url(tree), url(single)}));

    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), a),
                              (QStringList{QStringLiteral("f0.txt"), QStringLiteral("f1.txt"), QStringLiteral("f2.txt"),
                                           QStringLiteral("f3.txt"), QStringLiteral("single.txt")}),
                              kTimeout);
    QVERIFY(m_fx->waitIdle());
    QCOMPARE(uitest::fileNamesOf(m_fx->catalog(), uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("B"))), QStringList());
    // The table shows them, hashed, without anyone asking.
    QTRY_COMPARE_WITH_TIMEOUT(window()->documentModel()->rowCount(), 5, kTimeout);
    for (int row = 0; row < 5; ++row)
        QTRY_COMPARE_WITH_TIMEOUT(window()->documentModel()->index(row, 0).data(DocumentModel::StatusRole).toInt(),
                                  int(DocStatus::Hashed), kTimeout);
}

void tst_BrowserWindow::dropOntoCollectionAddsToThatOne()
{
    const qint64 a = create(QStringLiteral("A"));
    const qint64 b = create(QStringLiteral("B"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    CollectionView *view = window()->collectionView();
    const int row = window()->collectionModel()->rowOfId(b);
    QVERIFY(row >= 0);
    const QPoint onB = view->visualRect(window()->collectionModel()->index(row, 0)).center();

    const QString tree = makeTree(QStringLiteral("forB"), 3);
    QVERIFY(dragAndDrop(view->viewport(), onB, {url(tree)}));
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), b).size(), 3, kTimeout);
    QVERIFY(m_fx->waitIdle());
    QCOMPARE(uitest::fileNamesOf(m_fx->catalog(), a), QStringList());
    QCOMPARE(window()->currentCollectionId(), a);   // the selection stays where it was
    // The count in the list follows.
    QTRY_COMPARE_WITH_TIMEOUT(window()->collectionModel()->index(row, CollectionModel::CountColumn).data().toString(),
                              QStringLiteral("3"), kTimeout);
}

void tst_BrowserWindow::dropOntoEmptySpaceAsksForNewCollection()
{
    create(QStringLiteral("A"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    CollectionView *view = window()->collectionView();
    const QPoint below(view->viewport()->width() / 2, view->viewport()->height() - 5);
    QVERIFY(!view->indexAt(below).isValid());

    const QString tree = makeTree(QStringLiteral("Holiday Photos"), 2);
    QVERIFY(dragAndDrop(view->viewport(), below, {url(tree)}));

    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    QTRY_VERIFY(dialog->isVisible());
    QCOMPARE(dialog->name(), QStringLiteral("Holiday Photos"));   // the folder's name is suggested
    dialog->setName(QStringLiteral("Trip"));
    dialog->accept();

    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Trip")) > 0, kTimeout);
    const qint64 trip = uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Trip"));
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), trip), (QStringList{QStringLiteral("f0.txt"), QStringLiteral("f1.txt")}),
                              kTimeout);
    QVERIFY(m_fx->waitIdle());
    // The new collection is selected.
    QTRY_COMPARE_WITH_TIMEOUT(window()->currentCollectionId(), trip, kTimeout);
}

void tst_BrowserWindow::dropOntoEmptyWindowAsksForNewCollection()
{
    QVERIFY(m_fx->startWindow());
    const QString file = m_fx->filePath(QStringLiteral("inbox/letter.pdf"));
    uitest::writeFile(file, "%PDF");
    // Dropped onto the (empty) table: the table does not take drops, the window does.
    QVERIFY(dragAndDrop(window()->documentView()->viewport(), QPoint(50, 50), {url(file)}));
    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    QCOMPARE(dialog->name(), QStringLiteral("inbox"));   // a file: its folder's name
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("inbox")) > 0, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("inbox"))),
                              QStringList{QStringLiteral("letter.pdf")}, kTimeout);
    QVERIFY(m_fx->waitIdle());
}

void tst_BrowserWindow::ingestUpdatesStatusesLive()
{
    const qint64 a = create(QStringLiteral("A"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    const QString tree = makeTree(QStringLiteral("many"), 300);
    const QString dup1 = m_fx->filePath(QStringLiteral("dups/one.txt"));
    const QString dup2 = m_fx->filePath(QStringLiteral("dups/two.txt"));
    uitest::writeFile(dup1, "same");
    uitest::writeFile(dup2, "same");
    QSignalSpy finished(&m_fx->service(), &CatalogService::jobFinished);
    window()->addPaths(0, {QFile::encodeName(tree), QFile::encodeName(m_fx->filePath(QStringLiteral("dups")))});
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(uitest::documentsOf(m_fx->catalog(), a).size(), 302);

    // Every loaded row ends up with the catalog's status (events and refreshes reach the rows).
    DocumentModel *model = window()->documentModel();
    QTRY_VERIFY_WITH_TIMEOUT(model->totalCount() == 302, kTimeout);
    const QList<Document> truth = uitest::documentsOf(m_fx->catalog(), a);
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

// The end of adding says so in place of its "Adding … to …", and leaves what was shown since
// (here another collection's adding) for people to read.
void tst_BrowserWindow::finishedAddingReplacesOnlyItsOwnMessage()
{
    const qint64 a = create(QStringLiteral("A"));
    const qint64 b = create(QStringLiteral("B"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    QStatusBar *status = window()->statusBar();
    QSignalSpy finished(&m_fx->service(), &CatalogService::jobFinished);
    window()->addPaths(a, {QFile::encodeName(makeTree(QStringLiteral("first"), 3))});
    QCOMPARE(status->currentMessage(), QStringLiteral("Adding “%1” to A…").arg(m_fx->filePath(QStringLiteral("first"))));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeout);
    QCOMPARE(status->currentMessage(), QStringLiteral("Finished adding to A."));

    // A and B at once: B's message came last, so A's end (before or after B's) leaves it.
    window()->addPaths(a, {QFile::encodeName(makeTree(QStringLiteral("second"), 3))});
    window()->addPaths(b, {QFile::encodeName(makeTree(QStringLiteral("third"), 3))});
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, kTimeout);
    QCOMPARE(status->currentMessage(), QStringLiteral("Finished adding to B."));
}

void tst_BrowserWindow::removeDocumentsWithUndo()
{
    const qint64 a = create(QStringLiteral("A"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    window()->addPaths(a, {QFile::encodeName(makeTree(QStringLiteral("r"), 6))});
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(m_fx->catalog(), a).size(), 6, kTimeout);
    QVERIFY(m_fx->waitIdle());
    DocumentModel *model = window()->documentModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 6, kTimeout);
    const QList<Document> before = uitest::documentsOf(m_fx->catalog(), a);

    DocumentView *view = window()->documentView();
    view->selectRow(1);
    view->selectionModel()->select(model->index(3, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
    const QList<qint64> removedIds{model->documentAt(1).id, model->documentAt(3).id};
    QAction *remove = window()->findChild<QAction *>(QStringLiteral("actionRemoveDocuments"));
    QVERIFY(remove->isEnabled());
    remove->trigger();

    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = window()->findChild<QMessageBox *>(QStringLiteral("confirmRemoveDocuments"))) != nullptr,
                             kTimeout);
    QAbstractButton *confirm = nullptr;
    for (QAbstractButton *b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            confirm = b;
    }
    QVERIFY(confirm);
    confirm->click();

    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(m_fx->catalog(), a).size(), 4, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, kTimeout);
    for (qint64 id : removedIds)
        QCOMPARE(model->rowOfId(id), -1);
    QVERIFY(window()->findChild<QWidget *>(QStringLiteral("undoBar"))->isVisible());
    QVERIFY(window()->undoStack()->canUndo());

    window()->findChild<QPushButton *>(QStringLiteral("undoBarButton"))->click();
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(m_fx->catalog(), a).size(), 6, kTimeout);
    const QList<Document> after = uitest::documentsOf(m_fx->catalog(), a);
    for (int i = 0; i < before.size(); ++i) {
        QCOMPARE(after.at(i).id, before.at(i).id);
        QCOMPARE(after.at(i).sha256, before.at(i).sha256);
        QCOMPARE(after.at(i).status, before.at(i).status);
    }
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 6, kTimeout);
    for (qint64 id : removedIds)
        QVERIFY(model->rowOfId(id) >= 0);

    // Redo removes them again.
    window()->undoStack()->redo();
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(m_fx->catalog(), a).size(), 4, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 4, kTimeout);
}

void tst_BrowserWindow::collectionActions()
{
    const qint64 a = create(QStringLiteral("Alpha"));
    QVERIFY(m_fx->startWindow(QStringLiteral("Alpha")));

    // New collection: the dialog refuses a taken name, then creates and selects it.
    window()->findChild<QAction *>(QStringLiteral("actionNewCollection"))->trigger();
    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    dialog->setName(QStringLiteral("Alpha"));
    QVERIFY(!dialog->problem().isEmpty());
    dialog->setName(QStringLiteral("a/b"));
    QVERIFY(!dialog->problem().isEmpty());
    dialog->setName(QStringLiteral("Zeta"));
    QVERIFY(dialog->problem().isEmpty());
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Zeta")) > 0, kTimeout);
    const qint64 zeta = uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Zeta"));
    QTRY_COMPARE_WITH_TIMEOUT(window()->currentCollectionId(), zeta, kTimeout);

    // Rename it so that it sorts first: the selection follows it.
    QTRY_VERIFY_WITH_TIMEOUT(!window()->findChild<CollectionNameDialog *>(), kTimeout);
    window()->findChild<QAction *>(QStringLiteral("actionRenameCollection"))->trigger();
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) != nullptr, kTimeout);
    QCOMPARE(dialog->name(), QStringLiteral("Zeta"));
    dialog->setName(QStringLiteral("Aardvark"));
    dialog->accept();
    QTRY_COMPARE_WITH_TIMEOUT(window()->collectionModel()->index(0, 0).data().toString(), QStringLiteral("Aardvark"), kTimeout);
    QCOMPARE(window()->currentCollectionId(), zeta);

    // Remove it (after confirming): Alpha remains and gets selected.
    window()->findChild<QAction *>(QStringLiteral("actionRemoveCollection"))->trigger();
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = window()->findChild<QMessageBox *>(QStringLiteral("confirmRemoveCollection"))) != nullptr,
                             kTimeout);
    for (QAbstractButton *b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            b->click();
    }
    QTRY_COMPARE_WITH_TIMEOUT(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Aardvark")), qint64(0), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(window()->collectionModel()->rowCount(), 1, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(window()->currentCollectionId(), a, kTimeout);
}

void tst_BrowserWindow::uploadToSetsTheCollectionsRemote()
{
    saveLocalRemote(QStringLiteral("shelf"));
    saveLocalRemote(QStringLiteral("nas"));
    const qint64 a = create(QStringLiteral("Alpha"));
    QVERIFY(m_fx->startWindow(QStringLiteral("Alpha")));
    QCOMPARE(window()->currentCollectionId(), a);

    // In the Collection menu, which is also the collection list's context menu.
    QAction *uploadTo = window()->findChild<QAction *>(QStringLiteral("actionUploadTo"));
    QVERIFY(uploadTo && uploadTo->isEnabled());
    QCOMPARE(uploadTo->text(), QStringLiteral("&Upload To"));
    QMenu *collectionMenu = nullptr;
    for (QAction *act : window()->menuBar()->actions()) {
        if (act->menu() && act->menu()->actions().contains(uploadTo))
            collectionMenu = act->menu();
    }
    QVERIFY(collectionMenu);
    QCOMPARE(collectionMenu->title(), QStringLiteral("&Collection"));
    CollectionView *list = window()->collectionView();
    Q_EMIT list->customContextMenuRequested(list->visualRect(window()->collectionModel()->index(0, 0)).center());
    QTRY_VERIFY_WITH_TIMEOUT(collectionMenu->isVisible(), kTimeout);
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(collectionMenu->grab().save(dir + QStringLiteral("/collection-menu.png")));
    collectionMenu->hide();

    // Not uploading yet: "None" is checked; every configured remote is offered (the built-in
    // local one too), then the way to the remotes in Settings.
    QMenu *menu = openUploadTo();
    QVERIFY(menu);
    QCOMPARE(checkedIn(menu), QStringLiteral("actionUploadToNone"));
    QStringList offered;
    for (QAction *act : menu->actions()) {
        if (act->isCheckable())
            offered << act->data().toString();
    }
    QCOMPARE(offered, (QStringList{QString(), QStringLiteral("local"), QStringLiteral("nas"), QStringLiteral("shelf")}));
    QVERIFY(menu->actions().contains(window()->findChild<QAction *>(QStringLiteral("actionManageRemotes"))));
    QVERIFY(!window()->findChild<QAction *>(QStringLiteral("actionUploadToMissing")));

    // Choosing one sets it in the catalog.
    menu->findChild<QAction *>(QStringLiteral("actionUploadTo_shelf"))->trigger();
    menu->hide();
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("shelf"), kTimeout);
    // The list says where it uploads, and the menu shows it checked next time.
    const QModelIndex row = window()->collectionModel()->index(window()->collectionModel()->rowOfId(a), 0);
    QTRY_VERIFY_WITH_TIMEOUT(row.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Uploads to: shelf")), kTimeout);
    menu = openUploadTo();
    QCOMPARE(checkedIn(menu), QStringLiteral("actionUploadTo_shelf"));
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(menu->grab().save(dir + QStringLiteral("/upload-to-menu.png")));
    menu->hide();

    // Another one, by keyboard (Alt+C, U, then the remote): "nas" is listed before "shelf".
    menu = openUploadTo();
    menu->setActiveAction(menu->findChild<QAction *>(QStringLiteral("actionUploadTo_nas")));
    QTest::keyClick(menu, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("nas"), kTimeout);
    // The window learns it from the catalog (the list re-queries it) before the menu shows it.
    QTRY_VERIFY_WITH_TIMEOUT(row.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Uploads to: nas")), kTimeout);

    // "None" clears it.
    QTRY_VERIFY_WITH_TIMEOUT(!window()->uploadToMenu()->isVisible(), kTimeout);
    menu = openUploadTo();
    QCOMPARE(checkedIn(menu), QStringLiteral("actionUploadTo_nas"));
    menu->findChild<QAction *>(QStringLiteral("actionUploadToNone"))->trigger();
    menu->hide();
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QString(), kTimeout);
    QTRY_VERIFY_WITH_TIMEOUT(row.data(Qt::ToolTipRole).toString().contains(QStringLiteral("Not uploaded (no remote)")), kTimeout);
    menu = openUploadTo();
    QCOMPARE(checkedIn(menu), QStringLiteral("actionUploadToNone"));
    menu->hide();

    // Choosing the remote it has changes nothing (no undo step).
    const int steps = window()->undoStack()->count();
    window()->setCurrentCollectionRemote(QString());
    QCOMPARE(window()->undoStack()->count(), steps);
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

void tst_BrowserWindow::uploadToUndoAndMissingRemotes()
{
    saveLocalRemote(QStringLiteral("shelf"));
    saveLocalRemote(QStringLiteral("nas"));
    const qint64 a = create(QStringLiteral("Alpha"));
    QVERIFY(m_fx->startWindow(QStringLiteral("Alpha")));

    window()->setCurrentCollectionRemote(QStringLiteral("shelf"));
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("shelf"), kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(window()->collectionModel()->collectionAt(0).remote, QStringLiteral("shelf"), kTimeout);
    window()->setCurrentCollectionRemote(QStringLiteral("nas"));
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("nas"), kTimeout);
    QUndoStack *undo = window()->undoStack();
    QCOMPARE(undo->undoText(), QStringLiteral("Upload “Alpha” to “nas”"));

    // Edit › Undo (Ctrl+Z) puts the previous remote back; Redo applies it again.
    QAction *undoAction = window()->findChild<QAction *>(QStringLiteral("actionUndo"));
    QCOMPARE(undoAction->shortcut(), QKeySequence(QKeySequence::Undo));
    undoAction->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("shelf"), kTimeout);
    undo->undo();
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QString(), kTimeout);
    undo->redo();
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("shelf"), kTimeout);
    undo->redo();
    QTRY_COMPARE_WITH_TIMEOUT(remoteOf(a), QStringLiteral("nas"), kTimeout);

    // Undo to a remote removed since: refused, saying why; the collection keeps its remote.
    QVERIFY(RemoteProfiles(m_fx->store()).remove(QStringLiteral("shelf")).ok());
    undo->undo();
    QTRY_VERIFY_WITH_TIMEOUT(window()->statusBar()->currentMessage().contains(QStringLiteral("no remote named “shelf”")),
                             kTimeout);
    QCOMPARE(remoteOf(a), QStringLiteral("nas"));

    // A remote set elsewhere and not configured here: shown checked, not offered.
    QVERIFY(onWorker([&] { return m_fx->catalog().setCollectionRemote(a, QStringLiteral("elsewhere")); }).ok());
    QTRY_COMPARE_WITH_TIMEOUT((window()->collectionModel()->refresh(), window()->collectionModel()->collectionAt(0).remote),
                              QStringLiteral("elsewhere"), kTimeout);
    QMenu *menu = openUploadTo();
    QVERIFY(menu);
    QCOMPARE(checkedIn(menu), QStringLiteral("actionUploadToMissing"));
    QAction *missing = menu->findChild<QAction *>(QStringLiteral("actionUploadToMissing"));
    QVERIFY(!missing->isEnabled());
    QCOMPARE(missing->text(), QStringLiteral("elsewhere (not configured)"));
    menu->hide();
}

void tst_BrowserWindow::newCollectionDialogChoosesTheRemote()
{
    saveLocalRemote(QStringLiteral("shelf"));
    const qint64 alpha = create(QStringLiteral("Alpha"));
    QVERIFY(m_fx->startWindow(QStringLiteral("Alpha")));

    // Nothing chosen before: none by default; the choice made is stored with the collection.
    window()->findChild<QAction *>(QStringLiteral("actionNewCollection"))->trigger();
    CollectionNameDialog *dialog = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) && dialog->isVisible(), kTimeout);
    QComboBox *box = dialog->remoteBox();
    QVERIFY(box->isVisible() && box->isEnabled());
    QCOMPARE(box->currentData().toString(), QString());
    QCOMPARE(box->itemText(0), QStringLiteral("None (don’t upload)"));
    QVERIFY(box->findData(QStringLiteral("shelf")) > 0);
    dialog->setName(QStringLiteral("Scans"));
    box->setCurrentIndex(box->findData(QStringLiteral("shelf")));
    QCOMPARE(dialog->remote(), QStringLiteral("shelf"));
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QCoreApplication::sendPostedEvents();
        QVERIFY(dialog->grab().save(dir + QStringLiteral("/new-collection.png")));
    }
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Scans")) > 0, kTimeout);
    const qint64 scans = uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Scans"));
    QCOMPARE(remoteOf(scans), QStringLiteral("shelf"));

    // The next new collection starts with the remote chosen last; None is kept as chosen.
    QTRY_VERIFY_WITH_TIMEOUT(!window()->findChild<CollectionNameDialog *>(), kTimeout);
    window()->findChild<QAction *>(QStringLiteral("actionNewCollection"))->trigger();
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) && dialog->isVisible(), kTimeout);
    QCOMPARE(dialog->remote(), QStringLiteral("shelf"));
    dialog->setName(QStringLiteral("Letters"));
    dialog->setRemote(QString());
    dialog->accept();
    QTRY_VERIFY_WITH_TIMEOUT(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Letters")) > 0, kTimeout);
    QCOMPARE(remoteOf(uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Letters"))), QString());

    // Dropped into a collection that exists: it keeps its own remote, and the choice says so.
    QTRY_VERIFY_WITH_TIMEOUT(!window()->findChild<CollectionNameDialog *>(), kTimeout);
    window()->addPathsToNewCollection({QFile::encodeName(makeTree(QStringLiteral("more"), 1))});
    QTRY_VERIFY_WITH_TIMEOUT((dialog = window()->findChild<CollectionNameDialog *>()) && dialog->isVisible(), kTimeout);
    QCOMPARE(dialog->remote(), QString());   // None was chosen last
    dialog->remoteBox()->setCurrentIndex(dialog->remoteBox()->findData(QStringLiteral("shelf")));
    dialog->setName(QStringLiteral("Alpha"));
    QVERIFY(dialog->isExisting());
    QVERIFY(!dialog->remoteBox()->isEnabled());
    QVERIFY(dialog->findChild<QLabel *>(QStringLiteral("collectionRemoteNote"))->text().contains(QStringLiteral("keeps")));
    dialog->accept();
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), alpha), QStringList{QStringLiteral("f0.txt")}, kTimeout);
    QVERIFY(m_fx->waitIdle());
    QCOMPARE(remoteOf(alpha), QString());
}

void tst_BrowserWindow::filterAndDetails()
{
    const qint64 a = create(QStringLiteral("A"));
    QVERIFY(m_fx->startWindow(QStringLiteral("A")));
    const QString tree = makeTree(QStringLiteral("f"), 5);
    window()->addPaths(a, {QFile::encodeName(tree)});
    QVERIFY(m_fx->waitIdle());
    DocumentModel *model = window()->documentModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, kTimeout);

    window()->filterEdit()->setText(QStringLiteral("f3"));
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, kTimeout);
    QCOMPARE(model->documentAt(0).fileName, QStringLiteral("f3.txt"));
    window()->filterEdit()->clear();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, kTimeout);
    window()->statusFilter()->setCurrentIndex(window()->statusFilter()->findText(QStringLiteral("Failed")));
    QTRY_VERIFY_WITH_TIMEOUT(model->rowCount() == 0 && !model->isBusy(), kTimeout);
    QCOMPARE(window()->documentView()->emptyTitle(), QStringLiteral("No documents match"));
    window()->statusFilter()->setCurrentIndex(0);
    QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, kTimeout);

    // Details of the selected document, with the full hash; Copy Hash puts it on the clipboard.
    window()->documentView()->selectRow(2);
    const Document doc = model->documentAt(2);
    QCOMPARE(window()->detailsPane()->documentId(), doc.id);
    window()->findChild<QAction *>(QStringLiteral("actionCopyHash"))->trigger();
    QCOMPARE(QGuiApplication::clipboard()->text(), QString::fromLatin1(doc.sha256));
    QCOMPARE(doc.sha256.size(), 64);
}

void tst_BrowserWindow::remembersLayoutAndCollection()
{
    create(QStringLiteral("A"));
    const qint64 b = create(QStringLiteral("B"));
    QVERIFY(m_fx->startWindow(QStringLiteral("B")));
    window()->documentView()->horizontalHeader()->resizeSection(DocumentModel::NameColumn, 333);
    window()->close();
    QCOMPARE(m_fx->store().value(QStringLiteral("settings/ui/lastCollection")).valueOr({}).toLongLong(), b);
    QVERIFY(!m_fx->store().value(QStringLiteral("settings/ui/geometry")).valueOr({}).toString().isEmpty());
    m_fx->closeWindow();

    QVERIFY(m_fx->startWindow());   // no collection asked for: the last one
    QCOMPARE(window()->currentCollectionId(), b);
    QCOMPARE(window()->documentView()->horizontalHeader()->sectionSize(DocumentModel::NameColumn), 333);
}

QTEST_MAIN(tst_BrowserWindow)
void tst_BrowserWindow::filesOpenedBySystemGoToTheirCollection()
{
    // As macOS hands files to a running program (Dock icon, Finder's Open With): one
    // QFileOpenEvent per file, sent to the application, some before the window is ready.
    const qint64 other = create(QStringLiteral("Other"));
    m_fx->makeWindow();
    const FileOpenReceiver receiver(*window(), QStringLiteral("Dropped on the Dock"));
    const QString tree = makeTree(QStringLiteral("early"), 3);
    const QString single = m_fx->filePath(QStringLiteral("late one.txt"));
    uitest::writeFile(single, "late");
    QFileOpenEvent early(tree);
    QVERIFY(QCoreApplication::sendEvent(QCoreApplication::instance(), &early));   // taken by the receiver
    QSignalSpy ready(window(), &BrowserWindow::ready);
    window()->show();
    window()->start(QStringLiteral("Other"));
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, kTimeout);

    // Created, filled and selected once the window is ready.
    qint64 dropped = 0;
    QTRY_VERIFY_WITH_TIMEOUT((dropped = uitest::collectionIdOf(m_fx->catalog(), QStringLiteral("Dropped on the Dock"))) > 0,
                             kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), dropped),
                              (QStringList{QStringLiteral("f0.txt"), QStringLiteral("f1.txt"), QStringLiteral("f2.txt")}),
                              kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(window()->currentCollectionId(), dropped, kTimeout);

    // Later events, in a burst (a multi-file drop), go to the same collection: one ingest.
    QVERIFY(window()->selectCollection(other));
    QVERIFY(m_fx->waitIdle());
    QSignalSpy jobs(&m_fx->service(), &CatalogService::jobStarted);
    QFileOpenEvent late(single);
    QFileOpenEvent again(makeTree(QStringLiteral("burst"), 2));
    QCoreApplication::sendEvent(QCoreApplication::instance(), &late);
    QCoreApplication::sendEvent(QCoreApplication::instance(), &again);
    QTRY_COMPARE_WITH_TIMEOUT(uitest::fileNamesOf(m_fx->catalog(), dropped).size(), 6, kTimeout);
    QVERIFY(uitest::fileNamesOf(m_fx->catalog(), dropped).contains(QStringLiteral("late one.txt")));
    QCOMPARE(jobs.count(), 1);
    QCOMPARE(window()->currentCollectionId(), dropped);
    QCOMPARE(uitest::fileNamesOf(m_fx->catalog(), other), QStringList());
    QVERIFY(m_fx->waitIdle());
}

// A catalog on a database server that refuses the connection without the right password: the
// window asks for it (the location shown as text, never the password), asks again after a wrong
// one, and opens the catalog with the right one.
void tst_BrowserWindow::catalogServerAsksForItsPassword()
{
    if (const QString why = uitest::PasswordCatalogServer::unavailable(); !why.isEmpty())
        QSKIP(qPrintable(why));
    const QString password = QStringLiteral("s3cret <b>pw</b>");
    uitest::PasswordCatalogServer server;
    QVERIFY2(server.start(QStringLiteral("asks"), password, m_fx->path()), qPrintable(server.error()));
    const QString url = server.url();

    m_fx->useCatalog(url);
    m_fx->makeWindow();
    QSignalSpy ready(window(), &BrowserWindow::ready);
    window()->show();
    window()->start(QString());

    auto answer = [&](const QString &text) {
        CatalogPasswordDialog *dialog = nullptr;
        if (!QTest::qWaitFor([&] {
                for (auto *d : window()->findChildren<CatalogPasswordDialog *>()) {
                    if (d->isVisible())
                        dialog = d;
                }
                return dialog != nullptr;
            }, kTimeout))
            return QStringLiteral("no password dialog");
        const QList<QLabel *> labels = dialog->findChildren<QLabel *>();
        QString shown;
        for (const QLabel *l : labels) {
            // The location and the server's words are data: never read as markup.
            if ((l->text().contains(url) || l->text().contains(QLatin1StringView("quire_password")))
                && l->textFormat() != Qt::PlainText)
                return QStringLiteral("a label that may read markup: ") + l->text();
            shown += l->text();
        }
        if (!shown.contains(url) || shown.contains(password))
            return QStringLiteral("the dialog shows: ") + shown;
        dialog->rememberBox()->setChecked(false);   // no keychain in this test
        dialog->passwordEdit()->setText(text);
        dialog->accept();
        return QString();
    };
    QString problem = answer(QStringLiteral("wrong"));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    problem = answer(password);   // asked again
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QTRY_VERIFY_WITH_TIMEOUT(ready.count() == 1, kTimeout);
    QVERIFY2(window()->startError().isEmpty(), qPrintable(window()->startError()));
    QVERIFY(!m_fx->catalog().connections().passwordRefused());

    m_fx->closeWindow();
}

#include "tst_browserwindow.moc"
