#include "views/browserwindow.h"

#include "catalog/catalogservice.h"
#include "catalog/dbconnections.h"
#include "common/droputil.h"
#include "common/format.h"
#include "common/icons.h"
#include "common/plaintext.h"
#include "common/responsivenessmonitor.h"
#include "dialogs/catalogpassworddialog.h"
#include "dialogs/diagnosticsdialog.h"
#include "dialogs/remoteeditdialog.h"
#include "dialogs/settingsdialog.h"
#include "jobs/pools.h"
#include "models/collectionmodel.h"
#include "models/documentmodel.h"
#include "platform/nativefs.h"
#include "settings/credentials.h"
#include "settings/sessionstore.h"
#include "upload/uploadcontroller.h"
#include "views/collectionview.h"
#include "views/detailspane.h"
#include "views/documentview.h"
#include "views/remoteproblembar.h"
#include "views/statusdelegate.h"
#include "views/workstatuswidget.h"

#include <QAction>
#include <QClipboard>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFrame>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
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

BrowserWindow::BrowserWindow(CatalogService &service, SessionStore &store, UploadController &uploads,
                             ResponsivenessMonitor *monitor, QWidget *parent)
    : QMainWindow(parent)
    , m_service(service)
    , m_store(store)
    , m_uploads(uploads)
    , m_monitor(monitor)
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(Icons::colored(QStringLiteral("quire")));
    setAcceptDrops(true);
    setUnifiedTitleAndToolBarOnMac(true);

    m_undo = new QUndoStack(this);
    m_collections = new CollectionModel(m_service, this);
    m_documents = new DocumentModel(m_service, this);

    createActions();
    createCentral();
    createMenus();
    createToolBar();

    m_work = new WorkStatusWidget(m_service, this);
    m_work->setUploads(&m_uploads);
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
        if (job)
            m_uploads.collectionHashed(job->collectionId());
        const QString adding = job ? m_addingMessages.take(job->collectionId()) : QString();
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
        } else if (result.outcome == IngestResult::Outcome::Succeeded && job) {
            // Replaces this job's "Adding … to …" (the list shows what was added), but not what
            // was shown since.
            const QString shown = statusBar()->currentMessage();
            if (shown.isEmpty() || shown == adding) {
                const QString name = collectionName(job->collectionId());
                showMessage(name.isEmpty() ? tr("Finished adding documents.") : tr("Finished adding to %1.").arg(name));
            }
        }
    });
    connect(&m_service, &CatalogService::pausedChanged, this, &BrowserWindow::updateActions);
    connect(&m_uploads, &UploadController::documentsChanged, m_documents, &DocumentModel::applyUploadEvents);
    connect(&m_uploads, &UploadController::pausedChanged, this, &BrowserWindow::updateActions);
    connect(&m_uploads, &UploadController::progressChanged, this, [this] {
        if (m_actionsSeeUploads != m_uploads.isBusy())
            updateActions();
    });
    connect(&m_uploads, &UploadController::idle, this, &BrowserWindow::updateActions);
    connect(&m_uploads, &UploadController::waitingDocumentsQueued, this,
            [this](qint64 id, const QString &remote, qint64 count) {
                showMessage(tr("“%1” uploads to “%2” now; uploading %3 waiting.")
                                .arg(collectionName(id), remote, Format::documents(count)),
                            10000);
            });
    connect(&m_uploads, &UploadController::jobFinished, this, [this](const UploadResult &result) {
        m_collections->refresh();   // pending and failed counts changed
        if (!result.remoteProblems.isEmpty()) {
            // Once, on the remote: its documents wait (they are not failed).
            const UploadRemoteProblem &p = result.remoteProblems.first();
            m_remoteProblem->showProblem(p.remote, p.error, int(p.collectionIds.size()));
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

    m_undoBar.frame = new QFrame(middle);
    m_undoBar.frame->setObjectName(QStringLiteral("undoBar"));
    m_undoBar.frame->setFrameShape(QFrame::StyledPanel);
    m_undoBar.frame->setAutoFillBackground(true);
    m_undoBar.frame->setBackgroundRole(QPalette::ToolTipBase);
    m_undoBar.frame->setForegroundRole(QPalette::ToolTipText);
    auto *ul = new QHBoxLayout(m_undoBar.frame);
    ul->setContentsMargins(8, 4, 4, 4);
    m_undoBar.label = new QLabel(m_undoBar.frame);
    m_undoBar.label->setTextFormat(Qt::PlainText);   // names a collection
    ul->addWidget(m_undoBar.label, 1);
    auto *undoButton = new QPushButton(tr("Undo"), m_undoBar.frame);
    undoButton->setObjectName(QStringLiteral("undoBarButton"));
    connect(undoButton, &QPushButton::clicked, this, [this] {
        m_undo->undo();
        m_undoBar.frame->hide();
    });
    ul->addWidget(undoButton);
    auto *closeButton = new QToolButton(m_undoBar.frame);
    closeButton->setIcon(Icons::glyph(QStringLiteral("close")));
    closeButton->setAutoRaise(true);
    closeButton->setToolTip(tr("Dismiss"));
    connect(closeButton, &QToolButton::clicked, m_undoBar.frame, &QWidget::hide);
    ul->addWidget(closeButton);
    m_undoBar.frame->hide();
    ml->addWidget(m_undoBar.frame);
    m_undoBar.timer.setSingleShot(true);
    m_undoBar.timer.setInterval(20000);
    connect(&m_undoBar.timer, &QTimer::timeout, m_undoBar.frame, &QWidget::hide);

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
        m_uploads.start();
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
    dragMoveEvent(event);   // the same test on entering as on every move
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
    const QString adding = paths.size() == 1 ? tr("Adding “%1” to %2…").arg(qtPath(paths.first()), name)
                                             : tr("Adding %n items to %1…", nullptr, int(paths.size())).arg(name);
    m_addingMessages.insert(collectionId, adding);
    showMessage(adding);
}

void BrowserWindow::addFiles()
{
    auto *dialog = new QFileDialog(this, tr("Add Files"));
    dialog->setFileMode(QFileDialog::ExistingFiles);
    addFromFileDialog(dialog);
}

void BrowserWindow::addFolder()
{
    auto *dialog = new QFileDialog(this, tr("Add Folder"));
    dialog->setFileMode(QFileDialog::Directory);
    dialog->setOption(QFileDialog::ShowDirsOnly);
    addFromFileDialog(dialog);
}

void BrowserWindow::addFromFileDialog(QFileDialog *dialog)
{
    dialog->setAttribute(Qt::WA_DeleteOnClose);
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
    m_actionsSeeUploads = m_uploads.isBusy();
    const bool working = m_service.isBusy() || m_actionsSeeUploads;
    const bool paused = m_work->isPaused();
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
        m_uploads.retryRemote(remote);
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
