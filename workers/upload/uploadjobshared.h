#pragma once

// The state an UploadJob shares with its workers, and the work done on it: the job's side and
// its life (uploadjob.cpp), taking and claiming documents (uploadclaims.cpp), uploading one
// document and recording how it ended (uploadprocess.cpp). Private to workers/upload; nothing
// outside it includes this.
//
// Threads: the job's thread (start, pause, cancel, stopping and cancelling documents, the report
// tick), up to settings.parallel workers on Pools::io(), and short pool tasks that give claimed
// documents back, cancel waiting ones or record finished uploads. One mutex (Shared::mutex)
// guards every part of the state but the configuration and the promise; the catalog, the hasher
// and the remotes are only called with it released.

#include "upload/uploadjob.h"

#include "catalog/catalog.h"
#include "catalog/machine.h"
#include "remotes/remote.h"

#include <QElapsedTimer>
#include <QHash>
#include <QLoggingCategory>
#include <QPromise>
#include <QSet>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

namespace quire {

// Retries and failures are logged here (never a secret: messages are built without them).
Q_DECLARE_LOGGING_CATEGORY(lcUpload)

namespace uploadjob {

inline constexpr int kFetchBatch = 256;
// A worker claims the next documents in one catalog transaction: up to this many, and no more
// once they add up to kClaimBytes (at least one). Any worker of the job takes them from there,
// so a claim never leaves one upload lane with work while another has none; the limits keep
// what another job or process could have taken small.
inline constexpr int kClaimBatch = 32;
inline constexpr qint64 kClaimBytes = 8 << 20;
// Finished uploads are recorded in the catalog together: whatever finished since the last
// report tick (every 50 ms, jobs/job.h), or as soon as this many are waiting.
inline constexpr int kResultBatch = 64;
inline constexpr int kMaxSourceChanges = 3;     // re-hash and retry at most this often per document
inline constexpr double kSpeedSmoothing = 0.3;  // weight of the newest sample in the moving average

// A document this machine may upload: added here, or before machines were recorded.
inline bool isThisMachines(const Document &doc)
{
    return doc.machineId.isEmpty() || doc.machineId == thisMachine().id;
}

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

// What the job was told before start(): UploadJob's setters, and the settings doStart() reads
// from the store when none were given. Written on the job's thread before any worker exists and
// read-only afterwards, so read without the lock.
struct Config
{
    UploadSettings settings;
    bool settingsSet = false;
    SecretProvider secrets;
    std::shared_ptr<UploadPauses> pauses;   // the user's pauses (thread-safe themselves)
    bool recover = true;
    bool retryFailed = false;
};

// Where the job is in its life, and how it ended. Guarded by Shared::mutex: the job's thread
// starts, pauses and cancels; whichever thread sees that nothing is left finishes the job
// (Shared::maybeFinishLocked()).
struct RunState
{
    // The job, for posting its last report (finishLocked()); cleared when it is deleted.
    UploadJob *owner = nullptr;
    bool started = false;
    bool paused = false;
    bool cancelled = false;
    bool cancelledPending = false;       // cancelCollection(0): the outcome is Cancelled
    bool done = false;                   // finished: finalResult holds what finished() carries
    QString fatalError;                  // what stopped the whole job (the catalog)
    UploadResult finalResult;
};

// The documents on their way from the catalog's pending list to a worker: fetched into
// `pending` (refillLocked()), claimed in batches into `ready` (claimNext()), taken one at a time
// by the workers (takeNext()). Guarded by Shared::mutex. The workers refill and claim (one
// refill and one claim at a time, the mutex released while the catalog works); the job's thread
// takes held documents out when they are stopped or cancelled, and asks for a new look (wake()).
struct WorkQueue
{
    std::condition_variable refilled;    // a refill or a claim ended
    std::deque<Document> pending;
    QSet<qint64> queuedIds;              // ids in pending
    std::deque<Held> ready;              // taken from pending, claimed, waiting for a worker
    QHash<qint64, qint64> held;          // ids in `ready` or being claimed -> collection id
    bool claiming = false;
    bool refilling = false;
    bool exhausted = false;              // the last refill found nothing new
    bool wakeRequested = false;
    // Read and set only by the thread that refills (`refilling`), so they need no lock.
    bool recovered = false;
    bool retriedFailed = false;
    qint64 pendingInCatalog = 0;         // pending in scope as of the last refill, less those taken
    qint64 pendingBytesKnown = 0;        // sizes of the documents in `pending` and `held`
    QSet<qint64> finishedIds;            // ended in this job (not taken again unless woken)
    QSet<qint64> cancelRequested;        // pending ids the user cancelled

    // A pending or held document leaves the queue (taken by a worker, or dropped).
    void forget(const Document &d)
    {
        held.remove(d.id);
        pendingBytesKnown -= d.size;
        pendingInCatalog = std::max<qint64>(0, pendingInCatalog - 1);
    }
    // Takes the held documents that match out of `ready`; the claimed ones are to be given back
    // (cancelled if the user cancelled them), the others were never claimed and need nothing.
    template <typename Pred>
    Release takeHeld(Pred matches)
    {
        Release r;
        for (auto it = ready.begin(); it != ready.end();) {
            if (!matches(it->doc)) {
                ++it;
                continue;
            }
            forget(it->doc);
            if (it->claimed)
                (cancelRequested.contains(it->doc.id) ? r.toCancelled : r.toHashed).append(std::move(it->doc));
            it = ready.erase(it);
        }
        return r;
    }
};

// The uploads in flight and the work running them. Guarded by Shared::mutex: a worker adds its
// document when it takes it and retires it when it ends; the job's thread stops uploads through
// their controls, and the report reads their progress.
struct Lanes
{
    int workers = 0;                     // runWorker() loops running
    int tasks = 0;                       // pool tasks still writing to the catalog (startTaskLocked())
    QHash<qint64, std::shared_ptr<UploadControl>> controls;   // in flight, by document id
    QHash<qint64, Active> active;        // the same documents, as the report shows them

    // The `uploading` event of a document in flight.
    UploadDocumentEvent eventFor(qint64 id) const;
    // Asks the uploads in flight of a collection (0: every one) to stop.
    void stop(qint64 collectionId, UploadControl::Stop how) const;
};

// Where each collection's documents go, and what is known to be wrong with the remotes. Guarded
// by Shared::mutex, except that a Target is made (targetFor(), on a worker) under `making` alone.
struct Remotes
{
    QHash<qint64, Target> targets;       // by collection id; one per collection and job
    std::mutex making;                   // held while a Target is made
    QList<UploadRemoteProblem> problems;
    QSet<qint64> blockedCollections;     // their remote has a problem: not taken in this job
    QSet<QString> suspect;               // met as unreachable once: the next time holds them

    QString collectionName(qint64 collectionId) const { return targets.value(collectionId).collectionName; }
};

// Uploads that finished and are not recorded in the catalog yet (writeResults() records them
// together). Guarded by Shared::mutex: workers add; one thread at a time (`writing`) records.
struct Unrecorded
{
    std::vector<Finished> uploads;
    qint64 bytes = 0;                    // their sizes
    bool writing = false;
};

// What the job reports: counts, the document events gathered for the next report, speeds, and
// the failures for the result. Guarded by Shared::mutex: every thread counts and adds events;
// the job's thread takes them on the report tick (doReport()).
struct Reporting
{
    QElapsedTimer clock;                 // started with the job, read-only afterwards
    UploadProgress progress;             // the counts; Shared::progressLocked() adds the rest
    bool progressDirty = true;
    QHash<qint64, UploadDocumentEvent> events;   // coalesced by document id
    QList<qint64> eventOrder;
    QList<UploadFailure> failures;
    qint64 bytesFinished = 0;            // sizes of documents that ended
    qint64 bytesSentTotal = 0;           // body bytes actually sent (for the speed)
    qint64 speedSampleBytes = 0;
    qint64 speedSampleMs = 0;
    double speed = 0;

    void addEvent(const UploadDocumentEvent &e)
    {
        if (!events.contains(e.id))
            eventOrder.append(e.id);
        events.insert(e.id, e);
        progressDirty = true;
    }
    // Speeds: overall and per document, as moving averages of ~0.5 s samples.
    void sampleSpeeds(QHash<qint64, Active> &active);
    // The events gathered since the last call, in order, with the recent speeds of uploads.
    QList<UploadDocumentEvent> takeEvents(const QHash<qint64, Active> &active);
};

} // namespace uploadjob

struct UploadJob::Shared : std::enable_shared_from_this<UploadJob::Shared>
{
    Shared(Catalog &c, SessionStore &s, Pools &p, UploadScope sc);

    Catalog &catalog;
    SessionStore &store;
    Pools &pools;
    const UploadScope scope;
    uploadjob::Config config;
    QPromise<UploadResult> promise;      // resolved once, by finishLocked()

    mutable std::mutex mutex;            // guards the parts below
    uploadjob::RunState run;
    uploadjob::WorkQueue queue;
    uploadjob::Lanes lanes;
    uploadjob::Remotes remotes;
    uploadjob::Unrecorded unrecorded;
    uploadjob::Reporting report;

    bool inScope(qint64 documentId) const
    {
        return scope.documentIds.isEmpty() || scope.documentIds.contains(documentId);
    }

    // --- the job's life (uploadjob.cpp); with the mutex held ---
    void spawnWorkersLocked();
    // Finishes the job when nothing runs any more and nothing is left to do.
    void maybeFinishLocked();
    void finishLocked();
    UploadProgress progressLocked() const;
    // Runs `work` on a pool thread, counted in lanes.tasks (the job waits for it), then looks
    // whether the job is done.
    void startTaskLocked(std::function<void(Shared &)> work);

    // --- taking and claiming documents (uploadclaims.cpp) ---
    void runWorker();
    std::optional<uploadjob::Work> takeNext();
    // Whether a document taken from the pending list must be left alone now (mutex held).
    bool skipLocked(const Document &d) const;
    // Fetches the next pending documents of the scope (lock held on entry and return, released
    // meanwhile); false when the catalog failed (fatalError).
    bool refillLocked(std::unique_lock<std::mutex> &lock);
    void claimNext(std::unique_lock<std::mutex> &lock);
    Result<QList<Document>> fetchPending(qint64 &pendingCount);
    // The collections of the scope: its own, or every one that has a remote.
    Result<QList<qint64>> scopeCollections() const;
    // This machine's documents of the collections in scope that are `from` and `eligible`, back
    // to `hashed`.
    Status requeue(const QList<qint64> &collectionIds, DocStatus from,
                   const std::function<bool(const Document &)> &eligible);
    // Claims a document that was not claimed with others (`hashed` -> `uploading`); false (and
    // the job lets it go) when that fails or someone else has it.
    bool claimAlone(const Document &doc);
    // Gives `release` back on a pool thread (counted in lanes.tasks, so the job waits for it).
    void releaseLaterLocked(uploadjob::Release release);
    void releaseHeld(const uploadjob::Release &release);
    // Documents that wait `hashed` (collectionId: theirs, 0 when not known) become `cancelled`.
    void cancelWaiting(const QList<qint64> &ids, qint64 collectionId);

    // --- one document's upload and how it ended (uploadprocess.cpp) ---
    void process(uploadjob::Work work);
    uploadjob::Target targetFor(qint64 collectionId);
    std::optional<Document> rehash(Document doc, UploadControl &control, bool &stopped);
    void handleStop(const Document &doc, const UploadItem &item, Remote *remote, UploadControl &control);
    void holdRemote(const Document &doc, const QString &remoteName, const RemoteError &err);
    void noteProgress(qint64 id, qint64 done, qint64 total);
    void noteCatalogError(const Document &doc, const QString &error);
    // Builds the final event of a document that ended, taking it out of the in-flight lists
    // (mutex held).
    UploadDocumentEvent retireLocked(const Document &doc, DocStatus status, const QString &message,
                                     const UploadReport *upload);
    // Counts a document that ended and publishes its event (mutex held).
    void publishEndLocked(UploadDocumentEvent e);
    void endDocument(const Document &doc, DocStatus status, const QString &message,
                     const UploadReport *upload = nullptr);
    // Sets `to` in the catalog if the document is one of `from` there (a failure keeps `message`
    // as its error; a catalog error is noted), then ends it here as endDocument() does.
    void markAndEnd(const Document &doc, const QList<DocStatus> &from, DocStatus to, const QString &message);
    // An upload succeeded: recorded in the catalog with the next batch (see writeResults()).
    void uploaded(const Document &doc, const UploadReport &upload);
    // Starts writing the recorded uploads on a pool thread unless a write runs already (mutex
    // held).
    void startResultWriterLocked();
    // Records the waiting results in one transaction (again while a full batch waits). The
    // caller set unrecorded.writing.
    void writeResults();
};

} // namespace quire
