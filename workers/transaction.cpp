#include "transaction.h"

#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

#include <atomic>
#include <chrono>
#include <map>

namespace quire {

namespace {
// pg_advisory_xact_lock key shared by every Quire process on the same database ("quire" in ASCII).
constexpr QLatin1StringView kPgWriterLock("SELECT pg_advisory_xact_lock(1903520101)");
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

QString sqlErrorText(const QString &what, const QSqlError &error)
{
    QString text = error.text().trimmed();
    if (text.isEmpty())
        text = QStringLiteral("unknown database error");
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
    if (!pg) {
        m_writers = writerQueue(m_db.databaseName());
        m_writing = std::unique_lock(*m_writers, std::defer_lock);
        // A system_clock deadline: GCC 12 waits on those with pthread_mutex_timedlock, which
        // ThreadSanitizer understands (see docs/ARCHITECTURE.md).
        if (!m_writing.try_lock_until(std::chrono::system_clock::now() + kWriterQueueTimeout)) {
            m_error = m_what + QStringLiteral(" (starting the transaction): another writer held the catalog "
                                              "for more than %1 s").arg(kWriterQueueTimeout.count());
            return;
        }
    }
    QSqlQuery q(m_db);
    if (!q.exec(pg ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE"))) {
        m_error = sqlErrorText(m_what + QLatin1StringView(" (starting the transaction)"), q.lastError());
        if (m_writing.owns_lock())
            m_writing.unlock();
        return;
    }
    m_active = true;
    ++t_open;
    if (pg && !q.exec(kPgWriterLock)) {
        m_error = sqlErrorText(m_what + QLatin1StringView(" (waiting for the catalog write lock)"), q.lastError());
        rollback();
    }
}

Transaction::~Transaction()
{
    rollback();
}

Status Transaction::commit()
{
    if (!m_active)
        return Status::failure(m_error.isEmpty() ? m_what + QLatin1StringView(": no transaction to commit") : m_error);
    QSqlQuery q(m_db);
    if (!q.exec(QStringLiteral("COMMIT"))) {
        m_error = sqlErrorText(m_what + QLatin1StringView(" (committing)"), q.lastError());
        rollback();
        return Status::failure(m_error);
    }
    m_active = false;
    --t_open;
    if (m_writing.owns_lock())
        m_writing.unlock();
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
    // when the connection closes, and the next BEGIN reports any lasting problem.
    if (!q.exec(QStringLiteral("ROLLBACK")))
        qWarning("quire: %s", qPrintable(sqlErrorText(m_what + QLatin1StringView(" (rolling back)"), q.lastError())));
    if (m_writing.owns_lock())
        m_writing.unlock();
}

} // namespace quire
