#include "catalog/catalogsql.h"

#include "catalog/dbconnections.h"
#include "catalog/machine.h"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>
#include <bit>

namespace quire::catalogsql {

namespace {

// The translation context of the messages below (the catalog's SQL helpers are no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Catalog)
};

const QString &emptyText()
{
    // A null QString binds as SQL NULL; the NOT NULL text columns need a real empty string.
    static const QString empty = QStringLiteral("");
    return empty;
}

QDateTime fromMs(const QVariant &v)
{
    return QDateTime::fromMSecsSinceEpoch(v.toLongLong(), Qt::UTC);
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

// Type names in CAST(): MariaDB has no CAST(… AS BIGINT) or CAST(… AS TEXT).
QLatin1StringView bigintCast(const QSqlDatabase &db)
{
    return isMariaDb(db) ? QLatin1StringView("SIGNED") : QLatin1StringView("BIGINT");
}

QLatin1StringView textCast(const QSqlDatabase &db)
{
    return isMariaDb(db) ? QLatin1StringView("CHAR") : QLatin1StringView("TEXT");
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

// Runs `sql` (its parameters: the collection id, then n keys) over `keys`, a chunk at a time,
// and hands every result row to onRow.
Status lookupInCollection(ConnectionManager &connections, ChunkedQuery::Sql sql, qint64 collectionId,
                          const QList<QVariant> &keys, const QString &what,
                          const std::function<void(const QSqlQuery &)> &onRow)
{
    ChunkedQuery lookup(connections, sql, kLookupChunk);
    return lookup.run(keys.size(), what, [&](QSqlQuery &q, qsizetype first, qsizetype n) {
        q.bindValue(0, qlonglong(collectionId));
        for (qsizetype i = 0; i < n; ++i)
            q.bindValue(int(i + 1), keys[first + i]);
    }, [&](QSqlQuery &q, qsizetype) {
        while (q.next())
            onRow(q);
        return Status();
    });
}

} // namespace

QString thisMachineCondition(QLatin1StringView column)
{
    Q_ASSERT(isValidMachineId(thisMachine().id));
    return QStringLiteral("%1 IN ('%2', '')").arg(column, thisMachine().id);
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

QString statusList(const QList<DocStatus> &statuses)
{
    QStringList names;
    for (const DocStatus s : statuses)
        names.append(u'\'' + statusName(s) + u'\'');
    return names.join(QLatin1StringView(", "));
}

bool isSha256Hex(const QByteArray &sha)
{
    return sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
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

Status prepare(QSqlQuery &q, const QString &sql, const QString &what)
{
    if (q.prepare(sql))
        return {};
    return Status::failure(sqlErrorText(what, q.lastError()));
}

Status run(QSqlQuery &q, const QString &what, std::initializer_list<QVariant> values)
{
    int i = 0;
    for (const QVariant &v : values)
        q.bindValue(i++, v);
    return execQuery(q, what);
}

Status run(QSqlQuery &q, const QString &what, const QVariantList &values)
{
    for (int i = 0; i < values.size(); ++i)
        q.bindValue(i, values.at(i));
    return execQuery(q, what);
}

Result<QSqlQuery> select(const QSqlDatabase &db, const QString &sql, const QVariantList &values, const QString &what)
{
    QSqlQuery q = makeQuery(db);
    if (Status s = prepare(q, sql, what); !s)
        return Result<QSqlQuery>::failure(s.error());
    if (Status s = run(q, what, values); !s)
        return Result<QSqlQuery>::failure(s.error());
    return q;
}

Status writeOne(ConnectionManager &connections, const QString &sql, std::initializer_list<QVariant> values,
                const QString &what, const QString &noRow)
{
    Result<QSqlDatabase> db = connections.database();
    if (!db)
        return Status::failure(db.error());
    QSqlQuery q = makeQuery(*db);
    Transaction tx(*db, what);
    if (!tx.ok())
        return tx.status();
    if (Status s = prepare(q, sql, what); !s)
        return s;
    if (Status s = run(q, what, values); !s)
        return s;
    if (!noRow.isEmpty() && q.numRowsAffected() == 0)
        return Status::failure(what + QLatin1StringView(": ") + noRow);
    return tx.commit();
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

QString marks(qsizetype n)
{
    return QStringList(n, QStringLiteral("?")).join(QLatin1StringView(", "));
}

QString repeated(const QString &item, qsizetype n)
{
    return QStringList(n, item).join(QLatin1StringView(", "));
}

ChunkedQuery::ChunkedQuery(ConnectionManager &connections, Sql sql, qsizetype fullRows)
    : m_connections(connections), m_sql(sql), m_fullRows(fullRows)
{
}

qsizetype ChunkedQuery::rowsFor(qsizetype remaining) const
{
    return remaining >= m_fullRows ? m_fullRows : qsizetype(std::bit_floor(size_t(remaining)));
}

std::shared_ptr<QSqlQuery> ChunkedQuery::get(qsizetype rows, const QString &what)
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

Status ChunkedQuery::run(qsizetype count, const QString &what, const Bind &bind, const Read &read)
{
    for (qsizetype start = 0, n = 0; start < count; start += n) {
        n = rowsFor(count - start);
        const std::shared_ptr<QSqlQuery> q = get(n, what);
        if (!q)
            return Status::failure(m_error);
        bind(*q, start, n);
        Status s = execQuery(*q, what);
        if (s && read)
            s = read(*q, n);
        q->finish();
        if (!s)
            return s;
    }
    return {};
}

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
        return R::failure(what + QLatin1StringView(": ") + Tr::tr("the database returned no id for the new documents"));
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

QString insertDocumentsSql(QLatin1StringView columns, QLatin1StringView row, qsizetype n, bool returning)
{
    return QStringLiteral("INSERT INTO documents (%1) VALUES %2%3")
            .arg(columns, repeated(row, n), returning ? QStringLiteral(" RETURNING id, source_path") : QString());
}

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
        return Status::failure(what + QLatin1StringView(": ") + Tr::tr("there is no such collection"));
    return {};
}

Result<QList<bool>> updateEach(ConnectionManager &connections, const QString &sql, qsizetype rows,
                               const std::function<Status(QSqlQuery &, qsizetype)> &runRow, const QString &what)
{
    using R = Result<QList<bool>>;
    Result<QSqlDatabase> db = connections.database();
    if (!db)
        return R::failure(db.error());
    Transaction tx(*db, what);
    if (!tx.ok())
        return R::failure(tx.error());
    QString prepareError;
    const std::shared_ptr<QSqlQuery> update = connections.preparedStatement(sql, &prepareError);
    if (!update)
        return R::failure(what + QLatin1StringView(": ") + prepareError);
    QList<bool> changed;
    changed.reserve(rows);
    for (qsizetype i = 0; i < rows; ++i) {
        if (Status s = runRow(*update, i); !s)
            return R::failure(s.error());
        changed.append(update->numRowsAffected() > 0);
    }
    update->finish();
    if (Status s = tx.commit(); !s)
        return R::failure(s.error());
    return changed;
}

// One UPDATE per id (updateEach()), so that each row says whether it changed. The statement's text
// depends only on `from` (status names are constants), so a handful of texts cover every call,
// each prepared once per connection.
Result<QList<qint64>> transition(ConnectionManager &connections, const QList<qint64> &ids,
                                 const QList<DocStatus> &from, DocStatus to, const QString &error,
                                 int attemptDelta, const QString &what)
{
    if (ids.isEmpty() || from.isEmpty())
        return QList<qint64>();
    const qint64 now = nowMs();
    const Result<QList<bool>> changed = updateEach(
            connections,
            QStringLiteral("UPDATE documents SET status = ?, error = ?, updated = ?, "
                           "attempts = CASE WHEN attempts + ? > 0 THEN attempts + ? ELSE 0 END "
                           "WHERE id = ? AND status IN (%1)").arg(statusList(from)),
            ids.size(), [&](QSqlQuery &update, qsizetype i) {
                return run(update, what, {statusValue(to), text(error), now, attemptDelta, attemptDelta, qlonglong(ids[i])});
            }, what);
    if (!changed)
        return Result<QList<qint64>>::failure(changed.error());
    QList<qint64> out;
    for (qsizetype i = 0; i < ids.size(); ++i) {
        if (changed->at(i))
            out.append(ids[i]);
    }
    return out;
}

} // namespace quire::catalogsql
