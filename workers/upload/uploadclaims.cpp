// How an UploadJob's workers come by their documents: fetched from the catalog's pending list,
// claimed in batches, taken one at a time; and how held documents are given back or cancelled.

#include "upload/uploadjobshared.h"

#include "catalog/catalog.h"
#include "jobs/pools.h"
#include "remotes/remotetransport.h"

namespace quire {

using namespace uploadjob;

void UploadJob::Shared::runWorker()
{
    // Uploads wait on the network most of the time: give the pool slot back while this worker
    // runs so catalog queries on the same pool never queue behind long uploads.
    QThreadPool *pool = pools.io();
    pool->releaseThread();
    while (auto work = takeNext())
        process(std::move(*work));
    // What this worker (or another) uploaded and did not record yet is recorded before it
    // leaves: a pause or cancel ends the workers, and the job only finishes once all is written.
    bool write = false;
    {
        std::lock_guard lock(mutex);
        if (!unrecorded.uploads.empty() && !unrecorded.writing)
            write = unrecorded.writing = true;
    }
    if (write)
        writeResults();
    pool->reserveThread();

    std::lock_guard lock(mutex);
    --lanes.workers;
    maybeFinishLocked();
}

bool UploadJob::Shared::skipLocked(const Document &d) const
{
    return lanes.controls.contains(d.id) || queue.finishedIds.contains(d.id) || queue.cancelRequested.contains(d.id)
           || remotes.blockedCollections.contains(d.collectionId)
           || (config.pauses && config.pauses->isPaused(d.id, d.collectionId));
}

std::optional<Work> UploadJob::Shared::takeNext()
{
    std::unique_lock lock(mutex);
    for (;;) {
        const bool stopping = run.cancelled || run.paused || !run.fatalError.isEmpty();
        // Claimed documents that will not be uploaded now go back before anything else: all of
        // them when the job stops, else those paused or cancelled meanwhile.
        const Release release = queue.takeHeld([&](const Document &d) { return stopping || skipLocked(d); });
        if (!release.isEmpty()) {
            lock.unlock();
            releaseHeld(release);
            lock.lock();
            continue;
        }
        if (stopping)
            return std::nullopt;
        if (!queue.ready.empty()) {
            Held h = std::move(queue.ready.front());
            queue.ready.pop_front();
            queue.forget(h.doc);
            auto control = std::make_shared<UploadControl>();
            lanes.controls.insert(h.doc.id, control);
            Active a;
            a.collectionId = h.doc.collectionId;
            a.fileName = h.doc.fileName;
            a.size = h.doc.size;
            a.sampleMs = report.clock.elapsed();
            lanes.active.insert(h.doc.id, a);
            report.progressDirty = true;
            // Work ahead: while the other lanes still have claimed work, this one fetches and
            // claims the next documents before it uploads, so that no lane waits for either.
            const std::size_t lowWater = std::size_t(2 * std::max(2, config.settings.parallel));
            if (queue.ready.size() < lowWater && !queue.claiming && !queue.refilling) {
                if (queue.pending.size() < std::size_t(kClaimBatch) && !queue.exhausted && !queue.wakeRequested)
                    (void)refillLocked(lock);   // a failure is seen by the next takeNext()
                if (!queue.pending.empty() && !queue.claiming && !queue.refilling && run.fatalError.isEmpty())
                    claimNext(lock);
            }
            return Work{std::move(h.doc), std::move(control), h.claimed};
        }
        if (queue.claiming || queue.refilling) {
            queue.refilled.wait(lock);
            continue;
        }
        if (!queue.pending.empty()) {
            claimNext(lock);
            continue;
        }
        if (queue.exhausted && !queue.wakeRequested)
            return std::nullopt;
        if (!refillLocked(lock))
            return std::nullopt;
    }
}

bool UploadJob::Shared::refillLocked(std::unique_lock<std::mutex> &lock)
{
    queue.refilling = true;
    if (queue.wakeRequested)
        queue.finishedIds.clear();   // woken: documents may have become pending again
    queue.wakeRequested = false;
    lock.unlock();
    qint64 count = 0;
    auto fetched = fetchPending(count);
    lock.lock();
    queue.refilling = false;
    queue.refilled.notify_all();
    if (!fetched) {
        run.fatalError = fetched.error();
        return false;
    }
    int added = 0;
    qint64 taken = 0;   // taken by a worker or held, not marked `uploading` (yet): counted apart
    for (Document &d : *fetched) {
        if (lanes.controls.contains(d.id) || queue.held.contains(d.id)) {
            ++taken;
            continue;
        }
        if (queue.queuedIds.contains(d.id) || queue.finishedIds.contains(d.id) || queue.cancelRequested.contains(d.id)
            || remotes.blockedCollections.contains(d.collectionId))
            continue;
        queue.queuedIds.insert(d.id);
        queue.pendingBytesKnown += d.size;
        queue.pending.push_back(std::move(d));
        ++added;
    }
    queue.pendingInCatalog = std::max<qint64>(count - taken, qint64(queue.pending.size())) + queue.held.size();
    report.progressDirty = true;
    if (added == 0 && !queue.wakeRequested)
        queue.exhausted = true;
    return true;
}

void UploadJob::Shared::claimNext(std::unique_lock<std::mutex> &lock)
{
    QList<Document> batch;
    qint64 bytes = 0;
    while (!queue.pending.empty() && batch.size() < kClaimBatch && (batch.isEmpty() || bytes < kClaimBytes)) {
        Document d = std::move(queue.pending.front());
        queue.pending.pop_front();
        queue.queuedIds.remove(d.id);
        if (skipLocked(d)) {
            queue.forget(d);
            continue;
        }
        queue.held.insert(d.id, d.collectionId);
        bytes += d.size;
        batch.append(std::move(d));
    }
    if (batch.isEmpty())
        return;
    queue.claiming = true;
    lock.unlock();

    // Claimed together: the documents that can be uploaded as they are. One whose collection has
    // no usable remote, or whose source cannot be read or changed since it was hashed, goes to a
    // worker unclaimed: process() records the failure, or hashes it again and claims it alone.
    QList<qint64> ids;
    QList<bool> claimable;
    for (const Document &d : std::as_const(batch)) {
        bool ok = targetFor(d.collectionId).remote != nullptr;
        if (ok) {
            const net::SourceState st = net::statSource(d.sourcePath);
            ok = st.ok() && st.size == d.size && st.mtimeMs == d.mtimeMs;
        }
        claimable.append(ok);
        if (ok)
            ids.append(d.id);
    }
    const auto claimed = catalog.transitionStatus(ids, {DocStatus::Hashed}, DocStatus::Uploading);

    lock.lock();
    queue.claiming = false;
    queue.refilled.notify_all();
    const QSet<qint64> got = claimed ? QSet<qint64>(claimed->cbegin(), claimed->cend()) : QSet<qint64>();
    for (qsizetype i = 0; i < batch.size(); ++i) {
        Document &d = batch[i];
        if (!claimable.at(i)) {
            queue.ready.push_back(Held{std::move(d), false});
            continue;
        }
        if (got.contains(d.id)) {
            queue.ready.push_back(Held{std::move(d), true});
            continue;
        }
        // The claim failed, or the document was cancelled, removed or taken by another process
        // since it was fetched: not ours.
        if (!claimed)
            report.failures.append({d.id, remotes.collectionName(d.collectionId), d.fileName, claimed.error()});
        queue.forget(d);
        queue.finishedIds.insert(d.id);
    }
    report.progressDirty = true;
}

Result<QList<qint64>> UploadJob::Shared::scopeCollections() const
{
    if (scope.collectionId > 0)
        return QList<qint64>{scope.collectionId};
    const auto all = catalog.collections();
    if (!all)
        return Result<QList<qint64>>::failure(all.error());
    QList<qint64> ids;
    for (const Collection &c : *all) {
        if (!c.remote.isEmpty())
            ids.append(c.id);
    }
    return ids;
}

Status UploadJob::Shared::requeue(const QList<qint64> &collectionIds, DocStatus from,
                                  const std::function<bool(const Document &)> &eligible)
{
    for (qint64 cid : collectionIds) {
        DocumentQuery q;
        q.collectionId = cid;
        q.statuses = {from};
        q.thisMachineOnly = true;   // another machine's documents are its own to upload
        const auto docs = catalog.documents(q);
        if (!docs)
            return Status::failure(docs.error());
        QList<qint64> ids;
        for (const Document &d : *docs) {
            if (eligible(d) && inScope(d.id))
                ids.append(d.id);
        }
        if (auto r = catalog.transitionStatus(ids, {from}, DocStatus::Hashed); !r)
            return Status::failure(r.error());
    }
    return {};
}

Result<QList<Document>> UploadJob::Shared::fetchPending(qint64 &pendingCount)
{
    using R = Result<QList<Document>>;
    const auto scoped = scopeCollections();
    if (!scoped)
        return R::failure(scoped.error());
    const QList<qint64> &collectionIds = *scoped;

    // Only one thread fetches at a time (refilling), so `recovered` and `retriedFailed` need no
    // lock of their own.
    if (config.recover && !queue.recovered) {
        queue.recovered = true;
        // Left `uploading` by a crash, kill -9 or a lost connection to the catalog: queue again.
        if (const Status s = requeue(collectionIds, DocStatus::Uploading, [](const Document &) { return true; }); !s)
            return R::failure(s.error());
    }
    if (config.retryFailed && !queue.retriedFailed) {
        queue.retriedFailed = true;
        // Upload failures only: a document whose hashing failed has no SHA-256.
        if (const Status s = requeue(collectionIds, DocStatus::Failed,
                                     [](const Document &d) { return !d.sha256.isEmpty(); });
            !s)
            return R::failure(s.error());
    }

    const std::shared_ptr<UploadPauses> &pauses = config.pauses;
    QList<Document> out;
    pendingCount = 0;
    for (qint64 cid : collectionIds) {
        if (pauses && pauses->isCollectionPaused(cid))
            continue;
        if (!scope.documentIds.isEmpty()) {
            for (qint64 id : scope.documentIds) {
                const auto d = catalog.document(id);
                if (!d)
                    return R::failure(d.error());
                if (*d && (*d)->collectionId == cid && (*d)->status == DocStatus::Hashed
                    && isThisMachines(**d)) {
                    ++pendingCount;
                    if (!(pauses && pauses->isDocumentPaused(id)))
                        out.append(**d);
                }
            }
            continue;
        }
        DocumentQuery q;
        q.collectionId = cid;
        q.statuses = {DocStatus::Hashed};
        q.thisMachineOnly = true;   // the others' source paths mean nothing here
        q.sortColumn = DocColumn::Added;
        q.order = Qt::AscendingOrder;
        const auto count = catalog.countDocuments(q);
        if (!count)
            return R::failure(count.error());
        pendingCount += *count;
        // Page past documents this job must skip (paused ones), so that they cannot hide
        // pending documents behind them.
        for (qint64 offset = 0;; offset += kFetchBatch) {
            q.offset = offset;
            q.limit = kFetchBatch;
            const auto page = catalog.documents(q);
            if (!page)
                return R::failure(page.error());
            int usable = 0;
            for (const Document &d : *page) {
                if (pauses && pauses->isDocumentPaused(d.id))
                    continue;
                out.append(d);
                ++usable;
            }
            if (usable > 0 || page->size() < kFetchBatch)
                break;
        }
    }
    return out;
}

bool UploadJob::Shared::claimAlone(const Document &doc)
{
    const auto claimed = catalog.transitionStatus({doc.id}, {DocStatus::Hashed}, DocStatus::Uploading);
    if (claimed && !claimed->isEmpty())
        return true;
    // The catalog failed, or the document was cancelled, removed or taken by another process
    // since it was fetched: not ours.
    if (!claimed)
        noteCatalogError(doc, claimed.error());
    std::lock_guard lock(mutex);
    lanes.controls.remove(doc.id);
    lanes.active.remove(doc.id);
    queue.finishedIds.insert(doc.id);
    report.progressDirty = true;
    return false;
}

void UploadJob::Shared::releaseLaterLocked(Release release)
{
    if (release.isEmpty())
        return;
    startTaskLocked([release = std::move(release)](Shared &s) { s.releaseHeld(release); });
}

void UploadJob::Shared::releaseHeld(const Release &release)
{
    const std::pair<const QList<Document> *, DocStatus> parts[] = {{&release.toHashed, DocStatus::Hashed},
                                                                   {&release.toCancelled, DocStatus::Cancelled}};
    for (const auto &[docs, to] : parts) {
        if (docs->isEmpty())
            continue;
        QList<qint64> ids;
        for (const Document &d : *docs)
            ids.append(d.id);
        const auto changed = catalog.releaseClaims(ids, to);
        std::lock_guard lock(mutex);
        if (!changed) {
            // They stay `uploading`: the next job that recovers interrupted uploads takes them.
            report.failures.append({0, QString(), QString(), changed.error()});
            continue;
        }
        const QSet<qint64> changedIds(changed->cbegin(), changed->cend());
        for (const Document &d : *docs) {
            if (!changedIds.contains(d.id))
                continue;
            UploadDocumentEvent e;
            e.id = d.id;
            e.collectionId = d.collectionId;
            e.fileName = d.fileName;
            e.status = to;
            e.bytesTotal = d.size;
            if (to == DocStatus::Cancelled) {
                e.message = UploadJob::tr("cancelled");
                ++report.progress.filesCancelled;
            }
            report.addEvent(e);
        }
    }
}

void UploadJob::Shared::cancelWaiting(const QList<qint64> &ids, qint64 collectionId)
{
    const auto changed = catalog.transitionStatus(ids, {DocStatus::Hashed}, DocStatus::Cancelled);
    std::lock_guard lock(mutex);
    if (!changed) {
        report.failures.append({0, QString(), QString(), changed.error()});
        return;
    }
    for (qint64 id : *changed) {
        queue.cancelRequested.insert(id);
        UploadDocumentEvent e;
        e.id = id;
        e.collectionId = collectionId;
        e.status = DocStatus::Cancelled;
        e.message = UploadJob::tr("cancelled");
        report.addEvent(e);
        ++report.progress.filesCancelled;
        queue.pendingInCatalog = std::max<qint64>(0, queue.pendingInCatalog - 1);
    }
}

} // namespace quire
