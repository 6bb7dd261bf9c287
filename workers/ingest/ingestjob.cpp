#include "ingest/ingestjob.h"

#include "catalog/catalog.h"
#include "ingest/filewalker.h"
#include "hashing/hasher.h"
#include "platform/nativefs.h"
#include "jobs/pools.h"
#include "jobs/pooltask.h"

#include <QPromise>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace quire {

namespace {

// Small files are hashed in chunks so that 10,000 files are ~150 pool tasks, not 10,000;
// a chunk closes at whichever limit comes first.
constexpr int kChunkFiles = 64;
constexpr qint64 kChunkBytes = 32 << 20;
// Files at least this large report per-document hashing progress, and so are cataloged as
// queued before they are hashed; smaller new files are cataloged once hashed.
constexpr qint64 kProgressReportBytes = 8 << 20;
// The walker catalogs files in batches of this many (one transaction each).
constexpr int kWalkBatch = 1024;
// The writer commits once this many results wait, when no hashing is in flight, or when the
// oldest result has waited kWriteLatency: every commit rewrites the index pages it touched, so
// a few large transactions cost far less than many small ones.
constexpr qsizetype kWriteBatch = 2048;
constexpr auto kWriteLatency = std::chrono::milliseconds(150);

// What is not a document (FIFOs, sockets, devices, dangling links, loops, a folder listed twice)
// is reported but does not make the job fail; unreadable or vanished files do.
bool isSkipNotFailure(const QString &reason)
{
    return reason == FileWalker::fifoReason() || reason == FileWalker::socketReason()
        || reason == FileWalker::deviceReason() || reason == FileWalker::loopReason()
        || reason == FileWalker::brokenLinkReason() || reason == FileWalker::alreadyListedReason();
}

struct HashItem
{
    qint64 id = 0;         // 0: a file new to the collection, cataloged once hashed (`doc`)
    QByteArray path;
    qint64 size = 0;
    NewDocument doc;       // when id == 0
};

struct HashDone
{
    HashUpdate update;
    QByteArray path;
};

} // namespace

struct IngestJob::Shared
{
    Shared(Catalog &c, Pools &p, qint64 collection, QList<QByteArray> roots)
        : catalog(c), pools(p), collectionId(collection), paths(std::move(roots))
    {
    }

    Catalog &catalog;
    Pools &pools;
    const qint64 collectionId;
    const QList<QByteArray> paths;

    std::atomic_bool cancelled{false};
    std::atomic_bool paused{false};
    std::mutex pauseMutex;
    std::condition_variable pauseChanged;

    mutable std::mutex mutex;            // guards everything below
    IngestProgress progress;
    QHash<qint64, DocumentEvent> pendingEvents;   // coalesced by document id
    QList<qint64> pendingOrder;
    QList<IngestIssue> issues;
    qsizetype issuesEmitted = 0;
    QList<HashDone> pendingUpdates;
    QList<HashedDocument> pendingNew;    // hashed before being cataloged (HashItem::id == 0)
    QList<qint64> pendingCancelled;
    bool writerRunning = false;
    int hashChunksInFlight = 0;
    int largeHashesPending = 0;          // files >= kProgressReportBytes submitted, not hashed yet
    std::condition_variable resultsArrived;   // with `mutex`: for the writer's batching
    int outstanding = 0;                 // scheduled work items that have not ended
    QString fatalError;
    bool done = false;                   // every work item ended; result is set
    IngestResult result;

    QPromise<IngestResult> promise;

    // --- called with `mutex` held ---
    void eventLocked(const DocumentEvent &e)
    {
        auto it = pendingEvents.find(e.id);
        if (it == pendingEvents.end()) {
            pendingEvents.insert(e.id, e);
            pendingOrder.append(e.id);
        } else {
            *it = e;
        }
    }

    void issueLocked(IngestIssue issue)
    {
        (issue.skipped ? progress.filesSkipped : progress.filesFailed) += 1;
        issues.append(std::move(issue));
    }

    // --- work items ---
    void fail(const QString &error)
    {
        {
            std::lock_guard lock(mutex);
            if (fatalError.isEmpty())
                fatalError = error;
        }
        cancel();
    }

    void cancel()
    {
        cancelled = true;
        std::lock_guard lock(pauseMutex);
        pauseChanged.notify_all();
    }

    void waitWhilePaused()
    {
        std::unique_lock lock(pauseMutex);
        pauseChanged.wait(lock, [this] { return !paused.load() || cancelled.load(); });
    }

    // Every work item is counted in `outstanding` before it is scheduled and uncounted when it
    // ends; the item that brings the count to zero after the walk completes the job.
    void schedule(QThreadPool *pool, std::function<void()> work, const std::shared_ptr<Shared> &self)
    {
        {
            std::lock_guard lock(mutex);
            ++outstanding;
        }
        pools.start(pool, [self, work = std::move(work)] {
            work();
            self->workEnded();
        });
    }

    void workEnded()
    {
        std::lock_guard lock(mutex);
        if (--outstanding > 0 || done)
            return;
        done = true;
        progress.walking = false;
        result.totals = progress;
        result.issues = issues;
        if (!fatalError.isEmpty()) {
            result.outcome = IngestResult::Outcome::Error;
            result.error = fatalError;
        } else if (cancelled) {
            result.outcome = IngestResult::Outcome::Cancelled;
        } else if (progress.filesFailed > 0) {
            result.outcome = IngestResult::Outcome::SomeFailed;
        } else {
            result.outcome = IngestResult::Outcome::Succeeded;
        }
        promise.addResult(result);
        promise.finish();
    }

    void walk(const std::shared_ptr<Shared> &self);
    void onFilesFound(const QList<WalkEntry> &entries, const std::shared_ptr<Shared> &self);
    void hashChunk(const QList<HashItem> &chunk, const std::shared_ptr<Shared> &self);
    void ensureWriter(const std::shared_ptr<Shared> &self);   // mutex held
    void writeResults();
    void writeNew(const QList<HashedDocument> &fresh, QList<HashDone> *updates, QList<qint64> *cancelledIds);
    void appliedLocked(qint64 id, DocStatus status, qint64 duplicateOf, const QByteArray &path,
                       const QByteArray &sha256, qint64 size, const QString &error);
};

void IngestJob::Shared::walk(const std::shared_ptr<Shared> &self)
{
    if (auto opened = catalog.open(); !opened) {
        fail(opened.error());
        return;
    }
    FileWalker::walk(
        paths,
        [&](QList<WalkEntry> entries) {
            if (!cancelled)
                onFilesFound(entries, self);
        },
        [&](const WalkSkip &skip) {
            std::lock_guard lock(mutex);
            issueLocked({skip.path, skip.reason, isSkipNotFailure(skip.reason)});
        },
        &cancelled, kWalkBatch);
    std::lock_guard lock(mutex);
    progress.walking = false;
}

void IngestJob::Shared::onFilesFound(const QList<WalkEntry> &entries,
                                      const std::shared_ptr<Shared> &self)
{
    QList<NewDocument> docs;
    docs.reserve(entries.size());
    for (const WalkEntry &e : entries)
        docs.append({e.path, displayName(e.path), e.size, e.mtimeMs});

    // Small files the collection does not have yet are hashed first and cataloged once (see the
    // class comment). Not while paused, and not while a large file waits to be hashed or is
    // being hashed (in this batch or an earlier one): the small ones could wait behind it for
    // a long time, unlisted. Then everything is listed as queued at once.
    bool largeAhead = std::any_of(entries.cbegin(), entries.cend(),
                                  [](const WalkEntry &e) { return e.size >= kProgressReportBytes; });
    {
        std::lock_guard lock(mutex);
        largeAhead = largeAhead || largeHashesPending > 0;
    }
    QList<bool> fresh(entries.size(), false);
    if (!paused && !largeAhead) {
        QList<QByteArray> paths;
        paths.reserve(entries.size());
        QHash<QByteArray, int> occurrences;
        for (const WalkEntry &e : entries) {
            paths.append(e.path);
            occurrences[e.path] += 1;
        }
        auto states = catalog.pathStates(collectionId, paths);
        if (!states) {
            fail(states.error());
            return;
        }
        for (qsizetype i = 0; i < entries.size(); ++i) {
            const WalkEntry &e = entries.at(i);
            fresh[i] = e.size < kProgressReportBytes && occurrences.value(e.path) == 1 && !states->contains(e.path);
        }
    }

    QList<NewDocument> known;
    QList<qsizetype> knownIndex;   // known[k] is entries[knownIndex[k]]
    for (qsizetype i = 0; i < entries.size(); ++i) {
        if (!fresh[i]) {
            known.append(docs.at(i));
            knownIndex.append(i);
        }
    }
    QList<QueuedDocument> queued(entries.size());
    if (!known.isEmpty()) {
        auto added = catalog.addQueued(collectionId, known);
        if (!added) {
            fail(added.error());
            return;
        }
        for (qsizetype k = 0; k < knownIndex.size(); ++k)
            queued[knownIndex[k]] = added->at(k);
    }

    QList<HashItem> chunk;
    qint64 chunkBytes = 0;
    auto submit = [&] {
        if (chunk.isEmpty())
            return;
        {
            std::lock_guard lock(mutex);
            ++hashChunksInFlight;
        }
        schedule(pools.cpu(), [self, c = std::move(chunk)] { self->hashChunk(c, self); }, self);
        chunk = {};
        chunkBytes = 0;
    };

    {
        std::lock_guard lock(mutex);
        for (qsizetype i = 0; i < entries.size(); ++i) {
            const WalkEntry &e = entries.at(i);
            progress.filesFound += 1;
            progress.bytesFound += e.size;
            if (fresh[i])
                continue;
            const QueuedDocument &q = queued.at(i);
            if (q.unchanged) {
                progress.filesUnchanged += 1;
                progress.filesDone += 1;
                progress.bytesDone += e.size;
                continue;
            }
            if (e.size >= kProgressReportBytes)
                ++largeHashesPending;   // until hashChunk() is done with it
            DocumentEvent ev;
            ev.id = q.id;
            ev.collectionId = collectionId;
            ev.status = DocStatus::Queued;
            ev.fileName = docs.at(i).fileName;
            ev.sourcePath = e.path;
            ev.size = e.size;
            eventLocked(ev);
        }
    }

    for (qsizetype i = 0; i < entries.size(); ++i) {
        if (!fresh[i] && queued.at(i).unchanged)
            continue;
        const WalkEntry &e = entries.at(i);
        // A large file gets a chunk of its own, so the small files listed before it are not
        // held back (still "queued") until it has been read.
        if (e.size >= kChunkBytes)
            submit();
        HashItem item{queued.at(i).id, e.path, e.size, {}};
        if (fresh[i])
            item.doc = docs.at(i);
        chunk.append(std::move(item));
        chunkBytes += e.size;
        if (chunk.size() >= kChunkFiles || chunkBytes >= kChunkBytes)
            submit();
    }
    submit();
}

void IngestJob::Shared::hashChunk(const QList<HashItem> &chunk, const std::shared_ptr<Shared> &self)
{
    QList<HashDone> updates;
    QList<HashedDocument> fresh;
    QList<qint64> cancelledIds;
    updates.reserve(chunk.size());

    for (const HashItem &item : chunk) {
        // However this item ends, a large one no longer holds small files back afterwards.
        struct LargeDone
        {
            Shared *shared;
            bool large;
            ~LargeDone()
            {
                if (large) {
                    std::lock_guard lock(shared->mutex);
                    --shared->largeHashesPending;
                }
            }
        } largeDone{this, item.size >= kProgressReportBytes};
        if (!cancelled)
            waitWhilePaused();
        if (cancelled) {
            if (item.id == 0)
                fresh.append({item.doc, {}, {}, true});
            else
                cancelledIds.append(item.id);
            continue;
        }
        const bool reportProgress = item.size >= kProgressReportBytes;
        DocumentEvent ev;
        if (reportProgress) {
            ev.id = item.id;
            ev.collectionId = collectionId;
            ev.status = DocStatus::Hashing;
            ev.fileName = displayName(item.path);
            ev.sourcePath = item.path;
            ev.size = item.size;
            std::lock_guard lock(mutex);
            eventLocked(ev);
        }
        qint64 reported = 0;
        const FileHash h = Hasher::hashFile(
            item.path, &cancelled, [&](qint64 done, qint64 total) {
                std::lock_guard lock(mutex);
                progress.bytesDone += done - reported;
                reported = done;
                if (reportProgress) {
                    ev.bytesDone = done;
                    ev.size = total;
                    eventLocked(ev);
                }
            });
        if (!h.ok() && cancelled) {
            std::lock_guard lock(mutex);
            progress.bytesDone -= reported;   // it will be counted as cancelled, not done
            if (item.id == 0)
                fresh.append({item.doc, {}, {}, true});
            else
                cancelledIds.append(item.id);
            continue;
        }
        {
            std::lock_guard lock(mutex);
            // The size may differ from what the walk saw (the file changed in between).
            progress.bytesDone += (h.ok() ? h.size : item.size) - reported;
        }
        if (item.id == 0) {
            NewDocument doc = item.doc;
            if (h.ok()) {
                // What was hashed, should the file have changed since it was listed.
                doc.size = h.size;
                doc.mtimeMs = h.mtimeMs;
            }
            fresh.append({doc, h.sha256, h.error, false});
        } else {
            updates.append({{item.id, h.sha256, h.ok() ? h.size : item.size, h.mtimeMs, h.error}, item.path});
        }
    }

    std::lock_guard lock(mutex);
    pendingUpdates.append(updates);
    pendingNew.append(fresh);
    pendingCancelled.append(cancelledIds);
    --hashChunksInFlight;
    ensureWriter(self);
    resultsArrived.notify_one();
}

void IngestJob::Shared::ensureWriter(const std::shared_ptr<Shared> &self)
{
    if (writerRunning || (pendingUpdates.isEmpty() && pendingNew.isEmpty() && pendingCancelled.isEmpty()))
        return;
    writerRunning = true;
    ++outstanding;
    pools.start(pools.io(), [self] {
        self->writeResults();
        self->workEnded();
    });
}

// One writer at a time drains everything the hashers produced: while it commits one batch the
// next accumulates, so the batches grow as the load grows and the catalog sees few transactions.
void IngestJob::Shared::writeResults()
{
    for (;;) {
        QList<HashDone> done;
        QList<HashedDocument> fresh;
        QList<qint64> cancelledIds;
        {
            std::unique_lock lock(mutex);
            resultsArrived.wait_for(lock, kWriteLatency, [this] {
                return pendingUpdates.size() + pendingNew.size() >= kWriteBatch || hashChunksInFlight == 0
                    || cancelled;
            });
            done.swap(pendingUpdates);
            fresh.swap(pendingNew);
            cancelledIds.swap(pendingCancelled);
            if (done.isEmpty() && fresh.isEmpty() && cancelledIds.isEmpty()) {
                writerRunning = false;
                return;
            }
        }

        if (!fresh.isEmpty())
            writeNew(fresh, &done, &cancelledIds);

        if (!done.isEmpty()) {
            QList<HashUpdate> updates;
            updates.reserve(done.size());
            for (const HashDone &d : std::as_const(done))
                updates.append(d.update);
            auto applied = catalog.applyHashes(updates);
            if (!applied) {
                fail(applied.error());
                // Nothing of this batch was written: the documents stay queued in the catalog.
                for (const HashUpdate &u : std::as_const(updates))
                    cancelledIds.append(u.id);
            } else {
                std::lock_guard lock(mutex);
                for (qsizetype i = 0; i < applied->size(); ++i) {
                    const HashApplied &a = applied->at(i);
                    const HashUpdate &u = updates.at(i);
                    appliedLocked(a.id, a.status, a.duplicateOf, done.at(i).path, u.sha256, u.size, u.error);
                }
            }
        }

        if (!cancelledIds.isEmpty()) {
            // Best effort: if the catalog is gone these rows simply stay queued, which the next
            // run picks up again; either way nothing is half-written.
            (void)catalog.setStatus(cancelledIds, DocStatus::Cancelled);
            std::lock_guard lock(mutex);
            for (qint64 id : std::as_const(cancelledIds)) {
                progress.filesDone += 1;
                auto it = pendingEvents.find(id);
                DocumentEvent ev = it != pendingEvents.end() ? *it : DocumentEvent{};
                ev.id = id;
                ev.collectionId = collectionId;
                ev.status = DocStatus::Cancelled;
                eventLocked(ev);
            }
        }
    }
}

// One document's hash result is in the catalog: its event and the counts.
void IngestJob::Shared::appliedLocked(qint64 id, DocStatus status, qint64 duplicateOf, const QByteArray &path,
                                      const QByteArray &sha256, qint64 size, const QString &error)
{
    auto it = pendingEvents.find(id);
    DocumentEvent ev = it != pendingEvents.end() ? *it : DocumentEvent{};
    ev.id = id;
    ev.collectionId = collectionId;
    ev.sourcePath = path;
    ev.fileName = displayName(path);
    ev.status = status;
    ev.sha256 = status == DocStatus::Failed ? QByteArray() : sha256;
    ev.size = size;
    ev.bytesDone = size;
    ev.error = error;
    ev.duplicateOf = duplicateOf;
    eventLocked(ev);
    progress.filesDone += 1;
    switch (status) {
    case DocStatus::Hashed: progress.filesHashed += 1; break;
    case DocStatus::Duplicate: progress.filesDuplicate += 1; break;
    default: break;
    }
    if (status == DocStatus::Failed) {
        progress.filesFailed += 1;
        issues.append({path, error, false});
    }
}

// Catalogs files that were hashed before they were cataloged. Those the collection got in the
// meantime (another ingest of the same paths) go the usual way: queued, then their results are
// applied with the rest of `updates` (or they join `cancelledIds`).
void IngestJob::Shared::writeNew(const QList<HashedDocument> &fresh, QList<HashDone> *updates,
                                 QList<qint64> *cancelledIds)
{
    auto added = catalog.addHashed(collectionId, fresh);
    if (!added) {
        // Nothing of this batch was written: these files are simply not in the catalog.
        fail(added.error());
        std::lock_guard lock(mutex);
        progress.filesDone += fresh.size();
        return;
    }
    QList<HashedDocument> conflicts;
    {
        std::lock_guard lock(mutex);
        for (qsizetype i = 0; i < fresh.size(); ++i) {
            const HashedDocument &d = fresh.at(i);
            const AddedDocument &a = added->at(i);
            if (a.conflict) {
                conflicts.append(d);
            } else if (a.unchanged) {
                progress.filesUnchanged += 1;
                progress.filesDone += 1;
            } else if (a.status == DocStatus::Cancelled) {
                progress.filesDone += 1;
                DocumentEvent ev;
                ev.id = a.id;
                ev.collectionId = collectionId;
                ev.status = DocStatus::Cancelled;
                ev.sourcePath = d.doc.sourcePath;
                ev.fileName = d.doc.fileName;
                ev.size = d.doc.size;
                eventLocked(ev);
            } else {
                appliedLocked(a.id, a.status, a.duplicateOf, d.doc.sourcePath, d.sha256, d.doc.size, d.error);
            }
        }
    }
    if (conflicts.isEmpty())
        return;
    QList<NewDocument> docs;
    for (const HashedDocument &d : std::as_const(conflicts))
        docs.append(d.doc);
    auto queued = catalog.addQueued(collectionId, docs);
    if (!queued) {
        fail(queued.error());
        std::lock_guard lock(mutex);
        progress.filesDone += conflicts.size();
        return;
    }
    std::lock_guard lock(mutex);
    for (qsizetype i = 0; i < conflicts.size(); ++i) {
        const HashedDocument &d = conflicts.at(i);
        const QueuedDocument &q = queued->at(i);
        if (q.unchanged) {
            progress.filesUnchanged += 1;
            progress.filesDone += 1;
        } else if (d.cancelled) {
            cancelledIds->append(q.id);
        } else {
            updates->append({{q.id, d.sha256, d.doc.size, d.doc.mtimeMs, d.error}, d.doc.sourcePath});
        }
    }
}

IngestJob::IngestJob(Catalog &catalog, Pools &pools, qint64 collectionId, QList<QByteArray> paths,
                     QObject *parent)
    : Job(parent)
{
    // The catalog records where each file is, for uploads and "Show in Folder" from any
    // folder later: relative paths are resolved now, against this process's current folder.
    for (QByteArray &path : paths)
        path = absolutePath(path);
    m_shared = std::make_shared<Shared>(catalog, pools, collectionId, std::move(paths));
    m_shared->promise.start();
}

IngestJob::~IngestJob()
{
    m_shared->cancel();
}

qint64 IngestJob::collectionId() const
{
    return m_shared->collectionId;
}

void IngestJob::doStart()
{
    auto self = m_shared;
    self->schedule(self->pools.io(), [self] { self->walk(self); }, self);
}

void IngestJob::doCancel()
{
    m_shared->cancel();
}

void IngestJob::doSetPaused(bool paused)
{
    std::lock_guard lock(m_shared->pauseMutex);
    m_shared->paused = paused;
    m_shared->pauseChanged.notify_all();
}

bool IngestJob::doIsPaused() const
{
    return m_shared->paused;
}

JobAmounts IngestJob::doAmounts() const
{
    const IngestProgress p = progress();
    return JobAmounts{p.filesDone, p.filesFound, p.bytesDone, p.bytesFound, 0, !p.walking, doIsPaused()};
}

IngestProgress IngestJob::progress() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->progress;
}

QFuture<IngestResult> IngestJob::result() const
{
    return m_shared->promise.future();
}

void IngestJob::doReport()
{
    QList<DocumentEvent> events;
    QList<IngestIssue> newIssues;
    IngestProgress progress;
    bool finishNow = false;
    IngestResult result;
    {
        std::lock_guard lock(m_shared->mutex);
        Shared &s = *m_shared;
        events.reserve(s.pendingOrder.size());
        for (qint64 id : std::as_const(s.pendingOrder))
            events.append(s.pendingEvents.value(id));
        s.pendingOrder.clear();
        s.pendingEvents.clear();
        newIssues = s.issues.mid(s.issuesEmitted);
        s.issuesEmitted = s.issues.size();
        progress = s.progress;
        if (s.done) {
            finishNow = true;
            result = s.result;
        }
    }
    // Emitted with no lock held: receivers may call back into the job.
    if (!events.isEmpty())
        Q_EMIT documentsChanged(events);
    for (const IngestIssue &issue : std::as_const(newIssues))
        Q_EMIT issueFound(issue);
    Q_EMIT progressChanged(progress);
    if (finishNow) {
        finishing({result.outcome, result.error});
        Q_EMIT finished(result);
    }
}

} // namespace quire
