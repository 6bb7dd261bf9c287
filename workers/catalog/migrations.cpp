#include "catalog/migrations.h"

#include "catalog/transaction.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>

namespace quire {

namespace {

// The translation context of the messages below (the migrations are no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Migrations)
};

// Written once for both databases; these words are replaced per dialect:
//   {ID}    an auto-increment primary key that never reuses a value (undo re-inserts old ids)
//   {INT}   a 64-bit integer
//   {BLOB}  raw bytes
// Timestamps are INTEGER milliseconds since the epoch, UTC. Statuses are stored by name
// (documentstatus.h) so that other tools reading the catalog see "queued", not 0.
const char *const kMigration1[] = {
    R"(CREATE TABLE collections (
        id {ID},
        name TEXT NOT NULL UNIQUE,
        remote TEXT NOT NULL DEFAULT '',
        created {INT} NOT NULL
    ))",
    R"(CREATE TABLE documents (
        id {ID},
        collection_id {INT} NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
        file_name TEXT NOT NULL,
        source_path {BLOB} NOT NULL,
        size {INT} NOT NULL DEFAULT 0,
        mtime_ms {INT} NOT NULL DEFAULT 0,
        sha256 TEXT NULL,
        status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
            ('queued', 'hashing', 'hashed', 'uploading', 'uploaded', 'duplicate', 'failed', 'cancelled')),
        error TEXT NOT NULL DEFAULT '',
        remote_location TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        duplicate_of {INT} NULL,
        added {INT} NOT NULL,
        updated {INT} NOT NULL
    ))",
    // One original per content and collection; further copies are rows with status 'duplicate'
    // and duplicate_of set. Partial indexes work the same in SQLite (3.8+) and PostgreSQL.
    R"(CREATE UNIQUE INDEX documents_unique_sha256 ON documents (collection_id, sha256)
        WHERE sha256 IS NOT NULL AND status <> 'duplicate')",
    // Ingest looks documents up by source path.
    "CREATE INDEX documents_source_path ON documents (collection_id, source_path)",
    // The UI's sortable columns and filters (see Catalog::documents()).
    "CREATE INDEX documents_by_name ON documents (collection_id, lower(file_name))",
    "CREATE INDEX documents_by_size ON documents (collection_id, size)",
    "CREATE INDEX documents_by_status ON documents (collection_id, status)",
    "CREATE INDEX documents_by_added ON documents (collection_id, added)",
    "CREATE INDEX documents_by_sha256 ON documents (collection_id, sha256)",
    "CREATE INDEX documents_by_remote ON documents (collection_id, remote_location)",
};

// 2: the upload queue's resume state for large files (opaque to the catalog, written by the
// uploader: which parts of a resumable upload the remote already has), so an interrupted upload
// continues after a restart.
const char *const kMigration2[] = {
    "ALTER TABLE documents ADD COLUMN upload_state TEXT NOT NULL DEFAULT ''",
};

// 3: sorting by SHA-256 goes without an index of its own. Every hash written had to be inserted
// at a random place in it, which made recording hashes a third slower; hashes are looked up
// through documents_unique_sha256, and a sort by hash is rare enough to pay for itself.
const char *const kMigration3[] = {
    "DROP INDEX IF EXISTS documents_by_sha256",
};

// 4: a shared catalog is shared, not trusted: each document records the machine it was added
// on (its source path means nothing elsewhere) and only that machine uploads it. Rows from
// before have no machine (''): whoever pushes them first, as before. Machines' names, for
// showing "on laptop-b".
const char *const kMigration4[] = {
    "ALTER TABLE documents ADD COLUMN machine_id TEXT NOT NULL DEFAULT ''",
    "CREATE TABLE machines (id TEXT PRIMARY KEY, name TEXT NOT NULL, seen {INT} NOT NULL)",
};

// The same schema on MariaDB (InnoDB), which differs enough to be written out:
// - Schema changes commit at once there, so a migration is not atomic: every statement can run
//   again (IF NOT EXISTS), and a migration cut short by a crash is completed by the next start.
//   The writer lock (transaction.h) keeps two processes from migrating at once.
// - Names, paths and messages are utf8mb4 with a binary collation: case and accents stay distinct,
//   as in SQLite and PostgreSQL. Keys fit InnoDB's 3,072-byte limit: source paths are indexed
//   by their first 3,000 bytes (a longer path is still found, the index narrows the search).
// - No partial indexes: one original per content and collection is kept by a unique key on a
//   generated column that is NULL for duplicates (and unhashed rows), so they do not count.
//   Without that partial index, looking up originals by content needs documents_by_sha256,
//   which migration 3 drops elsewhere; here it stays.
// - No expression indexes (lower(file_name)): sorting by name sorts at query time.
// - Foreign keys are table constraints (InnoDB ignores a REFERENCES clause on a column).
const char *const kMariaDbMigration1[] = {
    R"(CREATE TABLE IF NOT EXISTS collections (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        remote TEXT NOT NULL DEFAULT '',
        created BIGINT NOT NULL,
        UNIQUE KEY collections_name (name)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)",
    R"(CREATE TABLE IF NOT EXISTS documents (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        collection_id BIGINT NOT NULL,
        file_name TEXT NOT NULL,
        source_path BLOB NOT NULL,
        size BIGINT NOT NULL DEFAULT 0,
        mtime_ms BIGINT NOT NULL DEFAULT 0,
        sha256 VARCHAR(64) NULL,
        status VARCHAR(16) NOT NULL DEFAULT 'queued' CHECK (status IN
            ('queued', 'hashing', 'hashed', 'uploading', 'uploaded', 'duplicate', 'failed', 'cancelled')),
        error TEXT NOT NULL DEFAULT '',
        remote_location TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        duplicate_of BIGINT NULL,
        added BIGINT NOT NULL,
        updated BIGINT NOT NULL,
        original_sha256 VARCHAR(64) AS (CASE WHEN status <> 'duplicate' THEN sha256 END) PERSISTENT,
        CONSTRAINT documents_collection FOREIGN KEY (collection_id) REFERENCES collections (id) ON DELETE CASCADE,
        UNIQUE KEY documents_unique_sha256 (collection_id, original_sha256),
        KEY documents_source_path (collection_id, source_path(3000)),
        KEY documents_by_size (collection_id, size),
        KEY documents_by_status (collection_id, status),
        KEY documents_by_added (collection_id, added),
        KEY documents_by_sha256 (collection_id, sha256),
        KEY documents_by_remote (collection_id, remote_location(255))
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)",
};
const char *const kMariaDbMigration2[] = {
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS upload_state TEXT NOT NULL DEFAULT ''",
};
// 3 drops documents_by_sha256, which MariaDB keeps (see above): nothing to do.
const char *const kMariaDbMigration4[] = {
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS machine_id VARCHAR(255) NOT NULL DEFAULT ''",
    R"(CREATE TABLE IF NOT EXISTS machines (
        id VARCHAR(255) NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        seen BIGINT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)",
};

struct Migration
{
    int version;
    const char *const *begin;
    const char *const *end;
    const char *const *mariaDbBegin;
    const char *const *mariaDbEnd;
};

const Migration kMigrations[] = {
    {1, std::begin(kMigration1), std::end(kMigration1), std::begin(kMariaDbMigration1), std::end(kMariaDbMigration1)},
    {2, std::begin(kMigration2), std::end(kMigration2), std::begin(kMariaDbMigration2), std::end(kMariaDbMigration2)},
    {3, std::begin(kMigration3), std::end(kMigration3), nullptr, nullptr},
    {4, std::begin(kMigration4), std::end(kMigration4), std::begin(kMariaDbMigration4), std::end(kMariaDbMigration4)},
};

QString dialect(const char *sql, bool pg)
{
    QString s = QString::fromUtf8(sql);
    s.replace(QLatin1StringView("{ID}"), pg ? QLatin1StringView("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
                                            : QLatin1StringView("INTEGER PRIMARY KEY AUTOINCREMENT"));
    s.replace(QLatin1StringView("{INT}"), pg ? QLatin1StringView("BIGINT") : QLatin1StringView("INTEGER"));
    s.replace(QLatin1StringView("{BLOB}"), pg ? QLatin1StringView("BYTEA") : QLatin1StringView("BLOB"));
    return s;
}

Result<bool> hasVersionTable(QSqlDatabase &db)
{
    QSqlQuery q(db);
    const QString sql = isPostgres(db)
            ? QStringLiteral("SELECT to_regclass('schema_version') IS NOT NULL")
            : isMariaDb(db)
            ? QStringLiteral("SELECT COUNT(*) > 0 FROM information_schema.tables "
                             "WHERE table_schema = DATABASE() AND table_name = 'schema_version'")
            : QStringLiteral("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
    if (!q.exec(sql) || !q.next())
        return Result<bool>::failure(sqlErrorText(Tr::tr("Could not read the catalog's schema version"), q.lastError()));
    return q.value(0).toBool();
}

} // namespace

int latestMigration()
{
    return std::end(kMigrations)[-1].version;
}

Result<int> currentSchemaVersion(QSqlDatabase &db)
{
    const Result<bool> exists = hasVersionTable(db);
    if (!exists)
        return Result<int>::failure(exists.error());
    if (!*exists)
        return 0;
    QSqlQuery q(db);
    if (!q.exec(QStringLiteral("SELECT COALESCE(MAX(version), 0) FROM schema_version")) || !q.next())
        return Result<int>::failure(sqlErrorText(Tr::tr("Could not read the catalog's schema version"), q.lastError()));
    return q.value(0).toInt();
}

Status migrate(QSqlDatabase &db)
{
    const int latest = latestMigration();
    auto tooNew = [&](int version) {
        return Status::failure(Tr::tr("The catalog has schema version %1, newer than this version of Quire "
                                      "understands (%2); use a newer Quire")
                                       .arg(version).arg(latest));
    };

    // Fast path without the write lock: the usual case is an up-to-date catalog.
    const Result<int> before = currentSchemaVersion(db);
    if (!before)
        return Status::failure(before.error());
    if (*before == latest)
        return {};
    if (*before > latest)
        return tooNew(*before);

    const bool pg = isPostgres(db);
    const bool maria = isMariaDb(db);
    QSqlQuery q(db);   // declared before the transaction so it is released after the rollback
    Transaction tx(db, Tr::tr("Could not update the catalog's schema"));
    if (!tx.ok())
        return tx.status();

    // Another thread or process may have migrated while we waited for the lock.
    if (!q.exec(QStringLiteral("CREATE TABLE IF NOT EXISTS schema_version ("
                               "version INTEGER NOT NULL PRIMARY KEY, applied %1 NOT NULL)%2")
                        .arg(pg || maria ? QStringLiteral("BIGINT") : QStringLiteral("INTEGER"),
                             maria ? QStringLiteral(" ENGINE=InnoDB") : QString()))) {
        return Status::failure(sqlErrorText(Tr::tr("Could not create the schema_version table"), q.lastError()));
    }
    const Result<int> current = currentSchemaVersion(db);
    if (!current)
        return Status::failure(current.error());
    if (*current > latest)
        return tooNew(*current);

    for (const Migration &m : kMigrations) {
        if (m.version <= *current)
            continue;
        for (auto it = maria ? m.mariaDbBegin : m.begin; it != (maria ? m.mariaDbEnd : m.end); ++it) {
            const QString sql = maria ? QString::fromUtf8(*it) : dialect(*it, pg);
            if (!q.exec(sql)) {
                return Status::failure(sqlErrorText(
                        Tr::tr("Could not apply catalog migration %1 (\"%2\")").arg(m.version).arg(sql.simplified().left(80)),
                        q.lastError()));
            }
        }
        q.prepare(QStringLiteral("INSERT INTO schema_version (version, applied) VALUES (?, ?)"));
        q.addBindValue(m.version);
        q.addBindValue(QDateTime::currentMSecsSinceEpoch());
        if (const Status s = execQuery(q, Tr::tr("Could not record catalog migration %1").arg(m.version)); !s)
            return s;
    }
    q.finish();
    return tx.commit();
}

} // namespace quire
