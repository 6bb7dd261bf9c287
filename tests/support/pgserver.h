#pragma once

#include "serverprocess.h"

#include <QString>
#include <QStringList>

#include <optional>

namespace quire::test {

// A throw-away PostgreSQL server for one test process: initdb into a temporary folder, a free
// loopback port, its unix socket inside the folder, started with "pg_ctl -w" and stopped
// ("pg_ctl stop -m fast") by the destructor. Authentication is "trust" and it listens on
// 127.0.0.1 only. As root (CI), the server programs run as the "postgres" system user through
// runuser (the temporary folder is handed to that user), because initdb and postgres refuse to
// run as root. Where that user cannot even write /dev/null (seen on some container images:
// initdb and pg_ctl need it), they run instead in a user namespace that maps root to the
// postgres uid ("unshare --user"): PostgreSQL then sees a non-root user that owns its files.
//
// Use from the test's main thread. Not thread-safe.
class PgServer final : public ServerProcess
{
public:
    PgServer();
    ~PgServer();

    // The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and psql (or
    // $QUIRE_PG_BINDIR when set); empty when PostgreSQL is not installed.
    static QString binDir();
    static bool available() { return !binDir().isEmpty(); }
    // Why the tests skip when binDir() is empty.
    static QString missingMessage();

    bool start();                      // false: see error()
    bool isRunning() const { return m_running; }

    // "postgresql://postgres@127.0.0.1:<port>/<database>"
    QString url(const QString &database) const;
    // Creates a database (name: lowercase letters, digits, '_') and returns its URL; empty on failure.
    QString createDatabase(const QString &name);
    // The URL of `database` (made by createDatabase()) for a login role that must give
    // `password` (scram-sha-256 over TCP; every other role is trusted): the role owns the
    // database. The URL has no password. Empty on failure.
    QString passwordUserUrl(const QString &database, const QString &password);
    // A database server restart: stopServer() ("pg_ctl stop -m fast") and startAgain() on the
    // same port with the same data. false: see error().
    bool stopServer();
    bool startAgain();
    // Runs SQL as the superuser with psql; its output (tuples only, unaligned), nullopt on failure.
    std::optional<QString> psql(const QString &database, const QString &sql);

private:
    // Runs a program and waits; `asServer`: as the postgres user when we are root.
    bool run(const QString &program, const QStringList &args, bool asServer, int timeoutMs, QString *output);
    bool stop();
    bool pgCtlStart();
    void startCrashWatcher();

    enum class RunAs { CurrentUser, RunUser, UserNamespace };

    QStringList m_serverPrefix;   // how to run initdb/pg_ctl (e.g. runuser -u postgres --)
    QString m_bin;
    QString m_dataDir;
    QString m_socketDir;
    QString m_logFile;
    bool m_running = false;
    RunAs m_runAs = RunAs::CurrentUser;
};

} // namespace quire::test
