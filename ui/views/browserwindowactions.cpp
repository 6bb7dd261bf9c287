// BrowserWindow's actions, menus and toolbar.
#include "views/browserwindow.h"

#include "common/icons.h"
#include "views/collectionview.h"
#include "views/documentview.h"
#include "views/workstatuswidget.h"

#include <QAction>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QToolBar>
#include <QToolButton>
#include <QUndoStack>

namespace quire {

void BrowserWindow::createActions()
{
    const auto make = [this](const QString &objectName, const QString &text, const QString &icon,
                             const QKeySequence &shortcut, void (BrowserWindow::*slot)()) {
        auto *a = new QAction(text, this);
        a->setObjectName(objectName);
        if (!icon.isEmpty())
            a->setIcon(Icons::glyph(icon));
        if (!shortcut.isEmpty())
            a->setShortcut(shortcut);
        if (slot)
            connect(a, &QAction::triggered, this, slot);
        return a;
    };

    m_addFiles = make(QStringLiteral("actionAddFiles"), tr("Add &Files…"), QStringLiteral("add-files"),
                      QKeySequence::Open, &BrowserWindow::addFiles);
    m_addFiles->setToolTip(tr("Add files to the selected collection"));
    m_addFolder = make(QStringLiteral("actionAddFolder"), tr("Add F&older…"), QStringLiteral("add-folder"),
                       QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), &BrowserWindow::addFolder);
    m_addFolder->setToolTip(tr("Add a folder and everything in it to the selected collection"));
    m_paste = make(QStringLiteral("actionPaste"), tr("&Paste Files"), QStringLiteral("paste"),
                   QKeySequence::Paste, &BrowserWindow::pastePaths);
    m_settings = make(QStringLiteral("actionSettings"), tr("&Settings…"), QStringLiteral("settings"),
                      QKeySequence(Qt::CTRL | Qt::Key_Comma), &BrowserWindow::showSettings);
    m_settings->setMenuRole(QAction::PreferencesRole);
    m_quit = make(QStringLiteral("actionQuit"), tr("&Quit"), {}, QKeySequence::Quit, nullptr);
    m_quit->setMenuRole(QAction::QuitRole);
    connect(m_quit, &QAction::triggered, this, &QWidget::close);

    m_undoAction = m_undo->createUndoAction(this, tr("&Undo"));
    m_undoAction->setObjectName(QStringLiteral("actionUndo"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_undoAction->setIcon(Icons::glyph(QStringLiteral("undo")));
    m_redoAction = m_undo->createRedoAction(this, tr("&Redo"));
    m_redoAction->setObjectName(QStringLiteral("actionRedo"));
    m_redoAction->setShortcut(QKeySequence::Redo);
    m_redoAction->setIcon(Icons::glyph(QStringLiteral("redo")));
    m_find = make(QStringLiteral("actionFind"), tr("&Find…"), QStringLiteral("search"), QKeySequence::Find, nullptr);
    connect(m_find, &QAction::triggered, this, [this] {
        m_filter->setFocus(Qt::ShortcutFocusReason);
        m_filter->selectAll();
    });
    m_selectAll = make(QStringLiteral("actionSelectAll"), tr("Select &All"), {}, QKeySequence::SelectAll, nullptr);
    connect(m_selectAll, &QAction::triggered, this, [this] { m_documentView->selectAll(); });

    m_newCollection = make(QStringLiteral("actionNewCollection"), tr("&New Collection…"),
                           QStringLiteral("new-collection"), QKeySequence::New, &BrowserWindow::newCollection);
    m_renameCollection = make(QStringLiteral("actionRenameCollection"), tr("&Rename Collection…"),
                              QStringLiteral("rename"), QKeySequence(Qt::Key_F2), &BrowserWindow::renameCollection);
    m_removeCollection = make(QStringLiteral("actionRemoveCollection"), tr("Re&move Collection…"),
                              QStringLiteral("remove-collection"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Delete),
                              &BrowserWindow::removeCollection);

    m_removeDocuments = make(QStringLiteral("actionRemoveDocuments"), tr("&Remove from Collection…"),
                             QStringLiteral("remove"), QKeySequence::Delete, &BrowserWindow::removeDocuments);
    m_removeDocuments->setToolTip(tr("Remove the selected documents from the catalog (the files stay where they are)"));
    m_retryFailed = make(QStringLiteral("actionRetryFailed"), tr("Re&try Failed"), QStringLiteral("retry"),
                         QKeySequence(Qt::CTRL | Qt::Key_R), &BrowserWindow::retryFailed);
    m_retryFailed->setToolTip(tr("Add the failed and cancelled documents again"));
    m_cancel = make(QStringLiteral("actionCancel"), tr("&Cancel Adding"), QStringLiteral("cancel"),
                    QKeySequence(Qt::CTRL | Qt::Key_Period), &BrowserWindow::cancelCollection);
    m_cancel->setToolTip(tr("Stop adding documents to this collection"));
    m_openSource = make(QStringLiteral("actionOpenSource"), tr("&Open Source File"), QStringLiteral("open"),
                        QKeySequence(Qt::CTRL | Qt::Key_Return), &BrowserWindow::openSource);
    m_showInFolder = make(QStringLiteral("actionShowInFolder"), tr("Show in &Folder"), QStringLiteral("folder"),
                          QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_R), &BrowserWindow::showInFolder);
    m_copyHash = make(QStringLiteral("actionCopyHash"), tr("Copy &Hash"), QStringLiteral("copy"),
                      QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C), &BrowserWindow::copyHash);
    m_verify = make(QStringLiteral("actionVerify"), tr("&Verify"), QStringLiteral("verify"),
                    QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_H), &BrowserWindow::verifyDocument);
    m_verify->setToolTip(tr("Hash the source file again and compare it with the catalog"));

    m_showDetails = make(QStringLiteral("actionShowDetails"), tr("&Details Pane"), QStringLiteral("details"),
                         QKeySequence(Qt::Key_F9), nullptr);
    m_showDetails->setCheckable(true);
    m_showDetails->setChecked(true);

    m_pauseAll = make(QStringLiteral("actionPauseAll"), tr("&Pause All"), QStringLiteral("pause"),
                      QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), nullptr);
    // As the status bar's buttons: ingest and uploads together.
    connect(m_pauseAll, &QAction::triggered, this, [this] { m_work->pauseOrResumeAll(); });
    m_cancelAll = make(QStringLiteral("actionCancelAll"), tr("Cancel &All"), QStringLiteral("cancel"), {}, nullptr);
    connect(m_cancelAll, &QAction::triggered, this, [this] { m_work->cancelAll(); });

    m_diagnosticsAction = make(QStringLiteral("actionDiagnostics"), tr("&Diagnostics"), QStringLiteral("diagnostics"),
                               QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D), &BrowserWindow::showDiagnostics);
    m_about = make(QStringLiteral("actionAbout"), tr("&About Quire"), {}, {}, &BrowserWindow::showAbout);
    m_about->setMenuRole(QAction::AboutRole);
    m_manageRemotes = make(QStringLiteral("actionManageRemotes"), tr("&Manage Remotes…"), {}, {}, &BrowserWindow::showSettings);
    m_manageRemotes->setToolTip(tr("Add, edit and test remotes in Settings"));

    // Shortcuts work wherever the focus is in the window, not only where the action is shown.
    for (QAction *a : findChildren<QAction *>())
        addAction(a);
}

void BrowserWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_addFiles);
    file->addAction(m_addFolder);
    file->addSeparator();
    file->addAction(m_settings);
    file->addSeparator();
    file->addAction(m_quit);

    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(m_undoAction);
    edit->addAction(m_redoAction);
    edit->addSeparator();
    edit->addAction(m_paste);
    edit->addAction(m_copyHash);
    edit->addAction(m_selectAll);
    edit->addSeparator();
    edit->addAction(m_find);

    m_collectionMenu = menuBar()->addMenu(tr("&Collection"));
    m_collectionMenu->addAction(m_newCollection);
    m_collectionMenu->addAction(m_renameCollection);
    m_collectionMenu->addAction(m_removeCollection);
    m_collectionMenu->addSeparator();
    m_uploadToMenu = new QMenu(tr("&Upload To"), this);
    m_uploadToMenu->setObjectName(QStringLiteral("menuUploadTo"));
    m_uploadToMenu->setToolTipsVisible(true);
    m_uploadToMenu->menuAction()->setObjectName(QStringLiteral("actionUploadTo"));
    m_uploadToMenu->menuAction()->setToolTip(tr("Choose the remote the selected collection uploads to"));
    // Remotes change in Settings: listed afresh each time (a quick settings read, no I/O).
    connect(m_uploadToMenu, &QMenu::aboutToShow, this, &BrowserWindow::fillUploadToMenu);
    m_collectionMenu->addMenu(m_uploadToMenu);
    m_collectionMenu->addSeparator();
    m_collectionMenu->addAction(m_addFiles);
    m_collectionMenu->addAction(m_addFolder);
    m_collectionMenu->addSeparator();
    m_collectionMenu->addAction(m_retryFailed);
    m_collectionMenu->addAction(m_cancel);

    m_documentMenu = menuBar()->addMenu(tr("&Document"));
    m_documentMenu->addAction(m_openSource);
    m_documentMenu->addAction(m_showInFolder);
    m_documentMenu->addSeparator();
    m_documentMenu->addAction(m_copyHash);
    m_documentMenu->addAction(m_verify);
    m_documentMenu->addSeparator();
    m_documentMenu->addAction(m_retryFailed);
    m_documentMenu->addSeparator();
    m_documentMenu->addAction(m_removeDocuments);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    view->addAction(m_showDetails);
    view->addSeparator();
    view->addAction(m_pauseAll);
    view->addAction(m_cancelAll);

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(m_diagnosticsAction);
    help->addSeparator();
    help->addAction(m_about);

    m_emptyAreaMenu = new QMenu(this);
    m_emptyAreaMenu->addAction(m_addFiles);
    m_emptyAreaMenu->addAction(m_addFolder);
    m_emptyAreaMenu->addAction(m_paste);
    // popup(), not exec(): no nested event loop.
    connect(m_documentView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu *menu = m_documentView->indexAt(pos).isValid() ? m_documentMenu : m_emptyAreaMenu;
        menu->popup(m_documentView->viewport()->mapToGlobal(pos));
    });
    connect(m_collectionView, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        m_collectionMenu->popup(m_collectionView->viewport()->mapToGlobal(pos));
    });
}

void BrowserWindow::createToolBar()
{
    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize(QSize(20, 20));
    bar->addAction(m_addFiles);
    bar->addAction(m_addFolder);
    bar->addSeparator();
    bar->addAction(m_newCollection);
    bar->addSeparator();
    QList<QAction *> iconOnly = {m_verify, m_copyHash, m_retryFailed, m_removeDocuments};
    for (QAction *a : iconOnly) {
        bar->addAction(a);
        if (auto *button = qobject_cast<QToolButton *>(bar->widgetForAction(a)))
            button->setToolButtonStyle(Qt::ToolButtonIconOnly);
    }
    auto *spacer = new QWidget(bar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    bar->addWidget(spacer);
    bar->addAction(m_showDetails);
    if (auto *button = qobject_cast<QToolButton *>(bar->widgetForAction(m_showDetails)))
        button->setToolButtonStyle(Qt::ToolButtonIconOnly);
}


} // namespace quire
