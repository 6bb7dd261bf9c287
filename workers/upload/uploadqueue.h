#pragma once

#include "upload/uploadjob.h"

#include <QObject>

#include <memory>
#include <optional>

namespace quire {

class Catalog;
class Pools;
class SessionStore;

// The window's upload service: keeps every collection that has a remote uploaded, with pause,
// resume and cancel per document, per collection and for everything.
//
// It runs at most one UploadJob at a time, scoped to every collection with a remote, and starts
// a new one when there is work again (enqueue(), resume...). Pauses live here (UploadPauses) and
// outlast jobs; they last for the session (after a restart, everything pending is uploaded).
// Cancel marks the documents `cancelled` in the catalog (they are not uploaded unless added
// again); pause leaves them `hashed`.
//
// Lives on the GUI thread and every member function must be called there; each only schedules
// work (nothing here blocks). Signals are the running job's, forwarded, so they are coalesced
// (<= ~20 a second). Catalog, store and pools are owned by the composition root and outlive the
// queue. Destroying the queue stops the running job (documents stay queued) without waiting.
class UploadQueue final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UploadQueue)
public:
    UploadQueue(Catalog &catalog, SessionStore &store, Pools &pools, QObject *parent = nullptr);
    ~UploadQueue() override;

    // Before start(). Default: Credentials::secretFor ($QUIRE_PASSWORD, then the keychain); the
    // window may pass one that asks the person when the keychain has nothing.
    void setSecretProvider(SecretProvider provider);
    // Before start(); default UploadSettings::fromStore() for each job.
    void setSettings(const UploadSettings &settings);

    // At startup: re-queues uploads a crash left `uploading` and uploads whatever is pending.
    void start();
    // The ingest hook: documents of this collection were hashed; upload them if it has a remote.
    void enqueue(qint64 collectionId);

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
    // A job ended (its failures are listed); more may follow.
    void jobFinished(const quire::UploadResult &result);
    void pausedChanged(bool paused);
    // Nothing is uploading any more.
    void idle();

private:
    UploadJob *ensureJob();
    void onJobFinished(UploadJob *job, const UploadResult &result);

    Catalog &m_catalog;
    SessionStore &m_store;
    Pools &m_pools;
    SecretProvider m_secrets;
    std::optional<UploadSettings> m_settings;
    std::shared_ptr<UploadPauses> m_pauses = std::make_shared<UploadPauses>();
    UploadJob *m_job = nullptr;
    bool m_recovered = false;   // the first job re-queued interrupted uploads
    bool m_paused = false;
    bool m_wakeAfterJob = false;
};

} // namespace quire
