#pragma once

#include "catalog/catalogconfig.h"
#include "jobs/result.h"

#include <QSqlDatabase>

class QSqlQuery;

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <memory>

namespace quire {

// Gives every worker thread its own QSqlDatabase connection to one catalog.
//
// Qt 6.4 has no QSqlDatabase::moveToThread: a connection may only be used by the thread that
// created it. database() opens the calling thread's connection lazily, names it uniquely
// ("quire-<manager>-<counter>"; thread pointers are reused, counters are not), re-validates it
// with a cheap query after it has been idle for idleCheckAfter() and reconnects if it died,
// replaces it when libpq saw it break or it is older than setMaxAge() (never under an open
// Transaction), tries opening again a few times when the server cannot be reached,
// and closes + removeDatabase()s it *in the owning thread* when that thread finishes
// (QThreadPool threads expire after 30 s idle). Connections of threads that are still alive
// when the manager is destroyed are closed when those threads end, or sooner when they next ask
// any ConnectionManager for a connection.
//
// Asking for a connection on the application's main (GUI) thread is a programming error:
// Q_ASSERT in debug builds, a failed Result in release builds.
//
// Thread-safe: database() may be called from any worker thread concurrently.
class ConnectionManager final
{
public:
    explicit ConnectionManager(CatalogConfig config);
    ~ConnectionManager();
    Q_DISABLE_COPY_MOVE(ConnectionManager)

    const CatalogConfig &config() const;

    // The calling thread's connection (opened on first use). Never call on the GUI thread.
    Result<QSqlDatabase> database();

    // Closes the calling thread's connection now (it is reopened on the next database()).
    void releaseThisThread();

    // A statement prepared on the calling thread's connection and kept with that connection, so
    // later calls skip the parse: preparing a many-row statement costs SQLite more than running
    // it. Use it on this thread only, and finish() it after use so that it holds no read
    // snapshot. nullptr, with *error set, when the connection or the prepare fails. Never call
    // on the GUI thread.
    std::shared_ptr<QSqlQuery> preparedStatement(const QString &sql, QString *error);
    // Statements kept per connection; the oldest half is dropped when a connection has more.
    static constexpr int kMaxPreparedStatements = 96;

    // Connections of this manager that are open right now (all threads).
    int openConnections() const;
    // Connections ever opened by this manager (reconnects included).
    qint64 connectionsOpened() const;

    // The database server's password for connections opened from now on, when the URL has none:
    // given by a person (the window asks) or read from the keychain. It comes before
    // $QUIRE_CATALOG_PASSWORD and the database tools' files (~/.pgpass, ~/.my.cnf). Any thread.
    void setPassword(const QString &password);
    // Asked once, on the worker thread, when the server refuses a connection for want of the
    // right password and no password was set: its answer (for example the keychain's entry) is
    // then tried. Set before the first connection; nullopt: nothing to try.
    void setPasswordLookup(std::function<std::optional<QString>()> lookup);
    // True when the last connection that could not be opened was refused for its password
    // (missing or wrong). Any thread.
    bool passwordRefused() const;

    // Connections older than this (default 30 minutes) are replaced between transactions.
    void setMaxAge(std::chrono::milliseconds age);
    void setIdleCheckAfter(std::chrono::milliseconds idle);
    std::chrono::milliseconds idleCheckAfter() const;

    // True on the thread that runs the QCoreApplication event loop (the GUI thread).
    static bool isGuiThread();

    // Whether database() on the GUI thread asserts (debug builds; default true). Tests that check
    // the refusal itself turn it off; the failed Result is returned either way. Any thread.
    static void setAssertOnGuiThread(bool assert);
    static bool assertOnGuiThread();

    struct State;   // shared with the per-thread holders, which may outlive the manager

private:
    std::shared_ptr<State> m_state;
};

} // namespace quire
