#pragma once

#include "catalog/documentstatus.h"
#include "jobs/job.h"

#include <QByteArray>
#include <QFuture>
#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <memory>

namespace quire {

class Catalog;
class Pools;

// A change to one document, as ingest sees it. Emitted in batches (documentsChanged).
struct DocumentEvent
{
    qint64 id = 0;
    qint64 collectionId = 0;
    DocStatus status = DocStatus::Queued;
    QString fileName;
    QByteArray sourcePath;
    qint64 size = 0;
    qint64 bytesDone = 0;      // hashing progress of this document (size when done)
    QByteArray sha256;         // set once hashed
    QString error;             // set when failed
    qint64 duplicateOf = 0;    // set when duplicate
};

// A path that was not cataloged, and why. `skipped` entries (FIFOs, sockets, devices, symbolic
// link loops) are reported but are not failures; everything else is.
struct IngestIssue
{
    QByteArray path;
    QString reason;
    bool skipped = false;
};

struct IngestProgress
{
    bool walking = true;        // still expanding folders: the totals may grow
    qint64 filesFound = 0;
    qint64 bytesFound = 0;
    qint64 filesDone = 0;       // hashed, duplicate, unchanged, failed or cancelled
    qint64 bytesDone = 0;
    qint64 filesHashed = 0;
    qint64 filesDuplicate = 0;
    qint64 filesUnchanged = 0;  // already in the collection, same size and mtime
    qint64 filesFailed = 0;     // includes paths that could not be read or listed
    qint64 filesSkipped = 0;    // not regular files
};

struct IngestResult
{
    using Outcome = JobOutcome;
    Outcome outcome = Outcome::Succeeded;
    QString error;              // Error: what stopped the whole job (e.g. the catalog)
    IngestProgress totals;
    QList<IngestIssue> issues;  // every failed or skipped path, in the order found
};

// Ingests paths (files and folders, recursively) into one collection: expands them on the I/O
// pool, hashes on the CPU pool, and records the results (hashed / duplicate / failed) in batched
// transactions. Files under 8 MiB that are new to the collection are hashed first and then
// recorded once, with their result (one row write each: cataloging 10,000 small files costs
// half as much); large files, files the collection already has, and everything found while the
// job is paused or while a large file waits to be hashed are first recorded as `queued`, so they
// are listed (and survive a crash) while they wait, and are updated once hashed.
//
// A Job (jobs/job.h): start() only schedules; progress, document changes and issues are reported
// by signals on the job's thread, coalesced (documents in batches); exactly one finished() per
// job, then ended().
// Relative paths are made absolute (against the current folder) when the job is constructed.
// catalog and pools must outlive the work (they are owned by the composition root).
class IngestJob final : public Job
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(IngestJob)
public:
    IngestJob(Catalog &catalog, Pools &pools, qint64 collectionId, QList<QByteArray> paths,
              QObject *parent = nullptr);
    ~IngestJob() override;

    qint64 collectionId() const;

    // start(), cancel(), setPaused(), isFinished() as every Job. Cancelling: files not hashed yet
    // end as `cancelled`; what was cataloged stays. Pausing: hashing finishes the block it is
    // reading, then waits.

    IngestProgress progress() const;       // a consistent snapshot; any thread
    // Resolves with the same result finished() carries; usable from any thread.
    QFuture<IngestResult> result() const;

Q_SIGNALS:
    void progressChanged(const quire::IngestProgress &progress);
    void documentsChanged(const QList<quire::DocumentEvent> &events);
    void issueFound(const quire::IngestIssue &issue);
    void finished(const quire::IngestResult &result);

public:
    struct Shared;   // the state the work items share with the job

protected:
    void doStart() override;
    void doCancel() override;
    void doSetPaused(bool paused) override;
    JobAmounts doAmounts() const override;
    void doReport() override;

private:

    std::shared_ptr<Shared> m_shared;
};

} // namespace quire

Q_DECLARE_METATYPE(quire::DocumentEvent)
Q_DECLARE_METATYPE(quire::IngestIssue)
Q_DECLARE_METATYPE(quire::IngestProgress)
Q_DECLARE_METATYPE(quire::IngestResult)
