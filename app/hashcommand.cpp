#include "hashcommand.h"

#include "cli.h"
#include "hashing/hasher.h"
#include "jobs/pools.h"
#include "hashing/sha256sumformat.h"

#include <QFile>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <vector>

namespace quire {

namespace {

constexpr qsizetype kFlushThreshold = 64 * 1024;
// How long finished lines may wait in the buffer for the next one before they are written.
constexpr std::chrono::milliseconds kFlushAfter(20);

// Standard output through one large buffer written with write(2) (QFile, unbuffered), flushed
// when it fills and whenever the next line is slow to come (kFlushAfter), so lines appear soon
// after they are ready without a system call per line.
class Output final
{
public:
    Output()
    {
        m_file.open(1, QIODevice::WriteOnly | QIODevice::Unbuffered, QFileDevice::DontCloseHandle);
        m_buffer.reserve(kFlushThreshold + 4096);
    }

    void write(const QByteArray &bytes)
    {
        m_buffer.append(bytes);
        if (m_buffer.size() >= kFlushThreshold)
            flush();
    }

    bool flush()
    {
        if (m_failed)
            return false;
        qsizetype written = 0;
        while (written < m_buffer.size()) {
            const qint64 n = m_file.write(m_buffer.constData() + written, m_buffer.size() - written);
            if (n <= 0) {
                m_failed = true;
                m_error = m_file.errorString();
                m_buffer.clear();
                return false;
            }
            written += n;
        }
        m_buffer.clear();
        return true;
    }

    bool failed() const { return m_failed; }
    QString errorString() const { return m_error; }

private:
    QFile m_file;
    QByteArray m_buffer;
    bool m_failed = false;
    QString m_error;
};

void printError(const QByteArray &name, const QString &reason)
{
    QByteArray line = "quire: ";
    line.append(name).append(": ").append(reason.toLocal8Bit()).append('\n');
    std::fwrite(line.constData(), 1, std::size_t(line.size()), stderr);
    std::fflush(stderr);
}

// Results handed from the pool threads to the printing thread. Shared ownership: a task that
// finishes after the command returned (it never does, see the end of runHashCommand) would still
// find it alive.
struct Shared
{
    struct Slot
    {
        FileHash hash;
        bool ready = false;
    };
    explicit Shared(qsizetype window) : ring(std::size_t(window)) {}

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Slot> ring;   // path i lives in ring[i % window]
    int running = 0;
    std::atomic_bool cancel = false;
};

} // namespace

int runHashCommand(const QList<QByteArray> &arguments, Pools &pools, const std::atomic_bool *interrupted)
{
    QList<QByteArray> paths = arguments;
    if (paths.isEmpty())
        paths.append("-");

    QThreadPool *pool = pools.cpu();
    // Enough paths in flight to keep every thread busy while earlier lines wait to be printed,
    // few enough that a million arguments do not become a million queued tasks.
    const qsizetype window = std::max(64, 8 * pool->maxThreadCount());
    auto shared = std::make_shared<Shared>(window);
    Output out;
    int status = 0;

    auto submit = [&](qsizetype index) {
        const QByteArray &path = paths.at(index);
        if (path == "-")
            return;   // standard input is read on this thread, in its turn (it may be given twice)
        {
            std::lock_guard lock(shared->mutex);
            ++shared->running;
        }
        pools.start(pool, [shared, path, slot = std::size_t(index % window)] {
            FileHash hash = Hasher::hashAnyFile(path, &shared->cancel);
            std::lock_guard lock(shared->mutex);
            shared->ring[slot].hash = std::move(hash);
            shared->ring[slot].ready = true;
            --shared->running;
            shared->changed.notify_all();
        });
    };

    auto isInterrupted = [&] { return interrupted && interrupted->load(); };
    bool stopped = false;
    qsizetype submitted = 0;
    for (qsizetype printed = 0; printed < paths.size() && !stopped; ++printed) {
        while (submitted < paths.size() && submitted < printed + window)
            submit(submitted++);

        const QByteArray &path = paths.at(printed);
        FileHash hash;
        if (path == "-") {
            out.flush();   // someone may be typing the input and waiting for earlier lines
            hash = Hasher::hashDevice(0, interrupted);
        } else {
            Shared::Slot &slot = shared->ring[std::size_t(printed % window)];
            std::unique_lock lock(shared->mutex);
            // A short wait first without flushing: with many small files the next line is
            // usually a moment away, and a write(2) per line would cost more than the hashing.
            if (!shared->changed.wait_for(lock, kFlushAfter, [&] { return slot.ready; })) {
                lock.unlock();
                out.flush();   // this one takes longer: show what is done
                lock.lock();
                // Poll the interrupt flag: it is set by a signal handler, which cannot notify.
                while (!slot.ready && !isInterrupted())
                    shared->changed.wait_for(lock, std::chrono::milliseconds(100));
                if (!slot.ready)
                    break;
            }
            hash = std::move(slot.hash);
            slot.hash = {};
            slot.ready = false;
        }
        if (isInterrupted())
            break;

        if (hash.ok()) {
            out.write(sha256sumLine(hash.sha256, path));
        } else {
            out.flush();   // keep stdout and stderr in order on a terminal
            printError(path, hash.error);
            status = 1;
        }
        stopped = out.failed();
    }
    if (isInterrupted())
        status = 130;

    out.flush();
    if (out.failed()) {
        printError(cli::Tr::tr("write error").toLocal8Bit(), out.errorString());
        status = 1;
    }
    // Tasks still running (after a write error or an interrupt) stop at their next block; wait
    // for them so no hashing outlives the command.
    shared->cancel = true;
    std::unique_lock lock(shared->mutex);
    shared->changed.wait(lock, [&] { return shared->running == 0; });
    return status;
}

} // namespace quire
