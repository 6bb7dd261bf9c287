#include "mariadbserver.h"

#include "apacheprocess.h"
#include "pgserver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QThread>

#include <cerrno>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

extern char **environ;

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

QString shellQuote(const QString &s)
{
    QString q = s;
    q.replace(u'\'', QLatin1StringView("'\\''"));
    return u'\'' + q + u'\'';
}

pid_t spawn(const QStringList &args, const QString &logFile, bool ownGroup)
{
    QByteArrayList data;
    for (const QString &a : args)
        data.append(a.toLocal8Bit());
    std::vector<char *> argv;
    for (QByteArray &a : data)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const QByteArray log = QFile::encodeName(logFile.isEmpty() ? QStringLiteral("/dev/null") : logFile);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.constData(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (ownGroup) {
        // Its own process group: a Ctrl+C or ctest's kill of the test's group must not take it along.
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, data.first().constData(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc == 0 ? pid : 0;
}

} // namespace

MariaDbServer::MariaDbServer() = default;

MariaDbServer::~MariaDbServer()
{
    if (m_pid > 0)
        stop();
    if (m_watcher > 0) {
        ::kill(m_watcher, SIGTERM);
        ::waitpid(m_watcher, nullptr, 0);
    }
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
        m_dir = std::make_unique<QTemporaryDir>(QDir::tempPath() + QLatin1StringView("/quire-mariadb-XXXXXX"));
        if (!m_dir->isValid()) {
            m_error = QStringLiteral("could not create a temporary folder: %1").arg(m_dir->errorString());
            return false;
        }
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
            m_port = apache::freeLoopbackPort();
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
    m_pid = spawn(args, m_logFile, true);
    if (m_pid <= 0) {
        m_error = QStringLiteral("could not start mariadbd: %1").arg(QString::fromLocal8Bit(strerror(errno)));
        m_pid = 0;
        return false;
    }
    return true;
}

bool MariaDbServer::waitUntilReady(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    const QString admin = findProgram(QStringLiteral("mariadb-admin"));
    while (timer.elapsed() < timeoutMs) {
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = 0;
            m_error = QStringLiteral("mariadbd exited during start-up");
            return false;
        }
        const ProgramResult r = runProgram(admin, {QStringLiteral("--no-defaults"), QStringLiteral("--socket=") + m_socket,
                                                   QStringLiteral("--user=root"), QStringLiteral("--connect-timeout=2"),
                                                   QStringLiteral("ping")},
                                           {}, 10'000);
        if (r.ok())
            return true;
        QThread::msleep(100);
    }
    m_error = QStringLiteral("not ready within %1 s").arg(timeoutMs / 1000);
    return false;
}

bool MariaDbServer::stop()
{
    if (m_pid <= 0)
        return true;
    ::kill(m_pid, SIGTERM);   // mariadbd shuts down cleanly on SIGTERM
    QElapsedTimer timer;
    timer.start();
    int status = 0;
    while (::waitpid(m_pid, &status, WNOHANG) == 0) {
        if (timer.elapsed() > 60'000) {
            qWarning("MariaDbServer: mariadbd did not stop within 60 s; killing it");
            return kill();
        }
        QThread::msleep(20);
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
    const QString script = QStringLiteral("trap 'exit 0' TERM; while [ -d /proc/%1 ]; do sleep 1; done; "
                                          "p=$(cat %2 2>/dev/null); [ -n \"$p\" ] && kill -9 \"$p\"; sleep 1; rm -rf %3")
                                   .arg(::getpid())
                                   .arg(shellQuote(pidFile), shellQuote(m_dir->path()));
    m_watcher = spawn({QStringLiteral("/bin/sh"), QStringLiteral("-c"), script}, {}, true);
    if (m_watcher <= 0)
        qWarning("MariaDbServer: could not start the crash watcher; a crashed test would leave the server running");
}

QString MariaDbServer::url(const QString &database) const
{
    return QStringLiteral("mysql://quire@127.0.0.1:%1/%2").arg(m_port).arg(database);
}

QString MariaDbServer::createDatabase(const QString &name)
{
    static const QRegularExpression valid(QStringLiteral("^[a-z_][a-z0-9_]{0,62}$"));
    if (!valid.match(name).hasMatch()) {
        m_error = QStringLiteral("invalid database name \"%1\"").arg(name);
        return {};
    }
    if (!sql(QStringLiteral("mysql"), QStringLiteral("CREATE DATABASE %1 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin").arg(name)))
        return {};
    return url(name);
}

QString MariaDbServer::passwordUserUrl(const QString &database, const QString &password)
{
    QString quoted = password;
    quoted.replace(u'\\', QLatin1StringView("\\\\"));
    quoted.replace(u'\'', QLatin1StringView("\\'"));
    if (!sql(QStringLiteral("mysql"),
             QStringLiteral("CREATE USER IF NOT EXISTS 'quire_password'@'127.0.0.1'; "
                            "ALTER USER 'quire_password'@'127.0.0.1' IDENTIFIED BY '%1'; "
                            "GRANT ALL PRIVILEGES ON %2.* TO 'quire_password'@'127.0.0.1'").arg(quoted, database)))
        return {};
    return QStringLiteral("mysql://quire_password@127.0.0.1:%1/%2").arg(m_port).arg(database);
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
