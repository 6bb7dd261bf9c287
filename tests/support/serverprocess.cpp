#include "serverprocess.h"

#include <QDeadlineTimer>
#include <QElapsedTimer>
#include <QFile>
#include <QHostAddress>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace quire::test {

namespace {

// Strings as the null-terminated char * array that posix_spawn takes (they are kept alongside).
class CStrings final
{
public:
    explicit CStrings(QByteArrayList strings) : m_strings(std::move(strings))
    {
        for (QByteArray &s : m_strings)
            m_pointers.push_back(s.data());
        m_pointers.push_back(nullptr);
    }
    Q_DISABLE_COPY(CStrings)

    char *const *data() const { return m_pointers.data(); }

private:
    QByteArrayList m_strings;
    std::vector<char *> m_pointers;
};

// posix_spawn with default signal handling and an empty signal mask in the child, whatever the
// test harness set, and with ownGroup a process group of its own. The error number, 0 when the
// child started.
int spawn(pid_t *pid, const CStrings &argv, const CStrings &envp, const posix_spawn_file_actions_t *actions,
          bool ownGroup)
{
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    if (ownGroup) {
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);
    const int rc = ::posix_spawn(pid, argv.data()[0], actions, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    return rc;
}

QByteArrayList environment()
{
    QByteArrayList out;
    for (char **e = environ; *e; ++e)
        out.append(QByteArray(*e));
    return out;
}

} // namespace

ProgramResult runProgram(const QString &program, const QStringList &args, const QString &workingDirectory,
                         int timeoutMs, const QList<std::pair<QByteArray, QByteArray>> &setEnv,
                         const QList<QByteArray> &unsetEnv)
{
    ProgramResult r;
    const QString path = program.contains(u'/') ? program : QStandardPaths::findExecutable(program);
    if (path.isEmpty()) {
        r.error = QStringLiteral("%1: not found in PATH").arg(program);
        return r;
    }

    QByteArrayList argvData{QFile::encodeName(path)};
    for (const QString &a : args)
        argvData.append(a.toLocal8Bit());
    const CStrings argv(argvData);

    QByteArrayList envData;
    for (const QByteArray &entry : environment()) {
        const QByteArray name = entry.left(entry.indexOf('='));
        bool drop = unsetEnv.contains(name);
        for (const auto &kv : setEnv)
            drop = drop || kv.first == name;
        if (!drop)
            envData.append(entry);
    }
    for (const auto &kv : setEnv)
        envData.append(kv.first + '=' + kv.second);
    const CStrings envp(envData);

    int outPipe[2], errPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
        r.error = QStringLiteral("pipe: %1").arg(QString::fromLocal8Bit(strerror(errno)));
        return r;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2);
    const QByteArray dir = QFile::encodeName(workingDirectory);
    if (!workingDirectory.isEmpty())
        posix_spawn_file_actions_addchdir_np(&actions, dir.constData());
    pid_t pid = 0;
    const int rc = spawn(&pid, argv, envp, &actions, false);
    posix_spawn_file_actions_destroy(&actions);
    ::close(outPipe[1]);
    ::close(errPipe[1]);
    if (rc != 0) {
        ::close(outPipe[0]);
        ::close(errPipe[0]);
        r.error = QStringLiteral("could not start %1: %2").arg(path, QString::fromLocal8Bit(strerror(rc)));
        return r;
    }
    r.started = true;

    QElapsedTimer timer;
    timer.start();
    pollfd fds[2] = {{outPipe[0], POLLIN, 0}, {errPipe[0], POLLIN, 0}};
    QByteArray *sinks[2] = {&r.out, &r.err};
    int open = 2;
    bool killed = false;
    while (open > 0) {
        const qint64 left = timeoutMs - timer.elapsed();
        if (left <= 0 && !killed) {
            ::kill(pid, SIGKILL);
            killed = true;
        }
        const int n = ::poll(fds, 2, killed ? 1000 : int(std::min<qint64>(left, 1000)));
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buffer[8192];
            const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
            if (got > 0) {
                sinks[i]->append(buffer, got);
            } else if (got == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open;
            }
        }
        if (killed && timer.elapsed() > timeoutMs + 5'000)
            break;   // a grandchild holds the pipe open; stop reading
    }
    for (const pollfd &f : fds) {
        if (f.fd >= 0)
            ::close(f.fd);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.finished = !killed;
    if (WIFEXITED(status))
        r.exitCode = WEXITSTATUS(status);
    if (killed)
        r.error = QStringLiteral("%1 did not finish within %2 s and was killed").arg(program).arg(timeoutMs / 1000);
    else if (WIFSIGNALED(status))
        r.error = QStringLiteral("%1 was killed by signal %2").arg(program).arg(WTERMSIG(status));
    else if (r.exitCode != 0)
        r.error = QStringLiteral("%1 exited with code %2").arg(program).arg(r.exitCode);
    return r;
}

pid_t spawnDetached(const QStringList &args, const QString &logFile)
{
    QByteArrayList argvData;
    for (const QString &a : args)
        argvData.append(a.toLocal8Bit());
    const QByteArray log = QFile::encodeName(logFile.isEmpty() ? QStringLiteral("/dev/null") : logFile);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.constData(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = 0;
    const int rc = spawn(&pid, CStrings(argvData), CStrings(environment()), &actions, true);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        errno = rc;
    return rc == 0 ? pid : 0;
}

bool waitForExit(pid_t pid, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    auto reap = [pid] {
        pid_t reaped = 0;
        while ((reaped = ::waitpid(pid, nullptr, WNOHANG)) < 0 && errno == EINTR) {
        }
        return reaped != 0;   // -1 (ECHILD): reaped before
    };
    // A pidfd becomes readable when the process ends.
    const int fd = int(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
        pollfd p{fd, POLLIN, 0};
        while (::poll(&p, 1, int(deadline.remainingTime())) < 0 && errno == EINTR) {
        }
        ::close(fd);
        return reap();
    }
    // No pidfd (a kernel before 5.3, a sandbox that forbids it): ask every 20 ms.
    while (!reap()) {
        if (deadline.hasExpired())
            return false;
        const timespec pause{0, 20'000'000};
        ::nanosleep(&pause, nullptr);
    }
    return true;
}

quint16 freeLoopbackPort(bool ipv6)
{
    QTcpServer probe;
    if (!probe.listen(ipv6 ? QHostAddress::LocalHostIPv6 : QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QString shellQuote(const QString &s)
{
    QString q = s;
    q.replace(u'\'', QLatin1StringView("'\\''"));
    return u'\'' + q + u'\'';
}

bool ServerProcess::makeFolder(const QString &templatePath)
{
    m_dir = std::make_unique<QTemporaryDir>(templatePath);
    if (m_dir->isValid())
        return true;
    m_error = QStringLiteral("could not create a temporary folder: %1").arg(m_dir->errorString());
    return false;
}

QString SqlServer::urlAs(const QString &user, const QString &database) const
{
    return QStringLiteral("%1://%2@127.0.0.1:%3/%4").arg(m_scheme, user).arg(m_port).arg(database);
}

QString SqlServer::createDatabase(const QString &name)
{
    if (!checkDatabaseName(name, &m_error) || !runAsSuperuser(createDatabaseSql(name)))
        return {};
    return url(name);
}

QString SqlServer::passwordUserUrl(const QString &database, const QString &password)
{
    if (!runAsSuperuser(passwordUserSql(database, password)))
        return {};
    return urlAs(QStringLiteral("quire_password"), database);
}

bool checkDatabaseName(const QString &name, QString *error)
{
    static const QRegularExpression valid(QStringLiteral("^[a-z_][a-z0-9_]{0,62}$"));
    if (valid.match(name).hasMatch())
        return true;
    *error = QStringLiteral("invalid database name \"%1\"").arg(name);
    return false;
}

ServerProcess::~ServerProcess()
{
    if (m_watcher > 0) {
        // It would notice our exit on its own; ending it now also reaps it.
        ::kill(m_watcher, SIGKILL);
        while (::waitpid(m_watcher, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
}

void ServerProcess::startCrashWatcher(const QString &cleanup, const char *who)
{
    const QString script = QStringLiteral("while [ -d /proc/%1 ]; do sleep 1; done; %2").arg(::getpid()).arg(cleanup);
    m_watcher = spawnDetached({QStringLiteral("/bin/sh"), QStringLiteral("-c"), script});
    if (m_watcher <= 0)
        qWarning("%s: could not start the crash watcher; a crashed test would leave the server running", who);
}

} // namespace quire::test
