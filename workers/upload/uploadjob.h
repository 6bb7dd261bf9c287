#pragma once

#include "catalog/documentstatus.h"
#include "remotes/remoteprofile.h"
#include "jobs/job.h"
#include "jobs/result.h"
#include "upload/uploadpolicy.h"

#include <QFuture>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QSet>
#include <QString>

#include <functional>
#include <memory>
#include <mutex>

namespace quire {

class Catalog;
struct Document;
struct UploadItem;
class Pools;
class SessionStore;

// Which documents an UploadJob uploads: the `hashed` documents of one collection, or of every
// collection bound to a remote; optionally only some document ids among them. Documents that
// become `hashed` while the job runs are picked up too (see UploadJob::wake()).
struct UploadScope
{
    qint64 collectionId = 0;        // 0: every collection that has a remote
    QList<qint64> documentIds;      // empty: every pending document in scope
};

// One document's upload, as the UI shows it (a row's status, progress and speed).
struct UploadDocumentEvent
{
    qint64 id = 0;
    qint64 collectionId = 0;
    QString fileName;
    DocStatus status = DocStatus::Uploading;   // Uploading, Uploaded, Hashed (paused/requeued),
                                               // Duplicate (re-hashed), Failed or Cancelled
    qint64 bytesDone = 0;
    qint64 bytesTotal = 0;
    double bytesPerSecond = 0;      // recent speed while uploading
    int attempt = 0;                // 1 = first attempt
    QString message;                // the error when failed; "retrying in 4 s: ..." while waiting
    QString location;               // set when uploaded
    bool alreadyPresent = false;    // uploaded: the remote already had identical content
    qint64 resumedFrom = 0;         // uploaded: continued an interrupted upload from here
};

struct UploadProgress
{
    qint64 filesTotal = 0;          // done + active + still pending (grows when more are hashed)
    qint64 filesDone = 0;           // uploaded, failed, cancelled or skipped (duplicate) so far
    qint64 filesUploaded = 0;       // includes alreadyPresent
    qint64 filesAlreadyPresent = 0;
    qint64 filesResumed = 0;
    qint64 filesFailed = 0;
    qint64 filesCancelled = 0;
    qint64 bytesTotal = 0;          // estimate while files are pending
    qint64 bytesDone = 0;
    int active = 0;                 // uploads in flight now
    double bytesPerSecond = 0;      // recent overall speed
    qint64 etaMs = -1;              // -1: unknown
    bool paused = false;
};

struct UploadFailure
{
    qint64 id = 0;
    QString collection;
    QString fileName;
    QString error;
};

// A problem of a remote as a whole (RemoteError::problem: certificate not trusted or changed,
// password refused, server unreachable): reported once, for the remote, instead of failing each
// of its documents; the documents of its collections stay pending (`hashed`) and go once the
// remote is fixed.
struct UploadRemoteProblem
{
    QString remote;                 // the remote's name
    RemoteError error;              // message names the server; certificate for Tls
    QList<qint64> collectionIds;    // the collections held back in this job
};

struct UploadResult
{
    using Outcome = JobOutcome;
    Outcome outcome = Outcome::Succeeded;
    QString error;                  // Error: what stopped the whole job (e.g. the catalog, a remote)
    UploadProgress totals;
    QList<UploadFailure> failures;  // every document that failed, with the reason
    QList<UploadRemoteProblem> remoteProblems;   // remotes whose documents wait (outcome Error)
};

// Pauses that outlive one job: documents and collections the user paused (UploadController keeps one
// and gives it to each job it starts). Thread-safe.
class UploadPauses final
{
public:
    void pauseDocument(qint64 id);
    void resumeDocument(qint64 id);
    void pauseCollection(qint64 id);
    void resumeCollection(qint64 id);
    bool isPaused(qint64 documentId, qint64 collectionId) const;
    bool isDocumentPaused(qint64 id) const;
    bool isCollectionPaused(qint64 id) const;

private:
    void set(QSet<qint64> &ids, qint64 id, bool paused);
    bool contains(const QSet<qint64> &ids, qint64 id) const;

    mutable std::mutex m_mutex;
    QSet<qint64> m_documents;
    QSet<qint64> m_collections;
};

// What a remote is given to upload the document doc of the collection collectionName, with what
// an interrupted upload of it left (the catalog's record, empty for a fresh start).
UploadItem uploadItemFor(const Document &doc, const QString &collectionName, const QByteArray &resumeState = {});

// Where secrets come from: called on a worker thread for a profile that needsSecret(). The
// default reads $QUIRE_PASSWORD, then the keychain (credentials.h).
using SecretProvider = std::function<Result<QString>(const RemoteProfile &profile)>;

// Uploads the pending (`hashed`) documents in a scope to their collections' remotes.
//
// A Job (jobs/job.h): start() only schedules; progress and per-document changes are reported by
// signals on the job's thread, coalesced (documents in batches); exactly one finished() per job,
// then ended().
//
// How it works: up to settings.parallel workers run on Pools::io() (each gives its pool slot back
// while it uploads, QThreadPool::releaseThread(), so long uploads never starve catalog queries).
// The catalog writes come in batches. A worker that finds nothing claimed takes the oldest
// pending documents (up to 32, and no more once they reach 8 MiB) and claims them in one
// transaction: each becomes `uploading` (attempts + 1) unless another job or process got there
// first. Every worker of the job takes its next document from those, so no lane waits while
// another holds work; one whose source's size or mtime changed since it was hashed is re-hashed
// and claimed on its own. A claimed document that will not be uploaded after all (paused,
// cancelled, the job stopping) goes back to `hashed` at once, its attempt uncounted. A document
// is uploaded through its collection's Remote with that thread's own libcurl multi handle (net/http.h), then
// recorded `uploaded` + location together with the others that finished since the last flush
// tick (50 ms), or 64 at a time; its documentsChanged() event goes out once it is recorded.
// Retries (RetryPolicy: backoff, jitter, Retry-After) and failures (`failed` with a message for
// a person) are recorded at once. A source that changes during the upload is re-hashed and
// re-queued. Pausing, cancelling and finishing record every finished upload before the workers
// stop and before finished().
// The queue is the catalog: a crash between a claim and the record of its result leaves the
// document `uploading`; a job started after a crash or kill -9 first puts the documents left
// `uploading` in its scope back to `hashed`, and the remotes make a repeated upload of identical
// content a no-op, so nothing is uploaded twice and nothing is forgotten. Run at most one job per
// collection at a time in a process (UploadController sees to that in the window).
//
// The job may be deleted once finished() was emitted; deleting a running job stops it (as
// cancel()) and returns without waiting. catalog, store and pools must outlive the work.
class UploadJob final : public Job
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UploadJob)
public:
    UploadJob(Catalog &catalog, SessionStore &store, Pools &pools, UploadScope scope,
              QObject *parent = nullptr);
    ~UploadJob() override;

    // Before start(): defaults are UploadSettings::fromStore(), the default SecretProvider and
    // no shared pauses. setPaused(true) before start() starts the job paused.
    void setSettings(const UploadSettings &settings);
    void setSecretProvider(SecretProvider provider);
    void setPauses(std::shared_ptr<UploadPauses> pauses);
    // Before start(): put documents left `uploading` in scope back to `hashed` first (default
    // true; UploadController turns it off for jobs after the first).
    void setRecoverInterrupted(bool recover);
    // Before start(): also queue again the documents in scope whose upload failed earlier
    // (`failed` with a SHA-256; hashing failures have none). Default false; `quire push` sets it.
    void setRetryFailed(bool retry);

    const UploadScope &scope() const;

    // start(), cancel(), setPaused(), isFinished() as every Job.
    // Cancelling stops the job (Ctrl+C, quitting): uploads in flight are aborted within ~100 ms
    // and go back to `hashed` (a resumable partial upload is kept), pending documents stay
    // `hashed` (claimed ones go back): the next job continues with them. Finished uploads are
    // recorded first. finished() reports Cancelled.
    // Pausing aborts the uploads in flight (back to `hashed`, partials kept) and takes no new
    // ones; resuming continues. A paused job does not finish.
    // Any thread. More documents in scope may have become `hashed`: look for them again (the
    // ingest hook). Returns false when the job has already finished (start a new one then).
    bool wake();

    // Any thread. The document goes back to `hashed` and is left alone while `pauses` says so
    // (the caller records it there first).
    void stopDocument(qint64 documentId);
    // Any thread. Same for every document of the collection in flight (pauseCollection).
    void stopCollection(qint64 collectionId);
    // Any thread. The documents will not be uploaded: in flight ones are aborted and their
    // partial uploads discarded; they and the pending ones in the list become `cancelled`.
    void cancelDocuments(const QList<qint64> &documentIds);
    // Any thread. Every document of the collection (0: of the whole scope) that is not uploaded
    // yet becomes `cancelled`.
    void cancelCollection(qint64 collectionId);

    UploadProgress progress() const;          // a consistent snapshot; any thread
    QFuture<UploadResult> result() const;     // resolves with what finished() carries

Q_SIGNALS:
    void progressChanged(const quire::UploadProgress &progress);
    void documentsChanged(const QList<quire::UploadDocumentEvent> &events);
    void finished(const quire::UploadResult &result);

public:
    struct Shared;   // the state the workers share with the job

protected:
    void doStart() override;
    void doCancel() override;
    void doSetPaused(bool paused) override;
    JobAmounts doAmounts() const override;
    // Emits what gathered since the last call (events, progress, finished()); on the report
    // tick, and posted by name ("report") at the job's end.
    void doReport() override;

private:

    std::shared_ptr<Shared> m_shared;
};

} // namespace quire

Q_DECLARE_METATYPE(quire::UploadDocumentEvent)
Q_DECLARE_METATYPE(quire::UploadProgress)
Q_DECLARE_METATYPE(quire::UploadResult)
