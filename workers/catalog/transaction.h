#pragma once

#include "jobs/result.h"

#include <QCoreApplication>
#include <QSqlDatabase>
#include <QString>
#include <QStringList>

#include <memory>
#include <mutex>

class QSqlError;
class QSqlQuery;

namespace quire {

// "what failed: driver text" — the one format for SQL errors in the catalog.
QString sqlErrorText(const QString &what, const QSqlError &error);
// Runs an already prepared and bound query; a failed Status names `what`.
Status execQuery(QSqlQuery &query, const QString &what);
bool isPostgres(const QSqlDatabase &db);
bool isMariaDb(const QSqlDatabase &db);   // MariaDB or MySQL (Qt's QMYSQL driver)

// What the last SQL error on this thread (as passed to sqlErrorText()) says about trying again.
enum class SqlFailure {
    None,
    Other,       // the same statement would fail again (a constraint, bad SQL, no permission...)
    Lost,        // the connection went away (server restart, kill, network): a new one may work
    Conflict,    // a deadlock, a lock wait or serialization timeout: the same work may succeed later
};
SqlFailure classifySqlError(const QSqlError &error);
// Records what `error` says about trying again (lastSqlFailure(), takeLostConnectionNote()); done
// by sqlErrorText() for every error it formats.
void noteSqlError(const QSqlError &error);
SqlFailure lastSqlFailure();
void clearLastSqlFailure();
void noteSqlFailure(SqlFailure failure);   // for failures that do not come from a QSqlError
// True once after an error on this thread said the connection was lost: the connection manager
// then checks the thread's connection before handing it out again.
bool takeLostConnectionNote();

// Decides whether a failed attempt is run again and sleeps before it: only after a Lost or
// Conflict failure (never after a COMMIT that may have happened, see Transaction::commit()),
// never inside an open Transaction (the outer one is retried whole), at most kMaxSqlRetries
// times, after 0.1, 0.3, 0.9, 2.7 s (±25 %). False: report the failure.
constexpr int kMaxSqlRetries = 4;
bool pauseBeforeSqlRetry(int failedAttempts);

// Runs `attempt` (a whole transaction, or a read) until it succeeds or its failure is not worth
// another try (pauseBeforeSqlRetry()). A failure after retries says how many tries it took; a
// lost connection or a lock conflict also names `where` (the catalog), since the driver's text
// ("server closed the connection unexpectedly") does not.
template <typename F>
auto retryTransient(F &&attempt, const QString &where = {}) -> decltype(attempt())
{
    for (int failed = 0;;) {
        clearLastSqlFailure();
        auto result = attempt();
        if (result)
            return result;
        ++failed;
        const SqlFailure kind = lastSqlFailure();
        if (!pauseBeforeSqlRetry(failed)) {
            const bool named = !where.isEmpty() && (kind == SqlFailure::Lost || kind == SqlFailure::Conflict);
            if (failed == 1 && !named)
                return result;
            QStringList notes;
            if (failed > 1)
                notes.append(QCoreApplication::translate("quire::Transaction", "tried %n times", nullptr, failed));
            if (named)
                notes.append(QCoreApplication::translate("quire::Transaction", "catalog %1").arg(where));
            return decltype(result)::failure(result.error() + QStringLiteral(" (%1)").arg(notes.join(QStringLiteral("; "))));
        }
    }
}

// RAII write transaction on one thread's connection (private to the catalog).
//
// SQLite: "BEGIN IMMEDIATE" as a statement. Qt's QSqlDatabase::transaction() issues a deferred
// BEGIN, which takes the write lock only at the first write and then fails at once with
// "database is locked" (SQLITE_BUSY_SNAPSHOT / no busy wait) when another connection wrote in
// between; IMMEDIATE takes the write lock up front and honours the busy timeout.
// Within one process, SQLite writers to the same file also queue on a mutex before BEGIN: SQLite's
// own busy handler polls with sleeps of up to 100 ms, so two threads taking turns (the ingest's
// walker and its writer) would spend much of their time asleep with the lock free. Other
// processes are still waited for by the busy timeout.
// PostgreSQL: "BEGIN", then a transaction-scoped advisory lock so that catalog writers run one at
// a time, as with SQLite. The check-then-write steps (dedupe by SHA-256, migrations) rely on it;
// readers are never blocked by it.
// MariaDB/MySQL: "BEGIN", then a named lock (GET_LOCK, one per database) for the same purpose,
// released after COMMIT or ROLLBACK. It belongs to the session, not the transaction, so it also
// holds across the implicit commits of schema changes (migrations); the server drops it when the
// connection ends.
//
// The constructor begins; check ok()/error(). commit() is explicit; the destructor rolls back a
// transaction that was not committed. Use on the connection's own thread only.
class Transaction final
{
public:
    Transaction(QSqlDatabase db, QString what);
    ~Transaction();
    Q_DISABLE_COPY(Transaction)

    bool ok() const { return m_active; }
    const QString &error() const { return m_error; }
    Status status() const { return m_active ? Status() : Status::failure(m_error); }

    Status commit();
    void rollback();

    // Write transactions committed so far by this process, on any catalog: what the batching of
    // catalog writes is measured by (tests, benchmarks). Any thread.
    static qint64 committedCount();
    // Transactions open on the calling thread right now: a connection is never replaced (aged
    // out or reconnected) under one. Any thread.
    static int openOnThisThread();

private:
    void releaseLocks();

    std::shared_ptr<std::timed_mutex> m_writers;   // SQLite: this file's in-process writer queue
    std::unique_lock<std::timed_mutex> m_writing;
    QSqlDatabase m_db;
    QString m_what;
    QString m_error;
    bool m_active = false;
    bool m_holdsNamedLock = false;   // MariaDB: the writer lock (GET_LOCK)
};

} // namespace quire
