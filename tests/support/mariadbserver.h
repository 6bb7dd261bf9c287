#pragma once

#include "serverprocess.h"

#include <QString>
#include <QStringList>

#include <optional>

#include <sys/types.h>

namespace quire::test {

// A throw-away MariaDB server for one test process: mariadb-install-db into a temporary folder,
// mariadbd on a free loopback port (and a unix socket inside the folder), shut down by the
// destructor. Tests connect as "quire" from 127.0.0.1 without a password; root (through the
// socket) creates databases and users. stop() and start() again keep the data and the port, as a
// database server restart does; kill() ends it at once (SIGKILL), as a crash or power cut does.
// If the test process dies, a small shell stops the server and removes its folder.
//
// Use from the test's main thread. Not thread-safe.
class MariaDbServer final : public SqlServer
{
public:
    MariaDbServer();
    ~MariaDbServer();

    // True when mariadbd and mariadb-install-db are installed (Debian: mariadb-server).
    static bool available();
    static QString missingMessage();

    // TLS for the server (before the first start()): its certificate and key, and the CA file
    // it names to clients. Connections without TLS are still accepted.
    void setTls(const QString &certPath, const QString &keyPath, const QString &caPath);

    bool start();   // false: see error()
    bool stop();    // a clean shutdown
    bool kill();    // SIGKILL, then waits for the process to end
    bool isRunning() const { return m_pid > 0; }

    // url(): "mysql://quire@127.0.0.1:<port>/<database>". createDatabase(): utf8mb4 with a binary
    // collation.
    // Runs SQL as root with the mariadb client; its output (tab-separated, no column names),
    // nullopt on failure.
    std::optional<QString> sql(const QString &database, const QString &statements);

private:
    bool runAsSuperuser(const QString &statements) override { return sql(QStringLiteral("mysql"), statements).has_value(); }
    QString createDatabaseSql(const QString &name) const override;
    QString passwordUserSql(const QString &database, const QString &password) const override;
    bool launch();
    bool waitUntilReady(int timeoutMs);
    void startCrashWatcher();
    QString tmpDir() const { return m_dir->filePath(QStringLiteral("tmp")); }

    QString m_dataDir, m_socket, m_logFile;
    QStringList m_tlsOptions;
    pid_t m_pid = 0;
};

} // namespace quire::test
