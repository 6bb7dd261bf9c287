#include "upload/uploadjob.h"

#include "upload/uploadjobshared.h"

#include "catalog/catalog.h"
#include "jobs/pools.h"
#include "settings/sessionstore.h"

namespace quire {

Q_LOGGING_CATEGORY(lcUpload, "quire.upload", QtWarningMsg)

using namespace uploadjob;

// --- UploadPauses ------------------------------------------------------------------------------

void UploadPauses::pauseDocument(qint64 id)
{
    set(m_documents, id, true);
}

void UploadPauses::resumeDocument(qint64 id)
{
    set(m_documents, id, false);
}

void UploadPauses::pauseCollection(qint64 id)
{
    set(m_collections, id, true);
}

void UploadPauses::resumeCollection(qint64 id)
{
    set(m_collections, id, false);
}

bool UploadPauses::isPaused(qint64 documentId, qint64 collectionId) const
{
    std::lock_guard lock(m_mutex);
    return m_documents.contains(documentId) || m_collections.contains(collectionId);
}

bool UploadPauses::isDocumentPaused(qint64 id) const
{
    return contains(m_documents, id);
}

bool UploadPauses::isCollectionPaused(qint64 id) const
{
    return contains(m_collections, id);
}

void UploadPauses::set(QSet<qint64> &ids, qint64 id, bool paused)
{
    std::lock_guard lock(m_mutex);
    if (paused)
        ids.insert(id);
    else
        ids.remove(id);
}

bool UploadPauses::contains(const QSet<qint64> &ids, qint64 id) const
{
    std::lock_guard lock(m_mutex);
    return ids.contains(id);
}

// --- parts of the shared state -----------------------------------------------------------------

UploadDocumentEvent Lanes::eventFor(qint64 id) const
{
    const Active &a = active.value(id);
    UploadDocumentEvent e;
    e.id = id;
    e.collectionId = a.collectionId;
    e.fileName = a.fileName;
    e.status = DocStatus::Uploading;
    e.bytesDone = a.done;
    e.bytesTotal = a.size;
    e.bytesPerSecond = a.speed;
    e.attempt = a.attempt;
    e.message = a.message;
    return e;
}

void Lanes::stop(qint64 collectionId, UploadControl::Stop how) const
{
    for (auto it = active.cbegin(); it != active.cend(); ++it) {
        if (collectionId == 0 || it->collectionId == collectionId) {
            if (const auto &c = controls.value(it.key()))
                c->requestStop(how);
        }
    }
}

void Reporting::sampleSpeeds(QHash<qint64, Active> &active)
{
    const qint64 now = clock.elapsed();
    if (now - speedSampleMs < 500)
        return;
    const double sample = double(bytesSentTotal - speedSampleBytes) * 1000.0 / double(now - speedSampleMs);
    speed = speedSampleMs == 0 ? sample : kSpeedSmoothing * sample + (1 - kSpeedSmoothing) * speed;
    speedSampleBytes = bytesSentTotal;
    speedSampleMs = now;
    if (active.isEmpty())
        speed = 0;
    progressDirty = true;
    for (auto it = active.begin(); it != active.end(); ++it) {
        if (now - it->sampleMs < 500)
            continue;
        const double docSample = double(it->done - it->sampleBytes) * 1000.0 / double(now - it->sampleMs);
        it->speed = it->sampleBytes == 0 ? docSample : kSpeedSmoothing * docSample + (1 - kSpeedSmoothing) * it->speed;
        it->sampleBytes = it->done;
        it->sampleMs = now;
    }
}

QList<UploadDocumentEvent> Reporting::takeEvents(const QHash<qint64, Active> &active)
{
    QList<UploadDocumentEvent> out;
    out.reserve(eventOrder.size());
    for (qint64 id : std::as_const(eventOrder)) {
        UploadDocumentEvent e = events.value(id);
        if (e.status == DocStatus::Uploading && active.contains(id))
            e.bytesPerSecond = active.value(id).speed;
        out.append(e);
    }
    events.clear();
    eventOrder.clear();
    return out;
}

// --- the job's life ----------------------------------------------------------------------------

UploadJob::Shared::Shared(Catalog &c, SessionStore &s, Pools &p, UploadScope sc)
    : catalog(c), store(s), pools(p), scope(std::move(sc))
{
    report.clock.start();
    promise.start();
}

void UploadJob::Shared::spawnWorkersLocked()
{
    if (run.done || run.cancelled || run.paused || !run.started)
        return;
    const int want = std::max(1, config.settings.parallel) - lanes.workers;
    for (int i = 0; i < want; ++i) {
        ++lanes.workers;
        pools.start(pools.io(), [self = shared_from_this()] { self->runWorker(); });
    }
}

void UploadJob::Shared::maybeFinishLocked()
{
    if (lanes.workers > 0 || lanes.tasks > 0 || run.done || !run.started)
        return;
    if (!unrecorded.uploads.empty()) {
        startResultWriterLocked();   // it comes back here when done
        return;
    }
    if (!run.cancelled && !run.paused && run.fatalError.isEmpty() && (queue.wakeRequested || !queue.exhausted)) {
        spawnWorkersLocked();   // woken between the last worker's last look and now
        return;
    }
    if (!run.paused || run.cancelled || !run.fatalError.isEmpty())
        finishLocked();
}

void UploadJob::Shared::finishLocked()
{
    if (run.done)
        return;
    run.done = true;
    UploadResult r;
    r.failures = report.failures;
    r.remoteProblems = remotes.problems;
    r.totals = progressLocked();
    if (!run.fatalError.isEmpty()) {
        r.outcome = UploadResult::Outcome::Error;
        r.error = run.fatalError;
    } else if (!remotes.problems.isEmpty() && !run.cancelled) {
        r.outcome = UploadResult::Outcome::Error;
        QStringList lines;
        for (const UploadRemoteProblem &p : std::as_const(remotes.problems))
            lines << UploadJob::tr("remote \"%1\": %2 (its documents wait until this is fixed)").arg(p.remote, p.error.message);
        r.error = lines.join(QLatin1Char('\n'));
    } else if (run.cancelled || run.cancelledPending) {
        r.outcome = UploadResult::Outcome::Cancelled;
    } else if (r.totals.filesFailed > 0 || !report.failures.isEmpty()) {
        r.outcome = UploadResult::Outcome::SomeFailed;
    }
    if (r.outcome == UploadResult::Outcome::Succeeded || r.outcome == UploadResult::Outcome::SomeFailed) {
        // Nothing is pending once the job ran to its end: the catalog's pending count is an
        // estimate taken earlier and may still include a document finished since.
        r.totals.filesTotal = r.totals.filesDone;
        r.totals.bytesTotal = r.totals.bytesDone;
    }
    run.finalResult = r;
    promise.addResult(r);
    promise.finish();
    // finished() goes out now rather than on the next flush tick.
    if (run.owner)
        QMetaObject::invokeMethod(run.owner, "report", Qt::QueuedConnection);
}

UploadProgress UploadJob::Shared::progressLocked() const
{
    UploadProgress p = report.progress;
    p.active = int(lanes.active.size());
    // Uploads waiting to be recorded count as done once they are, and as in flight until then.
    p.filesTotal = p.filesDone + p.active + qint64(unrecorded.uploads.size()) + queue.pendingInCatalog;
    qint64 activeSize = 0;
    qint64 activeDone = 0;
    for (const Active &a : lanes.active) {
        activeSize += a.size;
        activeDone += a.done;
    }
    // Documents not fetched yet are estimated at the average size of the known ones.
    const qint64 known = qint64(queue.pending.size()) + queue.held.size();
    const qint64 unknown = std::max<qint64>(0, queue.pendingInCatalog - known);
    const qint64 avg = known > 0 ? queue.pendingBytesKnown / known : 0;
    const qint64 ended = report.bytesFinished + unrecorded.bytes;
    p.bytesTotal = ended + activeSize + queue.pendingBytesKnown + unknown * avg;
    p.bytesDone = ended + activeDone;
    p.bytesPerSecond = report.speed;
    p.etaMs = report.speed > 1 ? qint64(double(p.bytesTotal - p.bytesDone) / report.speed * 1000.0) : -1;
    p.paused = run.paused;
    return p;
}

void UploadJob::Shared::startTaskLocked(std::function<void(Shared &)> work)
{
    ++lanes.tasks;
    pools.start(pools.io(), [self = shared_from_this(), work = std::move(work)] {
        work(*self);
        std::lock_guard lock(self->mutex);
        --self->lanes.tasks;
        self->maybeFinishLocked();
    });
}

// --- UploadJob ---------------------------------------------------------------------------------

UploadJob::UploadJob(Catalog &catalog, SessionStore &store, Pools &pools, UploadScope scope, QObject *parent)
    : Job(parent), m_shared(std::make_shared<Shared>(catalog, store, pools, std::move(scope)))
{
}

UploadJob::~UploadJob()
{
    {
        std::lock_guard lock(m_shared->mutex);
        m_shared->run.owner = nullptr;
    }
    doCancel();
}

void UploadJob::setSettings(const UploadSettings &settings)
{
    m_shared->config.settings = settings;
    m_shared->config.settingsSet = true;
}

void UploadJob::setSecretProvider(SecretProvider provider)
{
    m_shared->config.secrets = std::move(provider);
}

void UploadJob::setPauses(std::shared_ptr<UploadPauses> pauses)
{
    m_shared->config.pauses = std::move(pauses);
}

void UploadJob::setRecoverInterrupted(bool recover)
{
    m_shared->config.recover = recover;
}

void UploadJob::setRetryFailed(bool retry)
{
    m_shared->config.retryFailed = retry;
}

const UploadScope &UploadJob::scope() const
{
    return m_shared->scope;
}

void UploadJob::doStart()
{
    Shared &s = *m_shared;
    if (!s.config.settingsSet)
        s.config.settings = UploadSettings::fromStore(s.store);
    std::lock_guard lock(s.mutex);
    s.run.owner = this;
    s.run.started = true;
    s.spawnWorkersLocked();
}

void UploadJob::doCancel()
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.run.done)
        return;
    s.run.cancelled = true;
    s.lanes.stop(0, UploadControl::Stop::Pause);
    if (!s.run.started)
        s.finishLocked();   // never started: nothing will finish it otherwise
    else
        s.maybeFinishLocked();
}

void UploadJob::doSetPaused(bool paused)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.run.done || s.run.paused == paused)
        return;
    s.run.paused = paused;
    s.report.progressDirty = true;
    if (paused) {
        s.lanes.stop(0, UploadControl::Stop::Pause);
    } else {
        s.queue.exhausted = false;
        s.spawnWorkersLocked();
    }
}

bool UploadJob::wake()
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.run.done)
        return false;
    s.queue.wakeRequested = true;
    s.queue.exhausted = false;
    s.spawnWorkersLocked();
    return true;
}

void UploadJob::stopDocument(qint64 documentId)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (auto c = s.lanes.controls.value(documentId))
        c->requestStop(UploadControl::Stop::Pause);
    // Claimed but not started: back to `hashed` now rather than when a worker comes to it.
    s.releaseLaterLocked(s.queue.takeHeld([&](const Document &d) { return d.id == documentId; }));
}

void UploadJob::stopCollection(qint64 collectionId)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    s.lanes.stop(collectionId, UploadControl::Stop::Pause);
    s.releaseLaterLocked(s.queue.takeHeld([&](const Document &d) { return d.collectionId == collectionId; }));
}

void UploadJob::cancelDocuments(const QList<qint64> &documentIds)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    QList<qint64> notInFlight;
    QSet<qint64> waiting;
    for (qint64 id : documentIds) {
        if (auto c = s.lanes.controls.value(id)) {
            c->requestStop(UploadControl::Stop::Cancel);
        } else {
            s.queue.cancelRequested.insert(id);
            notInFlight.append(id);
            waiting.insert(id);
        }
    }
    // Claimed by this job and not started: cancelled from `uploading` (the others from
    // `hashed` below; one being claimed right now is cancelled by the worker claiming it).
    Release claimed = s.queue.takeHeld([&](const Document &d) { return waiting.contains(d.id); });
    if (notInFlight.isEmpty())
        return;
    // The catalog is only touched on worker threads.
    s.startTaskLocked([claimed, notInFlight](Shared &shared) {
        shared.releaseHeld(claimed);
        shared.cancelWaiting(notInFlight, 0);
    });
}

void UploadJob::cancelCollection(qint64 collectionId)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (collectionId == 0)
        s.run.cancelledPending = true;
    s.lanes.stop(collectionId, UploadControl::Stop::Cancel);
    for (const Document &d : s.queue.pending) {
        if (collectionId == 0 || d.collectionId == collectionId)
            s.queue.cancelRequested.insert(d.id);
    }
    for (auto it = s.queue.held.cbegin(); it != s.queue.held.cend(); ++it) {
        if (collectionId == 0 || it.value() == collectionId)
            s.queue.cancelRequested.insert(it.key());
    }
    // Claimed by this job and not started: cancelled from `uploading` (the others from `hashed`;
    // ones being claimed right now are cancelled by the worker claiming them).
    Release claimed = s.queue.takeHeld([&](const Document &d) { return collectionId == 0 || d.collectionId == collectionId; });
    s.startTaskLocked([claimed, collectionId](Shared &shared) {
        shared.releaseHeld(claimed);
        const QList<qint64> collections = collectionId > 0 ? QList<qint64>{collectionId}
                                                           : shared.scopeCollections().valueOr({});
        for (qint64 cid : collections) {
            DocumentQuery q;
            q.collectionId = cid;
            q.statuses = {DocStatus::Hashed};
            const auto docs = shared.catalog.documents(q);
            if (!docs)
                continue;
            QList<qint64> ids;
            for (const Document &d : *docs) {
                if (shared.inScope(d.id))
                    ids.append(d.id);
            }
            shared.cancelWaiting(ids, cid);
        }
    });
}

JobAmounts UploadJob::doAmounts() const
{
    const UploadProgress p = progress();
    return JobAmounts{p.filesDone, p.filesTotal, p.bytesDone, p.bytesTotal, p.bytesPerSecond, true, p.paused};
}

UploadProgress UploadJob::progress() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->progressLocked();
}

QFuture<UploadResult> UploadJob::result() const
{
    return m_shared->promise.future();
}

void UploadJob::doReport()
{
    Shared &s = *m_shared;
    QList<UploadDocumentEvent> events;
    UploadProgress progress;
    bool emitProgress = false;
    bool emitFinished = false;
    UploadResult result;
    {
        std::lock_guard lock(s.mutex);
        // Uploads that finished since the last tick are recorded together, off this thread;
        // their events go out once they are recorded (the next tick).
        s.startResultWriterLocked();
        s.report.sampleSpeeds(s.lanes.active);
        events = s.report.takeEvents(s.lanes.active);
        if (s.report.progressDirty) {
            progress = s.progressLocked();
            emitProgress = true;
            s.report.progressDirty = false;
        }
        if (s.run.done) {
            emitFinished = true;
            result = s.run.finalResult;
        }
    }
    // Never emit while holding the lock (receivers may call back into the job).
    if (!events.isEmpty())
        Q_EMIT documentsChanged(events);
    if (emitProgress)
        Q_EMIT progressChanged(progress);
    if (emitFinished) {
        finishing({result.outcome, result.error});
        Q_EMIT finished(result);
    }
}

} // namespace quire
