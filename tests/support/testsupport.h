#pragma once

#include "runon.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QThreadPool>

#include <condition_variable>
#include <future>
#include <mutex>
#include <type_traits>

namespace quire::test {

// Path of the quire executable built alongside the tests.
QString quireBinary();

// Writes path with content, making its folder first; false unless all of it was written.
bool createFile(const QString &path, const QByteArray &content);

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
