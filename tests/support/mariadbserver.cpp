#include "mariadbserver.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QStandardPaths>

#include <cerrno>
#include <cstring>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace quire::test {

namespace {

constexpr int kCommandTimeoutMs = 120'000;
const QStringList kSbin{QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin"), QStringLiteral("/sbin"),
                        QStringLiteral("/bin")};

QString findProgram(const QString &name)
{
    const QString inPath = QStandardPaths::findExecutable(name);
    return inPath.isEmpty() ? QStandardPaths::findExecutable(name, kSbin) : inPath;
}

} // namespace

MariaDbServer::MariaDbServer() : SqlServer(QStringLiteral("mysql"), QStringLiteral("quire")) {}

MariaDbServer::~MariaDbServer()
{
    if (m_pid > 0)
        stop();
}

bool MariaDbServer::available()
{
    return !findProgram(QStringLiteral("mariadbd")).isEmpty() && !findProgram(QStringLiteral("mariadb-install-db")).isEmpty()
           && !findProgram(QStringLiteral("mariadb")).isEmpty();
}

QString MariaDbServer::missingMessage()
{
    return QStringLiteral("MariaDB is not installed (Debian: mariadb-server; scripts/install-deps --test installs it)");
}

bool MariaDbServer::start()
{
    if (m_pid > 0)
        return true;
    m_error.clear();
    if (!available()) {
        m_error = missingMessage();
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    const bool first = !m_dir;
    if (first) {
        if (!makeFolder(QDir::tempPath() + QLatin1StringView("/quire-mariadb-XXXXXX")))
            return false;
        m_dataDir = m_dir->filePath(QStringLiteral("data"));
        m_socket = m_dir->filePath(QStringLiteral("mariadb.sock"));
        m_logFile = m_dir->filePath(QStringLiteral("server.log"));
        // Each server its own temporary folder: mariadbd names its temporary tables in tmpdir
        // (default /tmp) in a way that two servers bootstrapping at once can collide on
        // ("Could not remove temporary table '/tmp/#sql-temptable-…'", then install-db fails).
        if (!QDir().mkpath(tmpDir())) {
            m_error = QStringLiteral("could not create %1").arg(tmpDir());
            return false;
        }
        QStringList args{QStringLiteral("--no-defaults"), QStringLiteral("--datadir=") + m_dataDir,
                         QStringLiteral("--tmpdir=") + tmpDir(),
                         QStringLiteral("--auth-root-authentication-method=normal"), QStringLiteral("--skip-test-db")};
        if (::geteuid() == 0)
            args << QStringLiteral("--user=root");
        const ProgramResult r = runProgram(findProgram(QStringLiteral("mariadb-install-db")), args, {}, kCommandTimeoutMs);
        if (!r.ok()) {
            m_error = QStringLiteral("mariadb-install-db failed: %1\n%2").arg(r.error, QString::fromLocal8Bit(r.out + r.err).right(2000));
            return false;
        }
    }
    // A port taken by someone else between probing and binding: try another (first start only;
    // a restart keeps its port, as a real server does).
    for (int attempt = 0; attempt < (first ? 3 : 1); ++attempt) {
        if (first)
            m_port = freeLoopbackPort();
        if (!launch())
            return false;
        if (waitUntilReady(90'000)) {
            if (first) {
                const std::optional<QString> made = sql(QStringLiteral("mysql"), QStringLiteral(
                        "CREATE USER IF NOT EXISTS 'quire'@'127.0.0.1'; "
                        "GRANT ALL PRIVILEGES ON *.* TO 'quire'@'127.0.0.1'"));
                if (!made)
                    return false;
                startCrashWatcher();
            }
            m_startupMs = timer.elapsed();
            return true;
        }
        kill();
        QFile log(m_logFile);
        const QString text = log.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(log.readAll()).right(2000) : QString();
        m_error = QStringLiteral("mariadbd did not become ready on port %1: %2\nserver log:\n%3").arg(m_port).arg(m_error, text);
        if (!text.contains(QLatin1StringView("in use")))
            return false;
    }
    return false;
}

void MariaDbServer::setTls(const QString &certPath, const QString &keyPath, const QString &caPath)
{
    m_tlsOptions = {QStringLiteral("--ssl-cert=") + certPath, QStringLiteral("--ssl-key=") + keyPath,
                    QStringLiteral("--ssl-ca=") + caPath};
}

bool MariaDbServer::launch()
{
    QStringList args{findProgram(QStringLiteral("mariadbd")), QStringLiteral("--no-defaults"),
                     QStringLiteral("--datadir=") + m_dataDir, QStringLiteral("--tmpdir=") + tmpDir(),
                     QStringLiteral("--socket=") + m_socket,
                     QStringLiteral("--port=%1").arg(m_port), QStringLiteral("--bind-address=127.0.0.1"),
                     QStringLiteral("--pid-file=") + m_dir->filePath(QStringLiteral("mariadb.pid")),
                     QStringLiteral("--skip-name-resolve"), QStringLiteral("--innodb-buffer-pool-size=64M"),
                     // Containers often lack Linux native AIO.
                     QStringLiteral("--innodb-use-native-aio=0"), QStringLiteral("--max-connections=300")};
    if (::geteuid() == 0)
        args << QStringLiteral("--user=root");
    args << m_tlsOptions;
    m_pid = spawnDetached(args, m_logFile);
    if (m_pid <= 0) {
        m_error = QStringLiteral("could not start mariadbd: %1").arg(QString::fromLocal8Bit(strerror(errno)));
        m_pid = 0;
        return false;
    }
    return true;
}

bool MariaDbServer::waitUntilReady(int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    const QString admin = findProgram(QStringLiteral("mariadb-admin"));
    while (!deadline.hasExpired()) {
        // Polls the server with a ping through its socket.
        const ProgramResult r = runProgram(admin, {QStringLiteral("--no-defaults"), QStringLiteral("--socket=") + m_socket,
                                                   QStringLiteral("--user=root"), QStringLiteral("--connect-timeout=2"),
                                                   QStringLiteral("ping")},
                                           {}, 10'000);
        if (r.ok())
            return true;
        // 100 ms before the next ping, cut short if mariadbd ends.
        if (waitForExit(m_pid, 100)) {
            m_pid = 0;
            m_error = QStringLiteral("mariadbd exited during start-up");
            return false;
        }
    }
    m_error = QStringLiteral("not ready within %1 s").arg(timeoutMs / 1000);
    return false;
}

bool MariaDbServer::stop()
{
    if (m_pid <= 0)
        return true;
    ::kill(m_pid, SIGTERM);   // mariadbd shuts down cleanly on SIGTERM
    if (!waitForExit(m_pid, 60'000)) {
        qWarning("MariaDbServer: mariadbd did not stop within 60 s; killing it");
        return kill();
    }
    m_pid = 0;
    return true;
}

bool MariaDbServer::kill()
{
    if (m_pid <= 0)
        return true;
    ::kill(m_pid, SIGKILL);
    while (::waitpid(m_pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    m_pid = 0;
    return true;
}

void MariaDbServer::startCrashWatcher()
{
    // If this test process dies without running the destructor, stop the server (its pid is
    // re-read from the pid file: a restart changes it) and remove its folder.
    const QString pidFile = m_dir->filePath(QStringLiteral("mariadb.pid"));
    ServerProcess::startCrashWatcher(QStringLiteral("p=$(cat %1 2>/dev/null); [ -n \"$p\" ] && kill -9 \"$p\"; sleep 1; rm -rf %2")
                                             .arg(shellQuote(pidFile), shellQuote(m_dir->path())),
                                     "MariaDbServer");
}

QString MariaDbServer::createDatabaseSql(const QString &name) const
{
    return QStringLiteral("CREATE DATABASE %1 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin").arg(name);
}

QString MariaDbServer::passwordUserSql(const QString &database, const QString &password) const
{
    QString quoted = password;
    quoted.replace(u'\\', QLatin1StringView("\\\\"));
    quoted.replace(u'\'', QLatin1StringView("\\'"));
    return QStringLiteral("CREATE USER IF NOT EXISTS 'quire_password'@'127.0.0.1'; "
                          "ALTER USER 'quire_password'@'127.0.0.1' IDENTIFIED BY '%1'; "
                          "GRANT ALL PRIVILEGES ON %2.* TO 'quire_password'@'127.0.0.1'").arg(quoted, database);
}

std::optional<QString> MariaDbServer::sql(const QString &database, const QString &statements)
{
    if (m_pid <= 0) {
        m_error = QStringLiteral("the MariaDB test server is not running");
        return std::nullopt;
    }
    const ProgramResult r = runProgram(findProgram(QStringLiteral("mariadb")),
                                       {QStringLiteral("--no-defaults"), QStringLiteral("--socket=") + m_socket,
                                        QStringLiteral("--user=root"), QStringLiteral("--batch"),
                                        QStringLiteral("--skip-column-names"), QStringLiteral("--execute=") + statements,
                                        database},
                                       {}, kCommandTimeoutMs);
    if (!r.ok()) {
        m_error = QStringLiteral("mariadb: %1: %2").arg(r.error, QString::fromLocal8Bit(r.err).trimmed());
        return std::nullopt;
    }
    return QString::fromUtf8(r.out).trimmed();
}

} // namespace quire::test
