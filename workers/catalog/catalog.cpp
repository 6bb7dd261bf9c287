// Opening the catalog, its collections and the reads of its documents. The writes of documents
// are in catalogwrites.cpp; the SQL both share in catalogsql.cpp.

#include "catalog/catalog.h"

#include "catalog/catalogsql.h"
#include "catalog/dbconnections.h"
#include "catalog/machine.h"
#include "catalog/migrations.h"
#include "platform/nativefs.h"
#include "catalog/transaction.h"

#include <QCoreApplication>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

namespace quire {

using namespace catalogsql;

namespace {

// The translation context of the messages below (Catalog is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Catalog)
};

constexpr qsizetype kMaxCollectionName = 200;

// The collection a "WHERE c.… = ?" clause picks with `key`, if any.
Result<std::optional<Collection>> collectionWhere(ConnectionManager &connections, const QString &where,
                                                  const QVariant &key, const QString &what)
{
    using R = Result<std::optional<Collection>>;
    Result<QSqlDatabase> db = connections.database();
    if (!db)
        return R::failure(db.error());
    Result<QSqlQuery> q = select(*db, collectionSelect(*db, where), {key}, what);
    if (!q)
        return R::failure(q.error());
    return readFirst(*q, readCollection);
}

// A read on the calling thread's connection: `from` (its SELECT … FROM) for the rows that meet
// every one of `conditions` and, when collectionId > 0, are in that collection; then `rest`
// (its ORDER BY or GROUP BY).
Result<QSqlQuery> selectInCollection(ConnectionManager &connections, const QString &from, QStringList conditions,
                                     qint64 collectionId, QLatin1StringView rest, const QString &what)
{
    Result<QSqlDatabase> db = connections.database();
    if (!db)
        return Result<QSqlQuery>::failure(db.error());
    QVariantList values;
    if (collectionId > 0) {
        conditions.append(QStringLiteral("collection_id = ?"));
        values.append(qlonglong(collectionId));
    }
    QString sql = from;
    if (!conditions.isEmpty())
        sql += QLatin1StringView(" WHERE ") + conditions.join(QLatin1StringView(" AND "));
    return select(*db, sql + rest, values, what);
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
        return Status::failure(Tr::tr("Catalog %1: %2").arg(m_config.displayLocation(), s.error()));
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
    Result<QSqlQuery> q = select(*db, QStringLiteral("SELECT id, name FROM machines"), {},
                                 Tr::tr("Could not read the catalog's machines"));
    if (!q)
        return R::failure(q.error());
    QHash<QString, QString> names;
    while (q->next())
        names.insert(q->value(0).toString(), displayMachineName(q->value(1).toString()));
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
        return Tr::tr("a collection name cannot be empty");
    if (name.size() > kMaxCollectionName)
        return Tr::tr("a collection name cannot be longer than %1 characters").arg(kMaxCollectionName);
    if (name.contains(u'/'))
        return Tr::tr("a collection name cannot contain '/'");
    if (name.contains(u'\\'))
        return Tr::tr("a collection name cannot contain '\\'");
    for (const QChar c : name) {
        if (c.category() == QChar::Other_Control)
            return Tr::tr("a collection name cannot contain control characters");
    }
    if (name.front().isSpace() || name.back().isSpace())
        return Tr::tr("a collection name cannot start or end with white space");
    if (name == QLatin1StringView(".") || name == QLatin1StringView(".."))
        return Tr::tr("a collection name cannot be \".\" or \"..\"");
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
        return Tr::tr("document #%1 in the catalog has a SHA-256 that is not 64 hexadecimal digits").arg(doc.id);
    const QString &name = doc.fileName;
    if (name.isEmpty())
        return Tr::tr("document #%1 in the catalog has a file name that is empty").arg(doc.id);
    if (name == QLatin1StringView(".") || name == QLatin1StringView(".."))
        return Tr::tr("document #%1 in the catalog has a file name that is \".\" or \"..\"").arg(doc.id);
    if (name.contains(u'/'))
        return Tr::tr("document #%1 in the catalog has a file name that contains a path separator").arg(doc.id);
    // Ingest names a document after its source file; a name that is not that file's (a newline
    // added, another folder's name) was written by something else. A real file's odd name (a
    // newline or '\\' in it on Linux) matches, and the remote makes it safe (safeFileName()).
    if (name != displayName(doc.sourcePath))
        return Tr::tr("document #%1 in the catalog has a file name that is not the name of its source file").arg(doc.id);
    return std::nullopt;
}

Result<qint64> Catalog::createCollection(const QString &name, const QString &remote)
{
    return retryTransient([&] { return createCollectionOnce(name, remote); }, m_where);
}

Result<qint64> Catalog::createCollectionOnce(const QString &name, const QString &remote)
{
    const QString what = Tr::tr("Could not create the collection \"%1\"").arg(name);
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
        return Result<qint64>::failure(what + QLatin1StringView(": ") + Tr::tr("a collection with that name already exists"));
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
        return Result<qint64>::failure(sqlErrorText(Tr::tr("%1 (no id returned)").arg(what), insert.lastError()));
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
    const QString what = Tr::tr("Could not rename collection %1 to \"%2\"").arg(id).arg(newName);
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
        return Status::failure(what + QLatin1StringView(": ") + Tr::tr("another collection has that name"));
    find.finish();
    if (Status s = prepare(update, QStringLiteral("UPDATE collections SET name = ? WHERE id = ?"), what); !s)
        return s;
    if (Status s = run(update, what, {newName, qlonglong(id)}); !s)
        return s;
    if (update.numRowsAffected() == 0)
        return Status::failure(what + QLatin1StringView(": ") + Tr::tr("there is no such collection"));
    return tx.commit();
}

Status Catalog::setCollectionRemote(qint64 id, const QString &remote)
{
    return retryTransient([&] { return setCollectionRemoteOnce(id, remote); }, m_where);
}

Status Catalog::setCollectionRemoteOnce(qint64 id, const QString &remote)
{
    return writeOne(*m_connections, QStringLiteral("UPDATE collections SET remote = ? WHERE id = ?"),
                    {text(remote), qlonglong(id)}, Tr::tr("Could not set the remote of collection %1").arg(id),
                    Tr::tr("there is no such collection"));
}

Status Catalog::removeCollection(qint64 id)
{
    return retryTransient([&] { return removeCollectionOnce(id); }, m_where);
}

Status Catalog::removeCollectionOnce(qint64 id)
{
    // Documents go with it: ON DELETE CASCADE (SQLite: foreign_keys=ON on every connection).
    return writeOne(*m_connections, QStringLiteral("DELETE FROM collections WHERE id = ?"), {qlonglong(id)},
                    Tr::tr("Could not remove collection %1").arg(id),
                    Tr::tr("there is no such collection"));
}

Result<QList<Collection>> Catalog::collections()
{
    return retryTransient([&] { return collectionsOnce(); }, m_where);
}

Result<QList<Collection>> Catalog::collectionsOnce()
{
    using R = Result<QList<Collection>>;
    const QString what = Tr::tr("Could not list the collections");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    Result<QSqlQuery> q = select(*db, collectionSelect(*db, {}), {}, what);
    if (!q)
        return R::failure(q.error());
    return readAll(*q, readCollection, what);
}

Result<std::optional<Collection>> Catalog::collection(qint64 id)
{
    return retryTransient([&] { return collectionOnce(id); }, m_where);
}

Result<std::optional<Collection>> Catalog::collectionOnce(qint64 id)
{
    return collectionWhere(*m_connections, QStringLiteral("WHERE c.id = ?"), qlonglong(id),
                           Tr::tr("Could not read collection %1").arg(id));
}

Result<std::optional<Collection>> Catalog::collectionByName(const QString &name)
{
    return retryTransient([&] { return collectionByNameOnce(name); }, m_where);
}

Result<std::optional<Collection>> Catalog::collectionByNameOnce(const QString &name)
{
    return collectionWhere(*m_connections, QStringLiteral("WHERE c.name = ?"), name,
                           Tr::tr("Could not read the collection \"%1\"").arg(name));
}

Result<QHash<QByteArray, PathState>> Catalog::pathStates(qint64 collectionId, const QList<QByteArray> &paths)
{
    return retryTransient([&] { return pathStatesOnce(collectionId, paths); }, m_where);
}

Result<QHash<QByteArray, PathState>> Catalog::pathStatesOnce(qint64 collectionId, const QList<QByteArray> &paths)
{
    const QString what = Tr::tr("Could not look up %n path(s) in collection %1", nullptr, int(paths.size())).arg(collectionId);
    if (paths.isEmpty())
        return QHash<QByteArray, PathState>();
    return newestRows(*m_connections, collectionId, distinct(paths), what);
}

Result<QByteArray> Catalog::uploadState(qint64 id)
{
    return retryTransient([&] { return uploadStateOnce(id); }, m_where);
}

Result<QByteArray> Catalog::uploadStateOnce(qint64 id)
{
    using R = Result<QByteArray>;
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    Result<QSqlQuery> q = select(*db, QStringLiteral("SELECT upload_state FROM documents WHERE id = ?"), {qlonglong(id)},
                                 Tr::tr("Could not read the upload state of document %1").arg(id));
    if (!q)
        return R::failure(q.error());
    return q->next() ? q->value(0).toString().toLatin1() : QByteArray();
}
Result<QList<Document>> Catalog::unfinishedHashing(qint64 collectionId)
{
    return retryTransient([&] { return unfinishedHashingOnce(collectionId); }, m_where);
}

Result<QList<Document>> Catalog::unfinishedHashingOnce(qint64 collectionId)
{
    using R = Result<QList<Document>>;
    const QString what = Tr::tr("Could not list the documents waiting to be hashed");
    // Only this machine's: another machine's source paths name files there.
    const QStringList conditions{QStringLiteral("status IN (%1)").arg(statusList({DocStatus::Queued, DocStatus::Hashing})),
                                 thisMachineCondition()};
    Result<QSqlQuery> q = selectInCollection(*m_connections, QStringLiteral("SELECT %1 FROM documents").arg(kDocColumns),
                                             conditions, collectionId, QLatin1StringView(" ORDER BY id"), what);
    if (!q)
        return R::failure(q.error());
    return readAll(*q, readDocument, what);
}

Result<QList<Document>> Catalog::documents(const DocumentQuery &query)
{
    return retryTransient([&] { return documentsOnce(query); }, m_where);
}

Result<QList<Document>> Catalog::documentsOnce(const DocumentQuery &query)
{
    using R = Result<QList<Document>>;
    const QString what = Tr::tr("Could not list documents");
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

    Result<QSqlQuery> q = select(*db, sql, f.values, what);
    if (!q)
        return R::failure(q.error());
    return readAll(*q, readDocument, what);
}

Result<qint64> Catalog::countDocuments(const DocumentQuery &query)
{
    return retryTransient([&] { return countDocumentsOnce(query); }, m_where);
}

Result<qint64> Catalog::countDocumentsOnce(const DocumentQuery &query)
{
    using R = Result<qint64>;
    const QString what = Tr::tr("Could not count documents");
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    const Filter f = documentFilter(*db, query);
    Result<QSqlQuery> q = select(*db, QStringLiteral("SELECT COUNT(*) FROM documents") + f.where, f.values, what);
    if (!q)
        return R::failure(q.error());
    if (!q->next())
        return R::failure(sqlErrorText(what, q->lastError()));
    return q->value(0).toLongLong();
}

Result<std::optional<Document>> Catalog::document(qint64 id)
{
    return retryTransient([&] { return documentOnce(id); }, m_where);
}

Result<std::optional<Document>> Catalog::documentOnce(qint64 id)
{
    using R = Result<std::optional<Document>>;
    Result<QSqlDatabase> db = m_connections->database();
    if (!db)
        return R::failure(db.error());
    Result<QSqlQuery> q = select(*db, QStringLiteral("SELECT %1 FROM documents WHERE id = ?").arg(kDocColumns),
                                 {qlonglong(id)}, Tr::tr("Could not read document %1").arg(id));
    if (!q)
        return R::failure(q.error());
    return readFirst(*q, readDocument);
}

Result<QHash<DocStatus, qint64>> Catalog::statusCounts(qint64 collectionId)
{
    return retryTransient([&] { return statusCountsOnce(collectionId); }, m_where);
}

Result<QHash<DocStatus, qint64>> Catalog::statusCountsOnce(qint64 collectionId)
{
    using R = Result<QHash<DocStatus, qint64>>;
    const QString what = Tr::tr("Could not count documents by status");
    Result<QSqlQuery> q = selectInCollection(*m_connections, QStringLiteral("SELECT status, COUNT(*) FROM documents"), {},
                                             collectionId, QLatin1StringView(" GROUP BY status"), what);
    if (!q)
        return R::failure(q.error());
    // Every status is present, zero when there is none, so callers need no contains() checks.
    QHash<DocStatus, qint64> out;
    for (int i = 0; i < kDocStatusCount; ++i)
        out.insert(static_cast<DocStatus>(i), 0);
    while (q->next()) {
        if (const auto status = statusFromName(q->value(0).toString()))
            out[*status] += q->value(1).toLongLong();
    }
    return out;
}

} // namespace quire
