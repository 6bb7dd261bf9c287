#include "upload/uploadjob.h"

#include "catalog/catalog.h"
#include "settings/credentials.h"
#include "hashing/hasher.h"
#include "catalog/machine.h"
#include "jobs/pools.h"
#include "jobs/pooltask.h"
#include "remotes/remote.h"
#include "remotes/remotetransport.h"
#include "settings/sessionstore.h"

#include <QElapsedTimer>
#include <QLoggingCategory>
#include <QPromise>

#include <condition_variable>
#include <deque>

namespace quire {

// Retries and failures are logged here (never a secret: messages are built without them).
Q_LOGGING_CATEGORY(lcUpload, "quire.upload", QtWarningMsg)

namespace {

// A document this machine may upload: added here, or before machines were recorded.
bool isThisMachines(const Document &doc)
{
    return doc.machineId.isEmpty() || doc.machineId == thisMachine().id;
}

constexpr int kFetchBatch = 256;
// A worker claims the next documents in one catalog transaction: up to this many, and no more
// once they add up to kClaimBytes (at least one). Any worker of the job takes them from there,
// so a claim never leaves one upload lane with work while another has none; the limits keep
// what another job or process could have taken small.
constexpr int kClaimBatch = 32;
constexpr qint64 kClaimBytes = 8 << 20;
// Finished uploads are recorded in the catalog together: whatever finished since the last
// report tick (every 50 ms, jobs/job.h), or as soon as this many are waiting.
constexpr int kResultBatch = 64;
constexpr int kMaxSourceChanges = 3;     // re-hash and retry at most this often per document
constexpr double kSpeedSmoothing = 0.3;  // weight of the newest sample in the moving average

struct Work
{
    Document doc;
    std::shared_ptr<UploadControl> control;
    bool claimed = false;   // already `uploading` for this job (else process() claims it)
};

// A document this job took from its pending list and has not started uploading yet.
struct Held
{
    Document doc;
    bool claimed = false;   // `uploading` in the catalog on this job's behalf
};

// Held documents that will not be uploaded after all, to give back in the catalog.
struct Release
{
    QList<Document> toHashed;      // claimed: back to `hashed`
    QList<Document> toCancelled;   // claimed and cancelled by the user: `cancelled`
    bool isEmpty() const { return toHashed.isEmpty() && toCancelled.isEmpty(); }
};

// An upload that finished and is not recorded in the catalog yet: the event to publish once it is.
struct Finished
{
    UploadDocumentEvent event;
};

struct Target
{
    QString collectionName;
    std::shared_ptr<Remote> remote;
    QString error;
    QString remoteName;          // with a secret that could not be had: whose
};

struct Active
{
    qint64 collectionId = 0;
    QString fileName;
    qint64 size = 0;
    qint64 done = 0;
    int attempt = 1;
    QString message;
    qint64 sampleBytes = 0;
    qint64 sampleMs = 0;
    double speed = 0;
};

QString secondsText(std::chrono::milliseconds d)
{
    const double s = double(d.count()) / 1000.0;
    return s < 10 ? QString::number(s, 'f', 1) + QStringLiteral(" s") : QStringLiteral("%1 s").arg(qint64(s + 0.5));
}

} // namespace

// --- UploadPauses ------------------------------------------------------------------------------

void UploadPauses::pauseDocument(qint64 id)
{
    std::lock_guard lock(m_mutex);
    m_documents.insert(id);
}

void UploadPauses::resumeDocument(qint64 id)
{
    std::lock_guard lock(m_mutex);
    m_documents.remove(id);
}

void UploadPauses::pauseCollection(qint64 id)
{
    std::lock_guard lock(m_mutex);
    m_collections.insert(id);
}

void UploadPauses::resumeCollection(qint64 id)
{
    std::lock_guard lock(m_mutex);
    m_collections.remove(id);
}

bool UploadPauses::isPaused(qint64 documentId, qint64 collectionId) const
{
    std::lock_guard lock(m_mutex);
    return m_documents.contains(documentId) || m_collections.contains(collectionId);
}

bool UploadPauses::isDocumentPaused(qint64 id) const
{
    std::lock_guard lock(m_mutex);
    return m_documents.contains(id);
}

bool UploadPauses::isCollectionPaused(qint64 id) const
{
    std::lock_guard lock(m_mutex);
    return m_collections.contains(id);
}

// --- shared state ------------------------------------------------------------------------------

struct UploadJob::Shared : std::enable_shared_from_this<UploadJob::Shared>
{
    Shared(Catalog &c, SessionStore &s, Pools &p, UploadScope sc)
        : catalog(c), store(s), pools(p), scope(std::move(sc))
    {
        clock.start();
        promise.start();
    }

    Catalog &catalog;
    SessionStore &store;
    Pools &pools;
    const UploadScope scope;
    // Set before start(), read-only afterwards.
    UploadSettings settings;
    bool settingsSet = false;
    SecretProvider secrets;
    std::shared_ptr<UploadPauses> pauses;
    bool recover = true;
    bool retryFailed = false;
    QElapsedTimer clock;

    mutable std::mutex mutex;            // guards everything below
    std::condition_variable refilled;    // a refill or a claim ended
    std::deque<Document> pending;
    QSet<qint64> queuedIds;              // ids in pending
    std::deque<Held> ready;              // taken from pending, claimed, waiting for a worker
    QHash<qint64, qint64> held;          // ids in `ready` or being claimed -> collection id
    bool claiming = false;
    // The job, for posting its last report (finishLocked()); cleared when it is deleted.
    UploadJob *owner = nullptr;
    std::vector<Finished> results;       // uploaded, not recorded in the catalog yet
    qint64 resultBytes = 0;              // their sizes
    bool writingResults = false;
    QSet<qint64> finishedIds;            // ended in this job (not taken again unless woken)
    QSet<qint64> cancelRequested;        // pending ids the user cancelled
    QHash<qint64, std::shared_ptr<UploadControl>> controls;   // in flight
    QHash<qint64, Active> active;
    QHash<qint64, Target> targets;       // by collection id
    std::mutex targetMutex;              // held while a Target is made (not guarded by `mutex`)
    bool refilling = false;
    bool exhausted = false;
    bool wakeRequested = false;
    bool recovered = false;
    bool retriedFailed = false;
    bool started = false;
    int workers = 0;
    int tasks = 0;                       // cancel tasks still writing to the catalog
    bool paused = false;
    bool cancelled = false;
    bool cancelledPending = false;       // cancelCollection(0): the outcome is Cancelled
    bool done = false;
    QString fatalError;
    qint64 pendingInCatalog = 0;
    qint64 pendingBytesKnown = 0;        // sizes of the documents in `pending`
    qint64 bytesFinished = 0;            // sizes of documents that ended
    qint64 bytesSentTotal = 0;           // body bytes actually sent (for the speed)
    qint64 speedSampleBytes = 0;
    qint64 speedSampleMs = 0;
    double speed = 0;
    UploadProgress progress;
    bool progressDirty = true;
    QHash<qint64, UploadDocumentEvent> events;   // coalesced by document id
    QList<qint64> eventOrder;
    QList<UploadFailure> failures;
    QList<UploadRemoteProblem> remoteProblems;
    QSet<qint64> blockedCollections;     // their remote has a problem: not taken in this job
    QSet<QString> suspectRemotes;        // met as unreachable once: the next time holds them
    UploadResult finalResult;
    QPromise<UploadResult> promise;

    // --- called with the mutex held ---
    void addEventLocked(const UploadDocumentEvent &e)
    {
        if (!events.contains(e.id))
            eventOrder.append(e.id);
        events.insert(e.id, e);
        progressDirty = true;
    }

    UploadDocumentEvent activeEventLocked(qint64 id) const
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

    void spawnWorkersLocked()
    {
        if (done || cancelled || paused || !started)
            return;
        const int want = std::max(1, settings.parallel) - workers;
        for (int i = 0; i < want; ++i) {
            ++workers;
            pools.start(pools.io(), [self = shared_from_this()] { self->runWorker(); });
        }
    }

    void finishLocked()
    {
        if (done)
            return;
        done = true;
        UploadResult r;
        r.failures = failures;
        r.remoteProblems = remoteProblems;
        r.totals = progressLocked();
        if (!fatalError.isEmpty()) {
            r.outcome = UploadResult::Outcome::Error;
            r.error = fatalError;
        } else if (!remoteProblems.isEmpty() && !cancelled) {
            r.outcome = UploadResult::Outcome::Error;
            QStringList lines;
            for (const UploadRemoteProblem &p : std::as_const(remoteProblems))
                lines << QStringLiteral("remote \"%1\": %2 (its documents wait until this is fixed)").arg(p.remote, p.error.message);
            r.error = lines.join(QLatin1Char('\n'));
        } else if (cancelled || cancelledPending) {
            r.outcome = UploadResult::Outcome::Cancelled;
        } else if (r.totals.filesFailed > 0 || !failures.isEmpty()) {
            r.outcome = UploadResult::Outcome::SomeFailed;
        }
        if (r.outcome == UploadResult::Outcome::Succeeded || r.outcome == UploadResult::Outcome::SomeFailed) {
            // Nothing is pending once the job ran to its end: the catalog's pending count is an
            // estimate taken earlier and may still include a document finished since.
            r.totals.filesTotal = r.totals.filesDone;
            r.totals.bytesTotal = r.totals.bytesDone;
        }
        finalResult = r;
        promise.addResult(r);
        promise.finish();
        // finished() goes out now rather than on the next flush tick.
        if (owner)
            QMetaObject::invokeMethod(owner, "report", Qt::QueuedConnection);
    }

    UploadProgress progressLocked() const
    {
        UploadProgress p = progress;
        p.active = int(active.size());
        // Uploads waiting to be recorded count as done once they are, and as in flight until then.
        p.filesTotal = p.filesDone + p.active + qint64(results.size()) + pendingInCatalog;
        qint64 activeSize = 0;
        qint64 activeDone = 0;
        for (const Active &a : active) {
            activeSize += a.size;
            activeDone += a.done;
        }
        // Documents not fetched yet are estimated at the average size of the known ones.
        const qint64 known = qint64(pending.size()) + held.size();
        const qint64 unknown = std::max<qint64>(0, pendingInCatalog - known);
        const qint64 avg = known > 0 ? pendingBytesKnown / known : 0;
        p.bytesTotal = bytesFinished + resultBytes + activeSize + pendingBytesKnown + unknown * avg;
        p.bytesDone = bytesFinished + resultBytes + activeDone;
        p.bytesPerSecond = speed;
        p.etaMs = speed > 1 ? qint64(double(p.bytesTotal - p.bytesDone) / speed * 1000.0) : -1;
        p.paused = paused;
        return p;
    }

    // Finishes the job when nothing runs any more and nothing is left to do.
    void maybeFinishLocked();

    // Whether a document taken from the pending list must be left alone now.
    bool skipLocked(const Document &d) const
    {
        return controls.contains(d.id) || finishedIds.contains(d.id) || cancelRequested.contains(d.id)
               || blockedCollections.contains(d.collectionId) || (pauses && pauses->isPaused(d.id, d.collectionId));
    }
    // A pending or held document leaves the job's list (taken by a worker, or dropped).
    void forgetPendingLocked(const Document &d)
    {
        held.remove(d.id);
        pendingBytesKnown -= d.size;
        pendingInCatalog = std::max<qint64>(0, pendingInCatalog - 1);
    }
    // Takes the held documents that match out of `ready`; the claimed ones are to be given back
    // (cancelled if the user cancelled them), the others were never claimed and need nothing.
    template <typename Pred>
    Release takeHeldLocked(Pred matches)
    {
        Release r;
        for (auto it = ready.begin(); it != ready.end();) {
            if (!matches(it->doc)) {
                ++it;
                continue;
            }
            forgetPendingLocked(it->doc);
            if (it->claimed)
                (cancelRequested.contains(it->doc.id) ? r.toCancelled : r.toHashed).append(std::move(it->doc));
            it = ready.erase(it);
        }
        return r;
    }
    // Gives `release` back on a pool thread (counted in `tasks`, so the job waits for it).
    void releaseLaterLocked(Release release);
    // Starts writing the recorded uploads on a pool thread unless a write runs already.
    void startResultWriterLocked();
    // Builds the final event of a document that ended, taking it out of the in-flight lists.
    UploadDocumentEvent retireLocked(const Document &doc, DocStatus status, const QString &message,
                                     const UploadReport *report);
    // Counts a document that ended and publishes its event.
    void publishEndLocked(UploadDocumentEvent e);

    // --- worker side (no lock held on entry) ---
    void runWorker();
    std::optional<Work> takeNext();
    void claimNext(std::unique_lock<std::mutex> &lock);
    // Fetches the next pending documents of the scope (lock held on entry and return, released
    // meanwhile); false when the catalog failed (fatalError).
    bool refillLocked(std::unique_lock<std::mutex> &lock);
    Result<QList<Document>> fetchPending(qint64 &pendingCount);
    void process(Work work);
    // Claims a document that was not claimed with others (`hashed` -> `uploading`); false (and
    // the job lets it go) when that fails or someone else has it.
    bool claimAlone(const Document &doc);
    Target targetFor(qint64 collectionId);
    std::optional<Document> rehash(Document doc, UploadControl &control, bool &stopped);
    void endDocument(const Document &doc, DocStatus status, const QString &message,
                     const UploadReport *report = nullptr);
    // An upload succeeded: recorded in the catalog with the next batch (see writeResults()).
    void uploaded(const Document &doc, const UploadReport &report);
    // Records the waiting results in one transaction (again while a full batch waits). The
    // caller set writingResults.
    void writeResults();
    void releaseHeld(const Release &release);
    void handleStop(const Document &doc, const UploadItem &item, Remote *remote, UploadControl &control);
    void noteProgress(qint64 id, qint64 done, qint64 total);
    void noteCatalogError(const Document &doc, const QString &error);
    void holdRemote(const Document &doc, const QString &remoteName, const RemoteError &err);
};

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
        if (!results.empty() && !writingResults)
            write = writingResults = true;
    }
    if (write)
        writeResults();
    pool->reserveThread();

    std::lock_guard lock(mutex);
    --workers;
    maybeFinishLocked();
}

void UploadJob::Shared::maybeFinishLocked()
{
    if (workers > 0 || tasks > 0 || done || !started)
        return;
    if (!results.empty()) {
        startResultWriterLocked();   // it comes back here when done
        return;
    }
    if (!cancelled && !paused && fatalError.isEmpty() && (wakeRequested || !exhausted)) {
        spawnWorkersLocked();   // woken between the last worker's last look and now
        return;
    }
    if (!paused || cancelled || !fatalError.isEmpty())
        finishLocked();
}

void UploadJob::Shared::releaseLaterLocked(Release release)
{
    if (release.isEmpty())
        return;
    ++tasks;
    pools.start(pools.io(), [self = shared_from_this(), release = std::move(release)] {
        self->releaseHeld(release);
        std::lock_guard lock(self->mutex);
        --self->tasks;
        self->maybeFinishLocked();
    });
}

void UploadJob::Shared::startResultWriterLocked()
{
    if (results.empty() || writingResults)
        return;
    writingResults = true;
    ++tasks;
    pools.start(pools.io(), [self = shared_from_this()] {
        self->writeResults();
        std::lock_guard lock(self->mutex);
        --self->tasks;
        self->maybeFinishLocked();
    });
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
            failures.append({0, QString(), QString(), changed.error()});
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
                e.message = QStringLiteral("cancelled");
                ++progress.filesCancelled;
            }
            addEventLocked(e);
        }
    }
}

std::optional<Work> UploadJob::Shared::takeNext()
{
    std::unique_lock lock(mutex);
    for (;;) {
        const bool stopping = cancelled || paused || !fatalError.isEmpty();
        // Claimed documents that will not be uploaded now go back before anything else: all of
        // them when the job stops, else those paused or cancelled meanwhile.
        const Release release = takeHeldLocked([&](const Document &d) { return stopping || skipLocked(d); });
        if (!release.isEmpty()) {
            lock.unlock();
            releaseHeld(release);
            lock.lock();
            continue;
        }
        if (stopping)
            return std::nullopt;
        if (!ready.empty()) {
            Held h = std::move(ready.front());
            ready.pop_front();
            forgetPendingLocked(h.doc);
            auto control = std::make_shared<UploadControl>();
            controls.insert(h.doc.id, control);
            Active a;
            a.collectionId = h.doc.collectionId;
            a.fileName = h.doc.fileName;
            a.size = h.doc.size;
            a.sampleMs = clock.elapsed();
            active.insert(h.doc.id, a);
            progressDirty = true;
            // Work ahead: while the other lanes still have claimed work, this one fetches and
            // claims the next documents before it uploads, so that no lane waits for either.
            const std::size_t lowWater = std::size_t(2 * std::max(2, settings.parallel));
            if (ready.size() < lowWater && !claiming && !refilling) {
                if (pending.size() < std::size_t(kClaimBatch) && !exhausted && !wakeRequested)
                    (void)refillLocked(lock);   // a failure is seen by the next takeNext()
                if (!pending.empty() && !claiming && !refilling && fatalError.isEmpty())
                    claimNext(lock);
            }
            return Work{std::move(h.doc), std::move(control), h.claimed};
        }
        if (claiming || refilling) {
            refilled.wait(lock);
            continue;
        }
        if (!pending.empty()) {
            claimNext(lock);
            continue;
        }
        if (exhausted && !wakeRequested)
            return std::nullopt;
        if (!refillLocked(lock))
            return std::nullopt;
    }
}

bool UploadJob::Shared::refillLocked(std::unique_lock<std::mutex> &lock)
{
    refilling = true;
    if (wakeRequested)
        finishedIds.clear();   // woken: documents may have become pending again
    wakeRequested = false;
    lock.unlock();
    qint64 count = 0;
    auto fetched = fetchPending(count);
    lock.lock();
    refilling = false;
    refilled.notify_all();
    if (!fetched) {
        fatalError = fetched.error();
        return false;
    }
    int added = 0;
    qint64 taken = 0;   // taken by a worker or held, not marked `uploading` (yet): counted apart
    for (Document &d : *fetched) {
        if (controls.contains(d.id) || held.contains(d.id)) {
            ++taken;
            continue;
        }
        if (queuedIds.contains(d.id) || finishedIds.contains(d.id) || cancelRequested.contains(d.id)
            || blockedCollections.contains(d.collectionId))
            continue;
        queuedIds.insert(d.id);
        pendingBytesKnown += d.size;
        pending.push_back(std::move(d));
        ++added;
    }
    pendingInCatalog = std::max<qint64>(count - taken, qint64(pending.size())) + held.size();
    progressDirty = true;
    if (added == 0 && !wakeRequested)
        exhausted = true;
    return true;
}

void UploadJob::Shared::claimNext(std::unique_lock<std::mutex> &lock)
{
    QList<Document> batch;
    qint64 bytes = 0;
    while (!pending.empty() && batch.size() < kClaimBatch && (batch.isEmpty() || bytes < kClaimBytes)) {
        Document d = std::move(pending.front());
        pending.pop_front();
        queuedIds.remove(d.id);
        if (skipLocked(d)) {
            forgetPendingLocked(d);
            continue;
        }
        held.insert(d.id, d.collectionId);
        bytes += d.size;
        batch.append(std::move(d));
    }
    if (batch.isEmpty())
        return;
    claiming = true;
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
    claiming = false;
    refilled.notify_all();
    const QSet<qint64> got = claimed ? QSet<qint64>(claimed->cbegin(), claimed->cend()) : QSet<qint64>();
    for (qsizetype i = 0; i < batch.size(); ++i) {
        Document &d = batch[i];
        if (!claimable.at(i)) {
            ready.push_back(Held{std::move(d), false});
            continue;
        }
        if (got.contains(d.id)) {
            ready.push_back(Held{std::move(d), true});
            continue;
        }
        // The claim failed, or the document was cancelled, removed or taken by another process
        // since it was fetched: not ours.
        if (!claimed)
            failures.append({d.id, targets.value(d.collectionId).collectionName, d.fileName, claimed.error()});
        forgetPendingLocked(d);
        finishedIds.insert(d.id);
    }
    progressDirty = true;
}

Result<QList<Document>> UploadJob::Shared::fetchPending(qint64 &pendingCount)
{
    using R = Result<QList<Document>>;
    // Only one thread fetches at a time (refilling), so `recovered` needs no lock of its own.
    QList<qint64> collectionIds;
    if (scope.collectionId > 0) {
        collectionIds.append(scope.collectionId);
    } else {
        const auto all = catalog.collections();
        if (!all)
            return R::failure(all.error());
        for (const Collection &c : *all) {
            if (!c.remote.isEmpty())
                collectionIds.append(c.id);
        }
    }

    if (recover && !recovered) {
        recovered = true;
        // Left `uploading` by a crash, kill -9 or a lost connection to the catalog: queue again.
        for (qint64 cid : collectionIds) {
            DocumentQuery q;
            q.collectionId = cid;
            q.statuses = {DocStatus::Uploading};
            q.thisMachineOnly = true;   // another machine's uploads in flight are its own
            const auto stale = catalog.documents(q);
            if (!stale)
                return R::failure(stale.error());
            QList<qint64> ids;
            for (const Document &d : *stale) {
                if (scope.documentIds.isEmpty() || scope.documentIds.contains(d.id))
                    ids.append(d.id);
            }
            if (auto r = catalog.transitionStatus(ids, {DocStatus::Uploading}, DocStatus::Hashed); !r)
                return R::failure(r.error());
        }
    }
    if (retryFailed && !retriedFailed) {
        retriedFailed = true;
        for (qint64 cid : collectionIds) {
            DocumentQuery q;
            q.collectionId = cid;
            q.statuses = {DocStatus::Failed};
            q.thisMachineOnly = true;
            const auto failed = catalog.documents(q);
            if (!failed)
                return R::failure(failed.error());
            QList<qint64> ids;
            for (const Document &d : *failed) {
                if (!d.sha256.isEmpty() && (scope.documentIds.isEmpty() || scope.documentIds.contains(d.id)))
                    ids.append(d.id);
            }
            if (auto r = catalog.transitionStatus(ids, {DocStatus::Failed}, DocStatus::Hashed); !r)
                return R::failure(r.error());
        }
    }

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

Target UploadJob::Shared::targetFor(qint64 collectionId)
{
    {
        std::lock_guard lock(mutex);
        const auto it = targets.constFind(collectionId);
        if (it != targets.cend())
            return *it;
    }
    // One Remote per collection and job: workers that start at once wait for the first one to
    // make it (a secret lookup, and per Remote a folder check and the If-None-Match probe)
    // instead of each making their own.
    std::lock_guard making(targetMutex);
    {
        std::lock_guard lock(mutex);
        const auto it = targets.constFind(collectionId);
        if (it != targets.cend())
            return *it;
    }
    Target t;
    const auto c = catalog.collection(collectionId);
    if (!c) {
        t.error = c.error();
    } else if (!*c) {
        t.error = QStringLiteral("the collection no longer exists");
    } else {
        t.collectionName = (*c)->name;
        const QString remoteName = (*c)->remote;
        if (remoteName.isEmpty()) {
            t.error = QStringLiteral("collection \"%1\" has no remote").arg(t.collectionName);
        } else {
            const auto profile = RemoteProfiles(store).find(remoteName);
            if (!profile) {
                t.error = profile.error();
            } else if (!*profile) {
                t.error = QStringLiteral("collection \"%1\" uploads to remote \"%2\", which does not exist "
                                         "(see 'quire remote list')")
                              .arg(t.collectionName, remoteName);
            } else {
                const auto secret = (**profile).needsSecret() ? (secrets ? secrets(**profile) : Credentials::secretFor(**profile))
                                                             : Result<QString>(QString());
                if (!secret) {
                    // No password to be had (no keychain entry, a locked or absent keychain): a
                    // problem of the remote, not of each document.
                    t.error = secret.error();
                    t.remoteName = remoteName;
                } else {
                    auto remote = Remote::create(**profile, *secret, settings.limits);
                    if (remote)
                        t.remote = std::shared_ptr<Remote>(std::move(remote).value());
                    else
                        t.error = remote.error();
                }
            }
        }
    }
    std::lock_guard lock(mutex);
    return *targets.insert(collectionId, t);
}

void UploadJob::Shared::holdRemote(const Document &doc, const QString &name, const RemoteError &err)
{
    qCInfo(lcUpload, "remote %s: %s; its documents wait", qUtf8Printable(name), qUtf8Printable(err.message));
    const QString waiting = QStringLiteral("waiting for remote \"%1\": %2").arg(name, err.message);
    const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Uploading, DocStatus::Hashed}, DocStatus::Hashed, waiting);
    if (!r)
        noteCatalogError(doc, r.error());
    QList<std::shared_ptr<UploadControl>> others;
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(remoteProblems.begin(), remoteProblems.end(),
                               [&](const UploadRemoteProblem &p) { return p.remote == name; });
        if (it == remoteProblems.end()) {
            remoteProblems.append({name, err, {}});
            it = remoteProblems.end() - 1;
        }
        // Every collection of this job that uploads to the same remote waits too.
        for (auto t = targets.cbegin(); t != targets.cend(); ++t) {
            const QString remoteOfTarget = t->remote ? t->remote->profile().name : t->remoteName;
            if (remoteOfTarget == name && !blockedCollections.contains(t.key())) {
                blockedCollections.insert(t.key());
                it->collectionIds.append(t.key());
            }
        }
        if (!blockedCollections.contains(doc.collectionId)) {
            blockedCollections.insert(doc.collectionId);
            it->collectionIds.append(doc.collectionId);
        }
        // Uploads to that remote still in flight would only meet the same problem.
        for (auto a = active.cbegin(); a != active.cend(); ++a) {
            if (a.key() != doc.id && blockedCollections.contains(a->collectionId))
                others.append(controls.value(a.key()));
        }
    }
    for (const auto &c : std::as_const(others)) {
        if (c)
            c->requestStop(UploadControl::Stop::Pause);
    }
    endDocument(doc, DocStatus::Hashed, waiting);
}

void UploadJob::Shared::noteProgress(qint64 id, qint64 done, qint64 total)
{
    std::lock_guard lock(mutex);
    auto it = active.find(id);
    if (it == active.end())
        return;
    bytesSentTotal += std::max<qint64>(0, done - it->done);
    it->done = done;
    if (total > 0)
        it->size = total;
    addEventLocked(activeEventLocked(id));
}

void UploadJob::Shared::noteCatalogError(const Document &doc, const QString &error)
{
    std::lock_guard lock(mutex);
    failures.append({doc.id, targets.value(doc.collectionId).collectionName, doc.fileName, error});
}

UploadDocumentEvent UploadJob::Shared::retireLocked(const Document &doc, DocStatus status, const QString &message,
                                                    const UploadReport *report)
{
    UploadDocumentEvent e = activeEventLocked(doc.id);
    e.id = doc.id;
    e.collectionId = doc.collectionId;
    e.fileName = doc.fileName;
    e.status = status;
    e.message = message;
    e.bytesPerSecond = 0;
    e.bytesTotal = active.value(doc.id).size > 0 ? active.value(doc.id).size : doc.size;
    if (report) {
        e.location = report->location;
        e.alreadyPresent = report->alreadyPresent;
        e.resumedFrom = report->resumedFrom;
    }
    controls.remove(doc.id);
    active.remove(doc.id);
    // Paused or stopped documents go back to the queue; the others are not taken again.
    if (status != DocStatus::Hashed)
        finishedIds.insert(doc.id);
    return e;
}

void UploadJob::Shared::publishEndLocked(UploadDocumentEvent e)
{
    if (e.status == DocStatus::Hashed) {
        // Paused or stopped: not counted as done.
        e.bytesDone = 0;
        addEventLocked(e);
        return;
    }
    ++progress.filesDone;
    bytesFinished += e.bytesTotal;
    switch (e.status) {
    case DocStatus::Uploaded:
        e.bytesDone = e.bytesTotal;
        ++progress.filesUploaded;
        if (e.alreadyPresent)
            ++progress.filesAlreadyPresent;
        if (e.resumedFrom > 0)
            ++progress.filesResumed;
        break;
    case DocStatus::Failed:
        ++progress.filesFailed;
        failures.append({e.id, targets.value(e.collectionId).collectionName, e.fileName, e.message});
        break;
    case DocStatus::Cancelled:
        ++progress.filesCancelled;
        break;
    default:
        break;
    }
    addEventLocked(e);
}

void UploadJob::Shared::endDocument(const Document &doc, DocStatus status, const QString &message,
                                    const UploadReport *report)
{
    std::lock_guard lock(mutex);
    publishEndLocked(retireLocked(doc, status, message, report));
}

void UploadJob::Shared::uploaded(const Document &doc, const UploadReport &report)
{
    bool write = false;
    {
        std::lock_guard lock(mutex);
        Finished f{retireLocked(doc, DocStatus::Uploaded, QString(), &report)};
        resultBytes += f.event.bytesTotal;
        results.push_back(std::move(f));
        progressDirty = true;
        if (results.size() >= size_t(kResultBatch) && !writingResults)
            write = writingResults = true;
    }
    if (write)
        writeResults();
}

void UploadJob::Shared::writeResults()
{
    std::unique_lock lock(mutex);
    for (;;) {
        std::vector<Finished> batch;
        batch.swap(results);
        lock.unlock();
        QList<UploadedDocument> rows;
        rows.reserve(qsizetype(batch.size()));
        for (const Finished &f : batch)
            rows.append({f.event.id, f.event.location});
        const auto missing = catalog.setUploaded(rows);
        lock.lock();
        const QSet<qint64> gone = missing ? QSet<qint64>(missing->cbegin(), missing->cend()) : QSet<qint64>();
        for (Finished &f : batch) {
            const UploadDocumentEvent &e = f.event;
            resultBytes -= e.bytesTotal;
            // Uploaded all the same (the remote has it); the failure says the catalog does not know.
            if (!missing) {
                failures.append({e.id, targets.value(e.collectionId).collectionName, e.fileName, missing.error()});
            } else if (gone.contains(e.id)) {
                failures.append({e.id, targets.value(e.collectionId).collectionName, e.fileName,
                                 QStringLiteral("Could not mark document %1 as uploaded: there is no such document").arg(e.id)});
            }
            publishEndLocked(std::move(f.event));
        }
        if (results.size() < size_t(kResultBatch))
            break;   // the rest goes with the next flush tick or worker
    }
    writingResults = false;
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
    controls.remove(doc.id);
    active.remove(doc.id);
    finishedIds.insert(doc.id);
    progressDirty = true;
    return false;
}

std::optional<Document> UploadJob::Shared::rehash(Document doc, UploadControl &control, bool &stopped)
{
    stopped = false;
    const FileHash h = Hasher::hashFile(doc.sourcePath, control.stopFlag());
    if (control.isStopped()) {
        stopped = true;
        return std::nullopt;
    }
    HashUpdate u;
    u.id = doc.id;
    if (h.ok()) {
        u.sha256 = h.sha256;
        u.size = h.size;
        u.mtimeMs = h.mtimeMs;
    } else {
        u.error = QStringLiteral("could not hash the changed file again: %1").arg(h.error);
    }
    const auto applied = catalog.applyHashes({u});
    if (!applied) {
        noteCatalogError(doc, applied.error());
        endDocument(doc, DocStatus::Failed, applied.error());
        return std::nullopt;
    }
    const HashApplied &a = applied->value(0);
    if (a.status == DocStatus::Hashed) {
        doc.sha256 = h.sha256;
        doc.size = h.size;
        doc.mtimeMs = h.mtimeMs;
        {
            std::lock_guard lock(mutex);
            if (auto it = active.find(doc.id); it != active.end())
                it->size = doc.size;
        }
        return doc;
    }
    if (a.status == DocStatus::Duplicate) {
        endDocument(doc, DocStatus::Duplicate, QStringLiteral("changed since it was added, and now has the "
                                                              "same content as another document"));
    } else {
        endDocument(doc, DocStatus::Failed, u.error.isEmpty() ? QStringLiteral("could not be hashed again") : u.error);
    }
    return std::nullopt;
}

void UploadJob::Shared::handleStop(const Document &doc, const UploadItem &item, Remote *remote,
                                   UploadControl &control)
{
    if (control.stopRequested() == UploadControl::Stop::Cancel) {
        if (remote)
            remote->discardPartial(item, control);
        if (!item.resumeState.isEmpty())
            (void)catalog.setUploadState(doc.id, QByteArray());
        const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Hashed, DocStatus::Uploading},
                                                DocStatus::Cancelled);
        if (!r)
            noteCatalogError(doc, r.error());
        endDocument(doc, DocStatus::Cancelled, QStringLiteral("cancelled"));
        return;
    }
    // Paused, or the job stopped: back in the queue; a partial upload stays for resuming.
    const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Uploading}, DocStatus::Hashed);
    if (!r)
        noteCatalogError(doc, r.error());
    endDocument(doc, DocStatus::Hashed, QStringLiteral("paused"));
}

void UploadJob::Shared::process(Work work)
{
    Document doc = std::move(work.doc);
    UploadControl &control = *work.control;
    control.progress = [this, id = doc.id](qint64 done, qint64 total) { noteProgress(id, done, total); };

    // A claimed document is `uploading` already; the others are still `hashed`.
    const DocStatus mine = work.claimed ? DocStatus::Uploading : DocStatus::Hashed;
    // A row that cannot be trusted (a shared catalog is written by others) is reported by its
    // id and never used: nothing of it reaches the remote.
    if (!isThisMachines(doc)) {
        // Added on another machine: its source path names a file there. It waits for that one.
        if (work.claimed) {
            if (const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Uploading}, DocStatus::Hashed); !r)
                noteCatalogError(doc, r.error());
        }
        endDocument(doc, DocStatus::Hashed, QStringLiteral("added on another machine; it uploads it"));
        return;
    }
    if (const std::optional<QString> badRow = Catalog::documentRowError(doc)) {
        const QString msg = *badRow + QStringLiteral("; not uploaded");
        const auto r = catalog.transitionStatus({doc.id}, {mine}, DocStatus::Failed, msg);
        if (!r)
            noteCatalogError(doc, r.error());
        endDocument(doc, DocStatus::Failed, msg);
        return;
    }
    const Target target = targetFor(doc.collectionId);
    if (!target.remote && !target.remoteName.isEmpty()) {
        RemoteError e = RemoteError::make(RemoteError::Kind::Config, target.error);
        e.problem = RemoteError::Problem::Credentials;
        holdRemote(doc, target.remoteName, e);
        return;
    }
    if (!target.remote) {
        const auto r = catalog.transitionStatus({doc.id}, {mine}, DocStatus::Failed, target.error);
        if (!r)
            noteCatalogError(doc, r.error());
        endDocument(doc, DocStatus::Failed, target.error);
        return;
    }

    bool blocked = false;
    {
        std::lock_guard lock(mutex);
        blocked = blockedCollections.contains(doc.collectionId);
    }
    if (blocked) {
        // Its remote has a problem (found by another upload meanwhile): it waits, unsent.
        if (work.claimed) {
            if (const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Uploading}, DocStatus::Hashed); !r)
                noteCatalogError(doc, r.error());
        }
        endDocument(doc, DocStatus::Hashed, QStringLiteral("waiting for its remote"));
        return;
    }

    UploadItem item;
    auto refreshItem = [&] {
        item.documentId = doc.id;
        item.collection = target.collectionName;
        item.fileName = doc.fileName;
        item.sourcePath = doc.sourcePath;
        item.size = doc.size;
        item.mtimeMs = doc.mtimeMs;
        item.sha256 = doc.sha256;
    };
    refreshItem();
    // The source changed since it was hashed: hash it again (the catalog gets the new hash and
    // item the new values). False when the document is done with here (stopped, or failed).
    auto hashAgain = [&](Remote *remote) {
        bool stopped = false;
        auto updated = rehash(doc, control, stopped);
        if (stopped) {
            handleStop(doc, item, remote, control);
            return false;
        }
        if (!updated)
            return false;
        doc = *updated;
        refreshItem();
        return true;
    };

    int sourceChanges = 0;
    if (!work.claimed) {
        // Not claimed with others (claimNext()): its source cannot be read, or changed since it
        // was hashed. Fail it, or hash it again before anything is sent, and claim it alone.
        const net::SourceState st = net::statSource(doc.sourcePath);
        if (!st.ok()) {
            const QString msg = QStringLiteral("cannot read the source file: %1").arg(st.error);
            const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Hashed}, DocStatus::Failed, msg);
            if (!r)
                noteCatalogError(doc, r.error());
            endDocument(doc, DocStatus::Failed, msg);
            return;
        }
        if (st.size != doc.size || st.mtimeMs != doc.mtimeMs) {
            ++sourceChanges;
            if (!hashAgain(nullptr))
                return;
        }
        if (!claimAlone(doc))
            return;
    }
    {
        std::lock_guard lock(mutex);
        addEventLocked(activeEventLocked(doc.id));
    }

    // Large files: what an interrupted upload left on the remote, and the record of it kept
    // current as the remote reports progress that survives a crash.
    if (doc.size >= std::min(settings.limits.resumeThreshold, settings.limits.chunkThreshold)) {
        if (const auto state = catalog.uploadState(doc.id))
            item.resumeState = *state;
    }
    control.saveResumeState = [this, &item, &doc](const QByteArray &state) {
        if (state == item.resumeState)
            return;
        item.resumeState = state;
        if (const Status s = catalog.setUploadState(doc.id, state); !s)
            noteCatalogError(doc, s.error());
    };

    const RetryPolicy &policy = settings.retry;
    for (int attempt = 1;;) {
        const UploadOutcome out = target.remote->upload(item, control);
        if (out.ok()) {
            if (attempt > 1) {
                std::lock_guard lock(mutex);
                suspectRemotes.remove(target.remote->profile().name);
            }
            // Stored: no record of a partial upload may outlive it (e.g. when the remote found
            // the document already there and never looked at the partial file).
            if (!item.resumeState.isEmpty())
                control.reportResumeState(QByteArray());
            uploaded(doc, out.value);
            return;
        }
        const RemoteError &err = *out.error;
        if (err.kind == RemoteError::Kind::Stopped || control.isStopped()) {
            handleStop(doc, item, target.remote.get(), control);
            return;
        }
        if (err.kind == RemoteError::Kind::SourceChanged && ++sourceChanges <= kMaxSourceChanges) {
            if (!hashAgain(target.remote.get()) || !claimAlone(doc))
                return;
            continue;
        }
        // A problem of the remote itself: every document would meet it. Reported once; this
        // document and the others of the remote's collections wait as pending. An unreachable
        // server is given the benefit of the doubt once (a restart, a blip): the first document
        // to meet it retries, any other that meets it meanwhile holds the remote.
        if (err.problem != RemoteError::Problem::None) {
            bool hold = err.problem != RemoteError::Problem::Unreachable || attempt >= 2;
            if (!hold) {
                std::lock_guard lock(mutex);
                const QString name = target.remote->profile().name;
                hold = suspectRemotes.contains(name);
                suspectRemotes.insert(name);
            }
            if (hold) {
                holdRemote(doc, target.remote->profile().name, err);
                return;
            }
        }
        if (policy.shouldRetry(err, attempt)) {
            const auto delay = policy.delayAfter(attempt, err);
            qCInfo(lcUpload, "document %lld, attempt %d failed, retrying in %lld ms: %s", doc.id, attempt,
                   qlonglong(delay.count()), qUtf8Printable(err.message));
            {
                std::lock_guard lock(mutex);
                if (auto it = active.find(doc.id); it != active.end()) {
                    it->message = QStringLiteral("retrying in %1: %2").arg(secondsText(delay), err.message);
                    it->speed = 0;
                }
                addEventLocked(activeEventLocked(doc.id));
            }
            if (control.waitFor(delay)) {
                handleStop(doc, item, target.remote.get(), control);
                return;
            }
            ++attempt;
            // Counts the attempt and keeps the last error visible while it runs.
            if (const Status s = catalog.setStatus({doc.id}, DocStatus::Uploading,
                                                   QStringLiteral("attempt %1; last error: %2").arg(attempt).arg(err.message));
                !s)
                noteCatalogError(doc, s.error());
            std::lock_guard lock(mutex);
            if (auto it = active.find(doc.id); it != active.end()) {
                it->attempt = attempt;
                it->message.clear();
            }
            continue;
        }
        const QString message = err.kind == RemoteError::Kind::SourceChanged
                                    ? QStringLiteral("the file keeps changing; upload it once it is finished")
                                    : policy.finalMessage(err, attempt);
        qCInfo(lcUpload, "document %lld failed: %s", doc.id, qUtf8Printable(message));
        const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Uploading, DocStatus::Hashed},
                                                DocStatus::Failed, message);
        if (!r)
            noteCatalogError(doc, r.error());
        endDocument(doc, DocStatus::Failed, message);
        return;
    }
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
        m_shared->owner = nullptr;
    }
    doCancel();
}

void UploadJob::setSettings(const UploadSettings &settings)
{
    m_shared->settings = settings;
    m_shared->settingsSet = true;
}

void UploadJob::setSecretProvider(SecretProvider provider)
{
    m_shared->secrets = std::move(provider);
}

void UploadJob::setPauses(std::shared_ptr<UploadPauses> pauses)
{
    m_shared->pauses = std::move(pauses);
}

void UploadJob::setRecoverInterrupted(bool recover)
{
    m_shared->recover = recover;
}

void UploadJob::setRetryFailed(bool retry)
{
    m_shared->retryFailed = retry;
}

const UploadScope &UploadJob::scope() const
{
    return m_shared->scope;
}

void UploadJob::doStart()
{
    Shared &s = *m_shared;
    if (!s.settingsSet)
        s.settings = UploadSettings::fromStore(s.store);
    std::lock_guard lock(s.mutex);
    s.owner = this;
    s.started = true;
    s.spawnWorkersLocked();
}

void UploadJob::doCancel()
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.done)
        return;
    s.cancelled = true;
    for (const auto &c : std::as_const(s.controls))
        c->requestStop(UploadControl::Stop::Pause);
    if (!s.started)
        s.finishLocked();   // never started: nothing will finish it otherwise
    else
        s.maybeFinishLocked();
}

void UploadJob::doSetPaused(bool paused)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.done || s.paused == paused)
        return;
    s.paused = paused;
    s.progressDirty = true;
    if (paused) {
        for (const auto &c : std::as_const(s.controls))
            c->requestStop(UploadControl::Stop::Pause);
    } else {
        s.exhausted = false;
        s.spawnWorkersLocked();
    }
}

bool UploadJob::doIsPaused() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->paused;
}

bool UploadJob::wake()
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (s.done)
        return false;
    s.wakeRequested = true;
    s.exhausted = false;
    s.spawnWorkersLocked();
    return true;
}

void UploadJob::stopDocument(qint64 documentId)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    if (auto c = s.controls.value(documentId))
        c->requestStop(UploadControl::Stop::Pause);
    // Claimed but not started: back to `hashed` now rather than when a worker comes to it.
    s.releaseLaterLocked(s.takeHeldLocked([&](const Document &d) { return d.id == documentId; }));
}

void UploadJob::stopCollection(qint64 collectionId)
{
    Shared &s = *m_shared;
    std::lock_guard lock(s.mutex);
    for (auto it = s.active.cbegin(); it != s.active.cend(); ++it) {
        if (it->collectionId == collectionId) {
            if (auto c = s.controls.value(it.key()))
                c->requestStop(UploadControl::Stop::Pause);
        }
    }
    s.releaseLaterLocked(s.takeHeldLocked([&](const Document &d) { return d.collectionId == collectionId; }));
}

void UploadJob::cancelDocuments(const QList<qint64> &documentIds)
{
    auto shared = m_shared;
    QList<qint64> notInFlight;
    Release claimed;
    {
        std::lock_guard lock(shared->mutex);
        QSet<qint64> waiting;
        for (qint64 id : documentIds) {
            if (auto c = shared->controls.value(id)) {
                c->requestStop(UploadControl::Stop::Cancel);
            } else {
                shared->cancelRequested.insert(id);
                notInFlight.append(id);
                waiting.insert(id);
            }
        }
        // Claimed by this job and not started: cancelled from `uploading` (the others from
        // `hashed` below; one being claimed right now is cancelled by the worker claiming it).
        claimed = shared->takeHeldLocked([&](const Document &d) { return waiting.contains(d.id); });
        if (notInFlight.isEmpty())
            return;
        ++shared->tasks;
    }
    // The catalog is only touched on worker threads.
    shared->pools.start(shared->pools.io(), [shared, notInFlight, claimed] {
        shared->releaseHeld(claimed);
        const auto changed = shared->catalog.transitionStatus(notInFlight, {DocStatus::Hashed}, DocStatus::Cancelled);
        std::lock_guard lock(shared->mutex);
        if (!changed) {
            shared->failures.append({0, QString(), QString(), changed.error()});
        } else {
            for (qint64 id : *changed) {
                UploadDocumentEvent e;
                e.id = id;
                e.status = DocStatus::Cancelled;
                e.message = QStringLiteral("cancelled");
                shared->addEventLocked(e);
                ++shared->progress.filesCancelled;
                shared->pendingInCatalog = std::max<qint64>(0, shared->pendingInCatalog - 1);
            }
        }
        --shared->tasks;
        shared->maybeFinishLocked();
    });
}

void UploadJob::cancelCollection(qint64 collectionId)
{
    auto shared = m_shared;
    Release claimed;
    {
        std::lock_guard lock(shared->mutex);
        if (collectionId == 0)
            shared->cancelledPending = true;
        for (auto it = shared->active.cbegin(); it != shared->active.cend(); ++it) {
            if (collectionId == 0 || it->collectionId == collectionId) {
                if (auto c = shared->controls.value(it.key()))
                    c->requestStop(UploadControl::Stop::Cancel);
            }
        }
        for (const Document &d : shared->pending) {
            if (collectionId == 0 || d.collectionId == collectionId)
                shared->cancelRequested.insert(d.id);
        }
        for (auto it = shared->held.cbegin(); it != shared->held.cend(); ++it) {
            if (collectionId == 0 || it.value() == collectionId)
                shared->cancelRequested.insert(it.key());
        }
        // Claimed by this job and not started: cancelled from `uploading` (the others from
        // `hashed` below; ones being claimed right now are cancelled by the worker claiming them).
        claimed = shared->takeHeldLocked([&](const Document &d) { return collectionId == 0 || d.collectionId == collectionId; });
        ++shared->tasks;
    }
    shared->pools.start(shared->pools.io(), [shared, collectionId, claimed] {
        // Runs the finish check however it ends.
        struct Done
        {
            std::shared_ptr<Shared> s;
            ~Done()
            {
                std::lock_guard lock(s->mutex);
                --s->tasks;
                s->maybeFinishLocked();
            }
        } done{shared};
        shared->releaseHeld(claimed);
        QList<qint64> collections;
        if (collectionId > 0) {
            collections.append(collectionId);
        } else if (shared->scope.collectionId > 0) {
            collections.append(shared->scope.collectionId);
        } else if (const auto all = shared->catalog.collections()) {
            for (const Collection &c : *all) {
                if (!c.remote.isEmpty())
                    collections.append(c.id);
            }
        }
        for (qint64 cid : collections) {
            DocumentQuery q;
            q.collectionId = cid;
            q.statuses = {DocStatus::Hashed};
            const auto docs = shared->catalog.documents(q);
            if (!docs)
                continue;
            QList<qint64> ids;
            for (const Document &d : *docs) {
                if (shared->scope.documentIds.isEmpty() || shared->scope.documentIds.contains(d.id))
                    ids.append(d.id);
            }
            const auto changed = shared->catalog.transitionStatus(ids, {DocStatus::Hashed}, DocStatus::Cancelled);
            std::lock_guard lock(shared->mutex);
            if (!changed) {
                shared->failures.append({0, QString(), QString(), changed.error()});
                continue;
            }
            for (qint64 id : *changed) {
                shared->cancelRequested.insert(id);
                UploadDocumentEvent e;
                e.id = id;
                e.collectionId = cid;
                e.status = DocStatus::Cancelled;
                e.message = QStringLiteral("cancelled");
                shared->addEventLocked(e);
                ++shared->progress.filesCancelled;
                shared->pendingInCatalog = std::max<qint64>(0, shared->pendingInCatalog - 1);
            }
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
        const qint64 now = s.clock.elapsed();
        // Speeds: overall and per document, as moving averages of ~0.5 s samples.
        if (now - s.speedSampleMs >= 500) {
            const double sample = double(s.bytesSentTotal - s.speedSampleBytes) * 1000.0 / double(now - s.speedSampleMs);
            s.speed = s.speedSampleMs == 0 ? sample : kSpeedSmoothing * sample + (1 - kSpeedSmoothing) * s.speed;
            s.speedSampleBytes = s.bytesSentTotal;
            s.speedSampleMs = now;
            if (s.active.isEmpty())
                s.speed = 0;
            s.progressDirty = true;
            for (auto it = s.active.begin(); it != s.active.end(); ++it) {
                if (now - it->sampleMs < 500)
                    continue;
                const double docSample = double(it->done - it->sampleBytes) * 1000.0 / double(now - it->sampleMs);
                it->speed = it->sampleBytes == 0 ? docSample : kSpeedSmoothing * docSample + (1 - kSpeedSmoothing) * it->speed;
                it->sampleBytes = it->done;
                it->sampleMs = now;
            }
        }
        events.reserve(s.eventOrder.size());
        for (qint64 id : std::as_const(s.eventOrder)) {
            UploadDocumentEvent e = s.events.value(id);
            if (e.status == DocStatus::Uploading && s.active.contains(id))
                e.bytesPerSecond = s.active.value(id).speed;
            events.append(e);
        }
        s.events.clear();
        s.eventOrder.clear();
        if (s.progressDirty) {
            progress = s.progressLocked();
            emitProgress = true;
            s.progressDirty = false;
        }
        if (s.done) {
            emitFinished = true;
            result = s.finalResult;
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
