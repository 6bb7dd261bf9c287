#include "catalog/dbconnections.h"

#include "catalog/mariadburl.h"
#include "catalog/pgurl.h"
#include "catalog/transaction.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSqlDriver>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>
#include <QThreadStorage>

#include <mutex>
#include <thread>
#include <vector>

#include <libpq-fe.h>

namespace quire {

using Clock = std::chrono::steady_clock;

namespace {

// The translation context of the messages below (ConnectionManager is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::ConnectionManager)
};

constexpr int kSqliteBusyTimeoutMs = 10'000;
// PostgreSQL: bound every wait (connect, locks) so a stuck server cannot hang a worker forever.
constexpr int kPgConnectTimeoutS = 10;
constexpr QLatin1StringView kPgLockTimeout("30s");
constexpr std::chrono::milliseconds kDefaultIdleCheck{30'000};
// Connections older than this are replaced between transactions (a pool's "pool_recycle"):
// server-side state and memory do not build up, and a fail-over to another host is followed.
constexpr std::chrono::milliseconds kDefaultMaxAge{30 * 60'000};
// Opening a connection that the server refuses or drops (restarting, failing over) is tried
// again after these pauses; wrong passwords, unknown databases and the like are not.
constexpr std::chrono::milliseconds kConnectRetryPauses[] = {std::chrono::milliseconds(250),
                                                             std::chrono::milliseconds(750),
                                                             std::chrono::milliseconds(2000)};
// MariaDB: how long the client library waits for the server to connect, to answer (a statement
// runs at most kStatementTimeoutS, a lock wait 30 s) and to take what it sends.
constexpr int kMariaDbConnectTimeoutS = 10;
constexpr int kMariaDbReadTimeoutS = 330;
constexpr int kMariaDbWriteTimeoutS = 60;
constexpr int kStatementTimeoutS = 300;
// PostgreSQL: no catalog statement runs this long unless something is wrong (a lock held by
// another program is bounded by lock_timeout already).
constexpr QLatin1StringView kPgStatementTimeout("5min");

std::atomic<bool> g_assertOnGuiThread{true};
std::atomic<quint64> g_nextManagerId{1};

// Qt guards its connection registry with a QReadWriteLock. Debian's Qt is not built with
// ThreadSanitizer, so TSan cannot see that lock; taking a standard mutex around every registry
// call (add, remove, driver lookup) gives TSan the ordering it needs and costs nothing measurable
// (it is only taken when a connection is opened or closed).
std::mutex g_registryMutex;

QString quoteConnectOption(const QString &value)
{
    // libpq conninfo syntax: single quotes, backslash escapes.
    QString v = value;
    v.replace(u'\\', QLatin1StringView("\\\\"));
    v.replace(u'\'', QLatin1StringView("\\'"));
    return u'\'' + v + u'\'';
}

} // namespace

struct ConnectionManager::State
{
    explicit State(CatalogConfig c) : config(std::move(c)), id(g_nextManagerId.fetch_add(1)) {}

    const CatalogConfig config;
    const quint64 id;
    std::atomic<bool> alive{true};
    std::atomic<int> open{0};
    std::atomic<qint64> opened{0};
    std::atomic<quint64> nextConnection{1};
    std::atomic<qint64> idleCheckMs{kDefaultIdleCheck.count()};
    std::atomic<qint64> maxAgeMs{kDefaultMaxAge.count()};
    std::atomic<bool> passwordRefused{false};

    mutable std::mutex passwordMutex;   // guards the three below
    std::optional<QString> password;
    std::function<std::optional<QString>()> passwordLookup;
    bool lookedUp = false;

    std::optional<QString> givenPassword() const
    {
        std::lock_guard lock(passwordMutex);
        return password;
    }
};

namespace {

using State = ConnectionManager::State;

struct ThreadConnection
{
    std::shared_ptr<State> state;   // keeps the counters alive if the manager goes first
    QString name;
    QSqlDatabase db;
    Clock::time_point lastUsed;
    // preparedStatement()'s cache; `order` is the order of preparation, oldest first.
    QHash<QString, std::shared_ptr<QSqlQuery>> statements;
    QStringList order;
    Clock::time_point openedAt;
};

// PostgreSQL: libpq marks a connection bad when the server went away during a statement
// (restart, kill, network); such a connection is replaced before the next use.
bool connectionLost(const QSqlDatabase &db)
{
    const QVariant handle = db.driver() ? db.driver()->handle() : QVariant();
    if (!handle.isValid() || qstrcmp(handle.typeName(), "PGconn*") != 0)
        return false;
    PGconn *const conn = *static_cast<PGconn *const *>(handle.constData());
    return conn && PQstatus(conn) == CONNECTION_BAD;
}

// An open() failure worth another try: the server could not be reached or is not ready, as
// opposed to a refusal that the same attempt would meet again.
bool worthRetrying(const QString &error)
{
    static const QLatin1StringView kFinal[] = {
        QLatin1StringView("password"), QLatin1StringView("authentication"), QLatin1StringView("does not exist"),
        QLatin1StringView("permission denied"), QLatin1StringView("invalid"), QLatin1StringView("not supported"),
        QLatin1StringView("certificate"), QLatin1StringView("SSL"), QLatin1StringView("could not translate host name"),
        QLatin1StringView("access denied"), QLatin1StringView("unknown database"), QLatin1StringView("unknown MySQL server host"),
        QLatin1StringView("TLS"),
    };
    for (const QLatin1StringView marker : kFinal) {
        if (error.contains(marker, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

void dropStatements(ThreadConnection &c, qsizetype count)
{
    for (qsizetype i = 0; i < count && !c.order.isEmpty(); ++i)
        c.statements.remove(c.order.takeFirst());
}

void closeConnection(ThreadConnection &c)
{
    // Runs in the owning thread: Qt requires a connection to be closed where it was opened.
    // Statements first: a QSqlQuery must not outlive its driver.
    dropStatements(c, c.order.size());
    c.db.close();
    c.db = QSqlDatabase();   // drop our handle first, or removeDatabase() warns "still in use"
    {
        std::lock_guard lock(g_registryMutex);
        QSqlDatabase::removeDatabase(c.name);
    }
    c.state->open.fetch_sub(1, std::memory_order_relaxed);
}

// One per thread. Its destructor runs when the thread ends (QThreadStorage), i.e. in the thread
// that owns the connections, which is exactly where Qt needs them closed and removed. For
// QThreadPool threads that is when they expire after their idle timeout.
struct ThreadConnections
{
    std::vector<ThreadConnection> list;   // usually one entry: one catalog per thread

    ThreadConnections() = default;
    Q_DISABLE_COPY(ThreadConnections)
    ~ThreadConnections()
    {
        for (ThreadConnection &c : list)
            closeConnection(c);
    }

    ThreadConnection *find(const State *state)
    {
        for (ThreadConnection &c : list) {
            if (c.state.get() == state)
                return &c;
        }
        return nullptr;
    }

    void remove(const State *state)
    {
        for (auto it = list.begin(); it != list.end(); ++it) {
            if (it->state.get() == state) {
                closeConnection(*it);
                list.erase(it);
                return;
            }
        }
    }

    // Connections of managers destroyed since this thread last asked for one.
    void pruneDead()
    {
        for (auto it = list.begin(); it != list.end();) {
            if (!it->state->alive.load(std::memory_order_acquire)) {
                closeConnection(*it);
                it = list.erase(it);
            } else {
                ++it;
            }
        }
    }
};

// QThreadStorage rather than thread_local: Qt deletes a thread's QThreadStorage data inside that
// thread *before* QThread::wait() returns (QThreadPrivate::finish), whereas thread_local
// destructors run later, at the very end of the pthread, when main() may already be tearing down
// Qt's SQL registry (QThreadPool's destructor returns as soon as wait() does).
QThreadStorage<ThreadConnections *> t_storage;

ThreadConnections &threadConnections()
{
    if (!t_storage.hasLocalData())
        t_storage.setLocalData(new ThreadConnections);
    return *t_storage.localData();
}

Status configureSqlite(QSqlDatabase &db)
{
    // busy_timeout first, so the switch to WAL (which needs a lock once) waits instead of failing.
    const struct
    {
        const char *sql;
        const char *expect;   // the value the pragma must report back, or nullptr
    } pragmas[] = {
        {"PRAGMA busy_timeout = 10000", nullptr},
        {"PRAGMA journal_mode = WAL", "wal"},
        {"PRAGMA synchronous = NORMAL", nullptr},
        {"PRAGMA foreign_keys = ON", nullptr},
        {"PRAGMA temp_store = MEMORY", nullptr},
        // Up to 16 MiB of pages per connection (the default is 2 MiB): the documents table's
        // indexes of a catalog with 100,000 documents then stay in memory while hashes are
        // recorded at random places in them.
        {"PRAGMA cache_size = -16384", nullptr},
    };
    static_assert(kSqliteBusyTimeoutMs == 10'000, "keep the busy_timeout pragma in sync");
    for (const auto &p : pragmas) {
        QSqlQuery q(db);
        // Turning a new catalog file to WAL needs it to itself for a moment, and SQLite reports
        // "database is locked" at once, without its busy timeout, when other connections open the
        // same new file at the same time (several threads or processes on first use). Wait here
        // instead, as long as the busy timeout would have.
        const auto deadline = Clock::now() + std::chrono::milliseconds(kSqliteBusyTimeoutMs);
        auto delay = std::chrono::milliseconds(2);
        while (!q.exec(QLatin1StringView(p.sql))) {
            const int code = q.lastError().nativeErrorCode().toInt() & 0xff;   // primary result code
            const bool busy = code == 5 /* SQLITE_BUSY */ || code == 6 /* SQLITE_LOCKED */;
            if (!busy || Clock::now() + delay >= deadline)
                return Status::failure(Tr::tr("could not run \"%1\": %2")
                                               .arg(QLatin1StringView(p.sql), q.lastError().text()));
            std::this_thread::sleep_for(delay);
            delay = std::min(delay * 2, std::chrono::milliseconds(50));
        }
        if (p.expect && (!q.next() || q.value(0).toString().compare(QLatin1StringView(p.expect),
                                                                    Qt::CaseInsensitive) != 0)) {
            // Not fatal: e.g. a file system without shared memory support cannot do WAL. The
            // catalog still works, readers just wait for writers.
            qWarning("quire: %s reported \"%s\" instead of \"%s\" for %s", p.sql,
                     qPrintable(q.value(0).toString()), p.expect,
                     qPrintable(QDir::toNativeSeparators(db.databaseName())));
        }
    }
    return {};
}

// Runs a connection's session settings, in order; the first that fails is the error.
Status runSettings(QSqlDatabase &db, const QList<QString> &statements)
{
    for (const QString &sql : statements) {
        QSqlQuery q(db);
        if (!q.exec(sql))
            return Status::failure(Tr::tr("could not run \"%1\": %2").arg(sql, q.lastError().text()));
    }
    return {};
}

Status configurePostgres(QSqlDatabase &db)
{
    const QList<QString> statements = {
        // "relation already exists, skipping" notices from migrations are noise on stderr.
        QStringLiteral("SET client_min_messages TO warning"),
        QStringLiteral("SET lock_timeout TO '%1'").arg(kPgLockTimeout),
        QStringLiteral("SET statement_timeout TO '%1'").arg(kPgStatementTimeout),
    };
    return runSettings(db, statements);
}

Status configureMariaDb(QSqlDatabase &db)
{
    // The schema and session settings are MariaDB's (generated columns, IF NOT EXISTS on columns,
    // max_statement_time); MySQL differs in each.
    QSqlQuery version(db);
    if (!version.exec(QStringLiteral("SELECT VERSION()")) || !version.next())
        return Status::failure(Tr::tr("could not read the server's version: %1").arg(version.lastError().text()));
    const QString name = version.value(0).toString();
    const QList<QStringView> numbers = QStringView(name).split(u'.');
    const int major = numbers.value(0).toInt(), minor = numbers.size() > 1 ? numbers.at(1).toInt() : 0;
    if (!name.contains(QLatin1StringView("MariaDB"), Qt::CaseInsensitive))
        return Status::failure(Tr::tr("the server is MySQL %1; Quire's catalog runs on MariaDB 10.5 or later, "
                                      "not on MySQL").arg(name));
    if (major < 10 || (major == 10 && minor < 5))
        return Status::failure(Tr::tr("the server is MariaDB %1; Quire's catalog needs 10.5 or later").arg(name));
    const QList<QString> statements = {
        // What PostgreSQL does by default, and what the catalog's writers expect: each statement
        // sees what was committed before it (the writer lock orders the writers).
        QStringLiteral("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"),
        // Errors rather than silently truncated or adjusted values.
        QStringLiteral("SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'"),
        QStringLiteral("SET SESSION innodb_lock_wait_timeout = 30"),
        QStringLiteral("SET SESSION max_statement_time = %1").arg(kStatementTimeoutS),
    };
    return runSettings(db, statements);
}

} // namespace

ConnectionManager::ConnectionManager(CatalogConfig config)
    : m_state(std::make_shared<State>(std::move(config)))
{
}

ConnectionManager::~ConnectionManager()
{
    m_state->alive.store(false, std::memory_order_release);
    // This thread's connection can go now; other threads close theirs when they next ask any
    // manager for a connection, or when they end.
    if (!isGuiThread())
        threadConnections().remove(m_state.get());
}

const CatalogConfig &ConnectionManager::config() const
{
    return m_state->config;
}

Result<QSqlDatabase> ConnectionManager::database()
{
    if (isGuiThread()) {
        if (assertOnGuiThread()) {
            Q_ASSERT_X(false, "ConnectionManager::database",
                       "catalog connections must not be used on the GUI thread (run the work on the I/O pool)");
        }
        return Result<QSqlDatabase>::failure(
                Tr::tr("Catalog %1: refused to use the database on the GUI thread; "
                       "catalog work must run on a worker thread")
                        .arg(m_state->config.displayLocation()));
    }

    ThreadConnections &mine = threadConnections();
    mine.pruneDead();

    const auto now = Clock::now();
    if (ThreadConnection *c = mine.find(m_state.get())) {
        bool alive = c->db.isOpen();
        const auto idle = std::chrono::milliseconds(m_state->idleCheckMs.load(std::memory_order_relaxed));
        const auto maxAge = std::chrono::milliseconds(m_state->maxAgeMs.load(std::memory_order_relaxed));
        // Never under an open transaction: its statements must all run on one connection.
        if (alive && Transaction::openOnThisThread() == 0) {
            // Aged out only after a pause in its use: a caller that asks twice in a row (a read
            // and its prepared statement) must get the same connection both times.
            const bool resting = now - c->lastUsed >= std::min<std::chrono::milliseconds>(idle, std::chrono::seconds(1));
            const bool suspect = takeLostConnectionNote();
            if ((resting && now - c->openedAt >= maxAge) || connectionLost(c->db)) {
                alive = false;
            } else if (suspect || now - c->lastUsed >= idle) {
                // Like a pool's pre-ping: a server restart or a dropped TCP connection shows up
                // here instead of as a confusing error in the middle of the next transaction.
                QSqlQuery ping(c->db);
                alive = ping.exec(QStringLiteral("SELECT 1")) && ping.next();
            }
        }
        if (alive) {
            c->lastUsed = now;
            return c->db;
        }
        mine.remove(m_state.get());
    }

    const CatalogConfig &config = m_state->config;
    if (const std::optional<QString> unusable = config.locationError())
        return Result<QSqlDatabase>::failure(Tr::tr("Cannot open the catalog: %1").arg(*unusable));
    const QString name = QStringLiteral("quire-%1-%2").arg(m_state->id).arg(
            m_state->nextConnection.fetch_add(1, std::memory_order_relaxed));
    const QString driver = config.isPostgres() ? QStringLiteral("QPSQL")
                         : config.isMariaDb()  ? QStringLiteral("QMYSQL")
                                               : QStringLiteral("QSQLITE");
    const QString where = config.displayLocation();

    std::optional<PostgresUrl> pg;
    std::optional<MariaDbUrl> maria;
    if (config.isPostgres()) {
        QString error;
        pg = parsePostgresUrl(config.location, &error);
        if (!pg)
            return Result<QSqlDatabase>::failure(Tr::tr("Cannot open the catalog: %1").arg(error));
    } else if (config.isMariaDb()) {
        QString error;
        maria = parseMariaDbUrl(config.location, &error);
        if (!maria)
            return Result<QSqlDatabase>::failure(Tr::tr("Cannot open the catalog: %1").arg(error));
    } else {
        // SQLite creates the file but not its folder (first run: the data folder may not exist).
        const QString dir = QFileInfo(config.location).absolutePath();
        if (!QDir().mkpath(dir))
            return Result<QSqlDatabase>::failure(
                    Tr::tr("Cannot open the catalog %1: could not create the folder %2")
                            .arg(where, QDir::toNativeSeparators(dir)));
    }

    QSqlDatabase db;
    {
        std::lock_guard lock(g_registryMutex);
        if (!QSqlDatabase::isDriverAvailable(driver)) {
#ifdef Q_OS_LINUX
            const QString package = QStringLiteral("libqt6sql6-%1")
                                        .arg(config.isPostgres() ? QStringLiteral("psql")
                                             : config.isMariaDb() ? QStringLiteral("mysql")
                                                                  : QStringLiteral("sqlite"));
            return Result<QSqlDatabase>::failure(
                    Tr::tr("Cannot open the catalog %1: the Qt SQL driver %2 is not installed (Debian: %3)")
                            .arg(where, driver, package));
#else
            return Result<QSqlDatabase>::failure(
                    Tr::tr("Cannot open the catalog %1: the Qt SQL driver %2 is not installed "
                           "(Qt's sqldrivers plugin folder lacks it)").arg(where, driver));
#endif
        }
        db = QSqlDatabase::addDatabase(driver, name);
    }

    if (pg) {
        // Host and port may be lists ("h1,h2"): they go as conninfo parameters, which QPSQL
        // passes to libpq as they are (setPort() takes one number).
        db.setUserName(pg->user);
        // The password: from the URL (only from a caller that must pass it so, never from the
        // command line: see CatalogConfig::passwordInUrl()), else $QUIRE_CATALOG_PASSWORD, else
        // none, and libpq reads $PGPASSFILE or ~/.pgpass (and $PGPASSWORD) itself.
        db.setPassword(!pg->password.isEmpty() ? pg->password
                                               : m_state->givenPassword().value_or(qEnvironmentVariable("QUIRE_CATALOG_PASSWORD")));
        db.setDatabaseName(pg->dbname);
        // TCP keepalives: a server that vanished (power cut, network) is noticed within about
        // a minute instead of a statement hanging on a dead connection.
        QStringList options{QStringLiteral("connect_timeout=%1").arg(kPgConnectTimeoutS),
                            QStringLiteral("application_name=quire"), QStringLiteral("keepalives=1"),
                            QStringLiteral("keepalives_idle=30"), QStringLiteral("keepalives_interval=10"),
                            QStringLiteral("keepalives_count=3")};
        if (!pg->host.isEmpty())
            options.append(QStringLiteral("host=") + quoteConnectOption(pg->host));
        if (!pg->port.isEmpty())
            options.append(QStringLiteral("port=") + quoteConnectOption(pg->port));
        // Later parameters win in libpq: the URL's own connect_timeout or application_name too.
        for (const auto &[key, value] : std::as_const(pg->options))
            options.append(key + u'=' + quoteConnectOption(value));
        db.setConnectOptions(options.join(u';'));
    } else if (maria) {
        db.setUserName(maria->user);
        const std::optional<QString> given = m_state->givenPassword();
        db.setPassword(maria->password.isEmpty() && given ? *given : mariaDbPassword(*maria));
        db.setDatabaseName(maria->database);
        db.setHostName(maria->host);
        db.setPort(maria->port);
        // Never MYSQL_OPT_RECONNECT: a silent reconnect in the middle of a transaction would run
        // its remaining statements outside it. A lost connection is replaced here instead.
        // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, as SQLite and PostgreSQL do,
        // not only those whose values changed (the catalog tells "no such row" by it).
        QStringList options{QStringLiteral("CLIENT_FOUND_ROWS"),
                            QStringLiteral("MYSQL_OPT_CONNECT_TIMEOUT=%1").arg(kMariaDbConnectTimeoutS),
                            QStringLiteral("MYSQL_OPT_READ_TIMEOUT=%1").arg(kMariaDbReadTimeoutS),
                            QStringLiteral("MYSQL_OPT_WRITE_TIMEOUT=%1").arg(kMariaDbWriteTimeoutS)};
        const std::pair<const char *, const QString *> paths[] = {
            {"UNIX_SOCKET", &maria->socket}, {"SSL_CA", &maria->sslCa}, {"SSL_CAPATH", &maria->sslCapath},
            {"SSL_CERT", &maria->sslCert}, {"SSL_KEY", &maria->sslKey}};
        for (const auto &[key, value] : paths) {
            if (!value->isEmpty())
                options.append(QLatin1StringView(key) + u'=' + *value);
        }
        db.setConnectOptions(options.join(u';'));
    } else {
        db.setDatabaseName(config.location);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(kSqliteBusyTimeoutMs));
    }

    auto discard = [&](const QString &error) {
        db.close();
        db = QSqlDatabase();
        {
            std::lock_guard lock(g_registryMutex);
            QSqlDatabase::removeDatabase(name);
        }
        return Result<QSqlDatabase>::failure(error);
    };

    // MariaDB over TLS: the server's certificate, host name included, checked first (see
    // checkMariaDbServerCertificate()); a certificate that fails is final, not retried. A server
    // that cannot be reached is left to the client library's connect (and its retries below).
    if (maria) {
        bool unreachable = false;
        if (const Status tls = checkMariaDbServerCertificate(*maria, kMariaDbConnectTimeoutS * 1000, &unreachable);
            !tls && !unreachable)
            return discard(Tr::tr("Cannot open the catalog %1: %2").arg(where, tls.error()));
    }

    bool opened = db.open();
    // Refused for its password: the lookup (the keychain) is asked once, and its answer tried.
    auto refusedForPassword = [&] {
        const QString e = db.lastError().text();
        return e.contains(QLatin1StringView("password"), Qt::CaseInsensitive)
            || e.contains(QLatin1StringView("Access denied"), Qt::CaseInsensitive);
    };
    if (!opened && config.isServer() && refusedForPassword()) {
        std::function<std::optional<QString>()> lookup;
        {
            std::lock_guard lock(m_state->passwordMutex);
            if (!m_state->password && !m_state->lookedUp && m_state->passwordLookup) {
                lookup = m_state->passwordLookup;
                m_state->lookedUp = true;
            }
        }
        if (const std::optional<QString> found = lookup ? lookup() : std::nullopt; found && !found->isEmpty()) {
            {
                std::lock_guard lock(m_state->passwordMutex);
                if (!m_state->password)
                    m_state->password = *found;
            }
            db.setPassword(*found);
            opened = db.open();
        }
    }
    // Not worth another try either (worthRetrying()): this is the final answer.
    const bool refused = !opened && config.isServer() && refusedForPassword();
    m_state->passwordRefused.store(refused, std::memory_order_relaxed);
    int attempts = 1;
    for (const auto pause : kConnectRetryPauses) {
        if (opened || !config.isServer() || !worthRetrying(db.lastError().text()))
            break;
        std::this_thread::sleep_for(pause);
        ++attempts;
        opened = db.open();
    }
    if (!opened) {
        QString why = db.lastError().text().trimmed();
        if (attempts > 1)
            why = Tr::tr("%1 (tried %n times)", nullptr, attempts).arg(why);
        // libpq: "fe_sendauth: no password supplied", "password authentication failed for user";
        // MariaDB: "Access denied for user … (using password: NO)".
        if (refused)
            why = Tr::tr("%1 (the catalog's password comes from the keychain (the window asks for it), "
                         "$QUIRE_CATALOG_PASSWORD or %2)").arg(why, pg ? QStringLiteral("~/.pgpass") : QStringLiteral("~/.my.cnf"));
        // The server could not be reached: the caller may try the whole operation again.
        if (config.isServer() && worthRetrying(db.lastError().text()))
            noteSqlFailure(SqlFailure::Lost);
        return discard(Tr::tr("Cannot open the catalog %1: %2").arg(where, why));
    }
    const Status configured = pg ? configurePostgres(db) : maria ? configureMariaDb(db) : configureSqlite(db);
    if (!configured)
        return discard(Tr::tr("Cannot set up the catalog connection to %1: %2").arg(where, configured.error()));

    m_state->open.fetch_add(1, std::memory_order_relaxed);
    m_state->opened.fetch_add(1, std::memory_order_relaxed);
    mine.list.push_back(ThreadConnection{m_state, name, db, now, {}, {}, Clock::now()});
    return db;
}

std::shared_ptr<QSqlQuery> ConnectionManager::preparedStatement(const QString &sql, QString *error)
{
    Result<QSqlDatabase> db = database();
    if (!db) {
        *error = db.error();
        return nullptr;
    }
    ThreadConnection *c = threadConnections().find(m_state.get());
    Q_ASSERT(c);   // database() succeeded on this thread
    if (const auto it = c->statements.constFind(sql); it != c->statements.constEnd())
        return *it;
    if (c->order.size() >= kMaxPreparedStatements)
        dropStatements(*c, kMaxPreparedStatements / 2);
    auto q = std::make_shared<QSqlQuery>(c->db);
    // SQLite: forward-only avoids Qt caching every row. QPSQL's forward-only mode streams rows
    // and loses them if another statement runs meanwhile, so the servers' results stay buffered.
    q->setForwardOnly(!m_state->config.isServer());
    if (!q->prepare(sql)) {
        noteSqlError(q->lastError());   // the server may have gone: worth another try
        *error = q->lastError().text();
        return nullptr;
    }
    c->statements.insert(sql, q);
    c->order.append(sql);
    return q;
}

void ConnectionManager::releaseThisThread()
{
    if (!isGuiThread())
        threadConnections().remove(m_state.get());
}

int ConnectionManager::openConnections() const
{
    return m_state->open.load(std::memory_order_relaxed);
}

qint64 ConnectionManager::connectionsOpened() const
{
    return m_state->opened.load(std::memory_order_relaxed);
}

void ConnectionManager::setPassword(const QString &password)
{
    std::lock_guard lock(m_state->passwordMutex);
    m_state->password = password;
}

void ConnectionManager::setPasswordLookup(std::function<std::optional<QString>()> lookup)
{
    std::lock_guard lock(m_state->passwordMutex);
    m_state->passwordLookup = std::move(lookup);
    m_state->lookedUp = false;
}

bool ConnectionManager::passwordRefused() const
{
    return m_state->passwordRefused.load(std::memory_order_relaxed);
}

void ConnectionManager::setMaxAge(std::chrono::milliseconds age)
{
    m_state->maxAgeMs.store(age.count(), std::memory_order_relaxed);
}

void ConnectionManager::setIdleCheckAfter(std::chrono::milliseconds idle)
{
    m_state->idleCheckMs.store(idle.count(), std::memory_order_relaxed);
}

std::chrono::milliseconds ConnectionManager::idleCheckAfter() const
{
    return std::chrono::milliseconds(m_state->idleCheckMs.load(std::memory_order_relaxed));
}

bool ConnectionManager::isGuiThread()
{
    const QCoreApplication *app = QCoreApplication::instance();
    return app && app->thread() == QThread::currentThread();
}

void ConnectionManager::setAssertOnGuiThread(bool assert)
{
    g_assertOnGuiThread.store(assert, std::memory_order_relaxed);
}

bool ConnectionManager::assertOnGuiThread()
{
    return g_assertOnGuiThread.load(std::memory_order_relaxed);
}

} // namespace quire
