#pragma once

#include "jobs/result.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>
#include <QVariant>
#include <QVariantMap>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace quire {

// A snapshot of a SessionStore's counters. Counters are cumulative since construction or the
// last resetStats().
struct SessionStoreStats
{
    quint64 acquisitions = 0;          // lock acquisitions that succeeded (shared or exclusive)
    quint64 failedAcquisitions = 0;    // lock acquisitions that timed out
    int keyCount = 0;                  // keys in the store right now
    std::chrono::milliseconds lockTimeout{0};
    quint64 fileWrites = 0;            // settings file writes that succeeded
    quint64 fileWriteFailures = 0;     // settings file writes that failed (see writeFailed())
    // A write is coming: the debounce timer is armed or a flush request waits for the writer
    // thread. False after the last write with nothing changed since: no write follows then.
    bool writeScheduled = false;
    quint64 writeRequestsServed = 0;   // requestFlush() calls the writer thread has finished
};

// The key -> QVariant store shared by the UI thread and every worker thread: settings that
// persist and session state that does not. Mutable state that threads share lives here (or is
// owned by one thread; docs/ARCHITECTURE.md).
//
// Keys are '/'-separated paths. The first segment decides the lifetime:
//   settings/...  persisted to the settings file (JSON); values must be JSON-representable
//                 (bool, numbers, strings, lists, maps); they come back from the file as the
//                 JSON types (a QStringList is read back as a QVariantList, ints as qlonglong).
//                 setValue() of anything else under settings/ fails.
//   anything else (session/... by convention) lives in memory only.
// SECRETS NEVER GO HERE: no passwords, tokens or keys, not even under session/ (values show up
// in change signals, logs and, under settings/, in a plain file). Credentials belong in the OS
// keychain.
//
// Threads
//   - Every data call (value, values, contains, keys, snapshot, setValue, setValues, remove,
//     update, clear), the stats calls and the lock-timeout accessors are thread-safe and may be
//     called from any thread, the UI thread included: they only take an in-memory lock, never
//     do I/O, and the lock is only ever held for in-memory work (and update() functions), so
//     waits are microseconds; the timeout is the safety net, not the expected path.
//   - Every lock acquisition waits at most lockTimeout() (5 s by default). A call that times out
//     does nothing, returns a failed Result whose message names the operation, the key(s) and
//     the timeout, logs it with qWarning and counts it in stats().failedAcquisitions.
//   - update(fn) runs fn under the exclusive lock: fn must be short and must NOT call back
//     into this store (that call fails at once instead of deadlocking).
//   - valueChanged() is emitted after the lock is released, in the thread that made the change,
//     once per key whose value really changed. With the default AutoConnection, receivers in
//     other threads get it queued in their own thread. When two threads change the same key at
//     the same time the signals may arrive in either order: a receiver that needs the current
//     value should read it with value() rather than trust the order of signals.
//   - load(), flush() and the destructor do file I/O on the calling thread. load() is meant to
//     be called once at startup (before the event loop runs); flush() from a worker thread, at
//     shutdown or in tests, never from the UI thread while the event loop runs (use
//     requestFlush() there).
//   - The object belongs to the thread that created it (normally the UI thread); the debounce
//     timer runs there, so that thread must run an event loop for debounced writes to happen.
//     Changes made from other threads restart the timer through a queued call.
//
// Persistence
//   A change to a settings/ key schedules a write flushDelay() (200 ms) after the last change;
//   under a continuous stream of changes a write still happens at least every few seconds. The
//   write runs on the store's own writer thread, never on the UI thread, and writes the newest
//   state: writes are serialised and an older state never overwrites a newer one. The file is
//   replaced atomically (QSaveFile): a crash leaves the old file or the new one, never half of
//   one. Changes to other keys never touch the file.
//   A corrupt settings file is left untouched until a setting is changed; then it is copied to
//   "<file>.corrupt" and replaced. A settings file that exists but cannot be read is never
//   overwritten (its content is unknown and cannot be backed up): writes fail with a clear
//   message until a later load() succeeds. Likewise a store that was given a path but never
//   load()ed does not overwrite an existing file (it would lose the settings in it).
//
// Ownership and order
//   Created by the composition root (app/) and shared by pointer; it must outlive every thread
//   and object that uses it. Call order: construct, setLockTimeout() if wanted, load(), then
//   share. Destroy it at shutdown, after the event loop has returned and every worker that uses
//   it has stopped: the destructor waits for the writer thread and then writes any pending
//   settings synchronously on the calling thread (acceptable only then, as nothing is drawn
//   any more). It must be destroyed in the thread it belongs to.
class SessionStore final : public QObject
{
    Q_OBJECT

public:
    // An empty path keeps everything in memory (settings/ keys included).
    explicit SessionStore(QString settingsFilePath = {}, QObject *parent = nullptr);
    ~SessionStore() override;
    Q_DISABLE_COPY_MOVE(SessionStore)

    QString settingsFilePath() const { return m_path; }

    // Reads the settings file and replaces the settings/ keys with its content. A missing file
    // is not an error (defaults). A corrupt or unreadable file: returns a failed Status naming
    // the file and the reason, logs it, and keeps the current (default) values.
    Status load();

    // Writes pending settings now, on the calling thread (blocks on file I/O; see above).
    // Succeeds at once when nothing changed since the last write or load.
    Status flush();
    // Asks the writer thread to write pending settings now, without waiting for the debounce.
    // Returns at once; failures are reported by writeFailed(). Any thread.
    void requestFlush();

    // Reads. A missing key is not an error: value() returns defaultValue, values() and
    // snapshot() leave it out of the map.
    Result<QVariant> value(const QString &key, const QVariant &defaultValue = {}) const;
    Result<bool> contains(const QString &key) const;
    // A whole-number setting kept to [lo, hi]: fallback when the key is missing or the store
    // cannot be read; fallback when the value is not a whole number, and the nearest bound when
    // it lies outside, each with a warning that names the key, the value and what is used
    // instead (once per key and value, however often it is read). A settings file is written
    // by hand, by other versions and by other programs: no number in it may size a pool or a
    // buffer unchecked.
    qint64 intSetting(const QString &key, qint64 fallback, qint64 lo, qint64 hi) const;
    Result<QVariantMap> values(const QStringList &keys) const;          // one consistent read
    Result<QStringList> keys(const QString &prefix = {}) const;         // sorted
    Result<QVariantMap> snapshot(const QString &prefix = {}) const;     // one consistent read

    // Writes. An invalid QVariant as a value means "remove the key". Removing a missing key
    // succeeds. Empty keys, and settings/ values that JSON cannot represent, are refused
    // before anything is changed.
    Status setValue(const QString &key, const QVariant &value);
    Status remove(const QString &key);
    Status setValues(const QVariantMap &changes);                       // all or nothing
    Status clear();                                                     // every key, both kinds

    // Atomic read-modify-write: fn gets a consistent snapshot of every key and returns the
    // changes to apply (invalid QVariant = remove), applied under the same exclusive lock. If
    // fn returns a change that is refused (see above), nothing is applied. The snapshot is the
    // store's own map, valid only during the call: take the values you need from it, and use
    // snapshot() for a copy that may travel to another thread.
    using UpdateFunction = std::function<QVariantMap(const QVariantMap &snapshot)>;
    Status update(const UpdateFunction &fn);

    void setLockTimeout(std::chrono::milliseconds timeout);   // negative counts as 0 (try once)
    std::chrono::milliseconds lockTimeout() const;
    void setFlushDelay(std::chrono::milliseconds delay);
    std::chrono::milliseconds flushDelay() const;

    // Never blocks (atomic counters).
    SessionStoreStats stats() const;
    // Healthy while fewer than 1 % of the lock acquisitions since the last resetStats() timed
    // out (so a single timeout in the first hundred acquisitions already makes it unhealthy).
    // Settings-file write failures are reported separately (stats(), writeFailed()).
    bool isHealthy() const;
    void resetStats();

    static bool isPersistentKey(const QString &key);     // starts with "settings/"
    // QStandardPaths::AppConfigLocation + "/settings.json".
    static QString defaultSettingsPath();
    // The --config option if non-empty, else $QUIRE_CONFIG if non-empty, else the default.
    // Relative paths are made absolute against the current directory.
    static QString resolveSettingsPath(const QString &option);

Q_SIGNALS:
    // One per key that changed; value is invalid when the key was removed.
    void valueChanged(const QString &key, const QVariant &value);
    // A settings write failed (emitted from the writer thread or the thread calling flush()).
    void writeFailed(const QString &error);

private Q_SLOTS:
    void armFlushTimer();

private:
    struct Change
    {
        QString key;
        QVariant value;
    };
    enum class LockMode { Shared, Exclusive };
    enum class FileState { NotLoaded, Ok, Corrupt, Unreadable };

    // Returns an empty string on success (the lock is then held), else the error message
    // (already logged and counted).
    QString acquire(LockMode mode, const char *operation, const QString &subject) const;
    QString reentrancyError(const char *operation, const QString &subject) const;
    QString validate(const QString &key, const QVariant &value) const;
    // A fresh copy of the keys starting with prefix; m_lock must be held (shared is enough).
    QVariantMap copyLocked(const QString &prefix) const;
    // Applies changes to m_values (an invalid value removes its key); m_lock must be held
    // exclusively. What changed is appended to changed; a changed setting makes a new
    // generation. Returns whether a setting changed.
    bool applyLocked(const QVariantMap &changes, QList<Change> &changed);
    Status applyChanges(const char *operation, const QString &subject, const QVariantMap &changes);
    void afterChanges(const QList<Change> &changed, bool settingsChanged);

    void noteSettingsChanged();
    void onFlushTimer();
    Status writeLocked();   // m_fileMutex must be held
    void reportWrite(const Status &status);
    void writerLoop();

    const QString m_path;

    mutable std::shared_timed_mutex m_lock;
    QVariantMap m_values;                    // guarded by m_lock
    quint64 m_generation = 0;                // guarded by m_lock; bumped on settings/ changes

    std::atomic<qint64> m_lockTimeoutMs{5000};
    mutable std::atomic<quint64> m_acquisitions{0};
    mutable std::atomic<quint64> m_failedAcquisitions{0};
    std::atomic<int> m_keyCount{0};
    std::atomic<quint64> m_fileWrites{0};
    std::atomic<quint64> m_fileWriteFailures{0};

    // Debounce (timer in this object's thread; the atomics are touched by any thread).
    QTimer m_flushTimer{this};
    std::atomic<qint64> m_flushDelayMs{200};
    std::atomic<bool> m_flushArmed{false};
    std::atomic<qint64> m_lastChangeNs{0};
    std::atomic<qint64> m_armedAtNs{0};

    // File state; m_fileMutex serialises every read and write of the file.
    std::mutex m_fileMutex;
    quint64 m_writtenGeneration = 0;         // guarded by m_fileMutex
    FileState m_fileState = FileState::NotLoaded;   // guarded by m_fileMutex
    QString m_fileProblem;                   // guarded by m_fileMutex

    // Writer thread, started on the first write request.
    mutable std::mutex m_writerMutex;
    std::atomic<quint64> m_writeRequestsServed{0};
    std::condition_variable m_writerWake;
    bool m_writeRequested = false;           // guarded by m_writerMutex
    bool m_writerStop = false;               // guarded by m_writerMutex
    std::thread m_writer;                    // guarded by m_writerMutex until joined
};

} // namespace quire
