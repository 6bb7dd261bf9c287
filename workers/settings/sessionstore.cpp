#include "settings/sessionstore.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <QJsonValue>
#include <QLoggingCategory>
#include <QSaveFile>
#include <QSet>
#include <QStandardPaths>
#include <QThread>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <optional>
#include <utility>

namespace quire {

Q_LOGGING_CATEGORY(lcSessionStore, "quire.sessionstore")

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr QStringView kSettingsPrefix = u"settings/";

// A wait for the lock is made of system_clock slices this long (see lockWithin()).
constexpr auto kLockSlice = 100ms;
// Under a continuous stream of changes the file is still written at least this often.
constexpr auto kMaxFlushDelay = 5s;

// The store whose exclusive lock this thread holds while running an update() function.
thread_local const SessionStore *t_updating = nullptr;

qint64 steadyNowNs()
{
    return std::chrono::duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

// libstdc++ implements the steady_clock deadlines of std::shared_timed_mutex, and so
// try_lock_for()/try_lock_shared_for(), with pthread_rwlock_clock{rd,wr}lock, which GCC 12's
// ThreadSanitizer does not intercept: TSan would not see those acquisitions at all and would
// report every access to the guarded data as a race. The system_clock overloads use
// pthread_rwlock_timed{rd,wr}lock, which TSan does see. The deadline that counts is kept on
// steady_clock and waited for in short system_clock slices, so a wall-clock step forward cannot
// cut the wait short, and a step back stretches at most the slice in progress.
template <typename TryUntil>
bool lockWithin(milliseconds timeout, TryUntil tryUntil)
{
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::max(nanoseconds::zero(),
                                   std::chrono::duration_cast<nanoseconds>(deadline - steady_clock::now()));
        if (tryUntil(system_clock::now() + std::min<nanoseconds>(left, kLockSlice)))
            return true;
        if (steady_clock::now() >= deadline)
            return false;
    }
}

QString quoted(const QString &text)
{
    return u'"' + text + u'"';
}

// Names a few keys in a message without flooding the log with a huge batch.
QString describeKeys(const QStringList &keys)
{
    constexpr int kShown = 3;
    QStringList shown;
    for (int i = 0; i < std::min<int>(kShown, keys.size()); ++i)
        shown << quoted(keys.at(i));
    QString text = QStringLiteral("%1 key%2: %3")
                       .arg(keys.size())
                       .arg(keys.size() == 1 ? QString() : QStringLiteral("s"),
                            shown.join(QStringLiteral(", ")));
    if (keys.size() > kShown)
        text += QStringLiteral(", ...");
    return text;
}

// QJsonValue::fromVariant() quietly turns what it cannot represent into null (or a string
// where a type converts to one); settings that would not survive a restart are refused instead.
bool jsonRepresentable(const QVariant &value)
{
    switch (value.metaType().id()) {
    case QMetaType::QVariantList: {
        const QVariantList list = value.toList();
        return std::all_of(list.cbegin(), list.cend(), jsonRepresentable);
    }
    case QMetaType::QVariantMap: {
        const QVariantMap map = value.toMap();
        return std::all_of(map.cbegin(), map.cend(), jsonRepresentable);
    }
    case QMetaType::QVariantHash: {
        const QVariantHash hash = value.toHash();
        return std::all_of(hash.cbegin(), hash.cend(), jsonRepresentable);
    }
    case QMetaType::Nullptr:
        return true;
    default: {
        const QJsonValue json = QJsonValue::fromVariant(value);
        return !json.isNull() && !json.isUndefined();
    }
    }
}

// Restores t_updating however the update function leaves (it may throw).
class UpdatingScope final
{
public:
    explicit UpdatingScope(const SessionStore *store) : m_previous(std::exchange(t_updating, store)) {}
    ~UpdatingScope() { t_updating = m_previous; }
    Q_DISABLE_COPY_MOVE(UpdatingScope)

private:
    const SessionStore *m_previous;
};

} // namespace

SessionStore::SessionStore(QString settingsFilePath, QObject *parent)
    : QObject(parent)
    , m_path(std::move(settingsFilePath))
{
    m_flushTimer.setSingleShot(true);
    connect(&m_flushTimer, &QTimer::timeout, this, &SessionStore::onFlushTimer);
}

SessionStore::~SessionStore()
{
    m_flushTimer.stop();
    {
        std::lock_guard lock(m_writerMutex);
        m_writerStop = true;   // from here on requestFlush() starts nothing
    }
    m_writerWake.notify_all();
    if (m_writer.joinable())
        m_writer.join();       // finishes a write already requested
    // Changes still inside the debounce window: written here, synchronously. Acceptable only
    // because the store is destroyed at shutdown (see the header). Failures are already logged.
    if (!m_path.isEmpty())
        (void)flush();
}

// ---------------------------------------------------------------------------------------------
// Locking

QString SessionStore::acquire(LockMode mode, const char *operation, const QString &subject) const
{
    if (t_updating == this)
        return reentrancyError(operation, subject);

    const milliseconds timeout{m_lockTimeoutMs.load(std::memory_order_relaxed)};
    bool locked = false;
    if (mode == LockMode::Shared) {
        locked = m_lock.try_lock_shared()
            || lockWithin(timeout, [this](auto deadline) { return m_lock.try_lock_shared_until(deadline); });
    } else {
        locked = m_lock.try_lock()
            || lockWithin(timeout, [this](auto deadline) { return m_lock.try_lock_until(deadline); });
    }
    if (locked) {
        m_acquisitions.fetch_add(1, std::memory_order_relaxed);
        return {};
    }

    m_failedAcquisitions.fetch_add(1, std::memory_order_relaxed);
    const QString message =
        (mode == LockMode::Shared ? tr("SessionStore: %1(%2) timed out after %3 ms waiting for the shared lock")
                                  : tr("SessionStore: %1(%2) timed out after %3 ms waiting for the exclusive lock"))
            .arg(QLatin1StringView(operation), subject, QString::number(timeout.count()));
    qCWarning(lcSessionStore).noquote() << message;
    return message;
}

QString SessionStore::reentrancyError(const char *operation, const QString &subject) const
{
    // The lock is not recursive: waiting here would only wait for ourselves.
    const QString message =
        tr("SessionStore: %1(%2) was called from inside an update() function, which "
           "must not call back into the store")
            .arg(QLatin1StringView(operation), subject);
    qCWarning(lcSessionStore).noquote() << message;
    return message;
}

QString SessionStore::validate(const QString &key, const QVariant &value) const
{
    if (key.isEmpty())
        return tr("SessionStore: refused an empty key");
    if (value.isValid() && isPersistentKey(key) && !jsonRepresentable(value)) {
        return tr("SessionStore: refused a value of type %1 for %2: settings must be "
                  "representable in JSON (bool, number, string, list or map)")
            .arg(QLatin1StringView(value.metaType().name()), quoted(key));
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Reads

Result<QVariant> SessionStore::value(const QString &key, const QVariant &defaultValue) const
{
    if (QString error = acquire(LockMode::Shared, "value", quoted(key)); !error.isEmpty())
        return Result<QVariant>::failure(std::move(error));
    std::shared_lock lock(m_lock, std::adopt_lock);
    return m_values.value(key, defaultValue);
}

qint64 SessionStore::intSetting(const QString &key, qint64 fallback, qint64 lo, qint64 hi) const
{
    Q_ASSERT(lo <= fallback && fallback <= hi);
    const Result<QVariant> v = value(key);
    if (!v || !v->isValid())
        return fallback;
    bool ok = false;
    qint64 n = 0;
    if (v->typeId() == QMetaType::Double) {
        // JSON numbers arrive as doubles: whole ones within range only (no silent truncation).
        const double d = v->toDouble();
        ok = std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9.0e15;
        n = ok ? qint64(d) : 0;
    } else if (v->typeId() != QMetaType::Bool && v->canConvert<qlonglong>()) {
        n = v->toLongLong(&ok);
    }
    const qint64 used = ok ? std::clamp(n, lo, hi) : fallback;
    if (!ok || used != n) {
        static std::mutex warnedLock;
        static QSet<QString> warned;
        const QString shown = v->toString().left(40);
        std::lock_guard lock(warnedLock);
        if (!warned.contains(key + QLatin1Char('=') + shown)) {
            warned.insert(key + QLatin1Char('=') + shown);
            qCWarning(lcSessionStore, "%s: %s '%s' (%s); using %lld",
                      m_path.isEmpty() ? "settings" : qUtf8Printable(m_path), qUtf8Printable(key), qUtf8Printable(shown),
                      ok ? qUtf8Printable(QStringLiteral("outside %1 to %2").arg(lo).arg(hi)) : "not a whole number",
                      qlonglong(used));
        }
    }
    return used;
}

Result<bool> SessionStore::contains(const QString &key) const
{
    if (QString error = acquire(LockMode::Shared, "contains", quoted(key)); !error.isEmpty())
        return Result<bool>::failure(std::move(error));
    std::shared_lock lock(m_lock, std::adopt_lock);
    return m_values.contains(key);
}

Result<QVariantMap> SessionStore::values(const QStringList &keys) const
{
    if (QString error = acquire(LockMode::Shared, "values", describeKeys(keys)); !error.isEmpty())
        return Result<QVariantMap>::failure(std::move(error));
    std::shared_lock lock(m_lock, std::adopt_lock);
    QVariantMap result;
    for (const QString &key : keys) {
        const auto it = m_values.constFind(key);
        if (it != m_values.cend())
            result.insert(key, *it);
    }
    return result;
}

Result<QStringList> SessionStore::keys(const QString &prefix) const
{
    if (QString error = acquire(LockMode::Shared, "keys", quoted(prefix)); !error.isEmpty())
        return Result<QStringList>::failure(std::move(error));
    std::shared_lock lock(m_lock, std::adopt_lock);
    QStringList result;
    // The map is sorted: the keys with a prefix form one run starting at lowerBound(prefix).
    for (auto it = m_values.lowerBound(prefix); it != m_values.cend() && it.key().startsWith(prefix); ++it)
        result << it.key();
    return result;
}

Result<QVariantMap> SessionStore::snapshot(const QString &prefix) const
{
    if (QString error = acquire(LockMode::Shared, "snapshot", quoted(prefix)); !error.isEmpty())
        return Result<QVariantMap>::failure(std::move(error));
    std::shared_lock lock(m_lock, std::adopt_lock);
    return copyLocked(prefix);
}

QVariantMap SessionStore::copyLocked(const QString &prefix) const
{
    // Never hand out m_values itself, not even as an implicitly shared copy: QMap decides
    // whether it may write in place with a *relaxed* load of the reference count, so our next
    // change could write the tree that another thread, outside the lock, has just finished
    // reading, with nothing ordering the two (a real data race, and ThreadSanitizer reports it).
    // A fresh map costs O(n) under the shared lock; keys and values inside are still shared, but
    // those are never modified in place, only replaced.
    QVariantMap result;
    for (auto it = m_values.lowerBound(prefix); it != m_values.cend() && it.key().startsWith(prefix); ++it)
        result.insert(result.cend(), it.key(), it.value());
    return result;
}

// ---------------------------------------------------------------------------------------------
// Writes

bool SessionStore::applyLocked(const QVariantMap &changes, QList<Change> &changed)
{
    bool settingsChanged = false;
    for (auto change = changes.cbegin(); change != changes.cend(); ++change) {
        const QString &key = change.key();
        const QVariant &value = change.value();
        auto it = m_values.find(key);
        if (!value.isValid()) {
            if (it == m_values.end())
                continue;
            m_values.erase(it);
        } else if (it != m_values.end()) {
            // Same type too: 1 and 1.0 compare equal but are not the same setting.
            if (it->metaType() == value.metaType() && *it == value)
                continue;
            *it = value;
        } else {
            m_values.insert(key, value);
        }
        changed.append({key, value});
        if (isPersistentKey(key))
            settingsChanged = true;
    }
    if (settingsChanged)
        ++m_generation;
    m_keyCount.store(int(m_values.size()), std::memory_order_relaxed);
    return settingsChanged;
}

Status SessionStore::applyChanges(const char *operation, const QString &subject,
                                  const QVariantMap &changes)
{
    for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
        if (QString error = validate(it.key(), it.value()); !error.isEmpty())
            return Status::failure(std::move(error));
    }
    if (QString error = acquire(LockMode::Exclusive, operation, subject); !error.isEmpty())
        return Status::failure(std::move(error));

    QList<Change> changed;
    bool settingsChanged = false;
    {
        std::unique_lock lock(m_lock, std::adopt_lock);
        settingsChanged = applyLocked(changes, changed);
    }
    afterChanges(changed, settingsChanged);
    return {};
}

void SessionStore::afterChanges(const QList<Change> &changed, bool settingsChanged)
{
    // The lock is released: a receiver connected directly may call straight back into the store.
    for (const Change &change : changed)
        Q_EMIT valueChanged(change.key, change.value);
    if (settingsChanged)
        noteSettingsChanged();
}

Status SessionStore::setValue(const QString &key, const QVariant &value)
{
    return applyChanges("setValue", quoted(key), QVariantMap{{key, value}});
}

Status SessionStore::remove(const QString &key)
{
    return applyChanges("remove", quoted(key), QVariantMap{{key, QVariant()}});
}

Status SessionStore::setValues(const QVariantMap &changes)
{
    return applyChanges("setValues", describeKeys(changes.keys()), changes);
}

Status SessionStore::clear()
{
    if (QString error = acquire(LockMode::Exclusive, "clear", QString()); !error.isEmpty())
        return Status::failure(std::move(error));

    QList<Change> changed;
    bool settingsChanged = false;
    {
        std::unique_lock lock(m_lock, std::adopt_lock);
        for (auto it = m_values.cbegin(); it != m_values.cend(); ++it) {
            changed.append({it.key(), QVariant()});
            settingsChanged = settingsChanged || isPersistentKey(it.key());
        }
        m_values.clear();
        if (settingsChanged)
            ++m_generation;
        m_keyCount.store(0, std::memory_order_relaxed);
    }
    afterChanges(changed, settingsChanged);
    return {};
}

Status SessionStore::update(const UpdateFunction &fn)
{
    if (!fn)
        return Status::failure(tr("SessionStore: update() was given no function"));
    if (QString error = acquire(LockMode::Exclusive, "update", QString()); !error.isEmpty())
        return Status::failure(std::move(error));

    QList<Change> changed;
    bool settingsChanged = false;
    {
        std::unique_lock lock(m_lock, std::adopt_lock);
        QVariantMap changes;
        {
            UpdatingScope scope(this);
            changes = fn(std::as_const(m_values));
        }
        for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
            if (QString error = validate(it.key(), it.value()); !error.isEmpty())
                return Status::failure(std::move(error));
        }
        settingsChanged = applyLocked(changes, changed);
    }
    afterChanges(changed, settingsChanged);
    return {};
}

// ---------------------------------------------------------------------------------------------
// Settings and stats

void SessionStore::setLockTimeout(std::chrono::milliseconds timeout)
{
    m_lockTimeoutMs.store(std::max<qint64>(0, timeout.count()), std::memory_order_relaxed);
}

std::chrono::milliseconds SessionStore::lockTimeout() const
{
    return milliseconds(m_lockTimeoutMs.load(std::memory_order_relaxed));
}

void SessionStore::setFlushDelay(std::chrono::milliseconds delay)
{
    m_flushDelayMs.store(std::max<qint64>(0, delay.count()), std::memory_order_relaxed);
}

std::chrono::milliseconds SessionStore::flushDelay() const
{
    return milliseconds(m_flushDelayMs.load(std::memory_order_relaxed));
}

SessionStoreStats SessionStore::stats() const
{
    SessionStoreStats s;
    s.acquisitions = m_acquisitions.load(std::memory_order_relaxed);
    s.failedAcquisitions = m_failedAcquisitions.load(std::memory_order_relaxed);
    s.keyCount = m_keyCount.load(std::memory_order_relaxed);
    s.lockTimeout = lockTimeout();
    s.fileWrites = m_fileWrites.load(std::memory_order_relaxed);
    s.fileWriteFailures = m_fileWriteFailures.load(std::memory_order_relaxed);
    s.writeRequestsServed = m_writeRequestsServed.load();
    {
        std::lock_guard lock(m_writerMutex);
        s.writeScheduled = m_flushArmed.load() || m_writeRequested;
    }
    return s;
}

bool SessionStore::isHealthy() const
{
    const quint64 failed = m_failedAcquisitions.load(std::memory_order_relaxed);
    const quint64 succeeded = m_acquisitions.load(std::memory_order_relaxed);
    return failed == 0 || failed * 100 < succeeded + failed;
}

void SessionStore::resetStats()
{
    m_acquisitions.store(0, std::memory_order_relaxed);
    m_failedAcquisitions.store(0, std::memory_order_relaxed);
    m_fileWrites.store(0, std::memory_order_relaxed);
    m_fileWriteFailures.store(0, std::memory_order_relaxed);
}

bool SessionStore::isPersistentKey(const QString &key)
{
    return key.startsWith(kSettingsPrefix);
}

QString SessionStore::defaultSettingsPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)
        + QStringLiteral("/settings.json");
}

QString SessionStore::resolveSettingsPath(const QString &option)
{
    if (!option.isEmpty())
        return QFileInfo(option).absoluteFilePath();
    const QString fromEnvironment = qEnvironmentVariable("QUIRE_CONFIG");
    if (!fromEnvironment.isEmpty())
        return QFileInfo(fromEnvironment).absoluteFilePath();
    return defaultSettingsPath();
}

// ---------------------------------------------------------------------------------------------
// Persistence

Status SessionStore::load()
{
    if (m_path.isEmpty())
        return {};

    Status result;
    QList<Change> changed;
    {
        std::lock_guard fileLock(m_fileMutex);

        std::optional<QVariantMap> loaded;
        QFile file(m_path);
        if (!file.exists()) {
            loaded.emplace();   // first run: defaults, and the file is created on the first change
            m_fileState = FileState::Ok;
        } else if (!file.open(QIODevice::ReadOnly)) {
            m_fileState = FileState::Unreadable;
            m_fileProblem = file.errorString();
        } else {
            const QByteArray data = file.readAll();
            if (file.error() != QFileDevice::NoError) {
                m_fileState = FileState::Unreadable;
                m_fileProblem = file.errorString();
            } else {
                QJsonParseError parseError;
                const QJsonDocument document = QJsonDocument::fromJson(data, &parseError);
                if (parseError.error != QJsonParseError::NoError) {
                    m_fileState = FileState::Corrupt;
                    m_fileProblem = tr("%1 at byte %2")
                                        .arg(parseError.errorString())
                                        .arg(parseError.offset);
                } else if (!document.isObject()) {
                    m_fileState = FileState::Corrupt;
                    m_fileProblem = tr("the top level is not a JSON object");
                } else {
                    m_fileState = FileState::Ok;
                    loaded.emplace();
                    const QJsonObject object = document.object();
                    QStringList ignored;
                    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
                        if (isPersistentKey(it.key()))
                            loaded->insert(it.key(), it.value().toVariant());
                        else
                            ignored << it.key();
                    }
                    if (!ignored.isEmpty()) {
                        qCWarning(lcSessionStore).noquote()
                            << QStringLiteral("SessionStore: ignored %1 in settings file %2: only "
                                              "settings/ keys are read from it")
                                   .arg(describeKeys(ignored), m_path);
                    }
                }
            }
        }

        if (m_fileState == FileState::Unreadable) {
            result = Status::failure(
                tr("Cannot read settings file %1: %2. Using default settings; the file "
                   "will not be overwritten.")
                    .arg(m_path, m_fileProblem));
        } else if (m_fileState == FileState::Corrupt) {
            result = Status::failure(
                tr("Settings file %1 is corrupt: %2. Using default settings; when a "
                   "setting is changed the file is kept as %1.corrupt and replaced.")
                    .arg(m_path, m_fileProblem));
        }
        if (!result.ok())
            qCWarning(lcSessionStore).noquote() << result.error();

        const LockMode mode = loaded ? LockMode::Exclusive : LockMode::Shared;
        if (QString error = acquire(mode, "load", quoted(m_path)); !error.isEmpty())
            return Status::failure(std::move(error));
        if (loaded) {
            std::unique_lock lock(m_lock, std::adopt_lock);
            QVariantMap changes = *loaded;
            for (auto it = m_values.cbegin(); it != m_values.cend(); ++it) {
                if (isPersistentKey(it.key()) && !loaded->contains(it.key()))
                    changes.insert(it.key(), QVariant());
            }
            applyLocked(changes, changed);
            m_writtenGeneration = m_generation;   // memory and file agree now
        } else {
            // Whatever is in memory is not written over the bad file until a setting changes.
            std::shared_lock lock(m_lock, std::adopt_lock);
            m_writtenGeneration = m_generation;
        }
    }
    // Memory equals the file: signal the new values but schedule no write.
    afterChanges(changed, false);
    return result;
}

Status SessionStore::writeLocked()
{
    if (m_path.isEmpty())
        return {};

    QVariantMap settings;
    quint64 generation = 0;
    if (QString error = acquire(LockMode::Shared, "flush", quoted(m_path)); !error.isEmpty())
        return Status::failure(std::move(error));
    {
        std::shared_lock lock(m_lock, std::adopt_lock);
        settings = copyLocked(kSettingsPrefix.toString());
        generation = m_generation;
    }
    // Snapshots are taken under m_fileMutex, so each write is at least as new as the last one.
    if (generation == m_writtenGeneration)
        return {};

    if (m_fileState == FileState::Unreadable) {
        return Status::failure(
            tr("SessionStore: not saving settings to %1: the file could not be read "
               "(%2), so it is left untouched. Fix or remove it and restart.")
                .arg(m_path, m_fileProblem));
    }
    if (m_fileState == FileState::NotLoaded && QFile::exists(m_path)) {
        return Status::failure(
            tr("SessionStore: not saving settings to %1: load() was not called, so "
               "the settings already in that file would be lost.")
                .arg(m_path));
    }

    QJsonObject object;
    for (auto it = settings.cbegin(); it != settings.cend(); ++it)
        object.insert(it.key(), QJsonValue::fromVariant(it.value()));

    const QFileInfo info(m_path);
    if (!QDir().mkpath(info.absolutePath())) {
        return Status::failure(tr("SessionStore: cannot create the folder %1 for the "
                                  "settings file")
                                   .arg(info.absolutePath()));
    }
    if (m_fileState == FileState::Corrupt && QFile::exists(m_path)) {
        const QString backup = m_path + QStringLiteral(".corrupt");
        QFile::remove(backup);
        QFile source(m_path);
        if (!source.copy(backup)) {
            return Status::failure(
                tr("SessionStore: not replacing corrupt settings file %1: cannot keep "
                   "a copy as %2 (%3)")
                    .arg(m_path, backup, source.errorString()));
        }
    }

    QSaveFile file(m_path);
    if (!file.open(QIODevice::WriteOnly)) {
        return Status::failure(tr("SessionStore: cannot write settings file %1: %2")
                                   .arg(m_path, file.errorString()));
    }
    file.write(QJsonDocument(object).toJson(QJsonDocument::Indented));
    if (!file.commit()) {
        return Status::failure(tr("SessionStore: cannot write settings file %1: %2")
                                   .arg(m_path, file.errorString()));
    }
    m_writtenGeneration = generation;
    m_fileState = FileState::Ok;
    m_fileProblem.clear();
    m_fileWrites.fetch_add(1, std::memory_order_relaxed);
    return {};
}

void SessionStore::reportWrite(const Status &status)
{
    if (status.ok())
        return;
    m_fileWriteFailures.fetch_add(1, std::memory_order_relaxed);
    qCWarning(lcSessionStore).noquote() << status.error();
    Q_EMIT writeFailed(status.error());
}

Status SessionStore::flush()
{
    Status status;
    {
        std::lock_guard fileLock(m_fileMutex);
        status = writeLocked();
    }
    reportWrite(status);   // not under m_fileMutex: never emit while holding a lock
    return status;
}

void SessionStore::requestFlush()
{
    if (m_path.isEmpty())
        return;
    std::lock_guard lock(m_writerMutex);
    if (m_writerStop)
        return;   // the destructor writes what is pending
    m_writeRequested = true;
    if (!m_writer.joinable())
        m_writer = std::thread([this] { writerLoop(); });
    m_writerWake.notify_one();
}

void SessionStore::writerLoop()
{
    std::unique_lock lock(m_writerMutex);
    for (;;) {
        m_writerWake.wait(lock, [this] { return m_writeRequested || m_writerStop; });
        if (m_writeRequested) {
            m_writeRequested = false;
            lock.unlock();
            (void)flush();
            m_writeRequestsServed.fetch_add(1);
            lock.lock();
            continue;   // a request that came in meanwhile is served before stopping
        }
        return;
    }
}

void SessionStore::noteSettingsChanged()
{
    if (m_path.isEmpty())
        return;
    m_lastChangeNs.store(steadyNowNs());
    if (m_flushArmed.exchange(true))
        return;   // the armed timer looks at m_lastChangeNs before it fires the write
    m_armedAtNs.store(steadyNowNs());
    if (QThread::currentThread() == thread()) {
        armFlushTimer();
    } else {
        // QTimer may only be started from its own thread. Invoked by name so that nothing of
        // ours travels through Qt's event queue (which TSan cannot see into).
        QMetaObject::invokeMethod(this, "armFlushTimer", Qt::QueuedConnection);
    }
}

void SessionStore::armFlushTimer()
{
    m_flushTimer.start(flushDelay());
}

void SessionStore::onFlushTimer()
{
    const nanoseconds delay = flushDelay();
    const nanoseconds now(steadyNowNs());
    const nanoseconds quiet = now - nanoseconds(m_lastChangeNs.load());
    const nanoseconds pending = now - nanoseconds(m_armedAtNs.load());
    if (quiet < delay && pending < std::max<nanoseconds>(delay, kMaxFlushDelay)) {
        // Changed again since the timer was started: wait until it has been quiet long enough.
        m_flushTimer.start(std::max(milliseconds(1),
                                    std::chrono::ceil<milliseconds>(delay - quiet)));
        return;
    }
    // Disarm before the write takes its snapshot, so a change made after this re-arms the timer.
    m_flushArmed.store(false);
    requestFlush();
}

} // namespace quire
