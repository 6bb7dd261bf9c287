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
#include <utility>

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

// The parts of the state an IngestJob shares with its work items.
//
// Threads: the job's thread (start, pause, cancel, the report tick); the walker on
// Pools::io(); the hashing chunks on Pools::cpu(); one result writer at a time on Pools::io().
// One mutex (Shared::mutex) guards the report, the write queue and the run state; Control has
// its own. The catalog is only called, and files are only read, with Shared::mutex released.
namespace ingestjob {

// Whether the work goes on: cancelled (by the user, when the job is deleted, or when the catalog
// fails) and paused. Atomics that every work item polls without a lock; `mutex` only pairs with
// `changed`, for hashing that waits while paused. The job's thread pauses and cancels, any work
// item may cancel (Shared::fail()); the walker, the hashing chunks and the writer read them.
struct Control
{
    std::atomic_bool cancelled{false};
    std::atomic_bool paused{false};

    void cancel()
    {
        cancelled = true;
        std::lock_guard lock(mutex);
        changed.notify_all();
    }

    void setPaused(bool value)
    {
        std::lock_guard lock(mutex);
        paused = value;
        changed.notify_all();
    }

    // Returns once the job is not paused, or is cancelled.
    void waitWhilePaused()
    {
        std::unique_lock lock(mutex);
        changed.wait(lock, [this] { return !paused.load() || cancelled.load(); });
    }

private:
    std::mutex mutex;
    std::condition_variable changed;
};

// What the job reports: the counts, the document events gathered for the next report and every
// issue found. Guarded by Shared::mutex: the walker, the hashing chunks and the writer count and
// add; the job's thread takes what gathered on the report tick (doReport()); any thread may read
// the counts (IngestJob::progress()).
struct Reporting
{
    IngestProgress progress;
    QHash<qint64, DocumentEvent> events;   // coalesced by document id
    QList<qint64> eventOrder;              // the ids in `events`, first seen first
    QList<IngestIssue> issues;             // every one, in the order found (for the result)
    qsizetype issuesEmitted = 0;           // the first this many were reported

    // What one report emits.
    struct Batch
    {
        QList<DocumentEvent> events;
        QList<IngestIssue> issues;
        IngestProgress progress;
    };

    // --- called with Shared::mutex held ---
    void eventLocked(const DocumentEvent &e)
    {
        auto it = events.find(e.id);
        if (it == events.end()) {
            events.insert(e.id, e);
            eventOrder.append(e.id);
        } else {
            *it = e;
        }
    }

    void issueLocked(IngestIssue issue)
    {
        (issue.skipped ? progress.filesSkipped : progress.filesFailed) += 1;
        issues.append(std::move(issue));
    }

    // The events and issues gathered since the last call, and the counts now.
    Batch takeLocked()
    {
        Batch batch;
        batch.events.reserve(eventOrder.size());
        for (qint64 id : std::as_const(eventOrder))
            batch.events.append(events.value(id));
        eventOrder.clear();
        events.clear();
        batch.issues = issues.mid(issuesEmitted);
        issuesEmitted = issues.size();
        batch.progress = progress;
        return batch;
    }
};

// Hash results for the catalog.
struct Results
{
    QList<HashDone> updates;          // documents cataloged as queued, now hashed
    QList<HashedDocument> fresh;      // hashed before being cataloged (HashItem::id == 0)
    QList<qint64> cancelled;          // cataloged as queued and not hashed: to become `cancelled`

    bool isEmpty() const { return updates.isEmpty() && fresh.isEmpty() && cancelled.isEmpty(); }
};

// The hash results on their way to the catalog. Guarded by Shared::mutex: the hashing chunks add
// theirs and start a writer unless one runs (`writerRunning`); that writer (Pools::io()) takes
// everything waiting, waiting on `arrived` (with Shared::mutex) for a fuller batch, records it,
// and ends when nothing is left.
struct WriteQueue
{
    Results waiting;
    bool writerRunning = false;
    std::condition_variable arrived;

    void add(Results &&results)
    {
        waiting.updates.append(std::move(results.updates));
        waiting.fresh.append(std::move(results.fresh));
        waiting.cancelled.append(std::move(results.cancelled));
    }
};

// The work items in flight and how the job ended. Guarded by Shared::mutex: every work item is
// counted in `outstanding` before it is scheduled and uncounted when it ends (on its pool
// thread); the one that brings the count to zero sets `result` (Shared::workEnded()), which the
// job's thread reports on its next tick.
struct RunState
{
    int outstanding = 0;                 // scheduled work items that have not ended
    int hashChunksInFlight = 0;          // while some run, the writer waits for a fuller batch
    int largeHashesPending = 0;          // files >= kProgressReportBytes submitted, not hashed yet
    QString fatalError;                  // what stopped the whole job (the catalog)
    bool done = false;                   // every work item ended; result is set
    IngestResult result;
};

} // namespace ingestjob

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
    ingestjob::Control control;
    // Started with the job; resolved once, by workEnded() (mutex held); its future is read from
    // any thread.
    QPromise<IngestResult> promise;

    mutable std::mutex mutex;            // guards the parts below
    ingestjob::Reporting report;
    ingestjob::WriteQueue writes;
    ingestjob::RunState run;

    // --- work items ---
    // The catalog failed: the job ends with `error` (the first one), and the rest is cancelled.
    void fail(const QString &error)
    {
        {
            std::lock_guard lock(mutex);
            if (run.fatalError.isEmpty())
                run.fatalError = error;
        }
        control.cancel();
    }

    // Files hashed before being cataloged could not be recorded (`error`): they count as done,
    // with nothing of them written by this job.
    void notCataloged(const QString &error, qsizetype files)
    {
        fail(error);
        std::lock_guard lock(mutex);
        report.progress.filesDone += files;
    }

    // Every work item is counted in `run.outstanding` before it is scheduled and uncounted when
    // it ends; the item that brings the count to zero after the walk completes the job.
    void schedule(QThreadPool *pool, std::function<void()> work, const std::shared_ptr<Shared> &self)
    {
        {
            std::lock_guard lock(mutex);
            ++run.outstanding;
        }
        pools.start(pool, [self, work = std::move(work)] {
            work();
            self->workEnded();
        });
    }

    void workEnded()
    {
        std::lock_guard lock(mutex);
        if (--run.outstanding > 0 || run.done)
            return;
        run.done = true;
        report.progress.walking = false;
        IngestResult &result = run.result;
        result.totals = report.progress;
        result.issues = report.issues;
        if (!run.fatalError.isEmpty()) {
            result.outcome = IngestResult::Outcome::Error;
            result.error = run.fatalError;
        } else if (control.cancelled) {
            result.outcome = IngestResult::Outcome::Cancelled;
        } else if (report.progress.filesFailed > 0) {
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
    // Starts the writer unless one runs or nothing waits (mutex held).
    void ensureWriterLocked(const std::shared_ptr<Shared> &self);
    void writeResults();
    void writeNew(ingestjob::Results &batch);
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
            if (!control.cancelled)
                onFilesFound(entries, self);
        },
        [&](const WalkSkip &skip) {
            std::lock_guard lock(mutex);
            report.issueLocked({skip.path, skip.reason, isSkipNotFailure(skip.reason)});
        },
        &control.cancelled, kWalkBatch);
    std::lock_guard lock(mutex);
    report.progress.walking = false;
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
        largeAhead = largeAhead || run.largeHashesPending > 0;
    }
    QList<bool> fresh(entries.size(), false);
    if (!control.paused && !largeAhead) {
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
            ++run.hashChunksInFlight;
        }
        schedule(pools.cpu(), [self, c = std::move(chunk)] { self->hashChunk(c, self); }, self);
        chunk = {};
        chunkBytes = 0;
    };

    {
        std::lock_guard lock(mutex);
        for (qsizetype i = 0; i < entries.size(); ++i) {
            const WalkEntry &e = entries.at(i);
            report.progress.filesFound += 1;
            report.progress.bytesFound += e.size;
            if (fresh[i])
                continue;
            const QueuedDocument &q = queued.at(i);
            if (q.unchanged) {
                report.progress.filesUnchanged += 1;
                report.progress.filesDone += 1;
                report.progress.bytesDone += e.size;
                continue;
            }
            if (e.size >= kProgressReportBytes)
                ++run.largeHashesPending;   // until hashChunk() is done with it
            DocumentEvent ev;
            ev.id = q.id;
            ev.collectionId = collectionId;
            ev.status = DocStatus::Queued;
            ev.fileName = docs.at(i).fileName;
            ev.sourcePath = e.path;
            ev.size = e.size;
            report.eventLocked(ev);
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
    ingestjob::Results results;
    results.updates.reserve(chunk.size());

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
                    --shared->run.largeHashesPending;
                }
            }
        } largeDone{this, item.size >= kProgressReportBytes};
        if (!control.cancelled)
            control.waitWhilePaused();
        if (control.cancelled) {
            if (item.id == 0)
                results.fresh.append({item.doc, {}, {}, true});
            else
                results.cancelled.append(item.id);
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
            report.eventLocked(ev);
        }
        qint64 reported = 0;
        const FileHash h = Hasher::hashFile(
            item.path, &control.cancelled, [&](qint64 done, qint64 total) {
                std::lock_guard lock(mutex);
                report.progress.bytesDone += done - reported;
                reported = done;
                if (reportProgress) {
                    ev.bytesDone = done;
                    ev.size = total;
                    report.eventLocked(ev);
                }
            });
        if (!h.ok() && control.cancelled) {
            std::lock_guard lock(mutex);
            report.progress.bytesDone -= reported;   // it will be counted as cancelled, not done
            if (item.id == 0)
                results.fresh.append({item.doc, {}, {}, true});
            else
                results.cancelled.append(item.id);
            continue;
        }
        {
            std::lock_guard lock(mutex);
            // The size may differ from what the walk saw (the file changed in between).
            report.progress.bytesDone += (h.ok() ? h.size : item.size) - reported;
        }
        if (item.id == 0) {
            NewDocument doc = item.doc;
            if (h.ok()) {
                // What was hashed, should the file have changed since it was listed.
                doc.size = h.size;
                doc.mtimeMs = h.mtimeMs;
            }
            results.fresh.append({doc, h.sha256, h.error, false});
        } else {
            results.updates.append({{item.id, h.sha256, h.ok() ? h.size : item.size, h.mtimeMs, h.error}, item.path});
        }
    }

    std::lock_guard lock(mutex);
    writes.add(std::move(results));
    --run.hashChunksInFlight;
    ensureWriterLocked(self);
    writes.arrived.notify_one();
}

void IngestJob::Shared::ensureWriterLocked(const std::shared_ptr<Shared> &self)
{
    if (writes.writerRunning || writes.waiting.isEmpty())
        return;
    writes.writerRunning = true;
    ++run.outstanding;
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
        ingestjob::Results batch;
        {
            std::unique_lock lock(mutex);
            writes.arrived.wait_for(lock, kWriteLatency, [this] {
                return writes.waiting.updates.size() + writes.waiting.fresh.size() >= kWriteBatch
                    || run.hashChunksInFlight == 0 || control.cancelled;
            });
            batch = std::exchange(writes.waiting, {});
            if (batch.isEmpty()) {
                writes.writerRunning = false;
                return;
            }
        }

        if (!batch.fresh.isEmpty())
            writeNew(batch);

        if (!batch.updates.isEmpty()) {
            const QList<HashDone> &done = batch.updates;
            QList<HashUpdate> updates;
            updates.reserve(done.size());
            for (const HashDone &d : done)
                updates.append(d.update);
            auto applied = catalog.applyHashes(updates);
            if (!applied) {
                fail(applied.error());
                // Nothing of this batch was written: the documents stay queued in the catalog.
                for (const HashUpdate &u : std::as_const(updates))
                    batch.cancelled.append(u.id);
            } else {
                std::lock_guard lock(mutex);
                for (qsizetype i = 0; i < applied->size(); ++i) {
                    const HashApplied &a = applied->at(i);
                    const HashUpdate &u = updates.at(i);
                    appliedLocked(a.id, a.status, a.duplicateOf, done.at(i).path, u.sha256, u.size, u.error);
                }
            }
        }

        if (!batch.cancelled.isEmpty()) {
            // Best effort: if the catalog is gone these rows simply stay queued, which the next
            // run picks up again; either way nothing is half-written.
            (void)catalog.setStatus(batch.cancelled, DocStatus::Cancelled);
            std::lock_guard lock(mutex);
            for (qint64 id : std::as_const(batch.cancelled)) {
                report.progress.filesDone += 1;
                DocumentEvent ev = report.events.value(id);
                ev.id = id;
                ev.collectionId = collectionId;
                ev.status = DocStatus::Cancelled;
                report.eventLocked(ev);
            }
        }
    }
}

// One document's hash result is in the catalog: its event and the counts.
void IngestJob::Shared::appliedLocked(qint64 id, DocStatus status, qint64 duplicateOf, const QByteArray &path,
                                      const QByteArray &sha256, qint64 size, const QString &error)
{
    DocumentEvent ev = report.events.value(id);   // as reported so far, if at all
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
    report.eventLocked(ev);
    IngestProgress &progress = report.progress;
    progress.filesDone += 1;
    switch (status) {
    case DocStatus::Hashed: progress.filesHashed += 1; break;
    case DocStatus::Duplicate: progress.filesDuplicate += 1; break;
    default: break;
    }
    if (status == DocStatus::Failed) {
        progress.filesFailed += 1;
        report.issues.append({path, error, false});
    }
}

// Catalogs the files of `batch` that were hashed before they were cataloged (`fresh`). Those the
// collection got in the meantime (another ingest of the same paths) go the usual way: queued,
// then their results are applied with the rest of `batch.updates` (or they join
// `batch.cancelled`).
void IngestJob::Shared::writeNew(ingestjob::Results &batch)
{
    const QList<HashedDocument> &fresh = batch.fresh;
    auto added = catalog.addHashed(collectionId, fresh);
    if (!added) {
        // Nothing of this batch was written: these files are simply not in the catalog.
        notCataloged(added.error(), fresh.size());
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
                report.progress.filesUnchanged += 1;
                report.progress.filesDone += 1;
            } else if (a.status == DocStatus::Cancelled) {
                report.progress.filesDone += 1;
                DocumentEvent ev;
                ev.id = a.id;
                ev.collectionId = collectionId;
                ev.status = DocStatus::Cancelled;
                ev.sourcePath = d.doc.sourcePath;
                ev.fileName = d.doc.fileName;
                ev.size = d.doc.size;
                report.eventLocked(ev);
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
        notCataloged(queued.error(), conflicts.size());
        return;
    }
    std::lock_guard lock(mutex);
    for (qsizetype i = 0; i < conflicts.size(); ++i) {
        const HashedDocument &d = conflicts.at(i);
        const QueuedDocument &q = queued->at(i);
        if (q.unchanged) {
            report.progress.filesUnchanged += 1;
            report.progress.filesDone += 1;
        } else if (d.cancelled) {
            batch.cancelled.append(q.id);
        } else {
            batch.updates.append({{q.id, d.sha256, d.doc.size, d.doc.mtimeMs, d.error}, d.doc.sourcePath});
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
    m_shared->control.cancel();
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
    m_shared->control.cancel();
}

void IngestJob::doSetPaused(bool paused)
{
    m_shared->control.setPaused(paused);
}

JobAmounts IngestJob::doAmounts() const
{
    const IngestProgress p = progress();
    return JobAmounts{p.filesDone, p.filesFound, p.bytesDone, p.bytesFound, 0, !p.walking, isPaused()};
}

IngestProgress IngestJob::progress() const
{
    std::lock_guard lock(m_shared->mutex);
    return m_shared->report.progress;
}

QFuture<IngestResult> IngestJob::result() const
{
    return m_shared->promise.future();
}

void IngestJob::doReport()
{
    ingestjob::Reporting::Batch batch;
    bool finishNow = false;
    IngestResult result;
    {
        std::lock_guard lock(m_shared->mutex);
        batch = m_shared->report.takeLocked();
        if (m_shared->run.done) {
            finishNow = true;
            result = m_shared->run.result;
        }
    }
    // Emitted with no lock held: receivers may call back into the job.
    if (!batch.events.isEmpty())
        Q_EMIT documentsChanged(batch.events);
    for (const IngestIssue &issue : std::as_const(batch.issues))
        Q_EMIT issueFound(issue);
    Q_EMIT progressChanged(batch.progress);
    if (finishNow) {
        finishing({result.outcome, result.error});
        Q_EMIT finished(result);
    }
}

} // namespace quire
