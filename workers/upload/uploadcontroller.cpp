#include "upload/uploadcontroller.h"

#include "catalog/catalogservice.h"

#include <utility>

namespace quire {

UploadController::UploadController(CatalogService &service, SessionStore &store, QObject *parent)
    : QObject(parent), m_service(service), m_store(store)
{
}

UploadController::~UploadController()
{
    if (m_job) {
        // Stops the workers (documents stay queued for the next start); they hold their own
        // state, so nothing here waits.
        disconnect(m_job, nullptr, this, nullptr);
        m_job->cancel();
    }
}

void UploadController::setSecretProvider(SecretProvider provider)
{
    m_secrets = std::move(provider);
}

void UploadController::setSettings(const UploadSettings &settings)
{
    m_settings = settings;
}

UploadJob *UploadController::ensureJob()
{
    if (m_job) {
        if (m_job->wake())
            return m_job;
        // It is finishing: its finished() arrives soon and starts the next job.
        m_wakeAfterJob = true;
        return m_job;
    }
    auto *job = new UploadJob(m_service.catalog(), m_store, m_service.pools(), UploadScope{}, this);
    job->setPauses(m_pauses);
    job->setRecoverInterrupted(!m_recovered);
    m_recovered = true;
    if (m_secrets)
        job->setSecretProvider(m_secrets);
    if (m_settings)
        job->setSettings(*m_settings);
    if (m_paused)
        job->setPaused(true);
    connect(job, &UploadJob::progressChanged, this, &UploadController::progressChanged);
    connect(job, &UploadJob::documentsChanged, this, &UploadController::documentsChanged);
    connect(job, &UploadJob::finished, this, [this, job](const UploadResult &r) { onJobFinished(job, r); });
    m_job = job;
    job->start();
    return job;
}

void UploadController::onJobFinished(UploadJob *job, const UploadResult &result)
{
    if (job != m_job)
        return;
    m_job = nullptr;
    job->deleteLater();
    // Their documents wait (they are not failed) until the remote's settings were looked at.
    for (const UploadRemoteProblem &p : result.remoteProblems)
        m_waitingForRemote.insert(p.remote, p.collectionIds);
    Q_EMIT jobFinished(result);
    if (!m_resumeAfterJob.isEmpty()) {
        // Once done with the finished job: the next job resolves the collections' remotes afresh.
        QMetaObject::invokeMethod(this, [this] {
            for (qint64 id : std::exchange(m_resumeAfterJob, {}))
                resumeCollection(id);
        }, Qt::QueuedConnection);
    }
    if (m_wakeAfterJob) {
        m_wakeAfterJob = false;
        ensureJob();
        return;
    }
    Q_EMIT idle();
}

void UploadController::start()
{
    m_started = true;
    ensureJob();
}

void UploadController::collectionHashed(qint64 collectionId)
{
    Q_UNUSED(collectionId);   // the job's scope is every collection with a remote
    if (m_started)
        ensureJob();
}

void UploadController::collectionRemoteChanged(qint64 collectionId, const QString &remote)
{
    if (m_job) {
        // The running job keeps the remote it resolved for the collection until it ends: hold
        // the collection back (its uploads in flight go back to waiting) and resume it for the
        // next job, so that its documents go where it uploads now (or nowhere).
        pauseCollection(collectionId);
        m_resumeAfterJob.insert(collectionId);
        return;
    }
    if (remote.isEmpty())
        return;
    onFinished(m_service.statusCounts(collectionId), this, [this, collectionId, remote](const Result<QHash<DocStatus, qint64>> &counts) {
        if (!counts) {
            ensureJob();   // the job finds out itself what is waiting
            return;
        }
        const qint64 waiting = counts->value(DocStatus::Hashed);
        if (waiting <= 0)
            return;
        ensureJob();
        Q_EMIT waitingDocumentsQueued(collectionId, remote, waiting);
    });
}

void UploadController::retryRemote(const QString &remote)
{
    // The job's scope is every collection with a remote: one wake takes them all.
    if (!m_waitingForRemote.take(remote).isEmpty())
        ensureJob();
}

void UploadController::pauseAll()
{
    if (m_paused)
        return;
    m_paused = true;
    if (m_job)
        m_job->setPaused(true);
    Q_EMIT pausedChanged(true);
}

void UploadController::resumeAll()
{
    if (!m_paused)
        return;
    m_paused = false;
    if (m_job)
        m_job->setPaused(false);
    ensureJob();
    Q_EMIT pausedChanged(false);
}

void UploadController::cancelAll()
{
    ensureJob()->cancelCollection(0);
}

void UploadController::pauseCollection(qint64 collectionId)
{
    m_pauses->pauseCollection(collectionId);
    if (m_job)
        m_job->stopCollection(collectionId);
}

void UploadController::resumeCollection(qint64 collectionId)
{
    m_pauses->resumeCollection(collectionId);
    ensureJob();
}

void UploadController::cancelCollection(qint64 collectionId)
{
    ensureJob()->cancelCollection(collectionId);
}

bool UploadController::isCollectionPaused(qint64 collectionId) const
{
    return m_pauses->isCollectionPaused(collectionId);
}

void UploadController::pauseDocument(qint64 documentId)
{
    m_pauses->pauseDocument(documentId);
    if (m_job)
        m_job->stopDocument(documentId);
}

void UploadController::resumeDocument(qint64 documentId)
{
    m_pauses->resumeDocument(documentId);
    ensureJob();
}

void UploadController::cancelDocument(qint64 documentId)
{
    m_pauses->resumeDocument(documentId);
    ensureJob()->cancelDocuments({documentId});
}

bool UploadController::isDocumentPaused(qint64 documentId) const
{
    return m_pauses->isDocumentPaused(documentId);
}

UploadProgress UploadController::progress() const
{
    UploadProgress p = m_job ? m_job->progress() : UploadProgress();
    p.paused = m_paused;
    return p;
}

} // namespace quire
