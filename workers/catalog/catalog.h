#pragma once

#include "catalog/catalogconfig.h"
#include "catalog/documentstatus.h"
#include "jobs/result.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

namespace quire {

class ConnectionManager;

struct Collection
{
    qint64 id = 0;
    QString name;
    QString remote;            // remote profile name; empty: no remote
    qint64 documentCount = 0;  // all documents, whatever their status
    qint64 bytes = 0;          // sum of document sizes
    qint64 failedCount = 0;
    qint64 pendingCount = 0;   // queued, hashing, hashed or uploading: this machine's work
    QDateTime created;         // UTC
};

struct Document
{
    qint64 id = 0;
    qint64 collectionId = 0;
    QString fileName;          // display name (lossy where the name is not valid UTF-8)
    QByteArray sourcePath;     // the exact bytes of the source path (native encoding)
    qint64 size = 0;
    qint64 mtimeMs = 0;        // source file's modification time, ms since epoch
    QByteArray sha256;         // 64 lowercase hex digits; empty until hashed
    DocStatus status = DocStatus::Queued;
    QString error;             // why it failed (person-readable), empty otherwise
    QString remoteLocation;    // where the remote has it, once uploaded
    int attempts = 0;
    qint64 duplicateOf = 0;    // id of the document this one duplicates (status Duplicate)
    QDateTime added;           // UTC
    QDateTime updated;         // UTC
    QString machineId;         // the machine it was added on (machine.h); empty: from before
};

// A file found by ingest, before it is hashed.
struct NewDocument
{
    QByteArray sourcePath;
    QString fileName;
    qint64 size = 0;
    qint64 mtimeMs = 0;
};

struct QueuedDocument
{
    qint64 id = 0;
    // The same source path is already in the collection with the same size and mtime and is
    // hashed or beyond (not failed/cancelled): nothing to do for it.
    bool unchanged = false;
};

// The result of hashing one queued document.
struct HashUpdate
{
    qint64 id = 0;
    QByteArray sha256;         // empty when error is set
    qint64 size = 0;
    qint64 mtimeMs = 0;
    QString error;             // non-empty: the document becomes Failed with this text
};

struct HashApplied
{
    qint64 id = 0;
    DocStatus status = DocStatus::Hashed;   // Hashed, Duplicate or Failed
    qint64 duplicateOf = 0;
};

// A file new to its collection, hashed before it is cataloged (or failed or cancelled before it
// could be): recorded in one step by addHashed().
struct HashedDocument
{
    NewDocument doc;
    QByteArray sha256;        // empty when error is set or when cancelled
    QString error;            // non-empty: the document is recorded Failed with this text
    bool cancelled = false;   // recorded Cancelled (a later ingest picks it up again)
};

struct AddedDocument
{
    qint64 id = 0;                          // 0 when `conflict`
    DocStatus status = DocStatus::Hashed;   // Hashed, Duplicate, Failed or Cancelled
    qint64 duplicateOf = 0;
    // The path is already in the collection, hashed, with the same size and mtime: nothing written.
    bool unchanged = false;
    // The path has a row in the collection that is not unchanged (e.g. another ingest listed it
    // meanwhile), or is listed twice: nothing written; add it with addQueued() instead.
    bool conflict = false;
};

// A finished upload, for Catalog::setUploaded().
struct UploadedDocument
{
    qint64 id = 0;
    QString remoteLocation;    // where the remote has it
};

// What the catalog holds for a source path in a collection (its newest document).
struct PathState
{
    qint64 id = 0;
    DocStatus status = DocStatus::Queued;
    qint64 size = 0;
    qint64 mtimeMs = 0;
};

enum class DocColumn { Name, Size, Status, Added, Sha256, Remote };

struct DocumentQuery
{
    qint64 collectionId = 0;        // 0: every collection
    QString text;                   // case-insensitive substring of the file name, or SHA-256 prefix
    QList<DocStatus> statuses;      // empty: any status
    DocColumn sortColumn = DocColumn::Added;
    Qt::SortOrder order = Qt::AscendingOrder;
    qint64 offset = 0;
    qint64 limit = -1;              // -1: no limit
    bool thisMachineOnly = false;   // only documents this machine added (and those of no machine)
};

// The SQL catalog of collections and documents.
//
// Construction is cheap and does no I/O (any thread). Every other member function runs SQL on
// the *calling thread's* own connection (ConnectionManager) and therefore must be called on a
// worker thread (the I/O pool), never on the GUI thread. All member functions are thread-safe;
// each write is one transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN), so a batch is
// all-or-nothing. Errors come back as failed Results with a message naming what failed.
// Timestamps are stored as UTC milliseconds since the epoch, statuses by name (statusName()).
class Catalog final
{
public:
    explicit Catalog(CatalogConfig config);
    ~Catalog();
    Q_DISABLE_COPY_MOVE(Catalog)

    const CatalogConfig &config() const;
    ConnectionManager &connections();

    // Connects and applies pending migrations (idempotent; safe to call from several threads).
    Status open();
    Result<int> schemaVersion();
    static int latestSchemaVersion();

    // nullopt when valid, else why not ("a collection name cannot contain '/'", ...).
    // Names are non-empty, at most 200 characters, no '/', '\\', control characters,
    // no leading/trailing white space, not "." or "..".
    static std::optional<QString> collectionNameError(const QString &name);
    // Why a document's row cannot be used to upload it: its SHA-256 is not 64 lowercase hex
    // digits, or its file name is not one path component (empty, ".", "..", a '/') or not the
    // name of its source file. Rows of a shared catalog come from other machines and programs;
    // nothing of such a row may reach a header, a URL or a path. nullopt: usable.
    static std::optional<QString> documentRowError(const Document &doc);
    // Names of the machines that added documents, by id (machine.h), as fit for display.
    Result<QHash<QString, QString>> machineNames();

    Result<qint64> createCollection(const QString &name, const QString &remote = {});
    Status renameCollection(qint64 id, const QString &newName);
    Status setCollectionRemote(qint64 id, const QString &remote);
    Status removeCollection(qint64 id);             // and all its documents
    Result<QList<Collection>> collections();        // ordered by name
    Result<std::optional<Collection>> collection(qint64 id);
    Result<std::optional<Collection>> collectionByName(const QString &name);

    // One transaction for the whole batch; results in input order.
    Result<QList<QueuedDocument>> addQueued(qint64 collectionId, const QList<NewDocument> &docs);
    // One transaction: Hashed, or Duplicate of an existing document with the same SHA-256 in the
    // same collection, or Failed with the error text. Applied in input order (a document listed
    // twice ends with its last update); ids that no longer exist come back Failed, changing nothing.
    Result<QList<HashApplied>> applyHashes(const QList<HashUpdate> &updates);
    // Read only: the newest document of each of `paths` in the collection (absent: none).
    Result<QHash<QByteArray, PathState>> pathStates(qint64 collectionId, const QList<QByteArray> &paths);
    // One transaction: new documents with their hash results, one row write each, in input order:
    // Hashed, or Duplicate of the document with the same SHA-256 in the collection (earlier
    // entries of `docs` included), or Failed, or Cancelled. Paths the collection already has are
    // left alone (AddedDocument::unchanged / conflict). Results in input order.
    Result<QList<AddedDocument>> addHashed(qint64 collectionId, const QList<HashedDocument> &docs);
    // Ids that no longer exist are skipped. Setting Uploading counts an upload attempt (attempts + 1).
    Status setStatus(const QList<qint64> &ids, DocStatus status, const QString &error = {});
    // The upload finished: status Uploaded, where the remote keeps it, error cleared.
    Status setUploaded(qint64 id, const QString &remoteLocation);
    // The same for several finished uploads in one transaction (the upload queue writes its
    // results in batches). Returns the ids that no longer exist; nothing is written for those.
    Result<QList<qint64>> setUploaded(const QList<UploadedDocument> &docs);
    // For the upload queue: sets `to` on those of `ids` whose status is one of `from` right now,
    // in one transaction, and returns the ids it changed, in input order (a conditional claim:
    // another thread or process that got there first wins; the upload queue claims several
    // documents at once this way). Setting Uploading counts an attempt, as setStatus() does.
    Result<QList<qint64>> transitionStatus(const QList<qint64> &ids, const QList<DocStatus> &from,
                                           DocStatus to, const QString &error = {});
    // For the upload queue: gives back documents it claimed (transitionStatus() to Uploading) but
    // never started to upload. Those of `ids` that are `uploading` become `to` (Hashed, or
    // Cancelled), and the attempt the claim counted is taken back. One transaction; returns the
    // ids it changed, in input order.
    Result<QList<qint64>> releaseClaims(const QList<qint64> &ids, DocStatus to = DocStatus::Hashed);
    // For the upload queue: the resume state of a large upload in progress (opaque; "" when
    // there is none). Setting it on a missing document succeeds and does nothing.
    Status setUploadState(qint64 id, const QByteArray &state);
    Result<QByteArray> uploadState(qint64 id);
    // Documents still Queued/Hashing (e.g. after a crash or a cancel), oldest first.
    Result<QList<Document>> unfinishedHashing(qint64 collectionId = 0);

    // Filtering, sorting and paging all happen in SQL. The text (trimmed) matches a substring of
    // the file name ignoring case (SQLite folds ASCII letters only) or, when it is hexadecimal, a
    // prefix of the SHA-256. Name sorts ignoring case, Status in lifecycle order (queued first),
    // Sha256 with unhashed documents first when ascending; ties go by id, in the same direction.
    Result<QList<Document>> documents(const DocumentQuery &query);
    Result<qint64> countDocuments(const DocumentQuery &query);   // ignores offset/limit
    Result<std::optional<Document>> document(qint64 id);
    Result<QHash<DocStatus, qint64>> statusCounts(qint64 collectionId = 0);

    // Removes the documents and returns them as they were, so restoreDocuments() can undo it.
    Result<QList<Document>> removeDocuments(const QList<qint64> &ids);
    // Same ids as before; all or nothing (fails if one of the ids exists). An original whose content
    // was added again in the meantime comes back as a Duplicate of that newer document.
    Status restoreDocuments(const QList<Document> &docs);

private:
    // The public members run these through retryTransient() (transaction.h): a lost connection,
    // a deadlock or a lock wait that timed out is tried again a few times (never after a COMMIT
    // that may have happened), then reported.
    Status openOnce();
    Result<QHash<QString, QString>> machineNamesOnce();
    Result<int> schemaVersionOnce();
    Result<qint64> createCollectionOnce(const QString &name, const QString &remote);
    Status renameCollectionOnce(qint64 id, const QString &newName);
    Status setCollectionRemoteOnce(qint64 id, const QString &remote);
    Status removeCollectionOnce(qint64 id);
    Result<QList<Collection>> collectionsOnce();
    Result<std::optional<Collection>> collectionOnce(qint64 id);
    Result<std::optional<Collection>> collectionByNameOnce(const QString &name);
    Result<QList<QueuedDocument>> addQueuedOnce(qint64 collectionId, const QList<NewDocument> &docs);
    Result<QHash<QByteArray, PathState>> pathStatesOnce(qint64 collectionId, const QList<QByteArray> &paths);
    Result<QList<AddedDocument>> addHashedOnce(qint64 collectionId, const QList<HashedDocument> &docs);
    Result<QList<HashApplied>> applyHashesOnce(const QList<HashUpdate> &updates);
    Status setStatusOnce(const QList<qint64> &ids, DocStatus status, const QString &error);
    Result<QList<qint64>> setUploadedOnce(const QList<UploadedDocument> &docs);
    Status setUploadStateOnce(qint64 id, const QByteArray &state);
    Result<QByteArray> uploadStateOnce(qint64 id);
    Result<QList<qint64>> transitionStatusOnce(const QList<qint64> &ids, const QList<DocStatus> &from, DocStatus to, const QString &error);
    Result<QList<qint64>> releaseClaimsOnce(const QList<qint64> &ids, DocStatus to);
    Result<QList<Document>> unfinishedHashingOnce(qint64 collectionId);
    Result<QList<Document>> documentsOnce(const DocumentQuery &query);
    Result<qint64> countDocumentsOnce(const DocumentQuery &query);
    Result<std::optional<Document>> documentOnce(qint64 id);
    Result<QHash<DocStatus, qint64>> statusCountsOnce(qint64 collectionId);
    Result<QList<Document>> removeDocumentsOnce(const QList<qint64> &ids);
    Status restoreDocumentsOnce(const QList<Document> &docs);

    // PostgreSQL: after this many new rows, the planner's statistics are brought up to date.
    void noteRowsAdded(qint64 rows);

    CatalogConfig m_config;
    QString m_where;   // m_config.displayLocation(), for messages
    std::unique_ptr<ConnectionManager> m_connections;   // keeps QtSql out of this header
    std::atomic<qint64> m_rowsSinceAnalyze{0};
};

} // namespace quire
