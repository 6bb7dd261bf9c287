#pragma once

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>
#include <utility>

#include <sys/types.h>

// What the throw-away servers of the tests (PgServer, MariaDbServer, MotoServer) share: running
// programs without QProcess, and the state and clean-up every one of them has.
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

// Starts args[0] (a full path) with args[1...] in a process group of its own (a Ctrl+C or
// ctest's kill of the test's group must not take it along), stdin from /dev/null and its output
// appended to logFile (empty: /dev/null); it is not waited for. 0 when it could not start (errno
// says why).
pid_t spawnDetached(const QStringList &args, const QString &logFile = {});
// Waits at most timeoutMs for the child `pid` to end and reaps it; false when it still runs.
bool waitForExit(pid_t pid, int timeoutMs);

// A free port on 127.0.0.1 (on ::1 with ipv6): the kernel picks one for a socket that is closed
// again at once. Another process could take it before the server binds it, so the servers' start()
// tries a few.
quint16 freeLoopbackPort(bool ipv6 = false);
// s quoted for /bin/sh.
QString shellQuote(const QString &s);
// False, with *error saying why, unless name is a database name the servers take as it is
// (lowercase letters, digits, '_').
bool checkDatabaseName(const QString &name, QString *error);

// The state every throw-away server has: the temporary folder it runs in, its loopback port, what
// went wrong last, how long start() took, and its crash watcher. Use from one thread.
class ServerProcess
{
public:
    Q_DISABLE_COPY(ServerProcess)

    const QString &error() const { return m_error; }
    int port() const { return m_port; }
    qint64 startupMs() const { return m_startupMs; }

protected:
    ServerProcess() = default;
    ~ServerProcess();   // ends the crash watcher; the server's own destructor has stopped it

    // A small shell that, once this test process is gone without having run the destructor (a
    // crash, a sanitizer abort, ctest's timeout), runs `cleanup` (shell commands that stop the
    // server and remove its folder), so aborted runs leave nothing behind. `who` names the server
    // in a warning when the shell cannot start.
    void startCrashWatcher(const QString &cleanup, const char *who);
    // Makes the server's temporary folder (m_dir) from templatePath, QTemporaryDir's pattern
    // ("…-XXXXXX"); false, with error() saying why, when it cannot.
    bool makeFolder(const QString &templatePath);

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_error;
    int m_port = 0;
    qint64 m_startupMs = 0;

private:
    pid_t m_watcher = 0;
};

// What PgServer and MariaDbServer share: databases and a password-checked user made with SQL that
// the superuser runs, and the catalog URLs of them.
class SqlServer : public ServerProcess
{
public:
    // "<scheme>://<the tests' user>@127.0.0.1:<port>/<database>"
    QString url(const QString &database) const { return urlAs(m_user, database); }
    // Creates a database (name: lowercase letters, digits, '_') and returns its URL; empty on failure.
    QString createDatabase(const QString &name);
    // The URL of `database` (made by createDatabase()) for the user quire_password, who must give
    // `password` (every other user is trusted). The URL has no password. Empty on failure.
    QString passwordUserUrl(const QString &database, const QString &password);

protected:
    SqlServer(QString scheme, QString user) : m_scheme(std::move(scheme)), m_user(std::move(user)) {}
    ~SqlServer() = default;

    // Runs statements as the superuser on the server's own database; false (error() says why) on failure.
    virtual bool runAsSuperuser(const QString &statements) = 0;
    // The statements that create the database `name`.
    virtual QString createDatabaseSql(const QString &name) const = 0;
    // The statements that give quire_password `password` and every right on `database`.
    virtual QString passwordUserSql(const QString &database, const QString &password) const = 0;

private:
    QString urlAs(const QString &user, const QString &database) const;

    QString m_scheme;
    QString m_user;
};

} // namespace quire::test
