#include "pgserver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QVersionNumber>

#include <cerrno>
#include <cstring>

#include <pwd.h>
#include <unistd.h>

namespace quire::test {

namespace {

constexpr int kCommandTimeoutMs = 120'000;

} // namespace

PgServer::PgServer() : SqlServer(QStringLiteral("postgresql"), QStringLiteral("postgres")) {}

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
    const QString path = program.contains(u'/') ? program : QDir(m_bin).filePath(program);
    QStringList argv = args;
    QString exe = path;
    if (asServer && !m_serverPrefix.isEmpty()) {
        exe = m_serverPrefix.first();
        argv = m_serverPrefix.mid(1) + QStringList{path} + args;
    }
    // The postgres user cannot enter root's working directory; the temporary folder is its own.
    const ProgramResult r =
            runProgram(exe, argv, m_dir->path(), timeoutMs,
                       {{"LC_ALL", "C"}, {"PGCONNECT_TIMEOUT", "10"}},
                       {"PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGSERVICE", "PGOPTIONS"});
    const QString out = QString::fromLocal8Bit(r.out);
    if (output)
        *output = out;
    if (!r.ok()) {
        m_error = QStringLiteral("%1 %2 failed: %3%4%5")
                          .arg(program, args.join(u' '), r.error, u'\n' + QString::fromLocal8Bit(r.err).trimmed(),
                               out.trimmed().isEmpty() ? QString() : u'\n' + out.trimmed());
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
    if (!makeFolder(base + QLatin1StringView("/quire-pg-XXXXXX")))
        return false;
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

    // One role logs in with a password (passwordUserUrl()); the first matching line counts.
    {
        QFile hba(m_dataDir + QStringLiteral("/pg_hba.conf"));
        QByteArray lines;
        if (hba.open(QIODevice::ReadOnly))
            lines = hba.readAll();
        hba.close();
        if (lines.isEmpty() || !hba.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || hba.write("host all quire_password 127.0.0.1/32 scram-sha-256\n" + lines) < 0) {
            m_error = QStringLiteral("could not write %1").arg(hba.fileName());
            return false;
        }
    }

    for (int attempt = 0; attempt < 3; ++attempt) {
        m_port = freeLoopbackPort();
        if (m_port == 0) {
            m_error = QStringLiteral("could not find a free loopback port");
            return false;
        }
        if (pgCtlStart()) {
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
    startCrashWatcher();
    m_startupMs = timer.elapsed();
    return true;
}

void PgServer::startCrashWatcher()
{
    // pg_ctl leaves the server running on its own: the watcher stops it at once if need be.
    QStringList stop;
    for (const QString &part : m_serverPrefix)
        stop.append(shellQuote(part));
    stop << shellQuote(QDir(m_bin).filePath(QStringLiteral("pg_ctl"))) << QStringLiteral("-D") << shellQuote(m_dataDir)
         << QStringLiteral("-m immediate -w -t 30 stop");
    ServerProcess::startCrashWatcher(QStringLiteral("%1; rm -rf %2").arg(stop.join(u' '), shellQuote(m_dir->path())),
                                     "PgServer");
}

bool PgServer::pgCtlStart()
{
    const QString options = QStringLiteral("-p %1 -k %2 -c listen_addresses=127.0.0.1 -c fsync=off "
                                           "-c synchronous_commit=off -c full_page_writes=off "
                                           "-c max_connections=200")
                                    .arg(m_port)
                                    .arg(shellQuote(m_socketDir));
    return run(QStringLiteral("pg_ctl"),
               {QStringLiteral("-D"), m_dataDir, QStringLiteral("-l"), m_logFile, QStringLiteral("-w"), QStringLiteral("-t"),
                QStringLiteral("60"), QStringLiteral("-o"), options, QStringLiteral("start")},
               true, kCommandTimeoutMs, nullptr);
}

bool PgServer::stopServer()
{
    return !m_running || stop();
}

bool PgServer::startAgain()
{
    if (m_running)
        return true;
    m_running = pgCtlStart();
    return m_running;
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

QString PgServer::createDatabaseSql(const QString &name) const
{
    return QStringLiteral("CREATE DATABASE %1").arg(name);
}

QString PgServer::passwordUserSql(const QString &database, const QString &password) const
{
    QString quoted = password;
    quoted.replace(QLatin1Char('\''), QStringLiteral("''"));
    return QStringLiteral("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'quire_password') THEN "
                          "CREATE ROLE quire_password LOGIN; END IF; END $$; "
                          "ALTER ROLE quire_password PASSWORD '%1'; ALTER DATABASE %2 OWNER TO quire_password")
        .arg(quoted, database);
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
