#include "views/browserwindow.h"

#include "dialogs/catalogpassworddialog.h"
#include "settings/credentials.h"
#include "catalog/dbconnections.h"
#include "jobs/pools.h"

#include "dialogs/remoteeditdialog.h"
#include "views/remoteproblembar.h"

#include "catalog/catalogservice.h"
#include "models/collectionmodel.h"
#include "dialogs/collectionnamedialog.h"
#include "views/collectionview.h"
#include "views/detailspane.h"
#include "dialogs/diagnosticsdialog.h"
#include "models/documentmodel.h"
#include "views/documentview.h"
#include "common/droputil.h"
#include "common/format.h"
#include "common/icons.h"
#include "platform/nativefs.h"
#include "common/plaintext.h"
#include "remotes/remoteprofile.h"
#include "commands/removedocumentscommand.h"
#include "common/responsivenessmonitor.h"
#include "settings/sessionstore.h"
#include "commands/setcollectionremotecommand.h"
#include "dialogs/settingsdialog.h"
#include "views/statusdelegate.h"
#include "upload/uploadqueue.h"
#include "views/workstatuswidget.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QToolBar>
#include <QToolButton>
#include <QUndoStack>
#include <QUrl>
#include <QVBoxLayout>

namespace quire {

namespace {

const QString kGeometryKey = QStringLiteral("settings/ui/geometry");
const QString kWindowStateKey = QStringLiteral("settings/ui/windowState");
const QString kSplitterKey = QStringLiteral("settings/ui/splitter");
const QString kHeaderKey = QStringLiteral("settings/ui/documentHeader");
const QString kCollectionHeaderKey = QStringLiteral("settings/ui/collectionHeader");
const QString kLastCollectionKey = QStringLiteral("settings/ui/lastCollection");
const QString kDetailsVisibleKey = QStringLiteral("settings/ui/detailsVisible");
// The remote chosen the last time a collection was made in the window: the next one's default.
const QString kNewCollectionRemoteKey = QStringLiteral("settings/ui/newCollectionRemote");

// Settings are JSON: binary Qt state goes in as base64 text.
QByteArray storedBytes(SessionStore &store, const QString &key)
{
    return QByteArray::fromBase64(store.value(key).valueOr({}).toString().toLatin1());
}

QString asStored(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toBase64());
}

// The status filter choices: (label, statuses); an empty list means any status.
struct StatusChoice
{
    const char *label;
    QList<DocStatus> statuses;
};

const QList<StatusChoice> &statusChoices()
{
    static const QList<StatusChoice> choices = {
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "All statuses"), {}},
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "In progress"),
         {DocStatus::Queued, DocStatus::Hashing, DocStatus::Hashed, DocStatus::Uploading}},
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "Hashed"), {DocStatus::Hashed}},
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "Uploaded"), {DocStatus::Uploaded}},
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "Duplicates"), {DocStatus::Duplicate}},
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "Failed"), {DocStatus::Failed}},
        {QT_TRANSLATE_NOOP("quire::BrowserWindow", "Cancelled"), {DocStatus::Cancelled}},
    };
    return choices;
}

} // namespace

BrowserWindow::BrowserWindow(CatalogService &service, SessionStore &store, ResponsivenessMonitor *monitor, QWidget *parent)
    : QMainWindow(parent)
    , m_service(service)
    , m_store(store)
    , m_monitor(monitor)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(Icons::colored(QStringLiteral("quire")));
    setAcceptDrops(true);
    setUnifiedTitleAndToolBarOnMac(true);

    m_undo = new QUndoStack(this);
    m_collections = new CollectionModel(m_service, this);
    m_documents = new DocumentModel(m_service, this);
    // Uploads run on the pools like everything else; the queue starts once the catalog is open.
    m_uploads = new UploadQueue(m_service.catalog(), m_store, m_service.pools(), this);

    createActions();
    createCentral();
    createMenus();
    createToolBar();

    m_work = new WorkStatusWidget(m_service, this);
    m_work->setUploadQueue(m_uploads);
    statusBar()->addPermanentWidget(m_work);
    m_countLabel = new QLabel(this);
    m_countLabel->setObjectName(QStringLiteral("countLabel"));
    statusBar()->addPermanentWidget(m_countLabel);

    connect(m_collections, &CollectionModel::refreshed, this, &BrowserWindow::onCollectionsRefreshed);
    connect(m_collections, &CollectionModel::errorOccurred, this,
            [this](const QString &e) { showError(tr("Could not list the collections."), e); });
    connect(m_collectionView, &CollectionView::currentCollectionChanged, this, &BrowserWindow::onCurrentCollectionChanged);
    connect(m_collectionView, &CollectionView::pathsDropped, this, [this](qint64 id, const QList<QByteArray> &paths) {
        if (id > 0)
            addPaths(id, paths);
        else
            addPathsToNewCollection(paths);
    });
    connect(m_documents, &DocumentModel::loaded, this, &BrowserWindow::onDocumentsLoaded);
    connect(m_documents, &DocumentModel::totalCountChanged, this, &BrowserWindow::updateCount);
    connect(m_documents, &DocumentModel::loadingChanged, this, [this](bool loading) {
        // Text, not visibility: showing a widget under the pointer costs a round trip to the
        // window system (see WorkStatusWidget::setShowingWork()), and lists reload often.
        m_loadingLabel->setText(loading ? tr("Loading…") : QString());
        updateEmptyState();
    });
    connect(m_documents, &DocumentModel::errorOccurred, this,
            [this](const QString &e) { showError(tr("Could not list the documents."), e); });
    connect(m_documents, &QAbstractItemModel::dataChanged, this, [this](const QModelIndex &tl, const QModelIndex &br) {
        const QModelIndex current = m_documentView->currentIndex();
        if (current.isValid() && current.row() >= tl.row() && current.row() <= br.row())
            updateDetails();
    });
    connect(m_documents, &QAbstractItemModel::modelReset, this, [this] {
        updateEmptyState();
        updateDetails();
        updateActions();
    });
    connect(m_documents, &QAbstractItemModel::rowsInserted, this, &BrowserWindow::updateEmptyState);
    connect(m_documents, &QAbstractItemModel::rowsRemoved, this, [this] {
        updateEmptyState();
        updateDetails();
    });
    connect(m_documentView->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        updateDetails();
        updateActions();
    });
    connect(m_documentView->selectionModel(), &QItemSelectionModel::currentChanged, this, &BrowserWindow::updateDetails);
    connect(m_documentView, &DocumentView::rowsPainted, this, &BrowserWindow::documentsPainted);
    connect(&m_service, &CatalogService::jobStarted, this, &BrowserWindow::updateActions);
    connect(&m_service, &CatalogService::jobFinished, this, [this](IngestJob *job, const IngestResult &result) {
        // The ingest hook: what was hashed goes to the collection's remote, if it has one.
        if (m_catalogOpen && job)
            m_uploads->enqueue(job->collectionId());
        updateActions();
        if (result.outcome == IngestResult::Outcome::Error)
            showError(tr("Adding documents stopped."), result.error);
        else if (result.totals.filesFailed > 0) {
            // Paths that never became documents (an unreadable folder...) show only here.
            QString example;
            for (const IngestIssue &issue : result.issues) {
                if (!issue.skipped) {
                    example = tr(" First: “%1”: %2").arg(qtPath(issue.path), issue.reason);
                    break;
                }
            }
            showMessage(tr("Finished adding documents; %n could not be added.", nullptr,
                           int(std::min<qint64>(result.totals.filesFailed, INT_MAX))) + example, 15000);
        }
    });
    connect(&m_service, &CatalogService::pausedChanged, this, &BrowserWindow::updateActions);
    connect(m_uploads, &UploadQueue::documentsChanged, m_documents, &DocumentModel::applyUploadEvents);
    connect(m_uploads, &UploadQueue::pausedChanged, this, &BrowserWindow::updateActions);
    connect(m_uploads, &UploadQueue::progressChanged, this, [this] {
        if (m_actionsSeeUploads != m_uploads->isBusy())
            updateActions();
    });
    connect(m_uploads, &UploadQueue::idle, this, &BrowserWindow::updateActions);
    connect(m_uploads, &UploadQueue::jobFinished, this, [this](const UploadResult &result) {
        m_collections->refresh();   // pending and failed counts changed
        if (!m_resumeAfterUploadJob.isEmpty()) {
            // After the queue is done with the finished job: the next job resolves the
            // collections' remotes afresh.
            QMetaObject::invokeMethod(this, [this] {
                for (qint64 id : std::exchange(m_resumeAfterUploadJob, {}))
                    m_uploads->resumeCollection(id);
            }, Qt::QueuedConnection);
        }
        if (!result.remoteProblems.isEmpty()) {
            // Once, on the remote: its documents wait (they are not failed).
            const UploadRemoteProblem &p = result.remoteProblems.first();
            m_remoteProblem->showProblem(p.remote, p.error, int(p.collectionIds.size()));
            m_waitingForRemote.insert(p.remote, p.collectionIds);
        } else if (result.outcome == UploadResult::Outcome::Error) {
            showError(tr("Uploading stopped."), result.error);
        } else if (!result.failures.isEmpty()) {
            showMessage(tr("Some documents could not be uploaded. First: “%1”: %2")
                            .arg(result.failures.first().fileName, result.failures.first().error),
                        15000);
        }
    });
    m_documentView->viewport()->installEventFilter(this);

    restoreUiState();
    updateActions();
    updateEmptyState();
    updateTitle();
}

BrowserWindow::~BrowserWindow() = default;

// --- construction ------------------------------------------------------------------------------

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
    connect(m_pauseAll, &QAction::triggered, this, [this] {
        const bool pause = !(m_service.isPaused() || m_uploads->isPaused());
        m_service.setPaused(pause);
        pause ? m_uploads->pauseAll() : m_uploads->resumeAll();
    });
    m_cancelAll = make(QStringLiteral("actionCancelAll"), tr("Cancel &All"), QStringLiteral("cancel"), {}, nullptr);
    connect(m_cancelAll, &QAction::triggered, this, [this] {
        m_service.cancelAll();
        if (m_uploads->isBusy())
            m_uploads->cancelAll();
    });

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

void BrowserWindow::createCentral()
{
    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_splitter->setChildrenCollapsible(false);

    m_collectionView = new CollectionView(m_splitter);
    m_collectionView->setObjectName(QStringLiteral("collectionView"));
    m_collectionView->setModel(m_collections);
    m_collectionView->setContextMenuPolicy(Qt::CustomContextMenu);
    m_collectionView->header()->setSectionResizeMode(CollectionModel::NameColumn, QHeaderView::Stretch);
    m_collectionView->header()->setSectionResizeMode(CollectionModel::CountColumn, QHeaderView::ResizeToContents);
    m_collectionView->setMinimumWidth(160);

    auto *middle = new QWidget(m_splitter);
    auto *ml = new QVBoxLayout(middle);
    ml->setContentsMargins(0, 0, 0, 0);
    ml->setSpacing(4);

    auto *filterRow = new QHBoxLayout;
    filterRow->setContentsMargins(4, 4, 4, 0);
    m_filter = new QLineEdit(middle);
    m_filter->setObjectName(QStringLiteral("filterEdit"));
    m_filter->setPlaceholderText(tr("Filter by name or SHA-256…"));
    m_filter->setClearButtonEnabled(true);
    m_filter->addAction(Icons::glyph(QStringLiteral("search")), QLineEdit::LeadingPosition);
    filterRow->addWidget(m_filter, 1);
    m_statusFilter = new QComboBox(middle);
    m_statusFilter->setObjectName(QStringLiteral("statusFilter"));
    for (const StatusChoice &c : statusChoices())
        m_statusFilter->addItem(tr(c.label));
    filterRow->addWidget(m_statusFilter);
    m_loadingLabel = new QLabel(middle);
    m_loadingLabel->setForegroundRole(QPalette::PlaceholderText);
    filterRow->addWidget(m_loadingLabel);
    ml->addLayout(filterRow);

    m_undoBar = new QFrame(middle);
    m_undoBar->setObjectName(QStringLiteral("undoBar"));
    m_undoBar->setFrameShape(QFrame::StyledPanel);
    m_undoBar->setAutoFillBackground(true);
    m_undoBar->setBackgroundRole(QPalette::ToolTipBase);
    m_undoBar->setForegroundRole(QPalette::ToolTipText);
    auto *ul = new QHBoxLayout(m_undoBar);
    ul->setContentsMargins(8, 4, 4, 4);
    m_undoLabel = new QLabel(m_undoBar);
    m_undoLabel->setTextFormat(Qt::PlainText);   // names a collection
    ul->addWidget(m_undoLabel, 1);
    auto *undoButton = new QPushButton(tr("Undo"), m_undoBar);
    undoButton->setObjectName(QStringLiteral("undoBarButton"));
    connect(undoButton, &QPushButton::clicked, this, [this] {
        m_undo->undo();
        m_undoBar->hide();
    });
    ul->addWidget(undoButton);
    auto *closeButton = new QToolButton(m_undoBar);
    closeButton->setIcon(Icons::glyph(QStringLiteral("close")));
    closeButton->setAutoRaise(true);
    closeButton->setToolTip(tr("Dismiss"));
    connect(closeButton, &QToolButton::clicked, m_undoBar, &QWidget::hide);
    ul->addWidget(closeButton);
    m_undoBar->hide();
    ml->addWidget(m_undoBar);
    m_undoBarTimer.setSingleShot(true);
    m_undoBarTimer.setInterval(20000);
    connect(&m_undoBarTimer, &QTimer::timeout, m_undoBar, &QWidget::hide);

    m_remoteProblem = new RemoteProblemBar(middle);
    connect(m_remoteProblem, &RemoteProblemBar::fixRequested, this, &BrowserWindow::fixRemote);
    ml->addWidget(m_remoteProblem);

    m_documentView = new DocumentView(middle);
    m_documentView->setObjectName(QStringLiteral("documentView"));
    m_documentView->setModel(m_documents);
    m_documentView->setItemDelegateForColumn(DocumentModel::StatusColumn, new StatusDelegate(m_documentView));
    QHeaderView *header = m_documentView->horizontalHeader();
    // Widths from what the columns show, in this font (and so at any scale).
    const QFontMetrics fm = m_documentView->fontMetrics();
    const int pad = 2 * m_documentView->style()->pixelMetric(QStyle::PM_FocusFrameHMargin) + 16;
    const QString sampleDate = QLocale().toString(QDateTime(QDate(2024, 12, 28), QTime(23, 59)), QLocale::ShortFormat);
    header->resizeSection(DocumentModel::NameColumn, fm.horizontalAdvance(QStringLiteral("a-long-document-name.pdf")) + pad);
    header->resizeSection(DocumentModel::SizeColumn, fm.horizontalAdvance(QStringLiteral("999.9 MiB")) + pad);
    header->resizeSection(DocumentModel::StatusColumn, fm.horizontalAdvance(tr("Failed: Permission denied")) + pad);
    header->resizeSection(DocumentModel::AddedColumn, fm.horizontalAdvance(sampleDate) + pad);
    header->resizeSection(DocumentModel::HashColumn,
                          QFontMetrics(QFontDatabase::systemFont(QFontDatabase::FixedFont)).horizontalAdvance(QStringLiteral("0123456789ab…")) + pad);
    m_documentView->sortByColumn(DocumentModel::AddedColumn, Qt::AscendingOrder);
    connect(m_documentView, &QAbstractItemView::doubleClicked, this, &BrowserWindow::openSource);
    ml->addWidget(m_documentView, 1);

    m_details = new DetailsPane(m_splitter);
    m_details->setObjectName(QStringLiteral("detailsPane"));
    m_details->setActions({m_openSource, m_showInFolder, m_verify});
    m_details->setMinimumWidth(220);
    connect(m_showDetails, &QAction::toggled, m_details, &QWidget::setVisible);

    m_splitter->addWidget(m_collectionView);
    m_splitter->addWidget(middle);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setStretchFactor(2, 0);
    m_splitter->setSizes({200, 780, 300});
    setCentralWidget(m_splitter);

    m_filterDebounce.setSingleShot(true);
    m_filterDebounce.setInterval(250);
    connect(m_filter, &QLineEdit::textChanged, this, [this] { m_filterDebounce.start(); });
    connect(&m_filterDebounce, &QTimer::timeout, this, [this] { m_documents->setFilterText(m_filter->text().trimmed()); });
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0 && i < statusChoices().size())
            m_documents->setStatusFilter(statusChoices().at(i).statuses);
    });
}

void BrowserWindow::restoreUiState()
{
    resize(1280, 720);
    if (const QByteArray g = storedBytes(m_store, kGeometryKey); !g.isEmpty())
        restoreGeometry(g);
    if (const QByteArray s = storedBytes(m_store, kWindowStateKey); !s.isEmpty())
        restoreState(s);
    if (const QByteArray s = storedBytes(m_store, kSplitterKey); !s.isEmpty())
        m_splitter->restoreState(s);
    if (const QByteArray s = storedBytes(m_store, kHeaderKey); !s.isEmpty())
        m_documentView->horizontalHeader()->restoreState(s);
    if (const QByteArray s = storedBytes(m_store, kCollectionHeaderKey); !s.isEmpty())
        m_collectionView->header()->restoreState(s);
    const QVariant details = m_store.value(kDetailsVisibleKey).valueOr({});
    if (details.isValid())
        m_showDetails->setChecked(details.toBool());
    m_pendingSelectId = m_store.value(kLastCollectionKey).valueOr({}).toLongLong();
}

void BrowserWindow::saveUiState()
{
    QVariantMap s{
        {kGeometryKey, asStored(saveGeometry())},
        {kWindowStateKey, asStored(saveState())},
        {kSplitterKey, asStored(m_splitter->saveState())},
        {kHeaderKey, asStored(m_documentView->horizontalHeader()->saveState())},
        {kCollectionHeaderKey, asStored(m_collectionView->header()->saveState())},
        {kDetailsVisibleKey, m_showDetails->isChecked()},
    };
    if (const qint64 id = currentCollectionId(); id > 0)
        s.insert(kLastCollectionKey, id);
    // In memory at once; the store writes the file on its own thread.
    if (auto r = m_store.setValues(s); !r)
        qWarning("quire: could not save the window state: %s", qUtf8Printable(r.error()));
}

// --- start-up ----------------------------------------------------------------------------------

void BrowserWindow::start(const QString &collection, const QList<QByteArray> &paths)
{
    if (!collection.isEmpty()) {
        m_pendingSelectName = collection;
        m_pendingSelectId = 0;
    }
    onFinished(m_service.open(), this, [this, collection, paths](Status opened) {
        // A catalog server that wants a password (none given, or a wrong one): asked here, then
        // the catalog is opened again with it.
        if (!opened && m_service.catalog().connections().passwordRefused()) {
            askCatalogPassword(collection, paths, opened.error());
            return;
        }
        if (!opened) {
            m_startError = opened.error();
            if (!std::exchange(m_openWhenReady, {}).isEmpty())
                showMessage(tr("Not added: the catalog could not be opened."));
            showError(tr("The catalog could not be opened."), opened.error());
            updateEmptyState();
            Q_EMIT startFailed(m_startError);
            return;
        }
        m_catalogOpen = true;
        // Whatever is pending from earlier sessions (or left `uploading` by a crash) goes now.
        m_uploads->start();
        if (paths.isEmpty() || collection.isEmpty()) {
            if (!paths.isEmpty())
                addPaths(0, paths);
            m_startScheduled = true;
            m_collections->refresh();
            return;
        }
        onFinished(m_service.ensureCollection(collection), this, [this, paths, collection](Result<qint64> id) {
            if (!id) {
                m_startError = id.error();
                showError(tr("Could not create the collection “%1”.").arg(collection), id.error());
                Q_EMIT startFailed(m_startError);
            } else {
                m_pendingSelectId = *id;
                m_pendingSelectName.clear();
                ingestInto(*id, paths, collection);
            }
            m_startScheduled = true;
            m_collections->refresh();
        });
    });
}

void BrowserWindow::askCatalogPassword(const QString &collection, const QList<QByteArray> &paths, const QString &error)
{
    const QString location = m_service.catalog().config().displayLocation();
    auto *dialog = new CatalogPasswordDialog(location, error, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, collection, paths, location] {
        const QString password = dialog->password();
        m_service.catalog().connections().setPassword(password);
        if (dialog->remember()) {
            // The keychain may wait for an unlock prompt: never on the GUI thread.
            auto stored = m_service.pools().run(m_service.pools().io(), [location, password] {
                return Credentials::storeCatalogPassword(location, password);
            });
            onFinished(stored, this, [this](const Status &s) {
                if (!s)
                    showMessage(tr("The catalog password was not kept: %1").arg(s.error()));
            });
        }
        start(collection, paths);
    });
    connect(dialog, &QDialog::rejected, this, [this, error] {
        m_startError = error;
        showError(tr("The catalog could not be opened."), error);
        updateEmptyState();
        Q_EMIT startFailed(m_startError);
    });
    dialog->open();
}

void BrowserWindow::onCollectionsRefreshed()
{
    ResponsivenessMonitor::Activity activity("BrowserWindow::onCollectionsRefreshed");
    if (!m_pendingSelectName.isEmpty()) {
        const int row = m_collections->rowOfName(m_pendingSelectName);
        if (row >= 0) {
            m_pendingSelectId = m_collections->collectionAt(row).id;
            m_pendingSelectName.clear();
        }
    }
    if (m_pendingSelectId > 0 && m_collectionView->selectCollection(m_pendingSelectId))
        m_pendingSelectId = 0;
    if (currentCollectionId() == 0 && m_collections->rowCount() > 0 && m_pendingSelectId == 0
        && m_pendingSelectName.isEmpty())
        m_collectionView->selectCollection(m_collections->collectionAt(0).id);
    if (currentCollectionId() == 0 && m_catalogOpen)
        m_documents->setCollection(-1);
    // A start-up selection that does not exist (removed meanwhile): give up on it.
    if (m_startScheduled && !m_pendingSelectName.isEmpty()) {
        showMessage(tr("There is no collection named “%1”.").arg(m_pendingSelectName));
        m_pendingSelectName.clear();
    }
    if (m_startScheduled && m_pendingSelectId > 0 && m_collections->rowOfId(m_pendingSelectId) < 0)
        m_pendingSelectId = 0;
    updateTitle();
    updateActions();
    updateEmptyState();
    markReadyIfDone();
}

void BrowserWindow::onCurrentCollectionChanged(qint64 id)
{
    m_documents->setCollection(id > 0 ? id : -1);
    m_documentView->scrollToTop();
    updateTitle();
    updateActions();
    updateEmptyState();
}

void BrowserWindow::onDocumentsLoaded()
{
    updateEmptyState();
    updateDetails();
    updateActions();
    markReadyIfDone();
}

void BrowserWindow::markReadyIfDone()
{
    if (m_ready || !m_catalogOpen || !m_startScheduled || !m_collections->hasLoaded())
        return;
    if (m_pendingSelectId > 0 || !m_pendingSelectName.isEmpty())
        return;
    if (m_documents->isLoading())
        return;
    if (currentCollectionId() > 0 && m_documents->collectionId() != currentCollectionId())
        return;
    m_ready = true;
    Q_EMIT ready();
    for (const auto &[collection, paths] : std::exchange(m_openWhenReady, {}))
        openFiles(collection, paths);
}

void BrowserWindow::openFiles(const QString &collection, const QList<QByteArray> &paths)
{
    if (paths.isEmpty())
        return;
    if (!m_catalogOpen && !m_startError.isEmpty()) {
        showMessage(tr("Not added: the catalog could not be opened."));
        return;
    }
    if (!m_ready) {
        m_openWhenReady.append({collection, paths});
        return;
    }
    onFinished(m_service.ensureCollection(collection), this, [this, paths, collection](Result<qint64> id) {
        if (!id) {
            showError(tr("Could not create the collection “%1”.").arg(collection), id.error());
            return;
        }
        ingestInto(*id, paths, collection);
        if (!selectCollection(*id)) {
            // New: select it once the list has it.
            m_pendingSelectId = *id;
            m_collections->refresh();
        }
    });
}

bool BrowserWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (!m_firstPainted && watched == m_documentView->viewport() && event->type() == QEvent::Paint) {
        m_firstPainted = true;
        // After this paint has been done, not before it.
        QMetaObject::invokeMethod(this, &BrowserWindow::firstPainted, Qt::QueuedConnection);
    }
    return QMainWindow::eventFilter(watched, event);
}

// --- drops and adding --------------------------------------------------------------------------

void BrowserWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (hasLocalPaths(event->mimeData())) {
        event->setDropAction(Qt::CopyAction);
        event->accept();
    } else {
        event->ignore();
    }
}

void BrowserWindow::dragMoveEvent(QDragMoveEvent *event)
{
    if (hasLocalPaths(event->mimeData())) {
        event->setDropAction(Qt::CopyAction);
        event->accept();
    } else {
        event->ignore();
    }
}

void BrowserWindow::dropEvent(QDropEvent *event)
{
    const QList<QByteArray> paths = localPathsOf(event->mimeData());
    if (paths.isEmpty()) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::CopyAction);
    event->accept();
    addPaths(0, paths);
}

void BrowserWindow::addPaths(qint64 collectionId, const QList<QByteArray> &paths)
{
    if (paths.isEmpty())
        return;
    if (collectionId <= 0)
        collectionId = currentCollectionId();
    if (collectionId <= 0) {
        addPathsToNewCollection(paths);
        return;
    }
    ingestInto(collectionId, paths);
}

void BrowserWindow::ingestInto(qint64 collectionId, const QList<QByteArray> &paths, QString name)
{
    m_service.ingest(collectionId, paths);
    if (name.isEmpty())
        name = collectionName(collectionId);
    showMessage(paths.size() == 1
                    ? tr("Adding “%1” to %2…").arg(qtPath(paths.first()), name)
                    : tr("Adding %n items to %1…", nullptr, int(paths.size())).arg(name));
}

void BrowserWindow::addPathsToNewCollection(const QList<QByteArray> &paths)
{
    if (paths.isEmpty())
        return;
    onFinished(m_service.suggestCollectionName(paths, tr("New Collection")), this, [this, paths](const QString &suggestion) {
        auto *dialog = new CollectionNameDialog(
            tr("New Collection"),
            tr("Add %n item(s) to a new collection named:", nullptr, int(paths.size())), suggestion, {}, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        // A name that exists adds to that collection, which keeps its remote.
        dialog->setExistingNames(collectionNames());
        dialog->setRemoteChoice(remoteNames(), m_store.value(kNewCollectionRemoteKey).valueOr({}).toString());
        connect(dialog, &QDialog::accepted, this, [this, dialog, paths] {
            const QString name = dialog->name();
            const QString remote = dialog->remote();
            if (!dialog->isExisting())
                (void)m_store.setValue(kNewCollectionRemoteKey, remote);
            onFinished(m_service.ensureCollection(name, remote), this, [this, paths, name](Result<qint64> id) {
                if (!id) {
                    showError(tr("Could not create the collection “%1”.").arg(name), id.error());
                    return;
                }
                ingestInto(*id, paths, name);
                m_pendingSelectId = *id;
                m_collections->refresh();
            });
        });
        dialog->open();
    });
}

void BrowserWindow::addFiles()
{
    auto *dialog = new QFileDialog(this, tr("Add Files"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFiles);
    connect(dialog, &QFileDialog::urlsSelected, this, [this](const QList<QUrl> &urls) {
        addPaths(0, localPathsOf(urls));
    });
    dialog->open();
}

void BrowserWindow::addFolder()
{
    auto *dialog = new QFileDialog(this, tr("Add Folder"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::Directory);
    dialog->setOption(QFileDialog::ShowDirsOnly);
    connect(dialog, &QFileDialog::urlsSelected, this, [this](const QList<QUrl> &urls) {
        addPaths(0, localPathsOf(urls));
    });
    dialog->open();
}

void BrowserWindow::pastePaths()
{
    const QMimeData *mime = QGuiApplication::clipboard()->mimeData();
    QList<QByteArray> paths = localPathsOf(mime);
    if (paths.isEmpty() && mime && mime->hasText()) {
        // File managers put "file://" URLs (or plain paths) one a line as text too.
        const QStringList lines = mime->text().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QList<QUrl> urls;
        for (QString line : lines) {
            line = line.trimmed();
            if (line.startsWith(QLatin1String("file://")))
                urls.append(QUrl(line));
            else if (QDir::isAbsolutePath(line) && !line.startsWith(QLatin1Char(':')))   // not a Qt resource
                urls.append(QUrl::fromLocalFile(line));
        }
        paths = localPathsOf(urls);
    }
    if (paths.isEmpty()) {
        showMessage(tr("The clipboard holds no files or folders to add."));
        return;
    }
    addPaths(0, paths);
}

// --- collections -------------------------------------------------------------------------------

qint64 BrowserWindow::currentCollectionId() const
{
    return m_collectionView->currentCollectionId();
}

bool BrowserWindow::selectCollection(qint64 id)
{
    return m_collectionView->selectCollection(id);
}

QString BrowserWindow::collectionName(qint64 id) const
{
    const int row = m_collections->rowOfId(id);
    return row >= 0 ? m_collections->collectionAt(row).name : QString();
}

QStringList BrowserWindow::collectionNames() const
{
    QStringList names;
    for (const Collection &c : m_collections->collections())
        names << c.name;
    return names;
}

void BrowserWindow::newCollection()
{
    const QStringList taken = collectionNames();
    QString suggestion = tr("New Collection");
    for (int n = 2; taken.contains(suggestion); ++n)
        suggestion = tr("New Collection %1").arg(n);
    auto *dialog = new CollectionNameDialog(tr("New Collection"), tr("Name of the new collection:"), suggestion,
                                            taken, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    // The default remote: the one chosen for the last collection made here (if it still exists).
    dialog->setRemoteChoice(remoteNames(), m_store.value(kNewCollectionRemoteKey).valueOr({}).toString());
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QString name = dialog->name();
        const QString remote = dialog->remote();
        (void)m_store.setValue(kNewCollectionRemoteKey, remote);
        onFinished(m_service.createCollection(name, remote), this, [this, name](Result<qint64> id) {
            if (!id) {
                showError(tr("Could not create the collection “%1”.").arg(name), id.error());
                return;
            }
            m_pendingSelectId = *id;
            m_collections->refresh();
        });
    });
    dialog->open();
}

void BrowserWindow::renameCollection()
{
    const qint64 id = currentCollectionId();
    if (id <= 0)
        return;
    const QString old = collectionName(id);
    QStringList taken = collectionNames();
    taken.removeAll(old);
    // The prompt is the name field's buddy label: an "&" in the name would mark a shortcut.
    auto *dialog = new CollectionNameDialog(tr("Rename Collection"), tr("New name for “%1”:").arg(literalMnemonic(old)),
                                            old, taken, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, id] {
        const QString name = dialog->name();
        onFinished(m_service.renameCollection(id, name), this, [this, name](Status s) {
            if (!s)
                showError(tr("Could not rename the collection to “%1”.").arg(name), s.error());
            else
                m_collections->refresh();
        });
    });
    dialog->open();
}

void BrowserWindow::removeCollection()
{
    const qint64 id = currentCollectionId();
    if (id <= 0)
        return;
    const int row = m_collections->rowOfId(id);
    const qint64 count = row >= 0 ? m_collections->collectionAt(row).documentCount : 0;
    QMessageBox *box = plainMessageBox(QMessageBox::Warning, tr("Remove Collection"),
                                       tr("Remove the collection “%1” and its %2 from the catalog?")
                                           .arg(collectionName(id), Format::documents(count)),
                                       tr("The files themselves are not touched. This cannot be undone."),
                                       QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("confirmRemoveCollection"));
    QPushButton *remove = box->addButton(tr("Remove Collection"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, remove, id](QAbstractButton *clicked) {
        if (clicked != remove)
            return;
        onFinished(m_service.removeCollection(id), this, [this](Status s) {
            if (!s)
                showError(tr("Could not remove the collection."), s.error());
            m_collections->refresh();
        });
    });
    box->open();
}

// --- where a collection uploads ----------------------------------------------------------------

QStringList BrowserWindow::remoteNames()
{
    // Settings reads take the store's lock only briefly: fine on the GUI thread.
    QStringList names;
    const auto list = RemoteProfiles(m_store).list();
    if (!list) {
        showError(tr("The remotes could not be read."), list.error());
        return names;
    }
    for (const RemoteProfile &p : *list)
        names << p.name;
    return names;
}

QString BrowserWindow::problemWithRemote(const QString &remote)
{
    if (remote.isEmpty())
        return {};
    const auto found = RemoteProfiles(m_store).find(remote);
    if (!found)
        return tr("The remotes could not be read: %1").arg(found.error());
    if (!found->has_value())
        return tr("There is no remote named “%1” any more; add it again in Settings › Remotes.").arg(remote);
    return {};
}

void BrowserWindow::fillUploadToMenu()
{
    ResponsivenessMonitor::Activity activity("BrowserWindow::fillUploadToMenu");
    delete m_uploadToGroup;
    m_uploadToMenu->clear();
    m_uploadToGroup = new QActionGroup(m_uploadToMenu);
    m_uploadToGroup->setExclusive(true);
    connect(m_uploadToGroup, &QActionGroup::triggered, this, [this](QAction *a) {
        setCurrentCollectionRemote(a->data().toString());
    });

    const int row = m_collections->rowOfId(currentCollectionId());
    const QString current = row >= 0 ? m_collections->collectionAt(row).remote : QString();
    const auto add = [this](const QString &text, const QString &remote, const QString &objectName) {
        QAction *a = m_uploadToMenu->addAction(text);
        a->setObjectName(objectName);
        a->setData(remote);
        a->setCheckable(true);
        m_uploadToGroup->addAction(a);
        return a;
    };
    QAction *none = add(tr("&None (Don’t Upload)"), QString(), QStringLiteral("actionUploadToNone"));
    none->setToolTip(tr("Keep the documents in the catalog only"));
    none->setChecked(current.isEmpty());
    m_uploadToMenu->addSeparator();

    bool listed = current.isEmpty();
    if (const auto list = RemoteProfiles(m_store).list(); !list) {
        QAction *a = m_uploadToMenu->addAction(tr("The remotes could not be read"));
        a->setToolTip(plainToolTip(list.error()));
        a->setEnabled(false);
    } else {
        for (const RemoteProfile &p : *list) {
            QAction *a = add(literalMnemonic(p.name), p.name, QStringLiteral("actionUploadTo_") + p.name);
            a->setToolTip(plainToolTip(p.displayUrl()));
            a->setStatusTip(tr("Upload the collection’s documents to %1").arg(p.displayUrl()));
            a->setChecked(p.name == current);
            listed = listed || p.name == current;
        }
    }
    if (!listed) {
        // Set elsewhere (the command line, another computer's settings) to a remote not
        // configured here: shown as the current choice, not offered.
        // The name comes from the catalog, which any program sharing it may have written.
        QAction *a = add(tr("%1 (not configured)").arg(literalMnemonic(current)), current,
                         QStringLiteral("actionUploadToMissing"));
        a->setToolTip(plainToolTip(tr("No remote named “%1” is configured: its documents cannot be uploaded. "
                                      "Add it in Settings › Remotes or choose another.").arg(current)));
        a->setChecked(true);
        a->setEnabled(false);
    }
    m_uploadToMenu->addSeparator();
    m_uploadToMenu->addAction(m_manageRemotes);
}

void BrowserWindow::setCurrentCollectionRemote(const QString &remote)
{
    const qint64 id = currentCollectionId();
    const int row = m_collections->rowOfId(id);
    if (id <= 0 || row < 0)
        return;
    const Collection &c = m_collections->collectionAt(row);
    if (c.remote == remote)
        return;
    if (const QString why = problemWithRemote(remote); !why.isEmpty()) {
        showError(tr("The collection’s remote was not changed."), why);
        return;
    }
    // The undo step's text becomes Edit › Undo's menu item.
    const QString text = remote.isEmpty() ? tr("Stop Uploading “%1”").arg(literalMnemonic(c.name))
                                          : tr("Upload “%1” to “%2”").arg(literalMnemonic(c.name), literalMnemonic(remote));
    SetCollectionRemoteCommand::Hooks hooks;
    hooks.check = [this](const QString &r) { return problemWithRemote(r); };
    hooks.applied = [this](qint64 collectionId, const QString &r, bool) { collectionRemoteChanged(collectionId, r); };
    hooks.onError = [this](const QString &error) {
        showError(tr("Could not change where the collection uploads."), error);
    };
    m_undo->push(new SetCollectionRemoteCommand(m_service, this, id, c.remote, remote, text, std::move(hooks)));
}

void BrowserWindow::collectionRemoteChanged(qint64 id, const QString &remote)
{
    m_collections->refresh();
    const QString name = collectionName(id);
    if (remote.isEmpty()) {
        showMessage(tr("“%1” does not upload any more; documents already uploaded stay where they are.").arg(name),
                    10000);
    } else {
        showMessage(tr("“%1” uploads to “%2” now.").arg(name, remote), 10000);
    }
    uploadWaitingDocuments(id, remote);
}

void BrowserWindow::uploadWaitingDocuments(qint64 id, const QString &remote)
{
    if (m_uploads->isBusy()) {
        // The running job keeps the remote it resolved for the collection until it ends: hold
        // the collection back (its uploads in flight go back to waiting) and resume it for the
        // next job, so that its documents go where it uploads now (or nowhere).
        m_uploads->pauseCollection(id);
        m_resumeAfterUploadJob.insert(id);
        return;
    }
    if (remote.isEmpty())
        return;
    onFinished(m_service.statusCounts(id), this, [this, id, remote](const Result<QHash<DocStatus, qint64>> &counts) {
        if (!counts) {
            m_uploads->enqueue(id);   // the job finds out itself what is waiting
            return;
        }
        const qint64 waiting = counts->value(DocStatus::Hashed);
        if (waiting <= 0)
            return;
        m_uploads->enqueue(id);
        showMessage(tr("“%1” uploads to “%2” now; uploading %3 waiting.")
                        .arg(collectionName(id), remote, Format::documents(waiting)),
                    10000);
    });
}

// --- documents ---------------------------------------------------------------------------------

QList<qint64> BrowserWindow::selectedDocumentIds() const
{
    return m_documents->idsOf(m_documentView->selectionModel()->selectedRows());
}

void BrowserWindow::removeDocuments()
{
    const QList<qint64> ids = selectedDocumentIds();
    if (ids.isEmpty())
        return;
    const QString name = collectionName(currentCollectionId());
    QMessageBox *box = plainMessageBox(
        QMessageBox::Question, tr("Remove Documents"),
        ids.size() == 1 ? tr("Remove “%1” from %2?")
                              .arg(m_documents->documentAt(m_documents->rowOfId(ids.first())).fileName, name)
                        : tr("Remove %1 from %2?").arg(Format::documents(ids.size()), name),
        tr("Only the catalog entries are removed; the files stay where they are. You can undo this."),
        QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("confirmRemoveDocuments"));
    QPushButton *remove = box->addButton(tr("Remove"), QMessageBox::DestructiveRole);
    box->setDefaultButton(remove);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, remove, ids, name](QAbstractButton *clicked) {
        if (clicked != remove)
            return;
        const QString text = ids.size() == 1 ? tr("Remove 1 document") : tr("Remove %1").arg(Format::documents(ids.size()));
        m_undo->push(new RemoveDocumentsCommand(m_service, this, ids, text, [this](const QString &error) {
            showError(tr("Could not remove or restore the documents."), error);
        }));
        showUndoBar(ids.size() == 1 ? tr("Removed 1 document from %1.").arg(name)
                                    : tr("Removed %1 from %2.").arg(Format::documents(ids.size()), name));
    });
    box->open();
}

void BrowserWindow::showUndoBar(const QString &text)
{
    m_undoLabel->setText(text);
    m_undoBar->show();
    m_undoBarTimer.start();
}

void BrowserWindow::retryFailed()
{
    const qint64 id = currentCollectionId();
    if (id <= 0)
        return;
    // Selected failed documents only, when some are selected; else all of the collection's.
    QList<qint64> ids;
    for (const QModelIndex &i : m_documentView->selectionModel()->selectedRows()) {
        const auto status = static_cast<DocStatus>(i.data(DocumentModel::StatusRole).toInt());
        if (status == DocStatus::Failed || status == DocStatus::Cancelled)
            ids.append(i.data(DocumentModel::IdRole).toLongLong());
    }
    onFinished(m_service.retryFailed(id, ids), this, [this](Result<int> r) {
        if (!r)
            showError(tr("Could not retry the failed documents."), r.error());
        else if (*r == 0)
            showMessage(tr("Nothing to retry."));
        else
            showMessage(tr("Retrying %n document(s)…", nullptr, *r));
    });
}

void BrowserWindow::cancelCollection()
{
    const qint64 id = currentCollectionId();
    if (id > 0)
        m_service.cancelCollection(id);
}

void BrowserWindow::openSource()
{
    const QModelIndex i = m_documentView->currentIndex();
    if (!i.isValid())
        return;
    const QByteArray path = i.data(DocumentModel::SourcePathRole).toByteArray();
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(qtPath(path))))
        showMessage(tr("No application could open “%1”.").arg(qtPath(path)));
}

void BrowserWindow::showInFolder()
{
    const QModelIndex i = m_documentView->currentIndex();
    if (!i.isValid())
        return;
    // The folder's path is derived from the text of the source path; nothing is read from disk.
    const QString folder = QFileInfo(qtPath(i.data(DocumentModel::SourcePathRole).toByteArray())).path();
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(folder)))
        showMessage(tr("Could not show the folder “%1”.").arg(folder));
}

void BrowserWindow::copyHash()
{
    const QModelIndexList rows = m_documentView->selectionModel()->selectedRows();
    QStringList lines;
    for (const QModelIndex &i : rows) {
        const QString hash = i.data(DocumentModel::Sha256Role).toString();
        if (hash.isEmpty())
            continue;
        // One: just the hash. Several: sha256sum's format, so `sha256sum -c` can check them.
        lines << (rows.size() == 1 ? hash
                                   : hash + QStringLiteral("  ")
                                         + qtPath(i.data(DocumentModel::SourcePathRole).toByteArray()));
    }
    if (lines.isEmpty()) {
        showMessage(tr("No hash to copy yet."));
        return;
    }
    QGuiApplication::clipboard()->setText(lines.join(QLatin1Char('\n')) + (lines.size() > 1 ? QStringLiteral("\n") : QString()));
    showMessage(tr("Copied %n hash(es).", nullptr, int(lines.size())), 3000);
}

void BrowserWindow::verifyDocument()
{
    const QModelIndex i = m_documentView->currentIndex();
    if (!i.isValid())
        return;
    const qint64 id = i.data(DocumentModel::IdRole).toLongLong();
    const QString name = m_documents->documentAt(i.row()).fileName;
    showMessage(tr("Verifying “%1”…").arg(name), 0);
    m_verify->setEnabled(false);
    onFinished(m_service.verify(id), this, [this, id, name](Result<VerifyResult> r) {
        m_verify->setEnabled(true);
        updateActions();
        QString text;
        if (!r) {
            text = tr("Could not verify “%1”: %2").arg(name, r.error());
        } else {
            switch (r->outcome) {
            case VerifyResult::Outcome::Match:
                text = tr("Verified: “%1” still has the recorded SHA-256.").arg(name);
                break;
            case VerifyResult::Outcome::Mismatch:
                text = tr("“%1” has changed since it was hashed: its SHA-256 is now %2.")
                           .arg(name, QString::fromLatin1(r->actual));
                break;
            case VerifyResult::Outcome::NotHashed:
                text = tr("“%1” has not been hashed yet; nothing to compare.").arg(name);
                break;
            case VerifyResult::Outcome::Unreadable:
                text = tr("Could not read “%1”: %2").arg(name, r->error);
                break;
            }
        }
        showMessage(text, 10000);
        if (m_details->documentId() == id)
            m_details->setNote(text);
    });
}

// --- state of the window -----------------------------------------------------------------------

void BrowserWindow::updateActions()
{
    ResponsivenessMonitor::Activity activity("BrowserWindow::updateActions");
    const qint64 collection = currentCollectionId();
    const bool haveCollection = collection > 0;
    const int selected = int(m_documentView->selectionModel()->selectedRows().size());
    const bool one = m_documentView->currentIndex().isValid() && selected >= 1;
    const bool busy = haveCollection && m_service.isCollectionBusy(collection);
    const int row = m_collections->rowOfId(collection);
    const bool hasFailed = row >= 0 && m_collections->collectionAt(row).failedCount > 0;

    m_addFiles->setEnabled(m_catalogOpen);
    m_addFolder->setEnabled(m_catalogOpen);
    m_paste->setEnabled(m_catalogOpen);
    m_newCollection->setEnabled(m_catalogOpen);
    m_renameCollection->setEnabled(haveCollection);
    m_removeCollection->setEnabled(haveCollection);
    m_uploadToMenu->menuAction()->setEnabled(haveCollection && row >= 0);
    m_removeDocuments->setEnabled(selected > 0);
    m_retryFailed->setEnabled(haveCollection && (hasFailed || selected > 0));
    m_cancel->setEnabled(busy);
    m_openSource->setEnabled(one);
    m_showInFolder->setEnabled(one);
    m_copyHash->setEnabled(selected > 0);
    m_verify->setEnabled(one);
    m_actionsSeeUploads = m_uploads->isBusy();
    const bool working = m_service.isBusy() || m_uploads->isBusy();
    const bool paused = m_service.isPaused() || m_uploads->isPaused();
    m_pauseAll->setEnabled(working);
    m_pauseAll->setText(paused ? tr("&Resume All") : tr("&Pause All"));
    m_pauseAll->setIcon(Icons::glyph(paused ? QStringLiteral("resume") : QStringLiteral("pause")));
    m_cancelAll->setEnabled(working);
}

void BrowserWindow::updateEmptyState()
{
    if (!m_startError.isEmpty()) {
        m_documentView->setEmptyText(tr("The catalog could not be opened"), m_startError);
        return;
    }
    if (!m_catalogOpen || m_documents->isLoading()) {
        m_documentView->setEmptyText({});
        return;
    }
    if (currentCollectionId() <= 0) {
        m_documentView->setEmptyText(tr("Drop documents here"),
                                     tr("Drag files or folders from your file manager into this window, or use "
                                        "File › Add Files…. Quire hashes them, keeps them in a catalog and "
                                        "makes a collection for them."));
        return;
    }
    if (!m_documents->filterText().isEmpty() || !m_documents->statusFilter().isEmpty()) {
        m_documentView->setEmptyText(tr("No documents match"), tr("Try another search or status."));
        return;
    }
    m_documentView->setEmptyText(tr("Drop documents here"),
                                 tr("This collection is empty. Drag files or folders into the window, or "
                                    "use File › Add Files… or Add Folder…."));
}

void BrowserWindow::updateDetails()
{
    ResponsivenessMonitor::Activity activity("BrowserWindow::updateDetails");
    const QModelIndexList rows = m_documentView->selectionModel()->selectedRows();
    const QModelIndex current = m_documentView->currentIndex();
    if (rows.size() != 1 || !current.isValid()) {
        m_details->setSelectionCount(int(rows.size()));
        return;
    }
    const Document &doc = m_documents->documentAt(rows.first().row());
    const int original = doc.duplicateOf > 0 ? m_documents->rowOfId(doc.duplicateOf) : -1;
    m_details->setDocument(doc, collectionName(doc.collectionId), m_documents->bytesDone(doc.id),
                           original >= 0 ? m_documents->documentAt(original).fileName : QString());
}

void BrowserWindow::updateTitle()
{
    const QString name = collectionName(currentCollectionId());
    setWindowTitle(name.isEmpty() ? tr("Quire") : tr("%1 — Quire").arg(literalWindowTitle(name)));
}

void BrowserWindow::updateCount()
{
    const qint64 total = m_documents->totalCount();
    m_countLabel->setText(total >= 0 && currentCollectionId() > 0 ? Format::documents(total) : QString());
}

void BrowserWindow::showError(const QString &what, const QString &error)
{
    qWarning("quire: %s %s", qUtf8Printable(what), qUtf8Printable(error));
    showMessage(error.isEmpty() ? what : tr("%1 %2").arg(what, error), 15000);
}

void BrowserWindow::showMessage(const QString &text, int ms)
{
    statusBar()->showMessage(text, ms);
}

// --- dialogs -----------------------------------------------------------------------------------

void BrowserWindow::showSettings()
{
    auto *dialog = new SettingsDialog(m_store, m_service, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
}

void BrowserWindow::fixRemote(const QString &remote, RemoteError::Problem problem)
{
    auto *dialog = new SettingsDialog(m_store, m_service, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    // Once the settings are closed, the documents that waited for this remote go again.
    connect(dialog, &QDialog::finished, this, [this, remote] {
        m_remoteProblem->dismiss();
        for (qint64 id : m_waitingForRemote.take(remote))
            m_uploads->enqueue(id);
    });
    dialog->open();
    if (dialog->selectRemote(remote)) {
        RemoteEditDialog *editor = dialog->editSelectedRemote();
        // A certificate to trust: the test shows it, with Trust This Certificate….
        if (editor && (problem == RemoteError::Problem::Untrusted || problem == RemoteError::Problem::CertificateChanged))
            editor->testButton()->click();
        else if (editor && problem == RemoteError::Problem::Credentials)
            editor->passwordEdit()->setFocus();
    }
}

void BrowserWindow::showDiagnostics()
{
    if (!m_diagnostics) {
        m_diagnostics = new DiagnosticsDialog(m_service, m_store, m_monitor, this);
        m_diagnostics->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_diagnostics->show();
    m_diagnostics->raise();
    m_diagnostics->activateWindow();
}

void BrowserWindow::showAbout()
{
    auto *box = new QMessageBox(QMessageBox::NoIcon, tr("About Quire"),
                                tr("<h3>Quire %1</h3><p>Hash, catalog and upload documents into collections.</p>"
                                   "<p>Built with Qt %2.</p>")
                                    .arg(QCoreApplication::applicationVersion().toHtmlEscaped(),
                                         QString::fromLatin1(qVersion()).toHtmlEscaped()),
                                QMessageBox::Close, this);
    box->setIconPixmap(Icons::colored(QStringLiteral("quire")).pixmap(64, 64));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void BrowserWindow::closeEvent(QCloseEvent *event)
{
    saveUiState();
    event->accept();
    Q_EMIT closing();
}

} // namespace quire
