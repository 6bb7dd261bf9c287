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
class PgServer final : public SqlServer
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

    // url(): "postgresql://postgres@127.0.0.1:<port>/<database>". passwordUserUrl(): a login role
    // that must give its password (scram-sha-256 over TCP) and owns the database.
    // A database server restart: stopServer() ("pg_ctl stop -m fast") and startAgain() on the
    // same port with the same data. false: see error().
    bool stopServer();
    bool startAgain();
    // Runs SQL as the superuser with psql; its output (tuples only, unaligned), nullopt on failure.
    std::optional<QString> psql(const QString &database, const QString &sql);

private:
    bool runAsSuperuser(const QString &statements) override { return psql(QStringLiteral("postgres"), statements).has_value(); }
    QString createDatabaseSql(const QString &name) const override;
    QString passwordUserSql(const QString &database, const QString &password) const override;
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
