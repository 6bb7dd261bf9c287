#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <optional>
#include <utility>

namespace quire::test {

// The outcome of runProgram().
struct ProgramResult
{
    bool started = false;
    bool finished = false;   // false: timed out and killed
    int exitCode = -1;       // -1 unless it exited normally
    QByteArray out;
    QByteArray err;
    QString error;           // why it could not start, or how it ended badly

    bool ok() const { return started && finished && exitCode == 0; }
};

// Runs a program to completion (stdin from /dev/null, output captured) with posix_spawn.
// Tests use this instead of QProcess: Qt 6.4's QProcess starts children with vfork semantics,
// and ThreadSanitizer, seeing a "fork" from a multi-threaded process in memory the parent shares,
// aborts the test at its next pthread_create(). `program` without '/' is looked up in PATH.
ProgramResult runProgram(const QString &program, const QStringList &args, const QString &workingDirectory = {},
                         int timeoutMs = 120'000, const QList<std::pair<QByteArray, QByteArray>> &setEnv = {},
                         const QList<QByteArray> &unsetEnv = {});

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
class PgServer final
{
public:
    PgServer();
    ~PgServer();
    PgServer(const PgServer &) = delete;
    PgServer &operator=(const PgServer &) = delete;

    // The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and psql (or
    // $QUIRE_PG_BINDIR when set); empty when PostgreSQL is not installed.
    static QString binDir();
    // Why the tests skip when binDir() is empty.
    static QString missingMessage();

    bool start();                      // false: see error()
    bool isRunning() const { return m_running; }
    const QString &error() const { return m_error; }
    int port() const { return m_port; }
    qint64 startupMs() const { return m_startupMs; }

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

    std::unique_ptr<QTemporaryDir> m_dir;
    QStringList m_serverPrefix;   // how to run initdb/pg_ctl (e.g. runuser -u postgres --)
    QString m_bin;
    QString m_dataDir;
    QString m_socketDir;
    QString m_logFile;
    QString m_error;
    int m_port = 0;
    int m_watcher = 0;   // pid of the shell that cleans up if this process dies
    qint64 m_startupMs = 0;
    bool m_running = false;
    RunAs m_runAs = RunAs::CurrentUser;
};

} // namespace quire::test
