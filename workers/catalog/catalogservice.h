#pragma once

#include "catalog/catalog.h"
#include "ingest/ingestjob.h"
#include "jobs/result.h"

#include <QByteArray>
#include <QElapsedTimer>
#include <QFuture>
#include <QFutureWatcher>
#include <QPromise>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>
#include <type_traits>

namespace quire {

class Pools;

// Calls fn(result) (fn() for QFuture<void>) on `context`'s thread once `future` has finished.
// Nothing is called when the future was cancelled or when `context` was destroyed first.
//
// Why not QFuture::then(context, fn): in Qt 6.4 a context destroyed before the future finishes
// fails Q_ASSERT(context) on the worker thread (reading the QPointer there, a data race) and,
// in release builds, leaves the continuation's future unfinished. A QFutureWatcher owned by the
// context has neither problem: it goes with the context. Call on the context's thread.
template <typename T, typename F>
void onFinished(const QFuture<T> &future, QObject *context, F &&fn)
{
    auto *watcher = new QFutureWatcher<T>(context);
    QObject::connect(watcher, &QFutureWatcherBase::finished, watcher,
                     [watcher, fn = std::forward<F>(fn)]() mutable {
                         watcher->deleteLater();
                         const QFuture<T> f = watcher->future();
                         if constexpr (std::is_void_v<T>) {
                             if (!f.isCanceled())
                                 fn();
                         } else {
                             // Finished with a result: result() returns at once (it never
                             // waits, so it never runs queued work on this thread).
                             if (!f.isCanceled() && f.resultCount() > 0)
                                 fn(f.result());
                         }
                     });
    watcher->setFuture(future);
}

// Like QFuture::then(context, fn), without its Qt 6.4 problems (see onFinished): a future that
// resolves with fn's return value, fn running on context's thread; cancelled when the future
// is cancelled or the context destroyed first.
template <typename T, typename F>
auto thenOn(const QFuture<T> &future, QObject *context, F &&fn)
{
    using R = std::conditional_t<std::is_void_v<T>, std::invoke_result<F>, std::invoke_result<F, T>>::type;
    auto promise = std::make_shared<QPromise<R>>();
    QFuture<R> out = promise->future();
    promise->start();
    // If the callback never runs, the last reference to the promise goes with it, and
    // ~QPromise cancels and finishes `out`.
    onFinished(future, context, [promise, fn = std::forward<F>(fn)](auto &&...value) mutable {
        if constexpr (std::is_void_v<R>) {
            fn(std::forward<decltype(value)>(value)...);
        } else {
            promise->addResult(fn(std::forward<decltype(value)>(value)...));
        }
        promise->finish();
    });
    return out;
}

// The outcome of re-hashing a document's source file and comparing it with the catalog.
struct VerifyResult
{
    enum class Outcome {
        Match,        // the file's SHA-256 is the recorded one
        Mismatch,     // the file changed since it was hashed
        NotHashed,    // the catalog has no hash to compare with yet
        Unreadable,   // the source file is gone or cannot be read (error says why)
    };
    qint64 id = 0;
    Outcome outcome = Outcome::NotHashed;
    QByteArray expected;       // the catalog's SHA-256 (hex)
    QByteArray actual;         // the file's SHA-256 now (hex), empty if unreadable
    QString error;
};

// The work of every ingest job since the service was last idle, summed: what the status bar
// shows. Jobs that finished while others still run keep counting until all are done.
struct WorkSummary
{
    int runningJobs = 0;
    bool walking = false;       // some job is still expanding folders: totals may grow
    bool paused = false;
    qint64 filesFound = 0;
    qint64 bytesFound = 0;
    qint64 filesDone = 0;
    qint64 bytesDone = 0;
    qint64 filesFailed = 0;
    qint64 elapsedMs = 0;       // since the first of these jobs started
};

// Counters of the catalog's per-thread connections, for Help > Diagnostics.
struct ConnectionStats
{
    int open = 0;               // open right now, all threads
    qint64 opened = 0;          // ever opened (reconnects included)
    int queriesInFlight = 0;    // this service's catalog calls queued or running
};

// The asynchronous face of the catalog for the UI thread.
//
// The UI thread must never run SQL (the catalog asserts there), so every query here runs the
// Catalog call on the I/O pool and hands back a QFuture; the UI continues it on its own thread
// with QFuture::then(context, ...). The service also starts and tracks ingest jobs (status bar
// totals, Pause/Resume, Cancel all) and emits change hints the views use to re-query.
//
// Lives on the GUI thread; all member functions must be called there. Catalog and Pools are
// owned by the composition root and outlive the service and every future it returns. The
// service must outlive the widgets that continue its futures with themselves as context only
// in the sense that hint signals stop when it goes; destroying it cancels its running jobs and
// returns at once (the work items hold their own state).
class CatalogService final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CatalogService)
public:
    CatalogService(Catalog &catalog, Pools &pools, QObject *parent = nullptr);
    ~CatalogService() override;

    Catalog &catalog() { return m_catalog; }
    Pools &pools() { return m_pools; }
    // Reads counters only (no SQL): fine on the GUI thread.
    ConnectionStats connectionStats() const;


    // --- queries and edits: each runs on the I/O pool; the future resolves there -------------
    QFuture<Status> open();
    // Settings › Catalog's Test Connection: opens one connection to `location` (not this
    // service's catalog) with `password` (if any) on the I/O pool, runs one query and closes it.
    // The message says what happened, in words a person can act on, with the server's own.
    struct CatalogTest
    {
        bool ok = false;
        QString message;
    };
    QFuture<CatalogTest> testCatalog(const QString &location, const QString &password);
    QFuture<Result<QList<Collection>>> collections();
    QFuture<Result<std::optional<Collection>>> collection(qint64 id);
    QFuture<Result<std::optional<Collection>>> collectionByName(const QString &name);
    QFuture<Result<QList<Document>>> documents(const DocumentQuery &query);
    QFuture<Result<qint64>> countDocuments(const DocumentQuery &query);
    QFuture<Result<std::optional<Document>>> document(qint64 id);
    QFuture<Result<QHash<DocStatus, qint64>>> statusCounts(qint64 collectionId = 0);

    // Edits resolve on the GUI thread after the matching change hint was emitted.
    // remote: the remote profile the collection uploads to; empty: none. The service does not
    // check that the profile exists (the caller offers configured ones only).
    QFuture<Result<qint64>> createCollection(const QString &name, const QString &remote = {});
    // The id of the collection with this name, created (with `remote`) if missing; an existing
    // collection keeps its own remote.
    QFuture<Result<qint64>> ensureCollection(const QString &name, const QString &remote = {});
    QFuture<Status> renameCollection(qint64 id, const QString &name);
    // Where the collection uploads from now on; empty: it stops uploading. Documents already
    // uploaded stay where they are; pending ones go to the new remote.
    QFuture<Status> setCollectionRemote(qint64 id, const QString &remote);
    QFuture<Status> removeCollection(qint64 id);
    // Returns the removed documents as they were, for restoreDocuments() (Undo).
    QFuture<Result<QList<Document>>> removeDocuments(const QList<qint64> &ids);
    QFuture<Status> restoreDocuments(const QList<Document> &docs);

    // A name for a new collection holding these paths: a single folder's own name, else the
    // name of the folder the (first) file is in; `fallback` when that is no valid name.
    // Looks at the file system, hence on the I/O pool.
    QFuture<QString> suggestCollectionName(const QList<QByteArray> &paths, const QString &fallback);

    // Re-hashes the document's source file on the CPU pool and compares.
    QFuture<Result<VerifyResult>> verify(qint64 documentId);

    // --- ingest ------------------------------------------------------------------------------
    // Starts an ingest job (owned by the service; deleted after finished()). Returns it so the
    // caller may connect to it; never null.
    IngestJob *ingest(qint64 collectionId, const QList<QByteArray> &paths);
    // Re-ingests the source files of the collection's failed and cancelled documents (or of
    // `ids` among them when given). Resolves with the number of files queued again.
    QFuture<Result<int>> retryFailed(qint64 collectionId, const QList<qint64> &ids = {});

    QList<IngestJob *> jobs() const;
    bool isBusy() const { return !m_jobs.isEmpty(); }
    bool isCollectionBusy(qint64 collectionId) const;
    QList<qint64> busyCollections() const;
    WorkSummary summary() const;

    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    void cancelAll();
    void cancelCollection(qint64 collectionId);

Q_SIGNALS:
    // Hints: something about the collections list (names, counts) or a collection's documents
    // may have changed; views re-query (coalescing is theirs). 0 means "any collection".
    void collectionsChanged();
    void documentsChanged(qint64 collectionId);
    // Every ingest job's document events, forwarded (already batched by the jobs).
    void documentEvents(const QList<quire::DocumentEvent> &events);
    void jobStarted(quire::IngestJob *job);
    void jobFinished(quire::IngestJob *job, const quire::IngestResult &result);
    // Running jobs or their progress changed (at most as often as the jobs report).
    void workChanged();
    void pausedChanged(bool paused);
    // The last running job finished.
    void idle();

private:
    template <typename F>
    auto runIo(F &&f);
    template <typename F>
    auto editCollections(F &&f);
    void onJobProgress();
    void onJobFinished(IngestJob *job, const IngestResult &result);

    Catalog &m_catalog;
    Pools &m_pools;
    // Shared with the work items, which may finish after the service is gone.
    std::shared_ptr<std::atomic_int> m_inFlight = std::make_shared<std::atomic_int>(0);
    QList<IngestJob *> m_jobs;
    // Totals of jobs that finished while others were still running (reset when idle).
    IngestProgress m_finishedTotals;
    QElapsedTimer m_workClock;
    bool m_paused = false;
};

} // namespace quire

Q_DECLARE_METATYPE(quire::VerifyResult)
Q_DECLARE_METATYPE(quire::WorkSummary)
