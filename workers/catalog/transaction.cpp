#include "catalog/transaction.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

#include <QRandomGenerator>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <utility>

namespace quire {

namespace {
// The translation context of the messages below (Transaction is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Transaction)
};

// pg_advisory_xact_lock key shared by every Quire process on the same database ("quire" in ASCII).
constexpr QLatin1StringView kPgWriterLock("SELECT pg_advisory_xact_lock(1903520101)");
// MariaDB: one named lock per database (a lock name has at most 64 characters, a database name
// 64 too, hence the hash); waits up to 30 s, like PostgreSQL's lock_timeout (dbconnections.cpp).
constexpr QLatin1StringView kMariaDbWriterLock("SELECT GET_LOCK(SHA1(CONCAT('quire-writer:', DATABASE())), 30)");
constexpr QLatin1StringView kMariaDbWriterUnlock("DO RELEASE_LOCK(SHA1(CONCAT('quire-writer:', DATABASE())))");
// As long as SQLite's busy timeout (dbconnections.cpp): a writer that waits longer fails.
constexpr auto kWriterQueueTimeout = std::chrono::seconds(10);

std::atomic<qint64> g_committed{0};

// One writer queue per SQLite file (by absolute path), shared by every connection to it.
std::shared_ptr<std::timed_mutex> writerQueue(const QString &databaseName)
{
    static std::mutex guard;
    static std::map<QString, std::weak_ptr<std::timed_mutex>> queues;
    const QString key = QFileInfo(databaseName).absoluteFilePath();
    std::lock_guard lock(guard);
    std::weak_ptr<std::timed_mutex> &slot = queues[key];
    std::shared_ptr<std::timed_mutex> queue = slot.lock();
    if (!queue) {
        queue = std::make_shared<std::timed_mutex>();
        slot = queue;
    }
    return queue;
}
} // namespace

namespace {
thread_local SqlFailure t_lastFailure = SqlFailure::None;
thread_local bool t_connectionSuspect = false;
}

bool takeLostConnectionNote()
{
    return std::exchange(t_connectionSuspect, false);
}

SqlFailure classifySqlError(const QSqlError &error)
{
    if (error.type() == QSqlError::NoError)
        return SqlFailure::None;
    if (error.type() == QSqlError::ConnectionError)
        return SqlFailure::Lost;
    const QString code = error.nativeErrorCode();
    bool numeric = false;
    const int number = code.toInt(&numeric);
    // Qt's MySQL driver starts its own part of every message with "QMYSQL"; its codes are
    // MariaDB's error numbers.
    if (error.driverText().startsWith(QLatin1StringView("QMYSQL"))) {
        switch (numeric ? number : 0) {
        case 1213:   // ER_LOCK_DEADLOCK
        case 1205:   // ER_LOCK_WAIT_TIMEOUT
            return SqlFailure::Conflict;
        case 2006:   // CR_SERVER_GONE_ERROR
        case 2013:   // CR_SERVER_LOST
        case 2055:   // CR_SERVER_LOST_EXTENDED
        case 1053:   // ER_SERVER_SHUTDOWN
        case 1927:   // ER_CONNECTION_KILLED
        case 4031:   // ER_CLIENT_INTERACTION_TIMEOUT
            return SqlFailure::Lost;
        default:
            return SqlFailure::Other;
        }
    }
    if (code.size() == 5) {
        // PostgreSQL's SQLSTATE (five characters; SQLite's codes are below 10,000).
        if (code == QLatin1StringView("40001") || code == QLatin1StringView("40P01") || code == QLatin1StringView("55P03"))
            return SqlFailure::Conflict;   // serialization failure, deadlock, lock_timeout
        if (code.startsWith(QLatin1StringView("08")) || code == QLatin1StringView("57P01")
            || code == QLatin1StringView("57P02") || code == QLatin1StringView("57P03"))
            return SqlFailure::Lost;       // connection exceptions, administrator/crash shutdown
        return SqlFailure::Other;
    }
    if (numeric) {
        // SQLite result codes: the primary code is the low byte of an extended one.
        const int primary = number & 0xff;
        return primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */ ? SqlFailure::Conflict
                                                                                 : SqlFailure::Other;
    }
    // libpq reports a connection that broke mid-statement without a SQLSTATE.
    const QString text = error.text();
    for (const QLatin1StringView marker : {QLatin1StringView("server closed the connection"),
                                           QLatin1StringView("no connection to the server"),
                                           QLatin1StringView("terminating connection"),
                                           QLatin1StringView("could not receive data from server"),
                                           QLatin1StringView("could not send data to server")}) {
        if (text.contains(marker, Qt::CaseInsensitive))
            return SqlFailure::Lost;
    }
    return SqlFailure::Other;
}

SqlFailure lastSqlFailure()
{
    return t_lastFailure;
}

void clearLastSqlFailure()
{
    t_lastFailure = SqlFailure::None;
}

void noteSqlFailure(SqlFailure failure)
{
    t_lastFailure = failure;
}

bool pauseBeforeSqlRetry(int failedAttempts)
{
    const SqlFailure failure = t_lastFailure;
    if (failure != SqlFailure::Lost && failure != SqlFailure::Conflict)
        return false;
    if (failedAttempts > kMaxSqlRetries || Transaction::openOnThisThread() > 0)
        return false;
    int pauseMs = 100;
    for (int i = 1; i < failedAttempts; ++i)
        pauseMs *= 3;
    // ±25 %: two processes that met in a deadlock do not meet again at the same moment.
    pauseMs += int(QRandomGenerator::global()->bounded(pauseMs / 2)) - pauseMs / 4;
    std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
    return true;
}

void noteSqlError(const QSqlError &error)
{
    t_lastFailure = classifySqlError(error);
    if (t_lastFailure == SqlFailure::Lost)
        t_connectionSuspect = true;
}

QString sqlErrorText(const QString &what, const QSqlError &error)
{
    noteSqlError(error);
    QString text = error.text().trimmed();
    if (text.isEmpty())
        text = Tr::tr("unknown database error");
    return what + QLatin1StringView(": ") + text;
}

Status execQuery(QSqlQuery &query, const QString &what)
{
    if (query.exec())
        return {};
    return Status::failure(sqlErrorText(what, query.lastError()));
}

bool isPostgres(const QSqlDatabase &db)
{
    return db.driver() && db.driver()->dbmsType() == QSqlDriver::PostgreSQL;
}

bool isMariaDb(const QSqlDatabase &db)
{
    return db.driver() && db.driver()->dbmsType() == QSqlDriver::MySqlServer;
}

namespace {
thread_local int t_open = 0;
}

int Transaction::openOnThisThread()
{
    return t_open;
}

Transaction::Transaction(QSqlDatabase db, QString what)
    : m_db(std::move(db)), m_what(std::move(what))
{
    const bool pg = isPostgres(m_db);
    const bool maria = isMariaDb(m_db);
    if (!pg && !maria) {
        m_writers = writerQueue(m_db.databaseName());
        m_writing = std::unique_lock(*m_writers, std::defer_lock);
        // A system_clock deadline: GCC 12 waits on those with pthread_mutex_timedlock, which
        // ThreadSanitizer understands (see docs/ARCHITECTURE.md).
        if (!m_writing.try_lock_until(std::chrono::system_clock::now() + kWriterQueueTimeout)) {
            m_error = Tr::tr("%1 (starting the transaction): another writer held the catalog for more than %2 s")
                              .arg(m_what, QString::number(kWriterQueueTimeout.count()));
            return;
        }
    }
    QSqlQuery q(m_db);
    if (!q.exec(pg || maria ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE"))) {
        m_error = sqlErrorText(Tr::tr("%1 (starting the transaction)").arg(m_what), q.lastError());
        if (m_writing.owns_lock())
            m_writing.unlock();
        return;
    }
    m_active = true;
    ++t_open;
    if (pg && !q.exec(kPgWriterLock)) {
        m_error = sqlErrorText(Tr::tr("%1 (waiting for the catalog write lock)").arg(m_what), q.lastError());
        rollback();
    } else if (maria) {
        // 1: locked; 0: timed out; NULL: an error.
        if (!q.exec(kMariaDbWriterLock) || !q.next() || q.value(0).toInt() != 1) {
            m_error = q.lastError().isValid()
                    ? sqlErrorText(Tr::tr("%1 (waiting for the catalog write lock)").arg(m_what), q.lastError())
                    : Tr::tr("%1 (waiting for the catalog write lock): another writer held it for more than 30 s").arg(m_what);
            if (!q.lastError().isValid())
                noteSqlFailure(SqlFailure::Conflict);
            rollback();
            return;
        }
        m_holdsNamedLock = true;
    }
}

Transaction::~Transaction()
{
    rollback();
}

Status Transaction::commit()
{
    if (!m_active)
        return Status::failure(m_error.isEmpty() ? m_what + QLatin1StringView(": ") + Tr::tr("no transaction to commit") : m_error);
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("COMMIT"))) {
        m_error = sqlErrorText(Tr::tr("%1 (committing)").arg(m_what), q.lastError());
        rollback();
        // Whether a COMMIT that failed (the connection lost on the way) took effect is unknown:
        // never retried.
        noteSqlFailure(SqlFailure::Other);
        return Status::failure(m_error);
    }
    m_active = false;
    --t_open;
    releaseLocks();
    g_committed.fetch_add(1, std::memory_order_relaxed);
    return {};
}

qint64 Transaction::committedCount()
{
    return g_committed.load(std::memory_order_relaxed);
}

void Transaction::rollback()
{
    if (!m_active)
        return;
    m_active = false;
    --t_open;
    QSqlQuery q(m_db);
    // A failed rollback leaves nothing to do: SQLite and PostgreSQL end the transaction anyway
    // when the connection closes, and the next BEGIN reports any lasting problem. What the
    // failure that led here says about trying again stands (a ROLLBACK on a connection the
    // driver already closed fails without an error at all).
    const SqlFailure before = t_lastFailure;
    if (!q.exec(QStringLiteral("ROLLBACK"))) {
        qWarning("quire: %s", qPrintable(sqlErrorText(m_what + QLatin1StringView(" (rolling back)"), q.lastError())));
        if (before != SqlFailure::None)
            t_lastFailure = before;
    }
    releaseLocks();
}

void Transaction::releaseLocks()
{
    if (m_holdsNamedLock) {
        m_holdsNamedLock = false;
        // Failing only with the connection, which takes the lock with it.
        QSqlQuery q(m_db);
        const SqlFailure before = t_lastFailure;
        q.exec(kMariaDbWriterUnlock);
        t_lastFailure = before;
    }
    if (m_writing.owns_lock())
        m_writing.unlock();
}

} // namespace quire
