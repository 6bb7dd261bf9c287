#include "pgserver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QVersionNumber>

#include <cerrno>
#include <cstring>

#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

namespace quire::test {

namespace {

constexpr int kCommandTimeoutMs = 120'000;

int freeLoopbackPort()
{
    // Bind to port 0 and let the kernel pick; the port is free again once the server closes.
    // Another process could take it in between, so start() retries with a new port.
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QString shellQuote(const QString &s)
{
    QString q = s;
    q.replace(u'\'', QLatin1StringView("'\\''"));
    return u'\'' + q + u'\'';
}

} // namespace

PgServer::PgServer() = default;

PgServer::~PgServer()
{
    if (m_running)
        stop();
}

QString PgServer::binDir()
{
    auto usable = [](const QString &dir) {
        for (const char *tool : {"initdb", "pg_ctl", "psql"}) {
            if (!QFileInfo(QDir(dir).filePath(QLatin1StringView(tool))).isExecutable())
                return false;
        }
        return true;
    };
    const QString fromEnv = qEnvironmentVariable("QUIRE_PG_BINDIR");
    if (!fromEnv.isEmpty())
        return usable(fromEnv) ? fromEnv : QString();

    const QDir root(QStringLiteral("/usr/lib/postgresql"));
    QString best;
    QVersionNumber bestVersion;
    for (const QString &version : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QString dir = root.filePath(version + QLatin1StringView("/bin"));
        const QVersionNumber v = QVersionNumber::fromString(version);
        if (usable(dir) && (best.isEmpty() || v > bestVersion)) {
            best = dir;
            bestVersion = v;
        }
    }
    return best;
}

QString PgServer::missingMessage()
{
    return QStringLiteral("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin "
                          "(install them with: scripts/install-deps --test)");
}

bool PgServer::run(const QString &program, const QStringList &args, bool asServer, int timeoutMs, QString *output)
{
    QProcess p;
    p.setWorkingDirectory(m_dir->path());   // the postgres user cannot enter root's cwd
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const char *var : {"PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE"})
        env.remove(QLatin1StringView(var));
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    env.insert(QStringLiteral("PGCONNECT_TIMEOUT"), QStringLiteral("10"));
    p.setProcessEnvironment(env);

    const QString path = program.contains(u'/') ? program : QDir(m_bin).filePath(program);
    if (asServer && !m_serverPrefix.isEmpty())
        p.start(m_serverPrefix.first(), m_serverPrefix.mid(1) + QStringList{path} + args);
    else
        p.start(path, args);
    if (!p.waitForStarted(30'000)) {
        m_error = QStringLiteral("could not start %1: %2").arg(program, p.errorString());
        return false;
    }
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished(5'000);
        m_error = QStringLiteral("%1 did not finish within %2 s").arg(program).arg(timeoutMs / 1000);
        return false;
    }
    const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(p.readAllStandardError());
    if (output)
        *output = out;
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        m_error = QStringLiteral("%1 %2 failed (exit code %3): %4%5")
                          .arg(program, args.join(u' '))
                          .arg(p.exitCode())
                          .arg(err.trimmed(), out.trimmed().isEmpty() ? QString() : u'\n' + out.trimmed());
        return false;
    }
    return true;
}

bool PgServer::start()
{
    if (m_running)
        return true;
    m_error.clear();
    m_bin = binDir();
    if (m_bin.isEmpty()) {
        m_error = missingMessage();
        return false;
    }
    QElapsedTimer timer;
    timer.start();

    const bool root = ::geteuid() == 0;
    const passwd *pw = nullptr;
    if (root) {
        pw = ::getpwnam("postgres");
        if (!pw) {
            m_error = QStringLiteral("running as root, but there is no \"postgres\" user to run the server as");
            return false;
        }
    }
    // As root, TMPDIR may point somewhere the postgres user cannot enter; /tmp always works.
    const QString base = root ? QStringLiteral("/tmp") : QDir::tempPath();
    m_dir = std::make_unique<QTemporaryDir>(base + QLatin1StringView("/quire-pg-XXXXXX"));
    if (!m_dir->isValid()) {
        m_error = QStringLiteral("could not create a temporary folder: %1").arg(m_dir->errorString());
        return false;
    }
    m_dataDir = m_dir->filePath(QStringLiteral("data"));
    m_socketDir = m_dir->filePath(QStringLiteral("sock"));
    m_logFile = m_dir->filePath(QStringLiteral("server.log"));
    if (!QDir().mkpath(m_socketDir)) {
        m_error = QStringLiteral("could not create %1").arg(m_socketDir);
        return false;
    }

    m_runAs = RunAs::CurrentUser;
    m_serverPrefix.clear();
    if (root) {
        const QStringList sbin{QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"), QStringLiteral("/usr/bin"),
                               QStringLiteral("/bin")};
        const QString runuser = QStandardPaths::findExecutable(QStringLiteral("runuser"), sbin);
        if (runuser.isEmpty()) {
            m_error = QStringLiteral("running as root but runuser (util-linux) was not found");
            return false;
        }
        m_serverPrefix = QStringList{runuser, QStringLiteral("-u"), QStringLiteral("postgres"), QStringLiteral("--")};
        m_runAs = RunAs::RunUser;
        // initdb and pg_ctl redirect to /dev/null; some container images make it root-only.
        if (!run(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral(": > /dev/null")}, true, 30'000, nullptr)) {
            const QString unshare = QStandardPaths::findExecutable(QStringLiteral("unshare"), sbin);
            if (unshare.isEmpty()) {
                m_error = QStringLiteral("the postgres user cannot write /dev/null and unshare (util-linux) was not found");
                return false;
            }
            m_serverPrefix = QStringList{unshare, QStringLiteral("--user"),
                                         QStringLiteral("--map-user=%1").arg(pw->pw_uid),
                                         QStringLiteral("--map-group=%1").arg(pw->pw_gid), QStringLiteral("--")};
            m_runAs = RunAs::UserNamespace;
            if (!run(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral(": > /dev/null")}, true, 30'000, nullptr)) {
                m_error.prepend(QStringLiteral("the postgres user cannot write /dev/null, and running in a user namespace "
                                               "failed too: "));
                return false;
            }
        }
    }
    if (m_runAs == RunAs::RunUser) {
        for (const QString &path : {m_dir->path(), m_socketDir}) {
            if (::chown(QFile::encodeName(path).constData(), pw->pw_uid, pw->pw_gid) != 0) {
                m_error = QStringLiteral("could not hand %1 to the postgres user: %2").arg(path, QString::fromLocal8Bit(strerror(errno)));
                return false;
            }
        }
    }

    // -N: no fsync; the data is thrown away anyway, and it makes initdb several times faster.
    if (!run(QStringLiteral("initdb"),
             {QStringLiteral("-D"), m_dataDir, QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("-A"),
              QStringLiteral("trust"), QStringLiteral("-E"), QStringLiteral("UTF8"), QStringLiteral("--locale=C"),
              QStringLiteral("-N")},
             true, kCommandTimeoutMs, nullptr)) {
        m_error.prepend(QStringLiteral("initdb failed: "));
        return false;
    }

    for (int attempt = 0; attempt < 3; ++attempt) {
        m_port = freeLoopbackPort();
        if (m_port == 0) {
            m_error = QStringLiteral("could not find a free loopback port");
            return false;
        }
        const QString options = QStringLiteral("-p %1 -k %2 -c listen_addresses=127.0.0.1 -c fsync=off "
                                               "-c synchronous_commit=off -c full_page_writes=off "
                                               "-c max_connections=200")
                                        .arg(m_port)
                                        .arg(shellQuote(m_socketDir));
        if (run(QStringLiteral("pg_ctl"),
                {QStringLiteral("-D"), m_dataDir, QStringLiteral("-l"), m_logFile, QStringLiteral("-w"), QStringLiteral("-t"),
                 QStringLiteral("60"), QStringLiteral("-o"), options, QStringLiteral("start")},
                true, kCommandTimeoutMs, nullptr)) {
            m_running = true;
            break;
        }
        QFile log(m_logFile);
        const QString logText = log.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(log.readAll()) : QString();
        m_error = QStringLiteral("pg_ctl start failed: %1\nserver log:\n%2").arg(m_error, logText.right(2000));
        if (!logText.contains(QLatin1StringView("could not bind")) && !logText.contains(QLatin1StringView("in use")))
            return false;
    }
    if (!m_running)
        return false;
    m_startupMs = timer.elapsed();
    return true;
}

bool PgServer::stop()
{
    const bool ok = run(QStringLiteral("pg_ctl"),
                        {QStringLiteral("-D"), m_dataDir, QStringLiteral("-m"), QStringLiteral("fast"), QStringLiteral("-w"),
                         QStringLiteral("-t"), QStringLiteral("60"), QStringLiteral("stop")},
                        true, kCommandTimeoutMs, nullptr);
    if (!ok)
        qWarning("PgServer: %s", qPrintable(m_error));
    m_running = false;
    return ok;
}

QString PgServer::url(const QString &database) const
{
    return QStringLiteral("postgresql://postgres@127.0.0.1:%1/%2").arg(m_port).arg(database);
}

QString PgServer::createDatabase(const QString &name)
{
    static const QRegularExpression valid(QStringLiteral("^[a-z_][a-z0-9_]{0,62}$"));
    if (!valid.match(name).hasMatch()) {
        m_error = QStringLiteral("invalid database name \"%1\"").arg(name);
        return {};
    }
    if (!psql(QStringLiteral("postgres"), QStringLiteral("CREATE DATABASE %1").arg(name)))
        return {};
    return url(name);
}

std::optional<QString> PgServer::psql(const QString &database, const QString &sql)
{
    if (!m_running) {
        m_error = QStringLiteral("the PostgreSQL test server is not running");
        return std::nullopt;
    }
    QString out;
    if (!run(QStringLiteral("psql"),
             {QStringLiteral("-X"), QStringLiteral("-q"), QStringLiteral("-A"), QStringLiteral("-t"), QStringLiteral("-v"),
              QStringLiteral("ON_ERROR_STOP=1"), QStringLiteral("-h"), QStringLiteral("127.0.0.1"), QStringLiteral("-p"),
              QString::number(m_port), QStringLiteral("-U"), QStringLiteral("postgres"), QStringLiteral("-d"), database,
              QStringLiteral("-c"), sql},
             false, kCommandTimeoutMs, &out))
        return std::nullopt;
    return out.trimmed();
}

} // namespace quire::test
