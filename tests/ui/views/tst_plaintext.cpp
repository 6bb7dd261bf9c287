// ctest-labels: ui
// ctest-timeout: 600
// Text that comes from files, servers or the catalog is shown as it is, never read as markup:
// a document named "<b>x</b><img src=y>", collection and remote names with markup, and a
// server's HTML error page, in the views, their tooltips, the details pane, message boxes,
// dialogs and the Settings. Qt reads a tooltip, or a label or message box left at Qt::AutoText,
// as rich text when Qt::mightBeRichText() says so; these tests render what would be shown.
#include "views/browserwindow.h"
#include "catalog/catalog.h"
#include "catalog/catalogservice.h"
#include "models/collectionmodel.h"
#include "dialogs/collectionnamedialog.h"
#include "views/collectionview.h"
#include "views/detailspane.h"
#include "dialogs/diagnosticsdialog.h"
#include "models/documentmodel.h"
#include "views/documentview.h"
#include "faultserver.h"
#include "jobs/pools.h"
#include "dialogs/remoteeditdialog.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"
#include "dialogs/settingsdialog.h"
#include "testsupport.h"
#include "uitestsupport.h"

#include <QAction>
#include <QApplication>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QToolTip>
#include <QTreeWidget>

using namespace quire;
using quire::test::onWorker;

namespace {

constexpr int kTimeout = 60'000;

// A file name cannot hold '/' on POSIX systems, but the catalog can (another program sharing it,
// another system): the name as the brief of the problem has it.
const QString kName = QStringLiteral("<b>x</b><img src=y>");
// Collection names cannot hold '/'; "&lt;" alone makes Qt guess rich text too.
const QString kCollection = QStringLiteral("<u>Scans<u> &lt;i&gt; <img src=z>");
// A remote name from the catalog (not one configured here, whose names are restricted).
const QString kRemote = QStringLiteral("<b>nas</b>");
// A failure recorded in the catalog: the words of a server's error page.
const QString kError = QStringLiteral("<h1>Forbidden</h1><p>No <b>access</b> to <img src=y></p>");

// What a tooltip shows: QToolTip reads it as rich text when Qt::mightBeRichText() says so.
QString shownToolTip(const QString &tip)
{
    if (!Qt::mightBeRichText(tip))
        return tip;
    QTextDocument doc;
    doc.setHtml(tip);
    return doc.toPlainText();
}

// What a label shows.
QString shownText(const QLabel *label)
{
    const bool rich = label->textFormat() == Qt::RichText
                      || (label->textFormat() == Qt::AutoText && Qt::mightBeRichText(label->text()));
    if (!rich && label->buddy()) {
        // An '&' marks the shortcut key (shown underlined), "&&" is shown as "&".
        const QString text = label->text();
        QString shown;
        for (qsizetype i = 0; i < text.size(); ++i) {
            if (text.at(i) == QLatin1Char('&') && i + 1 < text.size())
                ++i;
            shown += text.at(i);
        }
        return shown;
    }
    if (!rich)
        return label->text();
    QTextDocument doc;
    doc.setHtml(label->text());
    return doc.toPlainText();
}

// Everything the visible labels in `root` show, one a line.
QString shownIn(const QWidget *root)
{
    QStringList shown;
    for (const QLabel *l : root->findChildren<QLabel *>()) {
        if (l->isVisibleTo(root->window()))
            shown << shownText(l);
    }
    return shown.join(QLatin1Char('\n'));
}

// The visible message box among the top-level widgets (window-modal, opened with open()).
QMessageBox *openMessageBox()
{
    for (QWidget *w : QApplication::topLevelWidgets()) {
        if (auto *box = qobject_cast<QMessageBox *>(w); box && box->isVisible())
            return box;
    }
    return nullptr;
}

// A message box's texts are plain, and it shows `needle` as it is.
QString checkBox(QMessageBox *box, const QString &needle)
{
    if (!box)
        return QStringLiteral("no message box");
    if (box->textFormat() != Qt::PlainText)
        return QStringLiteral("the box may read markup: ") + box->text();
    const QString shown = shownIn(box);
    if (!shown.contains(needle))
        return QStringLiteral("the box shows: ") + shown;
    return {};
}

// Saves a picture of the tooltip `tip` as Qt shows it, for a person to look at.
void saveToolTipPicture(QWidget *over, const QString &tip, const QString &name)
{
    const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QToolTip::showText(over->mapToGlobal(QPoint(10, 10)), tip, over);
    QWidget *label = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        for (QWidget *w : QApplication::topLevelWidgets()) {
            if (w->inherits("QTipLabel") && w->isVisible())
                label = w;
        }
        return label != nullptr;
    }(), kTimeout);
    QVERIFY(label->grab().save(dir + QLatin1Char('/') + name));
    QToolTip::hideText();
}

} // namespace

class tst_UiPlainText final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void namesShowLiterallyInTheWindow();
    void serverErrorPageShowsLiterally();
    void settingsShowRemoteValuesLiterally();

private:
    BrowserWindow *window() const { return m_fx->window(); }

    // The catalog "c.sqlite" unless a test names another; each test opens it.
    std::unique_ptr<uitest::UiFixture> m_fx;
};

void tst_UiPlainText::init()
{
    m_fx = std::make_unique<uitest::UiFixture>(QStringLiteral("c.sqlite"));
    QVERIFY(m_fx->isValid());
}

void tst_UiPlainText::cleanup()
{
    m_fx.reset();
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

// A document, its collection and the collection's remote, all named with markup, as the catalog
// has them: the table, its tooltips, the collection list, the details pane, the window's
// message boxes and dialogs, the Upload To menu and Diagnostics show them as they are.
void tst_UiPlainText::namesShowLiterallyInTheWindow()
{
    m_fx->useCatalog(m_fx->filePath(QStringLiteral("<b>c<b><img src=y>.sqlite")));
    QVERIFY(m_fx->openCatalog());
    const QByteArray sourcePath = QFile::encodeName(m_fx->filePath(QStringLiteral("in/<i>x<i><img src=y>.txt")));
    const qint64 c = onWorker([&] { return m_fx->catalog().createCollection(kCollection, kRemote).valueOr(0); });
    QVERIFY(c > 0);
    HashedDocument failed;
    failed.doc.sourcePath = sourcePath;
    failed.doc.fileName = kName;
    failed.doc.size = 5;
    failed.error = kError;
    QVERIFY(onWorker([&] { return m_fx->catalog().addHashed(c, {failed}); }).ok());
    QVERIFY(m_fx->startWindow(kCollection));
    QCOMPARE(window()->currentCollectionId(), c);
    QVERIFY(window()->windowTitle().startsWith(kCollection));

    // The table and its tooltips.
    DocumentModel *docs = window()->documentModel();
    QTRY_COMPARE_WITH_TIMEOUT(docs->rowCount(), 1, kTimeout);
    QCOMPARE(docs->index(0, DocumentModel::NameColumn).data().toString(), kName);
    QCOMPARE(shownToolTip(docs->index(0, DocumentModel::NameColumn).data(Qt::ToolTipRole).toString()),
             QString::fromUtf8(sourcePath));
    const QString statusTip = docs->index(0, DocumentModel::StatusColumn).data(Qt::ToolTipRole).toString();
    QCOMPARE(shownToolTip(statusTip), kError);
    saveToolTipPicture(window()->documentView()->viewport(), statusTip, QStringLiteral("plaintext-status-tooltip.png"));

    // The collection list's tooltip: the name on its first line, the remote further down.
    const QModelIndex row = window()->collectionModel()->index(window()->collectionModel()->rowOfId(c), 0);
    QCOMPARE(row.data().toString(), kCollection);
    const QString collectionTip = row.data(Qt::ToolTipRole).toString();
    QVERIFY2(shownToolTip(collectionTip).startsWith(kCollection + QLatin1Char('\n')), qPrintable(shownToolTip(collectionTip)));
    QVERIFY2(shownToolTip(collectionTip).endsWith(QStringLiteral("Uploads to: ") + kRemote), qPrintable(shownToolTip(collectionTip)));
    saveToolTipPicture(window()->collectionView()->viewport(), collectionTip, QStringLiteral("plaintext-collection-tooltip.png"));

    // The details pane, and its note after Verify.
    window()->documentView()->selectRow(0);
    DetailsPane *details = window()->detailsPane();
    QTRY_VERIFY_WITH_TIMEOUT(details->documentId() > 0, kTimeout);
    QString shown = shownIn(details);
    for (const QString &literal : {kName, kError, kCollection, QString::fromUtf8(sourcePath)})
        QVERIFY2(shown.contains(literal), qPrintable(QStringLiteral("%1 not in: %2").arg(literal, shown)));
    window()->findChild<QAction *>(QStringLiteral("actionVerify"))->trigger();
    const QString notHashed = QStringLiteral("“%1” has not been hashed yet").arg(kName);
    QTRY_VERIFY2_WITH_TIMEOUT(shownIn(details).contains(notHashed), qPrintable(shownIn(details)), kTimeout);

    // Remove from Collection asks first, naming the document and the collection.
    window()->findChild<QAction *>(QStringLiteral("actionRemoveDocuments"))->trigger();
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = openMessageBox()) != nullptr, kTimeout);
    QString problem = checkBox(box, QStringLiteral("Remove “%1” from %2?").arg(kName, kCollection));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(box->grab().save(dir + QStringLiteral("/plaintext-remove-box.png")));
    box->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!openMessageBox(), kTimeout);

    // Remove Collection too.
    window()->findChild<QAction *>(QStringLiteral("actionRemoveCollection"))->trigger();
    QTRY_VERIFY_WITH_TIMEOUT((box = openMessageBox()) != nullptr, kTimeout);
    problem = checkBox(box, QStringLiteral("Remove the collection “%1”").arg(kCollection));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    box->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!openMessageBox(), kTimeout);

    // Rename Collection's prompt.
    window()->findChild<QAction *>(QStringLiteral("actionRenameCollection"))->trigger();
    CollectionNameDialog *rename = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((rename = window()->findChild<CollectionNameDialog *>()) && rename->isVisible(), kTimeout);
    QVERIFY2(shownIn(rename).contains(QStringLiteral("New name for “%1”:").arg(kCollection)), qPrintable(shownIn(rename)));
    rename->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!window()->findChild<CollectionNameDialog *>(), kTimeout);

    // Upload To: the collection's remote is not configured here; the menu says so.
    QMenu *menu = window()->uploadToMenu();
    menu->popup(window()->mapToGlobal(QPoint(40, 40)));
    QTRY_VERIFY_WITH_TIMEOUT(menu->isVisible(), kTimeout);
    QAction *missing = menu->findChild<QAction *>(QStringLiteral("actionUploadToMissing"));
    QVERIFY(missing);
    QCOMPARE(missing->text(), kRemote + QStringLiteral(" (not configured)"));
    QVERIFY2(shownToolTip(missing->toolTip()).startsWith(QStringLiteral("No remote named “%1” is configured").arg(kRemote)),
             qPrintable(shownToolTip(missing->toolTip())));
    menu->hide();

    // Diagnostics names the catalog's file.
    window()->findChild<QAction *>(QStringLiteral("actionDiagnostics"))->trigger();
    DiagnosticsDialog *diagnostics = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((diagnostics = window()->findChild<DiagnosticsDialog *>()) && diagnostics->isVisible(), kTimeout);
    const auto location = diagnostics->findChild<QTreeWidget *>()->findItems(QStringLiteral("Location"),
                                                                             Qt::MatchExactly | Qt::MatchRecursive, 0);
    QCOMPARE(location.size(), 1);
    QVERIFY2(shownToolTip(location.first()->toolTip(1)).contains(QStringLiteral("<b>c<b><img src=y>.sqlite")),
             qPrintable(shownToolTip(location.first()->toolTip(1))));
    diagnostics->close();

    // Removed: the undo bar names the collection.
    window()->findChild<QAction *>(QStringLiteral("actionRemoveDocuments"))->trigger();
    QTRY_VERIFY_WITH_TIMEOUT((box = openMessageBox()) != nullptr, kTimeout);
    for (QAbstractButton *b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            b->click();
    }
    QWidget *undoBar = window()->findChild<QWidget *>(QStringLiteral("undoBar"));
    QTRY_VERIFY_WITH_TIMEOUT(undoBar->isVisible(), kTimeout);
    QVERIFY2(shownIn(undoBar).contains(QStringLiteral("Removed 1 document from %1.").arg(kCollection)), qPrintable(shownIn(undoBar)));
    QTRY_COMPARE_WITH_TIMEOUT(uitest::documentsOf(m_fx->catalog(), c).size(), 0, kTimeout);
}

// A WebDAV server that answers with an HTML error page whose text holds markup (as entities, so
// the page's own words are "<b>x</b><img src=y> is refused"): the failed upload's tooltip and
// the details pane, and Test Connection in the remote's editor and in Settings, show the words.
void tst_UiPlainText::serverErrorPageShowsLiterally()
{
    QVERIFY(m_fx->openCatalog());
    test::FaultServer server;
    QVERIFY2(server.error().isEmpty(), qPrintable(server.error()));
    const QByteArray page = "<html><head><title>415 Unsupported Media Type</title></head><body>"
                            "<h1>Unsupported Media Type</h1>"
                            "<p>&lt;b&gt;x&lt;/b&gt;&lt;img src=y&gt; is refused</p></body></html>";
    const QString said = QStringLiteral("<b>x</b><img src=y> is refused");
    server.script(QList<test::FaultServer::Behaviour>(
        10, test::FaultServer::Behaviour::respond("PUT", 415, page, {{"Content-Type", "text/html; charset=utf-8"}})));
    RemoteProfile dav;
    dav.name = QStringLiteral("dav");
    dav.kind = RemoteKind::WebDav;
    dav.url = server.url().toString();
    QVERIFY(RemoteProfiles(m_fx->store()).save(dav).ok());
    const qint64 c = onWorker([&] { return m_fx->catalog().createCollection(QStringLiteral("Inbox"), QStringLiteral("dav")).valueOr(0); });
    QVERIFY(c > 0);
    QVERIFY(m_fx->startWindow(QStringLiteral("Inbox")));

    // The upload fails with the server's words.
    const QString file = m_fx->filePath(QStringLiteral("in/letter.txt"));
    uitest::writeFile(file, "a letter");
    window()->addPaths(c, {QFile::encodeName(file)});
    DocumentModel *docs = window()->documentModel();
    QTRY_VERIFY_WITH_TIMEOUT(docs->rowCount() == 1
                                 && docs->index(0, 0).data(DocumentModel::StatusRole).toInt() == int(DocStatus::Failed),
                             kTimeout);
    QVERIFY(m_fx->waitIdle());
    const QString error = docs->documentAt(0).error;
    QVERIFY2(error.contains(said), qPrintable(error));
    const QString tip = docs->index(0, DocumentModel::StatusColumn).data(Qt::ToolTipRole).toString();
    QCOMPARE(shownToolTip(tip), error);
    saveToolTipPicture(window()->documentView()->viewport(), tip, QStringLiteral("plaintext-server-error-tooltip.png"));
    window()->documentView()->selectRow(0);
    QTRY_VERIFY_WITH_TIMEOUT(window()->detailsPane()->documentId() > 0, kTimeout);
    QVERIFY2(shownIn(window()->detailsPane()).contains(error), qPrintable(shownIn(window()->detailsPane())));

    // Test Connection writes a test file: refused with the same page.
    SettingsDialog settings(m_fx->store(), m_fx->service());
    settings.show();
    QVERIFY(QTest::qWaitForWindowExposed(&settings));
    QSignalSpy done(&settings, &SettingsDialog::remoteOperationFinished);
    QVERIFY(settings.selectRemote(QStringLiteral("dav")));
    settings.testRemoteButton()->click();
    QVERIFY(done.wait(kTimeout));
    QVERIFY2(settings.remoteMessage().contains(said), qPrintable(settings.remoteMessage()));
    QVERIFY2(shownIn(&settings).contains(settings.remoteMessage()), qPrintable(shownIn(&settings)));

    RemoteEditDialog *editor = settings.editSelectedRemote();
    QVERIFY(editor);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
    QTRY_VERIFY_WITH_TIMEOUT(editor->testButton()->isEnabled(), kTimeout);
    editor->testButton()->click();
    QVERIFY(tested.wait(kTimeout));
    QVERIFY2(editor->testMessage().contains(said), qPrintable(editor->testMessage()));
    QVERIFY2(shownIn(editor).contains(editor->testMessage()), qPrintable(shownIn(editor)));
    editor->reject();
}

// Settings › Remotes: a folder with markup in its path, used by a collection named with markup.
// The list's tooltip, both Remove boxes and the editor's explanation show them as they are.
void tst_UiPlainText::settingsShowRemoteValuesLiterally()
{
    QVERIFY(m_fx->openCatalog());
    RemoteProfile shelf;
    shelf.name = QStringLiteral("shelf");
    shelf.url = m_fx->filePath(QStringLiteral("<b>nas</b><img src=y>"));
    QVERIFY(RemoteProfiles(m_fx->store()).save(shelf).ok());
    const qint64 c = onWorker([&] { return m_fx->catalog().createCollection(kCollection, QStringLiteral("shelf")).valueOr(0); });
    QVERIFY(c > 0);

    SettingsDialog dialog(m_fx->store(), m_fx->service());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY(dialog.selectRemote(QStringLiteral("shelf")));
    const QTreeWidgetItem *item = dialog.remotesList()->currentItem();
    QCOMPARE(item->text(2), shelf.url);
    QCOMPARE(shownToolTip(item->toolTip(2)), shelf.url);

    // In use: refused, naming the collection.
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);
    dialog.removeRemoteButton()->click();
    QVERIFY(done.wait(kTimeout));
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = openMessageBox()) != nullptr, kTimeout);
    QString problem = checkBox(box, QStringLiteral("used by the collection “%1”").arg(kCollection));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    box->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!openMessageBox(), kTimeout);

    // Not in use: asked first, naming the folder.
    QVERIFY(onWorker([&] { return m_fx->catalog().setCollectionRemote(c, QString()); }).ok());
    dialog.removeRemoteButton()->click();
    QVERIFY(done.wait(kTimeout));
    QTRY_VERIFY_WITH_TIMEOUT((box = openMessageBox()) != nullptr, kTimeout);
    problem = checkBox(box, QStringLiteral("Documents already copied to %1 stay there.").arg(shelf.url));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    box->reject();
    QTRY_VERIFY_WITH_TIMEOUT(!openMessageBox(), kTimeout);

    // The editor explains what is missing, quoting what was typed.
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((editor = dialog.findChild<RemoteEditDialog *>()) && editor->isVisible(), kTimeout);
    editor->nameEdit()->setText(QStringLiteral("dav"));
    editor->setKind(RemoteKind::WebDav);
    editor->urlEdit()->setText(QStringLiteral("https://dav.example.org/files/"));
    const QString user = QStringLiteral("<b>me</b><img src=y>");
    editor->userEdit()->setText(user);
    QVERIFY2(editor->problem().contains(user), qPrintable(editor->problem()));
    QVERIFY2(shownIn(editor).contains(editor->problem()), qPrintable(shownIn(editor)));
    editor->reject();
}

QTEST_MAIN(tst_UiPlainText)
#include "tst_plaintext.moc"
