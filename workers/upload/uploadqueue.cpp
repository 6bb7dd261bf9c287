#include "upload/uploadqueue.h"

namespace quire {

UploadQueue::UploadQueue(Catalog &catalog, SessionStore &store, Pools &pools, QObject *parent)
    : QObject(parent), m_catalog(catalog), m_store(store), m_pools(pools)
{
}

UploadQueue::~UploadQueue()
{
    if (m_job) {
        // Stops the workers (documents stay queued for the next start); they hold their own
        // state, so nothing here waits.
        disconnect(m_job, nullptr, this, nullptr);
        m_job->cancel();
    }
}

void UploadQueue::setSecretProvider(SecretProvider provider)
{
    m_secrets = std::move(provider);
}

void UploadQueue::setSettings(const UploadSettings &settings)
{
    m_settings = settings;
}

UploadJob *UploadQueue::ensureJob()
{
    if (m_job) {
        if (m_job->wake())
            return m_job;
        // It is finishing: its finished() arrives soon and starts the next job.
        m_wakeAfterJob = true;
        return m_job;
    }
    auto *job = new UploadJob(m_catalog, m_store, m_pools, UploadScope{}, this);
    job->setPauses(m_pauses);
    job->setRecoverInterrupted(!m_recovered);
    m_recovered = true;
    if (m_secrets)
        job->setSecretProvider(m_secrets);
    if (m_settings)
        job->setSettings(*m_settings);
    if (m_paused)
        job->setPaused(true);
    connect(job, &UploadJob::progressChanged, this, &UploadQueue::progressChanged);
    connect(job, &UploadJob::documentsChanged, this, &UploadQueue::documentsChanged);
    connect(job, &UploadJob::finished, this, [this, job](const UploadResult &r) { onJobFinished(job, r); });
    m_job = job;
    job->start();
    return job;
}

void UploadQueue::onJobFinished(UploadJob *job, const UploadResult &result)
{
    if (job != m_job)
        return;
    m_job = nullptr;
    job->deleteLater();
    Q_EMIT jobFinished(result);
    if (m_wakeAfterJob) {
        m_wakeAfterJob = false;
        ensureJob();
        return;
    }
    Q_EMIT idle();
}

void UploadQueue::start()
{
    ensureJob();
}

void UploadQueue::enqueue(qint64 collectionId)
{
    Q_UNUSED(collectionId);   // the job's scope is every collection with a remote
    ensureJob();
}

void UploadQueue::pauseAll()
{
    if (m_paused)
        return;
    m_paused = true;
    if (m_job)
        m_job->setPaused(true);
    Q_EMIT pausedChanged(true);
}

void UploadQueue::resumeAll()
{
    if (!m_paused)
        return;
    m_paused = false;
    if (m_job)
        m_job->setPaused(false);
    ensureJob();
    Q_EMIT pausedChanged(false);
}

void UploadQueue::cancelAll()
{
    ensureJob()->cancelCollection(0);
}

void UploadQueue::pauseCollection(qint64 collectionId)
{
    m_pauses->pauseCollection(collectionId);
    if (m_job)
        m_job->stopCollection(collectionId);
}

void UploadQueue::resumeCollection(qint64 collectionId)
{
    m_pauses->resumeCollection(collectionId);
    ensureJob();
}

void UploadQueue::cancelCollection(qint64 collectionId)
{
    ensureJob()->cancelCollection(collectionId);
}

bool UploadQueue::isCollectionPaused(qint64 collectionId) const
{
    return m_pauses->isCollectionPaused(collectionId);
}

void UploadQueue::pauseDocument(qint64 documentId)
{
    m_pauses->pauseDocument(documentId);
    if (m_job)
        m_job->stopDocument(documentId);
}

void UploadQueue::resumeDocument(qint64 documentId)
{
    m_pauses->resumeDocument(documentId);
    ensureJob();
}

void UploadQueue::cancelDocument(qint64 documentId)
{
    m_pauses->resumeDocument(documentId);
    ensureJob()->cancelDocuments({documentId});
}

bool UploadQueue::isDocumentPaused(qint64 documentId) const
{
    return m_pauses->isDocumentPaused(documentId);
}

UploadProgress UploadQueue::progress() const
{
    UploadProgress p = m_job ? m_job->progress() : UploadProgress();
    p.paused = m_paused;
    return p;
}

} // namespace quire
