#pragma once

#include "remotes/remote.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMainWindow>
#include <QPointer>
#include <QTimer>

class QAction;
class QActionGroup;
class QComboBox;
class QFileDialog;
class QFrame;
class QLabel;
class QLineEdit;
class QMenu;
class QSplitter;
class QUndoStack;

namespace quire {

class CatalogService;
class CollectionModel;
class CollectionView;
class DetailsPane;
class DiagnosticsDialog;
class DocumentModel;
class DocumentView;
class RemoteProblemBar;
class ResponsivenessMonitor;
class SessionStore;
class UploadController;
class WorkStatusWidget;

// The Quire window: collections on the left, the selected collection's documents in the middle,
// the selected document's details on the right, overall progress in the status bar.
//
// The window shows the session's uploads: documents of collections that have a remote are
// uploaded once hashed (the UploadController decides what and when; the window tells it what
// happened), with per-document progress and speed in the table and overall progress in the
// status bar.
//
// Talks to the catalog only through CatalogService futures and signals; never blocks. Dialogs
// are opened with open() (no nested event loops); their results arrive as signals.
//
// GUI thread only. The service, store, upload controller and monitor belong to the composition
// root and outlive the window. Its members are defined in browserwindow.cpp (layout, start-up,
// adding, state), browserwindowactions.cpp (actions, menus, toolbar),
// browserwindowcollections.cpp (collections, Upload To) and browserwindowdocuments.cpp
// (document actions).
class BrowserWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BrowserWindow)
public:
    BrowserWindow(CatalogService &service, SessionStore &store, UploadController &uploads,
                  ResponsivenessMonitor *monitor = nullptr, QWidget *parent = nullptr);
    ~BrowserWindow() override;

    // Opens the catalog (on the I/O pool), loads the collections and selects `collection` (or
    // the one used last). With paths, `collection` is created if missing and they are ingested
    // into it. Emits ready() once the initial collection's first rows are in.
    void start(const QString &collection = {}, const QList<QByteArray> &paths = {});
    bool isReady() const { return m_ready; }
    QString startError() const { return m_startError; }

    // Ingests into the collection (0: the selected one; none selected: asks for a new one).
    void addPaths(qint64 collectionId, const QList<QByteArray> &paths);
    // Asks for a new collection's name (suggesting the folder's name), then ingests into it.
    void addPathsToNewCollection(const QList<QByteArray> &paths);
    // Files the system hands to the running window (macOS: dropped on the Dock icon, Finder's
    // Open With; see FileOpenReceiver): ingested into `collection`, created if missing, which
    // is then selected. Before ready() they wait for it; if the catalog could not be opened
    // the window says they were not added.
    void openFiles(const QString &collection, const QList<QByteArray> &paths);

    qint64 currentCollectionId() const;
    bool selectCollection(qint64 id);

    CollectionModel *collectionModel() const { return m_collections; }
    DocumentModel *documentModel() const { return m_documents; }
    CollectionView *collectionView() const { return m_collectionView; }
    DocumentView *documentView() const { return m_documentView; }
    DetailsPane *detailsPane() const { return m_details; }
    QUndoStack *undoStack() const { return m_undo; }
    WorkStatusWidget *workStatus() const { return m_work; }
    // The uploads the window shows: started once the catalog is open, told after each ingest job.
    UploadController &uploads() const { return m_uploads; }
    RemoteProblemBar *remoteProblemBar() const { return m_remoteProblem; }
    // Opens Settings › Remotes at remote's editor, ready for the fix of problem.
    void fixRemote(const QString &remote, quire::RemoteError::Problem problem);
    QLineEdit *filterEdit() const { return m_filter; }
    QComboBox *statusFilter() const { return m_statusFilter; }
    // Collection › Upload To (also in the collection list's context menu): "None (don't
    // upload)", the configured remotes, the current collection's remote checked. Filled in each
    // time it is about to be shown.
    QMenu *uploadToMenu() const { return m_uploadToMenu; }

    // Where the current collection uploads ("": nowhere), through the undo stack; documents
    // waiting to be uploaded go to the new remote. Does nothing for the remote it already has.
    void setCurrentCollectionRemote(const QString &remote);

Q_SIGNALS:
    void ready();
    void startFailed(const QString &error);
    // The window is closing (its state is saved); the owner decides when to quit.
    void closing();
    // The document table was first painted, and first painted with rows in it.
    void firstPainted();
    void documentsPainted();

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dragMoveEvent(QDragMoveEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createToolBar();
    void createCentral();
    void restoreUiState();
    void saveUiState();

    void onCollectionsRefreshed();
    void onCurrentCollectionChanged(qint64 id);
    void onDocumentsLoaded();
    void updateActions();
    void updateEmptyState();
    void updateDetails();
    void updateTitle();
    void updateCount();
    void markReadyIfDone();
    void showError(const QString &what, const QString &error);
    // The catalog server refused the connection for its password: asks for it, then start()s again.
    void askCatalogPassword(const QString &collection, const QList<QByteArray> &paths, const QString &error);
    void showMessage(const QString &text, int ms = 5000);

    QList<qint64> selectedDocumentIds() const;
    QString collectionName(qint64 id) const;
    QStringList collectionNames() const;
    void ingestInto(qint64 collectionId, const QList<QByteArray> &paths, QString name = {});

    // Actions
    void addFiles();
    void addFolder();
    // Opens the dialog (open(): no nested event loop); what is chosen is added as a drop is.
    void addFromFileDialog(QFileDialog *dialog);
    void pastePaths();
    void newCollection();
    void renameCollection();
    void removeCollection();
    void removeDocuments();
    void retryFailed();
    void cancelCollection();
    void openSource();
    void showInFolder();
    void copyHash();
    void verifyDocument();
    void showSettings();
    void showDiagnostics();
    void showAbout();
    void showUndoBar(const QString &text);
    void fillUploadToMenu();
    QStringList remoteNames();
    QString problemWithRemote(const QString &remote);
    void collectionRemoteChanged(qint64 id, const QString &remote);

    // The bar that offers Undo after a removal; the timer hides it again.
    struct UndoBar
    {
        QFrame *frame = nullptr;
        QLabel *label = nullptr;
        QTimer timer;
    };

    CatalogService &m_service;
    SessionStore &m_store;
    UploadController &m_uploads;
    ResponsivenessMonitor *m_monitor;
    QPointer<DiagnosticsDialog> m_diagnostics;

    CollectionModel *m_collections = nullptr;
    DocumentModel *m_documents = nullptr;
    CollectionView *m_collectionView = nullptr;
    DocumentView *m_documentView = nullptr;
    DetailsPane *m_details = nullptr;
    WorkStatusWidget *m_work = nullptr;
    RemoteProblemBar *m_remoteProblem = nullptr;
    QUndoStack *m_undo = nullptr;
    QSplitter *m_splitter = nullptr;
    QLineEdit *m_filter = nullptr;
    QComboBox *m_statusFilter = nullptr;
    QLabel *m_countLabel = nullptr;
    QLabel *m_loadingLabel = nullptr;
    QMenu *m_documentMenu = nullptr;
    QMenu *m_collectionMenu = nullptr;
    QMenu *m_emptyAreaMenu = nullptr;
    QMenu *m_uploadToMenu = nullptr;
    QActionGroup *m_uploadToGroup = nullptr;

    QAction *m_addFiles = nullptr;
    QAction *m_addFolder = nullptr;
    QAction *m_paste = nullptr;
    QAction *m_settings = nullptr;
    QAction *m_quit = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_find = nullptr;
    QAction *m_selectAll = nullptr;
    QAction *m_newCollection = nullptr;
    QAction *m_renameCollection = nullptr;
    QAction *m_removeCollection = nullptr;
    QAction *m_removeDocuments = nullptr;
    QAction *m_retryFailed = nullptr;
    QAction *m_cancel = nullptr;
    QAction *m_openSource = nullptr;
    QAction *m_showInFolder = nullptr;
    QAction *m_copyHash = nullptr;
    QAction *m_verify = nullptr;
    QAction *m_showDetails = nullptr;
    QAction *m_pauseAll = nullptr;
    QAction *m_cancelAll = nullptr;
    QAction *m_diagnosticsAction = nullptr;
    QAction *m_about = nullptr;
    QAction *m_manageRemotes = nullptr;
    bool m_actionsSeeUploads = false;   // updateActions() last saw the uploads busy
    // The "Adding … to …" a collection's ingest put in the status bar: its end replaces it, and
    // nothing shown since (another collection's, an error).
    QHash<qint64, QString> m_addingMessages;
    UndoBar m_undoBar;
    QTimer m_filterDebounce;

    // Start-up
    bool m_catalogOpen = false;
    bool m_startScheduled = false;      // initial ingest (if any) started
    bool m_ready = false;
    bool m_firstPainted = false;
    qint64 m_pendingSelectId = 0;
    QString m_pendingSelectName;
    QList<std::pair<QString, QList<QByteArray>>> m_openWhenReady;   // openFiles() before ready()
    QString m_startError;
};

} // namespace quire
