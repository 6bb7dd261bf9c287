// Catalog members that write documents: adding them, recording hash and upload results, status
// changes, removal and restore (the reads are in catalog.cpp, the SQL both share in catalogsql.cpp).

#include "catalog/catalog.h"

#include "catalog/catalogsql.h"
#include "catalog/dbconnections.h"
#include "catalog/machine.h"
#include "catalog/transaction.h"

#include <QCoreApplication>
#include <QMap>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>

namespace quire {

using namespace catalogsql;

namespace {

// The translation context of the messages below (Catalog is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Catalog)
};

} // namespace

Result<QList<QueuedDocument>> Catalog::addQueued(qint64 collectionId, const QList<NewDocument> &docs)
{
    return retryTransient([&] { return addQueuedOnce(collectionId, docs); }, m_where);
}

Result<QList<QueuedDocument>> Catalog::addQueuedOnce(qint64 collectionId, const QList<NewDocument> &docs)
{
    using R = Result<QList<QueuedDocument>>;
    const QString what = Tr::tr("Could not add %n document(s) to collection %1", nullptr, int(docs.size())).arg(collectionId);
    if (docs.isEmpty())
        return QList<QueuedDocument>();
    for (const NewDocument &d : docs) {
        if (d.sourcePath.isEmpty())
            return R::failure(what + QLatin1StringView(": ") + Tr::tr("a document has no source path"));
    }
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());

    // Statements are prepared once and reused; lookups and inserts go a chunk of rows at a time,
    // which matters most for PostgreSQL, where every statement is a network round trip.
    QSqlQuery reset = makeQuery(*db);
    ChunkedQuery insert(*m_connections, isMariaDb(*db) ? &insertQueuedSql<false> : &insertQueuedSql<true>, kInsertChunk);
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());

    if (Status s = requireCollection(*m_connections, collectionId, what); !s)
        return R::failure(s.error());
    if (Status s = prepare(reset, QStringLiteral("UPDATE documents SET status = 'queued', error = '', sha256 = NULL, "
                                                 "duplicate_of = NULL, file_name = ?, size = ?, mtime_ms = ?, "
                                                 "updated = ?, machine_id = '%1' WHERE id = ?").arg(thisMachine().id), what); !s)
        return R::failure(s.error());

    // What the catalog knows about each distinct path: its newest row, or the slot of the row
    // this batch is about to insert for it (a path twice in one batch is one document).
    struct Known
    {
        qint64 id = 0;
        DocStatus status = DocStatus::Queued;
        qint64 size = 0;
        qint64 mtimeMs = 0;
        qsizetype insertSlot = -1;
    };
    QHash<QByteArray, Known> known;
    {
        QList<QByteArray> paths;
        paths.reserve(docs.size());
        for (const NewDocument &d : docs)
            paths.append(d.sourcePath);
        auto rows = newestRows(*m_connections, collectionId, distinct(paths), what);
        if (!rows)
            return R::failure(rows.error());
        for (auto it = rows->cbegin(); it != rows->cend(); ++it)
            known.insert(it.key(), Known{it->id, it->status, it->size, it->mtimeMs, -1});
    }

    const qint64 now = nowMs();
    QList<QueuedDocument> out(docs.size());
    QList<qsizetype> slotOf(docs.size(), -1);   // docs[i] is inserted as inserts[slotOf[i]]
    QList<NewDocument> inserts;
    for (qsizetype i = 0; i < docs.size(); ++i) {
        const NewDocument &d = docs[i];
        const auto it = known.find(d.sourcePath);
        if (it != known.end()) {
            Known &k = *it;
            if (k.insertSlot >= 0) {   // earlier in this batch: the later entry's details win
                inserts[k.insertSlot] = d;
                slotOf[i] = k.insertSlot;
                continue;
            }
            switch (k.status) {
            case DocStatus::Queued:
            case DocStatus::Hashing:
            case DocStatus::Failed:
            case DocStatus::Cancelled:
                // Not (successfully) hashed yet: hash it again, whatever changed.
                if (Status s = run(reset, what, {text(d.fileName), qlonglong(d.size), qlonglong(d.mtimeMs), now,
                                                 qlonglong(k.id)}); !s)
                    return R::failure(s.error());
                k.status = DocStatus::Queued;
                k.size = d.size;
                k.mtimeMs = d.mtimeMs;
                out[i] = {k.id, false};
                continue;
            default:
                if (k.size == d.size && k.mtimeMs == d.mtimeMs) {
                    out[i] = {k.id, true};
                    continue;
                }
                // The file changed since it was hashed: a new document; the old one stays as it was.
                break;
            }
        }
        known[d.sourcePath] = Known{0, DocStatus::Queued, d.size, d.mtimeMs, inserts.size()};
        slotOf[i] = inserts.size();
        inserts.append(d);
    }

    // RETURNING names the path with each id, so nothing depends on the order of returned rows.
    QList<qint64> insertedIds(inserts.size(), 0);
    const Status inserted = insert.run(inserts.size(), what, [&](QSqlQuery &q, qsizetype first, qsizetype n) {
        int column = 0;
        for (qsizetype i = 0; i < n; ++i) {
            const NewDocument &d = inserts[first + i];
            for (const QVariant &v : {QVariant(qlonglong(collectionId)), text(d.fileName), QVariant(d.sourcePath),
                                      QVariant(qlonglong(d.size)), QVariant(qlonglong(d.mtimeMs)), QVariant(now),
                                      QVariant(now), QVariant(thisMachine().id)})
                q.bindValue(column++, v);
        }
    }, [&](QSqlQuery &q, qsizetype n) {
        const auto rows = insertedDocuments(*m_connections, *db, q, n, what);
        if (!rows)
            return Status::failure(rows.error());
        for (const auto &[id, path] : *rows) {
            const auto it = known.constFind(path);
            if (it != known.constEnd() && it->insertSlot >= 0)
                insertedIds[it->insertSlot] = id;
        }
        return Status();
    });
    if (!inserted)
        return R::failure(inserted.error());
    for (qsizetype i = 0; i < docs.size(); ++i) {
        if (slotOf[i] < 0)
            continue;
        const qint64 id = insertedIds[slotOf[i]];
        if (id <= 0)
            return R::failure(what + QLatin1StringView(": ") + Tr::tr("the database returned no id for a new document"));
        out[i] = {id, false};
    }
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    noteRowsAdded(inserts.size());
    return out;
}

Result<QList<AddedDocument>> Catalog::addHashed(qint64 collectionId, const QList<HashedDocument> &docs)
{
    return retryTransient([&] { return addHashedOnce(collectionId, docs); }, m_where);
}

Result<QList<AddedDocument>> Catalog::addHashedOnce(qint64 collectionId, const QList<HashedDocument> &docs)
{
    using R = Result<QList<AddedDocument>>;
    const QString what = Tr::tr("Could not add %n document(s) to collection %1", nullptr, int(docs.size())).arg(collectionId);
    if (docs.isEmpty())
        return QList<AddedDocument>();
    for (const HashedDocument &d : docs) {
        if (d.doc.sourcePath.isEmpty())
            return R::failure(what + QLatin1StringView(": ") + Tr::tr("a document has no source path"));
        if (!d.cancelled && d.error.isEmpty() && !isSha256Hex(d.sha256.toLower()))
            return R::failure(what + QLatin1StringView(": ") + Tr::tr("%1 has no valid SHA-256 (\"%2\")")
                                             .arg(text(d.doc.fileName).toString(), QString::fromLatin1(d.sha256.left(80))));
    }
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());

    ChunkedQuery insert(*m_connections, isMariaDb(*db) ? &insertHashedSql<false> : &insertHashedSql<true>, kInsertChunk);
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());

    if (Status s = requireCollection(*m_connections, collectionId, what); !s)
        return R::failure(s.error());

    // Paths the collection has already (looked up again inside the transaction: another ingest
    // may have added them since the caller last looked).
    QList<AddedDocument> out(docs.size());
    QHash<QByteArray, qsizetype> firstIndex;   // path -> its first entry in docs
    QList<QByteArray> paths;
    for (qsizetype i = 0; i < docs.size(); ++i) {
        const QByteArray &path = docs[i].doc.sourcePath;
        if (firstIndex.contains(path)) {
            out[i].conflict = true;   // listed twice: let addQueued() merge the entries
            continue;
        }
        firstIndex.insert(path, i);
        paths.append(path);
    }
    {
        auto rows = newestRows(*m_connections, collectionId, paths, what);
        if (!rows)
            return R::failure(rows.error());
        for (auto it = rows->cbegin(); it != rows->cend(); ++it) {
            const qsizetype i = firstIndex.value(it.key());
            const PathState &state = it.value();
            const NewDocument &d = docs[i].doc;
            const bool hashedOrBeyond = state.status != DocStatus::Queued && state.status != DocStatus::Hashing
                                     && state.status != DocStatus::Failed && state.status != DocStatus::Cancelled;
            if (hashedOrBeyond && state.size == d.size && state.mtimeMs == d.mtimeMs)
                out[i] = AddedDocument{state.id, state.status, 0, true, false};
            else
                out[i].conflict = true;
        }
    }

    // The originals already in the collection for the contents of this batch.
    QHash<QByteArray, qint64> originals;   // sha256 -> id
    {
        QList<QByteArray> shas;
        for (qsizetype i = 0; i < docs.size(); ++i) {
            if (!out[i].conflict && !out[i].unchanged && !docs[i].cancelled && docs[i].error.isEmpty())
                shas.append(docs[i].sha256.toLower());
        }
        auto found = originalsOf(*m_connections, collectionId, distinct(shas), what);
        if (!found)
            return R::failure(found.error());
        originals = std::move(*found);
    }

    // Decide in input order. A duplicate of a document of this same batch needs that document's
    // id, which exists only once it is inserted: such rows go in a second round.
    const qint64 now = nowMs();
    QList<qsizetype> firstRound, secondRound;
    QHash<QByteArray, qsizetype> batchOriginal;   // sha256 -> index in docs of its new original
    for (qsizetype i = 0; i < docs.size(); ++i) {
        AddedDocument &a = out[i];
        if (a.conflict || a.unchanged)
            continue;
        const HashedDocument &d = docs[i];
        if (d.cancelled) {
            a.status = DocStatus::Cancelled;
        } else if (!d.error.isEmpty()) {
            a.status = DocStatus::Failed;
        } else {
            const QByteArray sha = d.sha256.toLower();
            if (const qint64 original = originals.value(sha, 0)) {
                a.status = DocStatus::Duplicate;
                a.duplicateOf = original;
            } else if (batchOriginal.contains(sha)) {
                a.status = DocStatus::Duplicate;   // duplicateOf once the original has its id
                secondRound.append(i);
                continue;
            } else {
                a.status = DocStatus::Hashed;
                batchOriginal.insert(sha, i);
            }
        }
        firstRound.append(i);
    }

    auto insertRows = [&](const QList<qsizetype> &rows) {
        return insert.run(rows.size(), what, [&](QSqlQuery &q, qsizetype first, qsizetype n) {
            int column = 0;
            for (qsizetype k = 0; k < n; ++k) {
                const qsizetype i = rows[first + k];
                const HashedDocument &d = docs[i];
                const AddedDocument &a = out[i];
                const bool hashed = a.status == DocStatus::Hashed || a.status == DocStatus::Duplicate;
                for (const QVariant &v : {QVariant(qlonglong(collectionId)), text(d.doc.fileName),
                                          QVariant(d.doc.sourcePath), QVariant(qlonglong(d.doc.size)),
                                          QVariant(qlonglong(d.doc.mtimeMs)),
                                          hashed ? nullableText(d.sha256.toLower()) : nullableText({}),
                                          statusValue(a.status),
                                          text(a.status == DocStatus::Failed ? d.error : QString()),
                                          nullableId(a.duplicateOf), QVariant(now), QVariant(now),
                                          QVariant(thisMachine().id)})
                    q.bindValue(column++, v);
            }
        }, [&](QSqlQuery &q, qsizetype n) {
            const auto inserted = insertedDocuments(*m_connections, *db, q, n, what);
            if (!inserted)
                return Status::failure(inserted.error());
            for (const auto &[id, path] : *inserted) {
                const qsizetype i = firstIndex.value(path, -1);
                if (i >= 0)
                    out[i].id = id;
            }
            return Status();
        });
    };
    if (Status s = insertRows(firstRound); !s)
        return R::failure(s.error());
    for (qsizetype i : std::as_const(secondRound))
        out[i].duplicateOf = out[batchOriginal.value(docs[i].sha256.toLower())].id;
    if (Status s = insertRows(secondRound); !s)
        return R::failure(s.error());
    for (qsizetype i = 0; i < docs.size(); ++i) {
        if (!out[i].conflict && !out[i].unchanged && out[i].id <= 0)
            return R::failure(what + QLatin1StringView(": ") + Tr::tr("the database returned no id for a new document"));
    }
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    noteRowsAdded(docs.size());
    return out;
}

void Catalog::noteRowsAdded(qint64 rows)
{
    // PostgreSQL plans the batched lookups (paths, hashes) from its statistics, which autovacuum
    // refreshes a minute or more after a table grew. While a big folder is being added the
    // table is much larger than they say, and the lookups became scans of it: 17-20 ms each at
    // 10,000 rows instead of well under one. Refreshed every few thousand new rows (an ANALYZE of
    // the documents table takes milliseconds); best effort, the next batch tries again.
    constexpr qint64 kRowsPerAnalyze = 2000;
    if (!m_config.isPostgres() || m_rowsSinceAnalyze.fetch_add(rows, std::memory_order_relaxed) + rows < kRowsPerAnalyze)
        return;
    m_rowsSinceAnalyze.store(0, std::memory_order_relaxed);
    if (Result<QSqlDatabase> db = m_connections->database()) {
        QSqlQuery q(*db);
        if (!q.exec(QStringLiteral("ANALYZE documents")))
            qWarning("quire: %s", qPrintable(sqlErrorText(QStringLiteral("Could not refresh the catalog's statistics"), q.lastError())));
    }
}

Result<QList<HashApplied>> Catalog::applyHashes(const QList<HashUpdate> &updates)
{
    return retryTransient([&] { return applyHashesOnce(updates); }, m_where);
}

Result<QList<HashApplied>> Catalog::applyHashesOnce(const QList<HashUpdate> &updates)
{
    using R = Result<QList<HashApplied>>;
    const QString what = Tr::tr("Could not record %n hash result(s)", nullptr, int(updates.size()));
    if (updates.isEmpty())
        return QList<HashApplied>();
    for (const HashUpdate &u : updates) {
        if (u.error.isEmpty() && !isSha256Hex(u.sha256.toLower()))
            return R::failure(what + QLatin1StringView(": ") + Tr::tr("document %1 has no valid SHA-256 (\"%2\")")
                                             .arg(u.id).arg(QString::fromLatin1(u.sha256.left(80))));
    }
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());

    QSqlQuery setFailed = makeQuery(*db), setHashed = makeQuery(*db);
    // Many rows per UPDATE. VALUES columns are called column1, column2, ... in SQLite and
    // PostgreSQL; the casts give PostgreSQL the parameter types it cannot infer inside VALUES.
    // MariaDB has no UPDATE … FROM: it joins a derived table of the same columns.
    const auto standardSql = [](qsizetype n) {
        return QStringLiteral("UPDATE documents SET status = v.column2, sha256 = v.column3, duplicate_of = v.column4, "
                              "error = '', size = v.column5, mtime_ms = v.column6, updated = v.column7 "
                              "FROM (VALUES %1) AS v WHERE documents.id = v.column1")
                .arg(repeated(QStringLiteral("(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), "
                                             "CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"), n));
    };
    const auto mariaDbSql = [](qsizetype n) {
        return QStringLiteral("UPDATE documents JOIN (SELECT ? AS column1, ? AS column2, ? AS column3, ? AS column4, "
                              "? AS column5, ? AS column6, ? AS column7%1) AS v ON documents.id = v.column1 "
                              "SET documents.status = v.column2, documents.sha256 = v.column3, "
                              "documents.duplicate_of = v.column4, documents.error = '', documents.size = v.column5, "
                              "documents.mtime_ms = v.column6, documents.updated = v.column7")
                .arg(QString(QStringLiteral(" UNION ALL SELECT ?, ?, ?, ?, ?, ?, ?")).repeated(n - 1));
    };
    ChunkedQuery setHashedRows(*m_connections, isMariaDb(*db) ? ChunkedQuery::Sql(mariaDbSql) : ChunkedQuery::Sql(standardSql),
                               kInsertChunk);
    ChunkedQuery readCurrent(*m_connections, [](qsizetype n) {
        return QStringLiteral("SELECT id, collection_id, status, sha256 FROM documents WHERE id IN (%1)").arg(marks(n));
    }, kLookupChunk);
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());
    const Status prepared[] = {
        prepare(setFailed, QStringLiteral("UPDATE documents SET status = 'failed', error = ?, sha256 = NULL, "
                                          "duplicate_of = NULL, updated = ? WHERE id = ?"), what),
        prepare(setHashed, QStringLiteral("UPDATE documents SET status = ?, sha256 = ?, duplicate_of = ?, error = '', "
                                          "size = ?, mtime_ms = ?, updated = ? WHERE id = ?"), what),
    };
    for (const Status &s : prepared) {
        if (!s)
            return R::failure(s.error());
    }

    // Where every document of the batch stands now.
    struct Current
    {
        qint64 collectionId = 0;
        DocStatus status = DocStatus::Queued;
        QByteArray sha256;
    };
    QHash<qint64, Current> current;
    QList<qint64> ids;
    ids.reserve(updates.size());
    for (const HashUpdate &u : updates)
        ids.append(u.id);
    ids = distinct(ids);
    const Status read = readCurrent.run(ids.size(), what, [&](QSqlQuery &q, qsizetype first, qsizetype n) {
        for (qsizetype i = 0; i < n; ++i)
            q.bindValue(int(i), qlonglong(ids[first + i]));
    }, [&](QSqlQuery &q, qsizetype) {
        while (q.next()) {
            current.insert(q.value(0).toLongLong(),
                           Current{q.value(1).toLongLong(),
                                   statusFromName(q.value(2).toString()).value_or(DocStatus::Failed),
                                   q.value(3).isNull() ? QByteArray() : q.value(3).toString().toLatin1()});
        }
        return Status();
    });
    if (!read)
        return R::failure(read.error());
    // The hashes to look for, per collection (usually one), so the lookups use the index.
    QMap<qint64, QList<QByteArray>> shasByCollection;
    {
        QSet<std::pair<qint64, QByteArray>> seen;
        for (const HashUpdate &u : updates) {
            const auto cur = current.constFind(u.id);
            if (!u.error.isEmpty() || cur == current.constEnd())
                continue;
            const std::pair<qint64, QByteArray> key{cur->collectionId, u.sha256.toLower()};
            if (!seen.contains(key)) {
                seen.insert(key);
                shasByCollection[key.first].append(key.second);
            }
        }
    }
    // (collection, sha256) -> the original document holding that content.
    QHash<std::pair<qint64, QByteArray>, qint64> originals;
    for (auto it = shasByCollection.cbegin(); it != shasByCollection.cend(); ++it) {
        auto found = originalsOf(*m_connections, it.key(), it.value(), what);
        if (!found)
            return R::failure(found.error());
        for (auto o = found->cbegin(); o != found->cend(); ++o)
            originals.insert({it.key(), o.key()}, o.value());
    }

    // Hashed/Duplicate rows are written kInsertChunk at a time. A row that gives up being an
    // original is written at once (single-row statement) instead: a later row in the batch may
    // take over that content, and the unique index must never see both at the same time.
    const qint64 now = nowMs();
    QList<QVariant> pending;
    QSet<qint64> pendingIds;
    constexpr qsizetype kColumns = 7;
    auto flush = [&]() -> Status {
        const qsizetype rows = pending.size() / kColumns;
        const Status s = setHashedRows.run(rows, what, [&](QSqlQuery &q, qsizetype first, qsizetype n) {
            for (qsizetype i = 0; i < n * kColumns; ++i)
                q.bindValue(int(i), pending[first * kColumns + i]);
        });
        if (!s)
            return s;
        pending.clear();
        pendingIds.clear();
        return {};
    };

    // Decide in input order, keeping `originals` up to date, so two files with the same content
    // in one batch end up as one Hashed and one Duplicate.
    QList<HashApplied> out;
    out.reserve(updates.size());
    for (const HashUpdate &u : updates) {
        const auto cur = current.find(u.id);
        if (cur == current.end()) {
            // Removed while it was being hashed: nothing to record, and not worth failing the batch.
            out.append({u.id, DocStatus::Failed, 0});
            continue;
        }
        // Whatever content this document was the original of, it is not any more.
        bool writeNow = false;
        if (cur->status != DocStatus::Duplicate && !cur->sha256.isEmpty()) {
            const auto held = originals.find({cur->collectionId, cur->sha256});
            if (held != originals.end() && *held == u.id)
                originals.erase(held);
            writeNow = true;
        }
        // The same document twice in one chunk: one UPDATE ... FROM would apply only one of them.
        if (pendingIds.contains(u.id)) {
            if (Status s = flush(); !s)
                return R::failure(s.error());
        }

        if (!u.error.isEmpty()) {
            if (Status s = run(setFailed, what, {u.error, now, qlonglong(u.id)}); !s)
                return R::failure(s.error());
            cur->status = DocStatus::Failed;
            cur->sha256.clear();
            out.append({u.id, DocStatus::Failed, 0});
            continue;
        }

        const QByteArray sha = u.sha256.toLower();
        const std::pair<qint64, QByteArray> key{cur->collectionId, sha};
        const qint64 original = originals.value(key, 0);
        const DocStatus status = original ? DocStatus::Duplicate : DocStatus::Hashed;
        if (!original)
            originals.insert(key, u.id);
        if (writeNow) {
            if (Status s = run(setHashed, what, {statusValue(status), QString::fromLatin1(sha), nullableId(original),
                                                 qlonglong(u.size), qlonglong(u.mtimeMs), now, qlonglong(u.id)}); !s)
                return R::failure(s.error());
        } else {
            pending << qlonglong(u.id) << statusValue(status) << QString::fromLatin1(sha) << nullableId(original)
                    << qlonglong(u.size) << qlonglong(u.mtimeMs) << now;
            pendingIds.insert(u.id);
            if (pending.size() >= kInsertChunk * kColumns) {
                if (Status s = flush(); !s)
                    return R::failure(s.error());
            }
        }
        cur->status = status;
        cur->sha256 = sha;
        out.append({u.id, status, original});
    }
    if (Status s = flush(); !s)
        return R::failure(s.error());
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    return out;
}

Status Catalog::setStatus(const QList<qint64> &ids, DocStatus status, const QString &error)
{
    return retryTransient([&] { return setStatusOnce(ids, status, error); }, m_where);
}

Status Catalog::setStatusOnce(const QList<qint64> &ids, DocStatus status, const QString &error)
{
    const QString what = Tr::tr("Could not set %n document(s) to %1", nullptr, int(ids.size())).arg(statusName(status));
    if (ids.isEmpty())
        return {};
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());
    QSqlQuery update = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    if (Status s = prepare(update, QStringLiteral("UPDATE documents SET status = ?, error = ?, updated = ?, "
                                                  "attempts = attempts + ? WHERE id = ?"), what); !s)
        return s;
    const qint64 now = nowMs();
    const int attempt = status == DocStatus::Uploading ? 1 : 0;
    for (const qint64 id : ids) {
        if (Status s = run(update, what, {statusValue(status), text(error), now, attempt, qlonglong(id)}); !s)
            return s;
    }
    return tx.commit();
}

Status Catalog::setUploaded(qint64 id, const QString &remoteLocation)
{
    const auto missing = setUploaded(QList<UploadedDocument>{{id, remoteLocation}});
    if (!missing)
        return Status::failure(missing.error());
    if (!missing->isEmpty())
        return Status::failure(Tr::tr("Could not mark document %1 as uploaded: there is no such document").arg(id));
    return {};
}

Result<QList<qint64>> Catalog::setUploaded(const QList<UploadedDocument> &docs)
{
    return retryTransient([&] { return setUploadedOnce(docs); }, m_where);
}

Result<QList<qint64>> Catalog::setUploadedOnce(const QList<UploadedDocument> &docs)
{
    using R = Result<QList<qint64>>;
    const QString what = docs.size() == 1 ? Tr::tr("Could not mark document %1 as uploaded").arg(docs.first().id)
                                          : Tr::tr("Could not mark %n documents as uploaded", nullptr, int(docs.size()));
    if (docs.isEmpty())
        return QList<qint64>();
    // One row per execution of a statement prepared once per connection: each row says whether
    // its document still exists, and the transaction, not the statement, is what costs.
    const qint64 now = nowMs();
    const Result<QList<bool>> changed = updateEach(
            *m_connections,
            QStringLiteral("UPDATE documents SET status = 'uploaded', remote_location = ?, error = '', updated = ? "
                           "WHERE id = ?"),
            docs.size(), [&](QSqlQuery &update, qsizetype i) {
                return run(update, what, {text(docs[i].remoteLocation), now, qlonglong(docs[i].id)});
            }, what);
    if (!changed)
        return R::failure(changed.error());
    QList<qint64> missing;
    for (qsizetype i = 0; i < docs.size(); ++i) {
        if (!changed->at(i))
            missing.append(docs[i].id);
    }
    return missing;
}

Status Catalog::setUploadState(qint64 id, const QByteArray &state)
{
    return retryTransient([&] { return setUploadStateOnce(id, state); }, m_where);
}

Status Catalog::setUploadStateOnce(qint64 id, const QByteArray &state)
{
    return writeOne(*m_connections, QStringLiteral("UPDATE documents SET upload_state = ? WHERE id = ?"),
                    {text(QString::fromLatin1(state)), qlonglong(id)},
                    Tr::tr("Could not record the upload state of document %1").arg(id));
}

Result<QList<qint64>> Catalog::transitionStatus(const QList<qint64> &ids, const QList<DocStatus> &from,
                                                DocStatus to, const QString &error)
{
    return retryTransient([&] { return transitionStatusOnce(ids, from, to, error); }, m_where);
}

Result<QList<qint64>> Catalog::transitionStatusOnce(const QList<qint64> &ids, const QList<DocStatus> &from,
                                                DocStatus to, const QString &error)
{
    const QString what = Tr::tr("Could not set %n document(s) to %1", nullptr, int(ids.size())).arg(statusName(to));
    return transition(*m_connections, ids, from, to, error, to == DocStatus::Uploading ? 1 : 0, what);
}

Result<QList<qint64>> Catalog::releaseClaims(const QList<qint64> &ids, DocStatus to)
{
    return retryTransient([&] { return releaseClaimsOnce(ids, to); }, m_where);
}

Result<QList<qint64>> Catalog::releaseClaimsOnce(const QList<qint64> &ids, DocStatus to)
{
    const QString what = Tr::tr("Could not give back %n claimed document(s) as %1", nullptr, int(ids.size())).arg(statusName(to));
    return transition(*m_connections, ids, {DocStatus::Uploading}, to, QString(), -1, what);
}

Result<QList<Document>> Catalog::removeDocuments(const QList<qint64> &ids)
{
    return retryTransient([&] { return removeDocumentsOnce(ids); }, m_where);
}

Result<QList<Document>> Catalog::removeDocumentsOnce(const QList<qint64> &ids)
{
    using R = Result<QList<Document>>;
    const QString what = Tr::tr("Could not remove %n document(s)", nullptr, int(ids.size()));
    if (ids.isEmpty())
        return QList<Document>();
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery read = makeQuery(*db), remove = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());
    if (Status s = prepare(read, QStringLiteral("SELECT %1 FROM documents WHERE id = ?").arg(kDocColumns), what); !s)
        return R::failure(s.error());
    if (Status s = prepare(remove, QStringLiteral("DELETE FROM documents WHERE id = ?"), what); !s)
        return R::failure(s.error());
    QList<Document> out;
    for (const qint64 id : ids) {
        if (Status s = run(read, what, {qlonglong(id)}); !s)
            return R::failure(s.error());
        if (!read.next())
            continue;   // already gone
        out.append(readDocument(read));
        read.finish();
        if (Status s = run(remove, what, {qlonglong(id)}); !s)
            return R::failure(s.error());
    }
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    return out;
}

Status Catalog::restoreDocuments(const QList<Document> &docs)
{
    return retryTransient([&] { return restoreDocumentsOnce(docs); }, m_where);
}

Status Catalog::restoreDocumentsOnce(const QList<Document> &docs)
{
    const QString what = Tr::tr("Could not restore %n document(s)", nullptr, int(docs.size()));
    if (docs.isEmpty())
        return {};
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());
    const bool pg = isPostgres(*db);
    QSqlQuery findOriginal = makeQuery(*db), insert = makeQuery(*db), sequence = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    const Status prepared[] = {
        prepare(findOriginal, QStringLiteral("SELECT id FROM documents WHERE collection_id = ? AND sha256 = ? "
                                             "AND status <> 'duplicate' ORDER BY id LIMIT 1"), what),
        prepare(insert, QStringLiteral("INSERT INTO documents (%1) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                                .arg(kDocColumns), what),
    };
    for (const Status &s : prepared) {
        if (!s)
            return s;
    }

    for (const Document &d : docs) {
        DocStatus status = d.status;
        qint64 duplicateOf = d.duplicateOf;
        if (!d.sha256.isEmpty() && status != DocStatus::Duplicate) {
            // The same content may have been added again since the removal; the restored copy then
            // becomes its duplicate instead of breaking the one-original-per-content rule.
            if (Status s = run(findOriginal, what, {qlonglong(d.collectionId), QString::fromLatin1(d.sha256)}); !s)
                return s;
            if (findOriginal.next()) {
                status = DocStatus::Duplicate;
                duplicateOf = findOriginal.value(0).toLongLong();
            }
            findOriginal.finish();
        }
        const Status s = run(insert, what,
                             {qlonglong(d.id), qlonglong(d.collectionId), text(d.fileName), d.sourcePath,
                              qlonglong(d.size), qlonglong(d.mtimeMs), nullableText(d.sha256), statusValue(status),
                              text(d.error), text(d.remoteLocation), d.attempts, nullableId(duplicateOf),
                              qlonglong(d.added.isValid() ? d.added.toMSecsSinceEpoch() : nowMs()),
                              qlonglong(d.updated.isValid() ? d.updated.toMSecsSinceEpoch() : nowMs()),
                              text(d.machineId)});
        if (!s)
            return s;
    }

    if (pg) {
        // Explicit ids bypass the identity sequence; move it past them so later inserts cannot
        // collide (SQLite's AUTOINCREMENT does this by itself).
        if (!sequence.exec(QStringLiteral(
                    "SELECT setval('documents_id_seq', t.m) FROM (SELECT MAX(id) AS m FROM documents) t, "
                    "documents_id_seq s WHERE t.m > s.last_value OR NOT s.is_called")))
            return Status::failure(sqlErrorText(Tr::tr("%1 (advancing the id sequence)").arg(what), sequence.lastError()));
    }
    return tx.commit();
}

} // namespace quire
