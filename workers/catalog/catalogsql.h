#pragma once

// The SQL behind Catalog, shared by its reads (catalog.cpp) and its writes (catalogwrites.cpp):
// how values are bound and read back, the statement texts, and the batched lookups. Private to
// the catalog; nothing outside it includes this.

#include "catalog/catalog.h"
#include "catalog/transaction.h"
#include "jobs/result.h"

#include <QHash>
#include <QList>
#include <QSet>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QVariant>

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

namespace quire {

class ConnectionManager;

namespace catalogsql {

// Every column of `documents`, in the order readDocument() expects.
inline constexpr QLatin1StringView kDocColumns(
        "id, collection_id, file_name, source_path, size, mtime_ms, sha256, status, error, "
        "remote_location, attempts, duplicate_of, added, updated, machine_id");

inline constexpr qsizetype kLookupChunk = 256;   // ids or paths per "IN (...)" lookup (SQLite parses n parameters in O(n²))
inline constexpr qsizetype kInsertChunk = 64;    // rows per multi-row INSERT or UPDATE

// Documents this machine may upload: its own and those of no machine (from before machines were
// recorded). The id is a literal: thisMachine() allows only [A-Za-z0-9._-] in it.
QString thisMachineCondition(QLatin1StringView column = QLatin1StringView("machine_id"));

// Bound values. A null QString binds as SQL NULL; text() gives the NOT NULL text columns a real
// empty string instead. nullableText()/nullableId(): NULL for an empty hash or a zero id.
QVariant text(const QString &s);
QVariant nullableText(const QByteArray &latin1);
QVariant nullableId(qint64 id);
QVariant statusValue(DocStatus status);
qint64 nowMs();

// The statuses as a quoted SQL list ("'queued', 'hashing'"), for "status IN (...)".
QString statusList(const QList<DocStatus> &statuses);
bool isSha256Hex(const QByteArray &sha);

// A query on `db`, buffered or forward-only as suits its driver.
QSqlQuery makeQuery(const QSqlDatabase &db);
Status prepare(QSqlQuery &q, const QString &sql, const QString &what);
// Binds values in order and runs the query.
Status run(QSqlQuery &q, const QString &what, std::initializer_list<QVariant> values);
Status run(QSqlQuery &q, const QString &what, const QVariantList &values);
// A read: `sql` prepared on a new query of `db`, `values` bound in order, run; the query is left
// before its first row.
Result<QSqlQuery> select(const QSqlDatabase &db, const QString &sql, const QVariantList &values, const QString &what);
// `sql` with `values` bound in order, in a write transaction of its own on the calling thread's
// connection. With `noRow` given, a statement that changed no row fails with it ("what: noRow")
// and nothing is committed.
Status writeOne(ConnectionManager &connections, const QString &sql, std::initializer_list<QVariant> values,
                const QString &what, const QString &noRow = {});

Document readDocument(const QSqlQuery &q);
Collection readCollection(const QSqlQuery &q);

// Every row of a query that ran, as `read` makes it; fails when stepping through them does.
template <typename T>
Result<QList<T>> readAll(QSqlQuery &q, T (*read)(const QSqlQuery &), const QString &what)
{
    QList<T> out;
    while (q.next())
        out.append(read(q));
    if (q.lastError().isValid())
        return Result<QList<T>>::failure(sqlErrorText(what, q.lastError()));
    return out;
}

// The first row of a query that ran, as `read` makes it; nullopt when there is none.
template <typename T>
std::optional<T> readFirst(QSqlQuery &q, T (*read)(const QSqlQuery &))
{
    if (q.next())
        return read(q);
    return std::nullopt;
}

// The collections with their document counters, `where` (a "WHERE c.…" clause or empty) picking
// which; columns as readCollection() expects them.
QString collectionSelect(const QSqlDatabase &db, const QString &where);

// WHERE clause and bound values shared by documents() and countDocuments(). Only placeholders
// carry user input; the SQL text itself is built from constants.
struct Filter
{
    QString where;
    QVariantList values;
};
Filter documentFilter(const QSqlDatabase &db, const DocumentQuery &query);
QString orderBy(const QSqlDatabase &db, const DocumentQuery &query);

QString marks(qsizetype n);                          // "?, ?, …": n placeholders
QString repeated(const QString &item, qsizetype n);  // n times `item`, comma-separated

// Each value once, in first-seen order.
template <typename T>
QList<T> distinct(const QList<T> &values)
{
    QList<T> out;
    QSet<T> seen;
    for (const T &v : values) {
        if (!seen.contains(v)) {
            seen.insert(v);
            out.append(v);
        }
    }
    return out;
}

// A statement whose text depends on how many rows it handles (IN lists, multi-row VALUES).
// A batch runs as full chunks plus a tail split into powers of two, so a few statement texts
// cover every batch size; each is prepared once per connection and then reused
// (ConnectionManager::preparedStatement), which matters because SQLite parses a statement with
// hundreds of parameters in time quadratic in their number.
class ChunkedQuery final
{
public:
    using Sql = QString (*)(qsizetype rows);
    // Binds the values of rows first .. first + n - 1 of the batch.
    using Bind = std::function<void(QSqlQuery &q, qsizetype first, qsizetype n)>;
    // Reads what the statement for n rows returned.
    using Read = std::function<Status(QSqlQuery &q, qsizetype n)>;

    ChunkedQuery(ConnectionManager &connections, Sql sql, qsizetype fullRows);

    // How many rows the next statement takes when `remaining` (> 0) rows are left.
    qsizetype rowsFor(qsizetype remaining) const;
    // The statement for `rows` rows; nullptr and error() on failure.
    std::shared_ptr<QSqlQuery> get(qsizetype rows, const QString &what);
    const QString &error() const { return m_error; }

    // Runs the statement over a batch of `count` rows, a chunk at a time: bind, run, then `read`
    // (when given). Each chunk's statement is finished before the next one.
    Status run(qsizetype count, const QString &what, const Bind &bind, const Read &read = {});

private:
    ConnectionManager &m_connections;
    Sql m_sql;
    qsizetype m_fullRows;
    QString m_error;
};

// The (id, source_path) of each row a multi-row INSERT INTO documents (insertQueuedSql(),
// insertHashedSql()) just made; `rows` is how many it inserted.
Result<QList<std::pair<qint64, QByteArray>>> insertedDocuments(ConnectionManager &connections, const QSqlDatabase &db,
                                                                QSqlQuery &insert, qsizetype rows, const QString &what);

// The many-row INSERT INTO documents of addQueued() and addHashed(): n rows of `row` for
// `columns`, with or without RETURNING (see insertedDocuments()).
QString insertDocumentsSql(QLatin1StringView columns, QLatin1StringView row, qsizetype n, bool returning);
template <bool Returning>
QString insertQueuedSql(qsizetype n)
{
    return insertDocumentsSql(QLatin1StringView("collection_id, file_name, source_path, size, mtime_ms, status, "
                                                "added, updated, machine_id"),
                              QLatin1StringView("(?, ?, ?, ?, ?, 'queued', ?, ?, ?)"), n, Returning);
}
template <bool Returning>
QString insertHashedSql(qsizetype n)
{
    return insertDocumentsSql(QLatin1StringView("collection_id, file_name, source_path, size, mtime_ms, sha256, "
                                                "status, error, duplicate_of, added, updated, machine_id"),
                              QLatin1StringView("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), n, Returning);
}

// The newest row of each of `paths` (distinct) in the collection; absent paths are left out.
Result<QHash<QByteArray, PathState>> newestRows(ConnectionManager &connections, qint64 collectionId,
                                               const QList<QByteArray> &paths, const QString &what);
// The original (non-duplicate) document holding each of `shas` (distinct, lowercase) in the
// collection: sha256 -> id; contents nobody holds yet are left out.
Result<QHash<QByteArray, qint64>> originalsOf(ConnectionManager &connections, qint64 collectionId,
                                              const QList<QByteArray> &shas, const QString &what);
// Inside a write transaction: fails unless the collection exists (a batch for a removed one).
Status requireCollection(ConnectionManager &connections, qint64 collectionId, const QString &what);

// In one write transaction, `sql` (prepared once per connection) runs once for each of `rows`:
// runRow(q, i) binds and runs it for row i. Returns, per row, whether it changed anything.
Result<QList<bool>> updateEach(ConnectionManager &connections, const QString &sql, qsizetype rows,
                               const std::function<Status(QSqlQuery &, qsizetype)> &runRow, const QString &what);

// The conditional status change behind transitionStatus() and releaseClaims(): those of `ids`
// whose status is one of `from` become `to`, in one transaction; returns the ids it changed, in
// input order. `attemptDelta` is added to the attempt count (never below zero).
Result<QList<qint64>> transition(ConnectionManager &connections, const QList<qint64> &ids,
                                 const QList<DocStatus> &from, DocStatus to, const QString &error,
                                 int attemptDelta, const QString &what);

} // namespace catalogsql
} // namespace quire
