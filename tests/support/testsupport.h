#pragma once

#include "runon.h"

#include <QByteArray>
#include <QList>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <QThreadPool>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <type_traits>

namespace quire::test {

// Path of the quire executable built alongside the tests.
QString quireBinary();

// Writes path with content, making its folder first; false unless all of it was written.
bool createFile(const QString &path, const QByteArray &content);

// Writes data to the file named by path's bytes (any name, valid UTF-8 or not), opened with the
// open(2) flags openFlags (O_CREAT makes it 0644); false unless all of it was written.
bool writeRaw(const QByteArray &path, const QByteArray &data, int openFlags);

// size bytes from a generator seeded with seed: the same bytes for the same seed.
QByteArray pseudoRandomBytes(qint64 size, quint32 seed);

// A data-driven test's one column, a bool, and its two rows: whenTrue (true) and whenFalse (false).
void addBoolRows(const char *column, const char *whenTrue, const char *whenFalse);

// A finished run of quire: its exit code (-1: it crashed, did not start or did not end in time),
// what it wrote to standard output and to standard error.
struct QuireRun
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QString text() const { return QString::fromUtf8(out + err); }
};

// The environment of a quire whose settings, catalog and data are kept in dir (QUIRE_CONFIG,
// QUIRE_CATALOG, XDG_DATA_HOME): `base` without QUIRE_PASSWORD, and with LeakSanitizer's report
// at exit off (a sanitized child's exit is not what these tests check).
QProcessEnvironment quireEnvironment(const QString &dir,
                                     QProcessEnvironment base = QProcessEnvironment::systemEnvironment());

// Writes the settings file of a quire whose settings are kept in dir (see quireEnvironment()).
bool writeQuireSettings(const QString &dir, const QVariantMap &settings);

// Runs quire with args in env, input on its standard input, and waits for it to end (up to
// timeoutMs; then it is killed and the run says so in err).
QuireRun runQuire(const QStringList &args, const QProcessEnvironment &env, const QByteArray &input = {},
                  int timeoutMs = 300'000);

// A pool for tests to run catalog calls on (the catalog refuses the GUI thread).
QThreadPool &workerPool();

// Runs fn on a worker thread (workerPool()) and waits for its result.
template <typename F>
auto onWorker(F fn) -> std::invoke_result_t<F>
{
    return runOn(&workerPool(), std::move(fn));
}

// Sets environment variables (a null value unsets one) for as long as it lives, and puts back
// what was there when it goes, also when a failed QVERIFY returns from the test early.
class ScopedEnv final
{
public:
    ScopedEnv() = default;
    ~ScopedEnv();
    Q_DISABLE_COPY(ScopedEnv)
    void set(const char *name, const QByteArray &value);

private:
    QList<std::pair<QByteArray, QByteArray>> m_saved;   // each name's value before its first set()
};

// Holds pool threads until opened (std:: primitives, so ThreadSanitizer sees the hand-over).
class Gate final
{
public:
    void wait()
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [this] { return m_open; });
    }
    // wait(), for patience at the most; whether it was opened.
    bool waitFor(std::chrono::milliseconds patience)
    {
        std::unique_lock lock(m_mutex);
        return m_cv.wait_for(lock, patience, [this] { return m_open; });
    }
    void open()
    {
        {
            std::lock_guard lock(m_mutex);
            m_open = true;
        }
        m_cv.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_open = false;
};

} // namespace quire::test
