#include "catalog/catalog.h"

#include "catalog/dbconnections.h"
#include "catalog/machine.h"
#include "catalog/migrations.h"
#include "platform/nativefs.h"
#include "catalog/transaction.h"

#include <QSqlError>
#include <QMap>
#include <QSet>
#include <QSqlQuery>
#include <QStringList>

#include <algorithm>
#include <bit>
#include <functional>

namespace quire {

namespace {

constexpr qsizetype kMaxCollectionName = 200;

// Every column of `documents`, in the order readDocument() expects.
constexpr QLatin1StringView kDocColumns(
        "id, collection_id, file_name, source_path, size, mtime_ms, sha256, status, error, "
        "remote_location, attempts, duplicate_of, added, updated, machine_id");

// Documents this machine may upload: its own and those of no machine (from before machines were
// recorded). The id is a literal: thisMachine() allows only [A-Za-z0-9._-] in it.
QString thisMachineCondition(QLatin1StringView column = QLatin1StringView("machine_id"))
{
    Q_ASSERT(isValidMachineId(thisMachine().id));
    return QStringLiteral("%1 IN ('%2', '')").arg(column, thisMachine().id);
}

const QString &emptyText()
{
    // A null QString binds as SQL NULL; the NOT NULL text columns need a real empty string.
    static const QString empty = QStringLiteral("");
    return empty;
}

QVariant text(const QString &s)
{
    return s.isNull() ? QVariant(emptyText()) : QVariant(s);
}

QVariant nullableText(const QByteArray &latin1)
{
    return latin1.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(QString::fromLatin1(latin1));
}

QVariant nullableId(qint64 id)
{
    return id > 0 ? QVariant(qlonglong(id)) : QVariant(QMetaType::fromType<qlonglong>());
}

QVariant statusValue(DocStatus status)
{
    return QVariant(statusName(status));
}

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

QDateTime fromMs(const QVariant &v)
{
    return QDateTime::fromMSecsSinceEpoch(v.toLongLong(), Qt::UTC);
}

QString statusList(std::initializer_list<DocStatus> statuses)
{
    QStringList names;
    for (const DocStatus s : statuses)
        names.append(u'\'' + statusName(s) + u'\'');
    return names.join(QLatin1StringView(", "));
}

// Lifecycle order for sorting by status (queued first), not the alphabetical order of the names.
QString statusOrderExpression()
{
    QString sql = QStringLiteral("CASE status");
    for (int i = 0; i < kDocStatusCount; ++i)
        sql += QStringLiteral(" WHEN '%1' THEN %2").arg(statusName(static_cast<DocStatus>(i))).arg(i);
    return sql + QLatin1StringView(" ELSE 99 END");
}

bool isHexDigits(const QString &s)
{
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) {
        return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
    });
}

bool isSha256Hex(const QByteArray &sha)
{
    return sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

// LIKE pattern escaping with '!' (a backslash would need different quoting per driver).
QString escapeLike(const QString &s)
{
    QString out;
    out.reserve(s.size());
    for (const QChar c : s) {
        if (c == u'!' || c == u'%' || c == u'_')
            out += u'!';
        out += c;
    }
    return out;
}

// SQLite: forward-only avoids Qt caching every row; QPSQL's forward-only mode streams single rows
// and loses them if another statement runs on the connection meanwhile, so PostgreSQL queries
// stay buffered; so do MariaDB's (the client library holds the rows either way).
QSqlQuery makeQuery(const QSqlDatabase &db)
{
    QSqlQuery q(db);
    q.setForwardOnly(!isPostgres(db) && !isMariaDb(db));
    return q;
}

// Type names in CAST(): MariaDB has no CAST(… AS BIGINT) or CAST(… AS TEXT).
QLatin1StringView bigintCast(const QSqlDatabase &db)
{
    return isMariaDb(db) ? QLatin1StringView("SIGNED") : QLatin1StringView("BIGINT");
}

QLatin1StringView textCast(const QSqlDatabase &db)
{
    return isMariaDb(db) ? QLatin1StringView("CHAR") : QLatin1StringView("TEXT");
}

Status prepare(QSqlQuery &q, const QString &sql, const QString &what)
{
    if (q.prepare(sql))
        return {};
    return Status::failure(sqlErrorText(what, q.lastError()));
}

// Binds values in order and runs the query.
Status run(QSqlQuery &q, const QString &what, std::initializer_list<QVariant> values)
{
    int i = 0;
    for (const QVariant &v : values)
        q.bindValue(i++, v);
    return execQuery(q, what);
}

Document readDocument(const QSqlQuery &q)
{
    Document d;
    d.id = q.value(0).toLongLong();
    d.collectionId = q.value(1).toLongLong();
    d.fileName = q.value(2).toString();
    d.sourcePath = q.value(3).toByteArray();
    d.size = q.value(4).toLongLong();
    d.mtimeMs = q.value(5).toLongLong();
    d.sha256 = q.value(6).isNull() ? QByteArray() : q.value(6).toString().toLatin1();
    // An unknown name can only come from a newer Quire; show it as failed rather than guess.
    d.status = statusFromName(q.value(7).toString()).value_or(DocStatus::Failed);
    d.error = q.value(8).toString();
    d.remoteLocation = q.value(9).toString();
    d.attempts = q.value(10).toInt();
    d.duplicateOf = q.value(11).isNull() ? 0 : q.value(11).toLongLong();
    d.added = fromMs(q.value(12));
    d.updated = fromMs(q.value(13));
    d.machineId = q.value(14).toString();
    return d;
}

Collection readCollection(const QSqlQuery &q)
{
    Collection c;
    c.id = q.value(0).toLongLong();
    c.name = q.value(1).toString();
    c.remote = q.value(2).toString();
    c.created = fromMs(q.value(3));
    c.documentCount = q.value(4).toLongLong();
    c.bytes = q.value(5).toLongLong();
    c.failedCount = q.value(6).toLongLong();
    c.pendingCount = q.value(7).toLongLong();
    return c;
}

QString collectionSelect(const QSqlDatabase &db, const QString &where)
{
    return QStringLiteral(
                   "SELECT c.id, c.name, c.remote, c.created, COUNT(d.id), "
                   "CAST(COALESCE(SUM(d.size), 0) AS %4), "
                   "CAST(COALESCE(SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END), 0) AS %4), "
                   "CAST(COALESCE(SUM(CASE WHEN d.status IN (%1) AND %3 THEN 1 ELSE 0 END), 0) AS %4) "
                   "FROM collections c LEFT JOIN documents d ON d.collection_id = c.id %2 "
                   "GROUP BY c.id, c.name, c.remote, c.created "
                   "ORDER BY lower(c.name), c.name, c.id")
            .arg(statusList({DocStatus::Queued, DocStatus::Hashing, DocStatus::Hashed, DocStatus::Uploading}), where,
                 thisMachineCondition(QLatin1StringView("d.machine_id")), bigintCast(db));
}

// WHERE clause and bound values shared by documents() and countDocuments(). Only placeholders
// carry user input; the SQL text itself is built from constants.
struct Filter
{
    QString where;
    QVariantList values;
};

Filter documentFilter(const QSqlDatabase &db, const DocumentQuery &query)
{
    QStringList conditions;
    Filter f;
    if (query.collectionId > 0) {
        conditions.append(QStringLiteral("collection_id = ?"));
        f.values.append(qlonglong(query.collectionId));
    }
    if (!query.statuses.isEmpty()) {
        QStringList marks;
        for (const DocStatus s : query.statuses) {
            marks.append(QStringLiteral("?"));
            f.values.append(statusValue(s));
        }
        conditions.append(QStringLiteral("status IN (%1)").arg(marks.join(QLatin1StringView(", "))));
    }
    if (query.thisMachineOnly)
        conditions.append(thisMachineCondition());
    const QString textFilter = query.text.trimmed();
    if (!textFilter.isEmpty()) {
        // lower() on both sides, so each database applies its own notion of case consistently.
        QString c = QStringLiteral("(lower(file_name) LIKE lower(CAST(? AS %1)) ESCAPE '!'").arg(textCast(db));
        f.values.append(u'%' + escapeLike(textFilter) + u'%');
        if (isHexDigits(textFilter) && textFilter.size() <= 64) {
            c += QLatin1StringView(" OR sha256 LIKE ?");
            f.values.append(textFilter.toLower() + u'%');
        }
        conditions.append(c + u')');
    }
    if (!conditions.isEmpty())
        f.where = QLatin1StringView(" WHERE ") + conditions.join(QLatin1StringView(" AND "));
    return f;
}

QString orderBy(const QSqlDatabase &db, const DocumentQuery &query)
{
    const bool asc = query.order == Qt::AscendingOrder;
    const QLatin1StringView dir = asc ? QLatin1StringView(" ASC") : QLatin1StringView(" DESC");
    QString column;
    switch (query.sortColumn) {
    case DocColumn::Name:   column = QStringLiteral("lower(file_name)"); break;
    case DocColumn::Size:   column = QStringLiteral("size"); break;
    case DocColumn::Status: column = statusOrderExpression(); break;
    case DocColumn::Added:  column = QStringLiteral("added"); break;
    case DocColumn::Remote: column = QStringLiteral("remote_location"); break;
    case DocColumn::Sha256:
        // Not-yet-hashed rows count as smallest everywhere (PostgreSQL's default differs;
        // MariaDB sorts NULL first by itself and has no NULLS FIRST).
        if (isMariaDb(db))
            return asc ? QStringLiteral(" ORDER BY sha256 ASC, id ASC") : QStringLiteral(" ORDER BY sha256 DESC, id DESC");
        return asc ? QStringLiteral(" ORDER BY sha256 ASC NULLS FIRST, id ASC")
                   : QStringLiteral(" ORDER BY sha256 DESC NULLS LAST, id DESC");
    }
    // The id breaks ties, so paging through equal keys neither repeats nor skips rows.
    return QLatin1StringView(" ORDER BY ") + column + dir + QLatin1StringView(", id") + dir;
}

constexpr qsizetype kLookupChunk = 256;   // ids or paths per "IN (...)" lookup (SQLite parses n parameters in O(n²))
constexpr qsizetype kInsertChunk = 64;    // rows per multi-row INSERT or UPDATE

QString marks(qsizetype n)
{
    return QStringList(n, QStringLiteral("?")).join(QLatin1StringView(", "));
}

QString repeated(const QString &item, qsizetype n)
{
    return QStringList(n, item).join(QLatin1StringView(", "));
}

// The newest rows of the given source paths in one collection: (id, source_path, status, size,
// mtime_ms) for "collection_id = ?" then n paths.
QString pathLookupSql(qsizetype n)
{
    // Another machine's row for the same path is another file: left alone.
    return QStringLiteral("SELECT id, source_path, status, size, mtime_ms FROM documents "
                          "WHERE collection_id = ? AND %2 AND source_path IN (%1)").arg(marks(n), thisMachineCondition());
}

// The originals holding the given contents in one collection (the partial unique index makes
// these index lookups; at most one row per collection and hash): "collection_id = ?" then n hashes.
QString originalsSql(qsizetype n)
{
    return QStringLiteral("SELECT id, sha256 FROM documents "
                          "WHERE collection_id = ? AND sha256 IN (%1) AND status <> 'duplicate'").arg(marks(n));
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
    ChunkedQuery(ConnectionManager &connections, Sql sql, qsizetype fullRows)
        : m_connections(connections), m_sql(sql), m_fullRows(fullRows)
    {
    }

    // How many rows the next statement takes when `remaining` (> 0) rows are left.
    qsizetype rowsFor(qsizetype remaining) const
    {
        return remaining >= m_fullRows ? m_fullRows : qsizetype(std::bit_floor(size_t(remaining)));
    }

    // The statement for `rows` rows; nullptr and error() on failure.
    std::shared_ptr<QSqlQuery> get(qsizetype rows, const QString &what)
    {
        // The text of a many-row statement is long: build it once per thread, not per call.
        static thread_local QHash<std::pair<quintptr, qsizetype>, QString> texts;
        QString &sql = texts[{reinterpret_cast<quintptr>(m_sql), rows}];
        if (sql.isEmpty())
            sql = m_sql(rows);
        QString error;
        std::shared_ptr<QSqlQuery> q = m_connections.preparedStatement(sql, &error);
        if (!q)
            m_error = what + QLatin1StringView(": ") + error;
        return q;
    }
    const QString &error() const { return m_error; }

private:
    ConnectionManager &m_connections;
    Sql m_sql;
    qsizetype m_fullRows;
    QString m_error;
};

// The (id, source_path) of each row a multi-row INSERT INTO documents just made. SQLite and
// PostgreSQL return them (the statement ends in "RETURNING id, source_path"). MariaDB has
// INSERT … RETURNING too, but Qt 6.4's driver does not fetch the rows of a prepared statement it
// did not take for a SELECT, so there the statement has no RETURNING and the rows are read back:
// a multi-row INSERT's ids start at its LAST_INSERT_ID(), and with the writer lock held
// (transaction.h) every row from that id on is one of its rows.
Result<QList<std::pair<qint64, QByteArray>>> insertedDocuments(ConnectionManager &connections, const QSqlDatabase &db,
                                                                QSqlQuery &insert, qsizetype rows, const QString &what)
{
    using R = Result<QList<std::pair<qint64, QByteArray>>>;
    QList<std::pair<qint64, QByteArray>> out;
    out.reserve(rows);
    if (!isMariaDb(db)) {
        while (insert.next())
            out.append({insert.value(0).toLongLong(), insert.value(1).toByteArray()});
        insert.finish();   // SQLite: a RETURNING statement that is not reset blocks COMMIT
        return out;
    }
    const qint64 first = insert.lastInsertId().toLongLong();
    insert.finish();
    if (first <= 0)
        return R::failure(what + QLatin1StringView(": the database returned no id for the new documents"));
    QString error;
    const std::shared_ptr<QSqlQuery> read = connections.preparedStatement(
            QStringLiteral("SELECT id, source_path FROM documents WHERE id >= ? ORDER BY id LIMIT ?"), &error);
    if (!read)
        return R::failure(what + QLatin1StringView(": ") + error);
    read->bindValue(0, first);
    read->bindValue(1, qlonglong(rows));
    if (Status s = execQuery(*read, what); !s)
        return R::failure(s.error());
    while (read->next())
        out.append({read->value(0).toLongLong(), read->value(1).toByteArray()});
    read->finish();
    return out;
}

// The many-row INSERT INTO documents of addQueued() and addHashed(), with or without RETURNING
// (see insertedDocuments()).
template <bool Returning>
QString insertQueuedSql(qsizetype n)
{
    return QStringLiteral("INSERT INTO documents (collection_id, file_name, source_path, size, mtime_ms, status, "
                          "added, updated, machine_id) VALUES %1%2")
            .arg(repeated(QStringLiteral("(?, ?, ?, ?, ?, 'queued', ?, ?, ?)"), n),
                 Returning ? QStringLiteral(" RETURNING id, source_path") : QString());
}

template <bool Returning>
QString insertHashedSql(qsizetype n)
{
    return QStringLiteral("INSERT INTO documents (collection_id, file_name, source_path, size, mtime_ms, sha256, "
                          "status, error, duplicate_of, added, updated, machine_id) VALUES %1%2")
            .arg(repeated(QStringLiteral("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), n),
                 Returning ? QStringLiteral(" RETURNING id, source_path") : QString());
}

// Each value once, in first-seen order.
QList<QByteArray> distinct(const QList<QByteArray> &paths)
{
    QList<QByteArray> out;
    QSet<QByteArray> seen;
    for (const QByteArray &p : paths) {
        if (!seen.contains(p)) {
            seen.insert(p);
            out.append(p);
        }
    }
    return out;
}

// Runs `sql` (its parameters: the collection id, then n keys) over `keys`, a chunk at a time,
// and hands every result row to onRow.
Status lookupInCollection(ConnectionManager &connections, ChunkedQuery::Sql sql, qint64 collectionId,
                          const QList<QVariant> &keys, const QString &what,
                          const std::function<void(const QSqlQuery &)> &onRow)
{
    ChunkedQuery lookup(connections, sql, kLookupChunk);
    for (qsizetype start = 0, n = 0; start < keys.size(); start += n) {
        n = lookup.rowsFor(keys.size() - start);
        const std::shared_ptr<QSqlQuery> q = lookup.get(n, what);
        if (!q)
            return Status::failure(lookup.error());
        q->bindValue(0, qlonglong(collectionId));
        for (qsizetype i = 0; i < n; ++i)
            q->bindValue(int(i + 1), keys[start + i]);
        if (Status s = execQuery(*q, what); !s)
            return s;
        while (q->next())
            onRow(*q);
        q->finish();
    }
    return {};
}

// The newest row of each of `paths` (distinct) in the collection; absent paths are left out.
Result<QHash<QByteArray, PathState>> newestRows(ConnectionManager &connections, qint64 collectionId,
                                               const QList<QByteArray> &paths, const QString &what)
{
    QList<QVariant> keys;
    keys.reserve(paths.size());
    for (const QByteArray &p : paths)
        keys.append(p);
    QHash<QByteArray, PathState> states;
    const Status s = lookupInCollection(connections, pathLookupSql, collectionId, keys, what, [&](const QSqlQuery &q) {
        const qint64 id = q.value(0).toLongLong();
        PathState &state = states[q.value(1).toByteArray()];
        if (id > state.id) {
            state.id = id;
            state.status = statusFromName(q.value(2).toString()).value_or(DocStatus::Failed);
            state.size = q.value(3).toLongLong();
            state.mtimeMs = q.value(4).toLongLong();
        }
    });
    if (!s)
        return Result<QHash<QByteArray, PathState>>::failure(s.error());
    return states;
}

// The original (non-duplicate) document holding each of `shas` (distinct, lowercase) in the
// collection: sha256 -> id; contents nobody holds yet are left out.
Result<QHash<QByteArray, qint64>> originalsOf(ConnectionManager &connections, qint64 collectionId,
                                              const QList<QByteArray> &shas, const QString &what)
{
    QList<QVariant> keys;
    keys.reserve(shas.size());
    for (const QByteArray &sha : shas)
        keys.append(QString::fromLatin1(sha));
    QHash<QByteArray, qint64> originals;
    const Status s = lookupInCollection(connections, originalsSql, collectionId, keys, what, [&](const QSqlQuery &q) {
        originals.insert(q.value(1).toString().toLatin1(), q.value(0).toLongLong());
    });
    if (!s)
        return Result<QHash<QByteArray, qint64>>::failure(s.error());
    return originals;
}

// Inside a write transaction: fails unless the collection exists (a batch for a removed one).
Status requireCollection(ConnectionManager &connections, qint64 collectionId, const QString &what)
{
    QString error;
    const std::shared_ptr<QSqlQuery> q =
            connections.preparedStatement(QStringLiteral("SELECT id FROM collections WHERE id = ?"), &error);
    if (!q)
        return Status::failure(what + QLatin1StringView(": ") + error);
    if (Status s = run(*q, what, {qlonglong(collectionId)}); !s)
        return s;
    const bool found = q->next();
    q->finish();
    if (!found)
        return Status::failure(what + QLatin1StringView(": there is no such collection"));
    return {};
}

// The conditional status change behind transitionStatus() and releaseClaims(): one UPDATE per
// id, so that each row says whether it changed. The statement's text depends only on `from`
// (status names are constants), so a handful of texts cover every call, each prepared once per
// connection. `attemptDelta` is added to the attempt count (never below zero).
Result<QList<qint64>> transition(ConnectionManager &connections, const QList<qint64> &ids,
                                 const QList<DocStatus> &from, DocStatus to, const QString &error,
                                 int attemptDelta, const QString &what)
{
    using R = Result<QList<qint64>>;
    if (ids.isEmpty() || from.isEmpty())
        return QList<qint64>();
    Result<QSqlDatabase> db = connections.database();
    if (!db)
        return R::failure(db.error());
    QStringList names;
    for (const DocStatus s : from)
        names.append(u'\'' + statusName(s) + u'\'');
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());
    QString prepareError;
    const std::shared_ptr<QSqlQuery> update = connections.preparedStatement(
            QStringLiteral("UPDATE documents SET status = ?, error = ?, updated = ?, "
                           "attempts = CASE WHEN attempts + ? > 0 THEN attempts + ? ELSE 0 END "
                           "WHERE id = ? AND status IN (%1)").arg(names.join(QLatin1StringView(", "))),
            &prepareError);
    if (!update)
        return R::failure(what + QLatin1StringView(": ") + prepareError);
    const qint64 now = nowMs();
    QList<qint64> changed;
    for (const qint64 id : ids) {
        if (Status s = run(*update, what, {statusValue(to), text(error), now, attemptDelta, attemptDelta, qlonglong(id)}); !s)
            return R::failure(s.error());
        if (update->numRowsAffected() > 0)
            changed.append(id);
    }
    update->finish();
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    return changed;
}

} // namespace

Catalog::Catalog(CatalogConfig config)
    : m_config(config), m_where(config.displayLocation()),
      m_connections(std::make_unique<ConnectionManager>(std::move(config)))
{
}

Catalog::~Catalog() = default;

const CatalogConfig &Catalog::config() const
{
    return m_config;
}

ConnectionManager &Catalog::connections()
{
    return *m_connections;
}

Status Catalog::open()
{
    return retryTransient([&] { return openOnce(); }, m_where);
}

Status Catalog::openOnce()
{
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());
    const Status s = migrate(*db);
    if (!s)
        return Status::failure(QStringLiteral("Catalog %1: %2").arg(m_config.displayLocation(), s.error()));
    // This machine's name, for the others to show next to its documents.
    QSqlQuery q = makeQuery(*db);
    const QString what = QStringLiteral("Could not record this machine in the catalog %1").arg(m_config.displayLocation());
    // Best effort: a catalog this user may only read still opens (the name is for display).
    const QString upsert = isMariaDb(*db) ? QStringLiteral("ON DUPLICATE KEY UPDATE name = VALUES(name), seen = VALUES(seen)")
                                          : QStringLiteral("ON CONFLICT (id) DO UPDATE SET name = excluded.name, seen = excluded.seen");
    if (Status p = prepare(q, QStringLiteral("INSERT INTO machines (id, name, seen) VALUES (?, ?, ?) ") + upsert, what);
        !p || !run(q, what, {thisMachine().id, thisMachine().name, nowMs()}))
        qWarning("%s", qPrintable(what));
    return {};
}

Result<QHash<QString, QString>> Catalog::machineNames()
{
    return retryTransient([&] { return machineNamesOnce(); }, m_where);
}

Result<QHash<QString, QString>> Catalog::machineNamesOnce()
{
    using R = Result<QHash<QString, QString>>;
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    const QString what = QStringLiteral("Could not read the catalog's machines");
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, QStringLiteral("SELECT id, name FROM machines"), what); !s)
        return R::failure(s.error());
    if (Status s = execQuery(q, what); !s)
        return R::failure(s.error());
    QHash<QString, QString> names;
    while (q.next())
        names.insert(q.value(0).toString(), displayMachineName(q.value(1).toString()));
    return names;
}

Result<int> Catalog::schemaVersion()
{
    return retryTransient([&] { return schemaVersionOnce(); }, m_where);
}

Result<int> Catalog::schemaVersionOnce()
{
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Result<int>::failure(db.error());
    return currentSchemaVersion(*db);
}

int Catalog::latestSchemaVersion()
{
    return latestMigration();
}

std::optional<QString> Catalog::collectionNameError(const QString &name)
{
    if (name.isEmpty())
        return QStringLiteral("a collection name cannot be empty");
    if (name.size() > kMaxCollectionName)
        return QStringLiteral("a collection name cannot be longer than %1 characters").arg(kMaxCollectionName);
    if (name.contains(u'/'))
        return QStringLiteral("a collection name cannot contain '/'");
    if (name.contains(u'\\'))
        return QStringLiteral("a collection name cannot contain '\\'");
    for (const QChar c : name) {
        if (c.category() == QChar::Other_Control)
            return QStringLiteral("a collection name cannot contain control characters");
    }
    if (name.front().isSpace() || name.back().isSpace())
        return QStringLiteral("a collection name cannot start or end with white space");
    if (name == QLatin1StringView(".") || name == QLatin1StringView(".."))
        return QStringLiteral("a collection name cannot be \".\" or \"..\"");
    return std::nullopt;
}

std::optional<QString> Catalog::documentRowError(const Document &doc)
{
    // The values themselves are not repeated: they may hold anything, newlines included.
    const QByteArray &sha = doc.sha256;
    bool hex = sha.size() == 64;
    for (const char c : sha)
        hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!hex)
        return QStringLiteral("document #%1 in the catalog has a SHA-256 that is not 64 hexadecimal digits").arg(doc.id);
    const QString &name = doc.fileName;
    const auto bad = [&](const QString &why) {
        return QStringLiteral("document #%1 in the catalog has a file name that %2").arg(doc.id).arg(why);
    };
    if (name.isEmpty())
        return bad(QStringLiteral("is empty"));
    if (name == QLatin1StringView(".") || name == QLatin1StringView(".."))
        return bad(QStringLiteral("is \".\" or \"..\""));
    if (name.contains(u'/'))
        return bad(QStringLiteral("contains a path separator"));
    // Ingest names a document after its source file; a name that is not that file's (a newline
    // added, another folder's name) was written by something else. A real file's odd name (a
    // newline or '\\' in it on Linux) matches, and the remote makes it safe (safeFileName()).
    if (name != displayName(doc.sourcePath))
        return bad(QStringLiteral("is not the name of its source file"));
    return std::nullopt;
}

Result<qint64> Catalog::createCollection(const QString &name, const QString &remote)
{
    return retryTransient([&] { return createCollectionOnce(name, remote); }, m_where);
}

Result<qint64> Catalog::createCollectionOnce(const QString &name, const QString &remote)
{
    const QString what = QStringLiteral("Could not create the collection \"%1\"").arg(name);
    if (const auto error = collectionNameError(name))
        return Result<qint64>::failure(what + QLatin1StringView(": ") + *error);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Result<qint64>::failure(db.error());

    QSqlQuery find = makeQuery(*db), insert = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return Result<qint64>::failure(tx.error());
    if (Status s = prepare(find, QStringLiteral("SELECT id FROM collections WHERE name = ?"), what); !s)
        return Result<qint64>::failure(s.error());
    if (Status s = run(find, what, {name}); !s)
        return Result<qint64>::failure(s.error());
    if (find.next())
        return Result<qint64>::failure(what + QLatin1StringView(": a collection with that name already exists"));
    find.finish();

    // MariaDB: RETURNING rows do not reach Qt's driver (see insertedDocuments()); the id is the
    // statement's LAST_INSERT_ID() there.
    const bool maria = isMariaDb(*db);
    if (Status s = prepare(insert, QStringLiteral("INSERT INTO collections (name, remote, created) VALUES (?, ?, ?)%1")
                                           .arg(maria ? QString() : QStringLiteral(" RETURNING id")), what); !s)
        return Result<qint64>::failure(s.error());
    if (Status s = run(insert, what, {name, text(remote), nowMs()}); !s)
        return Result<qint64>::failure(s.error());
    if (maria ? !insert.lastInsertId().isValid() : !insert.next())
        return Result<qint64>::failure(sqlErrorText(what + QLatin1StringView(" (no id returned)"), insert.lastError()));
    const qint64 id = maria ? insert.lastInsertId().toLongLong() : insert.value(0).toLongLong();
    insert.finish();
    if (Status s = tx.commit(); !s)
        return Result<qint64>::failure(s.error());
    return id;
}

Status Catalog::renameCollection(qint64 id, const QString &newName)
{
    return retryTransient([&] { return renameCollectionOnce(id, newName); }, m_where);
}

Status Catalog::renameCollectionOnce(qint64 id, const QString &newName)
{
    const QString what = QStringLiteral("Could not rename collection %1 to \"%2\"").arg(id).arg(newName);
    if (const auto error = collectionNameError(newName))
        return Status::failure(what + QLatin1StringView(": ") + *error);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());

    QSqlQuery find = makeQuery(*db), update = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    if (Status s = prepare(find, QStringLiteral("SELECT id FROM collections WHERE name = ? AND id <> ?"), what); !s)
        return s;
    if (Status s = run(find, what, {newName, qlonglong(id)}); !s)
        return s;
    if (find.next())
        return Status::failure(what + QLatin1StringView(": another collection has that name"));
    find.finish();
    if (Status s = prepare(update, QStringLiteral("UPDATE collections SET name = ? WHERE id = ?"), what); !s)
        return s;
    if (Status s = run(update, what, {newName, qlonglong(id)}); !s)
        return s;
    if (update.numRowsAffected() == 0)
        return Status::failure(what + QLatin1StringView(": there is no such collection"));
    return tx.commit();
}

Status Catalog::setCollectionRemote(qint64 id, const QString &remote)
{
    return retryTransient([&] { return setCollectionRemoteOnce(id, remote); }, m_where);
}

Status Catalog::setCollectionRemoteOnce(qint64 id, const QString &remote)
{
    const QString what = QStringLiteral("Could not set the remote of collection %1").arg(id);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());
    QSqlQuery update = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    if (Status s = prepare(update, QStringLiteral("UPDATE collections SET remote = ? WHERE id = ?"), what); !s)
        return s;
    if (Status s = run(update, what, {text(remote), qlonglong(id)}); !s)
        return s;
    if (update.numRowsAffected() == 0)
        return Status::failure(what + QLatin1StringView(": there is no such collection"));
    return tx.commit();
}

Status Catalog::removeCollection(qint64 id)
{
    return retryTransient([&] { return removeCollectionOnce(id); }, m_where);
}

Status Catalog::removeCollectionOnce(qint64 id)
{
    const QString what = QStringLiteral("Could not remove collection %1").arg(id);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());
    QSqlQuery remove = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    // Documents go with it: ON DELETE CASCADE (SQLite: foreign_keys=ON on every connection).
    if (Status s = prepare(remove, QStringLiteral("DELETE FROM collections WHERE id = ?"), what); !s)
        return s;
    if (Status s = run(remove, what, {qlonglong(id)}); !s)
        return s;
    if (remove.numRowsAffected() == 0)
        return Status::failure(what + QLatin1StringView(": there is no such collection"));
    return tx.commit();
}

Result<QList<Collection>> Catalog::collections()
{
    return retryTransient([&] { return collectionsOnce(); }, m_where);
}

Result<QList<Collection>> Catalog::collectionsOnce()
{
    using R = Result<QList<Collection>>;
    const QString what = QStringLiteral("Could not list the collections");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, collectionSelect(*db, {}), what); !s)
        return R::failure(s.error());
    if (Status s = execQuery(q, what); !s)
        return R::failure(s.error());
    QList<Collection> out;
    while (q.next())
        out.append(readCollection(q));
    if (q.lastError().isValid())
        return R::failure(sqlErrorText(what, q.lastError()));
    return out;
}

Result<std::optional<Collection>> Catalog::collection(qint64 id)
{
    return retryTransient([&] { return collectionOnce(id); }, m_where);
}

Result<std::optional<Collection>> Catalog::collectionOnce(qint64 id)
{
    using R = Result<std::optional<Collection>>;
    const QString what = QStringLiteral("Could not read collection %1").arg(id);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, collectionSelect(*db, QStringLiteral("WHERE c.id = ?")), what); !s)
        return R::failure(s.error());
    if (Status s = run(q, what, {qlonglong(id)}); !s)
        return R::failure(s.error());
    if (q.next())
        return std::optional<Collection>(readCollection(q));
    return std::optional<Collection>();
}

Result<std::optional<Collection>> Catalog::collectionByName(const QString &name)
{
    return retryTransient([&] { return collectionByNameOnce(name); }, m_where);
}

Result<std::optional<Collection>> Catalog::collectionByNameOnce(const QString &name)
{
    using R = Result<std::optional<Collection>>;
    const QString what = QStringLiteral("Could not read the collection \"%1\"").arg(name);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, collectionSelect(*db, QStringLiteral("WHERE c.name = ?")), what); !s)
        return R::failure(s.error());
    if (Status s = run(q, what, {name}); !s)
        return R::failure(s.error());
    if (q.next())
        return std::optional<Collection>(readCollection(q));
    return std::optional<Collection>();
}

Result<QList<QueuedDocument>> Catalog::addQueued(qint64 collectionId, const QList<NewDocument> &docs)
{
    return retryTransient([&] { return addQueuedOnce(collectionId, docs); }, m_where);
}

Result<QList<QueuedDocument>> Catalog::addQueuedOnce(qint64 collectionId, const QList<NewDocument> &docs)
{
    using R = Result<QList<QueuedDocument>>;
    const QString what = QStringLiteral("Could not add %1 document(s) to collection %2").arg(docs.size()).arg(collectionId);
    if (docs.isEmpty())
        return QList<QueuedDocument>();
    for (const NewDocument &d : docs) {
        if (d.sourcePath.isEmpty())
            return R::failure(what + QLatin1StringView(": a document has no source path"));
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
    for (qsizetype start = 0, n = 0; start < inserts.size(); start += n) {
        n = insert.rowsFor(inserts.size() - start);
        const std::shared_ptr<QSqlQuery> q = insert.get(n, what);
        if (!q)
            return R::failure(insert.error());
        int column = 0;
        for (qsizetype i = 0; i < n; ++i) {
            const NewDocument &d = inserts[start + i];
            for (const QVariant &v : {QVariant(qlonglong(collectionId)), text(d.fileName), QVariant(d.sourcePath),
                                      QVariant(qlonglong(d.size)), QVariant(qlonglong(d.mtimeMs)), QVariant(now),
                                      QVariant(now), QVariant(thisMachine().id)})
                q->bindValue(column++, v);
        }
        if (Status s = execQuery(*q, what); !s)
            return R::failure(s.error());
        const auto rows = insertedDocuments(*m_connections, *db, *q, n, what);
        if (!rows)
            return R::failure(rows.error());
        for (const auto &[id, path] : *rows) {
            const auto it = known.constFind(path);
            if (it != known.constEnd() && it->insertSlot >= 0)
                insertedIds[it->insertSlot] = id;
        }
    }
    for (qsizetype i = 0; i < docs.size(); ++i) {
        if (slotOf[i] < 0)
            continue;
        const qint64 id = insertedIds[slotOf[i]];
        if (id <= 0)
            return R::failure(what + QLatin1StringView(": the database returned no id for a new document"));
        out[i] = {id, false};
    }
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    noteRowsAdded(inserts.size());
    return out;
}

Result<QHash<QByteArray, PathState>> Catalog::pathStates(qint64 collectionId, const QList<QByteArray> &paths)
{
    return retryTransient([&] { return pathStatesOnce(collectionId, paths); }, m_where);
}

Result<QHash<QByteArray, PathState>> Catalog::pathStatesOnce(qint64 collectionId, const QList<QByteArray> &paths)
{
    const QString what = QStringLiteral("Could not look up %1 path(s) in collection %2").arg(paths.size()).arg(collectionId);
    if (paths.isEmpty())
        return QHash<QByteArray, PathState>();
    return newestRows(*m_connections, collectionId, distinct(paths), what);
}

Result<QList<AddedDocument>> Catalog::addHashed(qint64 collectionId, const QList<HashedDocument> &docs)
{
    return retryTransient([&] { return addHashedOnce(collectionId, docs); }, m_where);
}

Result<QList<AddedDocument>> Catalog::addHashedOnce(qint64 collectionId, const QList<HashedDocument> &docs)
{
    using R = Result<QList<AddedDocument>>;
    const QString what = QStringLiteral("Could not add %1 document(s) to collection %2").arg(docs.size()).arg(collectionId);
    if (docs.isEmpty())
        return QList<AddedDocument>();
    for (const HashedDocument &d : docs) {
        if (d.doc.sourcePath.isEmpty())
            return R::failure(what + QLatin1StringView(": a document has no source path"));
        if (!d.cancelled && d.error.isEmpty() && !isSha256Hex(d.sha256.toLower()))
            return R::failure(what + QStringLiteral(": %1 has no valid SHA-256 (\"%2\")")
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

    auto insertRows = [&](const QList<qsizetype> &rows) -> Status {
        for (qsizetype start = 0, n = 0; start < rows.size(); start += n) {
            n = insert.rowsFor(rows.size() - start);
            const std::shared_ptr<QSqlQuery> q = insert.get(n, what);
            if (!q)
                return Status::failure(insert.error());
            int column = 0;
            for (qsizetype k = 0; k < n; ++k) {
                const qsizetype i = rows[start + k];
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
                    q->bindValue(column++, v);
            }
            if (Status s = execQuery(*q, what); !s)
                return s;
            const auto inserted = insertedDocuments(*m_connections, *db, *q, n, what);
            if (!inserted)
                return Status::failure(inserted.error());
            for (const auto &[id, path] : *inserted) {
                const qsizetype i = firstIndex.value(path, -1);
                if (i >= 0)
                    out[i].id = id;
            }
        }
        return {};
    };
    if (Status s = insertRows(firstRound); !s)
        return R::failure(s.error());
    for (qsizetype i : std::as_const(secondRound))
        out[i].duplicateOf = out[batchOriginal.value(docs[i].sha256.toLower())].id;
    if (Status s = insertRows(secondRound); !s)
        return R::failure(s.error());
    for (qsizetype i = 0; i < docs.size(); ++i) {
        if (!out[i].conflict && !out[i].unchanged && out[i].id <= 0)
            return R::failure(what + QLatin1StringView(": the database returned no id for a new document"));
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
    const QString what = QStringLiteral("Could not record %1 hash result(s)").arg(updates.size());
    if (updates.isEmpty())
        return QList<HashApplied>();
    for (const HashUpdate &u : updates) {
        if (u.error.isEmpty() && !isSha256Hex(u.sha256.toLower()))
            return R::failure(what + QStringLiteral(": document %1 has no valid SHA-256 (\"%2\")")
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
    {
        QSet<qint64> seen;
        for (const HashUpdate &u : updates) {
            if (!seen.contains(u.id)) {
                seen.insert(u.id);
                ids.append(u.id);
            }
        }
    }
    for (qsizetype start = 0, n = 0; start < ids.size(); start += n) {
        n = readCurrent.rowsFor(ids.size() - start);
        const std::shared_ptr<QSqlQuery> q = readCurrent.get(n, what);
        if (!q)
            return R::failure(readCurrent.error());
        for (qsizetype i = 0; i < n; ++i)
            q->bindValue(int(i), qlonglong(ids[start + i]));
        if (Status s = execQuery(*q, what); !s)
            return R::failure(s.error());
        while (q->next()) {
            current.insert(q->value(0).toLongLong(),
                           Current{q->value(1).toLongLong(),
                                   statusFromName(q->value(2).toString()).value_or(DocStatus::Failed),
                                   q->value(3).isNull() ? QByteArray() : q->value(3).toString().toLatin1()});
        }
        q->finish();
    }
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
        for (qsizetype start = 0, n = 0; start < rows; start += n) {
            n = setHashedRows.rowsFor(rows - start);
            const std::shared_ptr<QSqlQuery> q = setHashedRows.get(n, what);
            if (!q)
                return Status::failure(setHashedRows.error());
            for (qsizetype i = 0; i < n * kColumns; ++i)
                q->bindValue(int(i), pending[start * kColumns + i]);
            const Status s = execQuery(*q, what);
            q->finish();
            if (!s)
                return s;
        }
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
    const QString what = QStringLiteral("Could not set %1 document(s) to %2").arg(ids.size()).arg(statusName(status));
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
        return Status::failure(QStringLiteral("Could not mark document %1 as uploaded: there is no such document").arg(id));
    return {};
}

Result<QList<qint64>> Catalog::setUploaded(const QList<UploadedDocument> &docs)
{
    return retryTransient([&] { return setUploadedOnce(docs); }, m_where);
}

Result<QList<qint64>> Catalog::setUploadedOnce(const QList<UploadedDocument> &docs)
{
    using R = Result<QList<qint64>>;
    const QString what = docs.size() == 1 ? QStringLiteral("Could not mark document %1 as uploaded").arg(docs.first().id)
                                          : QStringLiteral("Could not mark %1 documents as uploaded").arg(docs.size());
    if (docs.isEmpty())
        return QList<qint64>();
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());
    // One row per execution of a statement prepared once per connection: each row says whether
    // its document still exists, and the transaction, not the statement, is what costs.
    QString prepareError;
    const std::shared_ptr<QSqlQuery> update = m_connections->preparedStatement(
            QStringLiteral("UPDATE documents SET status = 'uploaded', remote_location = ?, error = '', updated = ? "
                           "WHERE id = ?"), &prepareError);
    if (!update)
        return R::failure(what + QLatin1StringView(": ") + prepareError);
    const qint64 now = nowMs();
    QList<qint64> missing;
    for (const UploadedDocument &d : docs) {
        if (Status s = run(*update, what, {text(d.remoteLocation), now, qlonglong(d.id)}); !s)
            return R::failure(s.error());
        if (update->numRowsAffected() == 0)
            missing.append(d.id);
    }
    update->finish();
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    return missing;
}

Status Catalog::setUploadState(qint64 id, const QByteArray &state)
{
    return retryTransient([&] { return setUploadStateOnce(id, state); }, m_where);
}

Status Catalog::setUploadStateOnce(qint64 id, const QByteArray &state)
{
    const QString what = QStringLiteral("Could not record the upload state of document %1").arg(id);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return Status::failure(db.error());
    QSqlQuery update = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    if (Status s = prepare(update, QStringLiteral("UPDATE documents SET upload_state = ? WHERE id = ?"), what); !s)
        return s;
    if (Status s = run(update, what, {text(QString::fromLatin1(state)), qlonglong(id)}); !s)
        return s;
    return tx.commit();
}

Result<QByteArray> Catalog::uploadState(qint64 id)
{
    return retryTransient([&] { return uploadStateOnce(id); }, m_where);
}

Result<QByteArray> Catalog::uploadStateOnce(qint64 id)
{
    using R = Result<QByteArray>;
    const QString what = QStringLiteral("Could not read the upload state of document %1").arg(id);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, QStringLiteral("SELECT upload_state FROM documents WHERE id = ?"), what); !s)
        return R::failure(s.error());
    if (Status s = run(q, what, {qlonglong(id)}); !s)
        return R::failure(s.error());
    return q.next() ? q.value(0).toString().toLatin1() : QByteArray();
}

Result<QList<qint64>> Catalog::transitionStatus(const QList<qint64> &ids, const QList<DocStatus> &from,
                                                DocStatus to, const QString &error)
{
    return retryTransient([&] { return transitionStatusOnce(ids, from, to, error); }, m_where);
}

Result<QList<qint64>> Catalog::transitionStatusOnce(const QList<qint64> &ids, const QList<DocStatus> &from,
                                                DocStatus to, const QString &error)
{
    const QString what = QStringLiteral("Could not set %1 document(s) to %2").arg(ids.size()).arg(statusName(to));
    return transition(*m_connections, ids, from, to, error, to == DocStatus::Uploading ? 1 : 0, what);
}

Result<QList<qint64>> Catalog::releaseClaims(const QList<qint64> &ids, DocStatus to)
{
    return retryTransient([&] { return releaseClaimsOnce(ids, to); }, m_where);
}

Result<QList<qint64>> Catalog::releaseClaimsOnce(const QList<qint64> &ids, DocStatus to)
{
    const QString what = QStringLiteral("Could not give back %1 claimed document(s) as %2").arg(ids.size()).arg(statusName(to));
    return transition(*m_connections, ids, {DocStatus::Uploading}, to, QString(), -1, what);
}

Result<QList<Document>> Catalog::unfinishedHashing(qint64 collectionId)
{
    return retryTransient([&] { return unfinishedHashingOnce(collectionId); }, m_where);
}

Result<QList<Document>> Catalog::unfinishedHashingOnce(qint64 collectionId)
{
    using R = Result<QList<Document>>;
    const QString what = QStringLiteral("Could not list the documents waiting to be hashed");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    // Only this machine's: another machine's source paths name files there.
    QString sql = QStringLiteral("SELECT %1 FROM documents WHERE status IN (%2) AND %3")
                          .arg(kDocColumns, statusList({DocStatus::Queued, DocStatus::Hashing}), thisMachineCondition());
    if (collectionId > 0)
        sql += QLatin1StringView(" AND collection_id = ?");
    sql += QLatin1StringView(" ORDER BY id");
    if (Status s = prepare(q, sql, what); !s)
        return R::failure(s.error());
    if (collectionId > 0)
        q.bindValue(0, qlonglong(collectionId));
    if (Status s = execQuery(q, what); !s)
        return R::failure(s.error());
    QList<Document> out;
    while (q.next())
        out.append(readDocument(q));
    if (q.lastError().isValid())
        return R::failure(sqlErrorText(what, q.lastError()));
    return out;
}

Result<QList<Document>> Catalog::documents(const DocumentQuery &query)
{
    return retryTransient([&] { return documentsOnce(query); }, m_where);
}

Result<QList<Document>> Catalog::documentsOnce(const DocumentQuery &query)
{
    using R = Result<QList<Document>>;
    const QString what = QStringLiteral("Could not list documents");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());

    Filter f = documentFilter(*db, query);
    QString sql = QStringLiteral("SELECT %1 FROM documents").arg(kDocColumns) + f.where + orderBy(*db, query);
    const qint64 offset = std::max<qint64>(0, query.offset);
    if (query.limit >= 0) {
        sql += QLatin1StringView(" LIMIT ? OFFSET ?");
        f.values << qlonglong(query.limit) << qlonglong(offset);
    } else if (offset > 0) {
        // SQLite only takes OFFSET after a LIMIT (-1: none), MariaDB after one too (the largest
        // row count it knows); PostgreSQL takes OFFSET alone.
        sql += isPostgres(*db)  ? QLatin1StringView(" OFFSET ?")
             : isMariaDb(*db)   ? QLatin1StringView(" LIMIT 18446744073709551615 OFFSET ?")
                                : QLatin1StringView(" LIMIT -1 OFFSET ?");
        f.values << qlonglong(offset);
    }

    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, sql, what); !s)
        return R::failure(s.error());
    for (int i = 0; i < f.values.size(); ++i)
        q.bindValue(i, f.values.at(i));
    if (Status s = execQuery(q, what); !s)
        return R::failure(s.error());
    QList<Document> out;
    while (q.next())
        out.append(readDocument(q));
    if (q.lastError().isValid())
        return R::failure(sqlErrorText(what, q.lastError()));
    return out;
}

Result<qint64> Catalog::countDocuments(const DocumentQuery &query)
{
    return retryTransient([&] { return countDocumentsOnce(query); }, m_where);
}

Result<qint64> Catalog::countDocumentsOnce(const DocumentQuery &query)
{
    using R = Result<qint64>;
    const QString what = QStringLiteral("Could not count documents");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    const Filter f = documentFilter(*db, query);
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, QStringLiteral("SELECT COUNT(*) FROM documents") + f.where, what); !s)
        return R::failure(s.error());
    for (int i = 0; i < f.values.size(); ++i)
        q.bindValue(i, f.values.at(i));
    if (Status s = execQuery(q, what); !s)
        return R::failure(s.error());
    if (!q.next())
        return R::failure(sqlErrorText(what, q.lastError()));
    return q.value(0).toLongLong();
}

Result<std::optional<Document>> Catalog::document(qint64 id)
{
    return retryTransient([&] { return documentOnce(id); }, m_where);
}

Result<std::optional<Document>> Catalog::documentOnce(qint64 id)
{
    using R = Result<std::optional<Document>>;
    const QString what = QStringLiteral("Could not read document %1").arg(id);
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    if (Status s = prepare(q, QStringLiteral("SELECT %1 FROM documents WHERE id = ?").arg(kDocColumns), what); !s)
        return R::failure(s.error());
    if (Status s = run(q, what, {qlonglong(id)}); !s)
        return R::failure(s.error());
    if (q.next())
        return std::optional<Document>(readDocument(q));
    return std::optional<Document>();
}

Result<QHash<DocStatus, qint64>> Catalog::statusCounts(qint64 collectionId)
{
    return retryTransient([&] { return statusCountsOnce(collectionId); }, m_where);
}

Result<QHash<DocStatus, qint64>> Catalog::statusCountsOnce(qint64 collectionId)
{
    using R = Result<QHash<DocStatus, qint64>>;
    const QString what = QStringLiteral("Could not count documents by status");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    QString sql = QStringLiteral("SELECT status, COUNT(*) FROM documents");
    if (collectionId > 0)
        sql += QLatin1StringView(" WHERE collection_id = ?");
    sql += QLatin1StringView(" GROUP BY status");
    if (Status s = prepare(q, sql, what); !s)
        return R::failure(s.error());
    if (collectionId > 0)
        q.bindValue(0, qlonglong(collectionId));
    if (Status s = execQuery(q, what); !s)
        return R::failure(s.error());
    // Every status is present, zero when there is none, so callers need no contains() checks.
    QHash<DocStatus, qint64> out;
    for (int i = 0; i < kDocStatusCount; ++i)
        out.insert(static_cast<DocStatus>(i), 0);
    while (q.next()) {
        if (const auto status = statusFromName(q.value(0).toString()))
            out[*status] += q.value(1).toLongLong();
    }
    return out;
}

Result<QList<Document>> Catalog::removeDocuments(const QList<qint64> &ids)
{
    return retryTransient([&] { return removeDocumentsOnce(ids); }, m_where);
}

Result<QList<Document>> Catalog::removeDocumentsOnce(const QList<qint64> &ids)
{
    using R = Result<QList<Document>>;
    const QString what = QStringLiteral("Could not remove %1 document(s)").arg(ids.size());
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
    const QString what = QStringLiteral("Could not restore %1 document(s)").arg(docs.size());
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
            return Status::failure(sqlErrorText(what + QLatin1StringView(" (advancing the id sequence)"), sequence.lastError()));
    }
    return tx.commit();
}

} // namespace quire
