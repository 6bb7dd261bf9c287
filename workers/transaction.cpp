#include "transaction.h"

#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>

namespace quire {

namespace {
// pg_advisory_xact_lock key shared by every Quire process on the same database ("quire" in ASCII).
constexpr QLatin1StringView kPgWriterLock("SELECT pg_advisory_xact_lock(1903520101)");
}

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

Transaction::Transaction(QSqlDatabase db, QString what)
    : m_db(std::move(db)), m_what(std::move(what))
{
    const bool pg = isPostgres(m_db);
    QSqlQuery q(m_db);
    if (!q.exec(pg ? QStringLiteral("BEGIN") : QStringLiteral("BEGIN IMMEDIATE"))) {
        m_error = sqlErrorText(m_what + QLatin1StringView(" (starting the transaction)"), q.lastError());
        return;
    }
    m_active = true;
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
    return {};
}

void Transaction::rollback()
{
    if (!m_active)
        return;
    m_active = false;
    QSqlQuery q(m_db);
    // A failed rollback leaves nothing to do: SQLite and PostgreSQL end the transaction anyway
    // when the connection closes, and the next BEGIN reports any lasting problem.
    if (!q.exec(QStringLiteral("ROLLBACK")))
        qWarning("quire: %s", qPrintable(sqlErrorText(m_what + QLatin1StringView(" (rolling back)"), q.lastError())));
}

} // namespace quire
