#pragma once

#include "upload/uploadjob.h"

#include <QHash>
#include <QObject>
#include <QSet>

#include <memory>
#include <optional>

namespace quire {

class CatalogService;
class SessionStore;

// The session's uploads and when they happen: keeps every collection that has a remote
// uploaded, with pause, resume and cancel per document, per collection and for everything.
//
// It runs at most one UploadJob at a time, scoped to every collection with a remote, and starts
// a new one when there is work again. The window tells it what happened, in its own terms
// (start() once the catalog is open, collectionHashed() after each ingest job,
// collectionRemoteChanged(), retryRemote() once a remote's settings were looked at); what to
// upload and when is decided here. The window shows what the signals say.
//
// Pauses live here (UploadPauses) and outlast jobs; they last for the session (after a
// restart, everything pending is uploaded). Cancel marks the documents `cancelled` in the
// catalog (they are not uploaded unless added again); pause leaves them `hashed`.
//
// Lives on the GUI thread and every member function must be called there; each only schedules
// work (nothing here blocks). Progress and document signals are the running job's, forwarded,
// so they are coalesced (<= ~20 a second). Created by the composition root next to the catalog
// service, whose queries it makes through that service (counted in Help › Diagnostics); service
// and store are the composition root's and outlive the controller, which outlives the window. Destroying it stops the running job (documents stay queued) without
// waiting.
class UploadController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UploadController)
public:
    UploadController(CatalogService &service, SessionStore &store, QObject *parent = nullptr);
    ~UploadController() override;

    // Before start(). Default: Credentials::secretFor ($QUIRE_PASSWORD, then the keychain); the
    // window may pass one that asks the person when the keychain has nothing.
    void setSecretProvider(SecretProvider provider);
    // Before start(); default UploadSettings::fromStore() for each job.
    void setSettings(const UploadSettings &settings);

    // Once the catalog is open: re-queues uploads a crash left `uploading` and uploads whatever
    // is pending from earlier sessions.
    void start();
    // An ingest job hashed documents of this collection: uploaded if it has a remote. Before
    // start() it does nothing (start() takes whatever is pending then).
    void collectionHashed(qint64 collectionId);
    // The collection uploads to `remote` now ("": nowhere). A running job keeps the remote it
    // resolved for the collection until it ends, so the collection is held back (paused; its
    // uploads in flight go back to waiting) and resumed for the next job. Otherwise, documents
    // waiting (`hashed`) go to the new remote at once (waitingDocumentsQueued() says how many).
    void collectionRemoteChanged(qint64 collectionId, const QString &remote);
    // The settings of a remote that held documents back (jobFinished()'s remoteProblems) were
    // looked at: its documents go again.
    void retryRemote(const QString &remote);

    void pauseAll();
    void resumeAll();
    bool isPaused() const { return m_paused; }
    void cancelAll();

    void pauseCollection(qint64 collectionId);
    void resumeCollection(qint64 collectionId);
    void cancelCollection(qint64 collectionId);
    bool isCollectionPaused(qint64 collectionId) const;

    void pauseDocument(qint64 documentId);
    void resumeDocument(qint64 documentId);
    void cancelDocument(qint64 documentId);
    bool isDocumentPaused(qint64 documentId) const;

    bool isBusy() const { return m_job != nullptr; }
    UploadProgress progress() const;

Q_SIGNALS:
    void progressChanged(const quire::UploadProgress &progress);
    void documentsChanged(const QList<quire::UploadDocumentEvent> &events);
    // A job ended (its failures and the remotes that held documents back are listed); more may
    // follow.
    void jobFinished(const quire::UploadResult &result);
    void pausedChanged(bool paused);
    // Nothing is uploading any more.
    void idle();
    // After collectionRemoteChanged(): `count` documents that waited go to `remote` now.
    void waitingDocumentsQueued(qint64 collectionId, const QString &remote, qint64 count);

private:
    UploadJob *ensureJob();
    void onJobFinished(UploadJob *job, const UploadResult &result);

    CatalogService &m_service;
    SessionStore &m_store;
    SecretProvider m_secrets;
    std::optional<UploadSettings> m_settings;
    std::shared_ptr<UploadPauses> m_pauses = std::make_shared<UploadPauses>();
    UploadJob *m_job = nullptr;
    bool m_started = false;
    bool m_recovered = false;   // the first job re-queued interrupted uploads
    bool m_paused = false;
    bool m_wakeAfterJob = false;
    // Collections whose remote changed while a job ran: held back until that job ends.
    QSet<qint64> m_resumeAfterJob;
    QHash<QString, QList<qint64>> m_waitingForRemote;   // remote -> collections whose documents wait
};

} // namespace quire
