#pragma once

#include <QThreadPool>

namespace quire {

// The two thread pools every worker runs on (never the global pool).
//  - cpu(): hashing; sized to the number of cores.
//  - io():  catalog work, directory walks and uploads; sized by the "settings/workers/io" setting.
// Pool threads expire after 30 s idle; their catalog connections are closed with them.
// Owned by the composition root (app/) and outlives every job that uses it. Thread-safe.
class Pools final
{
public:
    explicit Pools(int cpuThreads = 0, int ioThreads = 0);
    ~Pools();   // waits for the pools to drain; call only after every job was cancelled
    Q_DISABLE_COPY_MOVE(Pools)

    QThreadPool *cpu() { return &m_cpu; }
    QThreadPool *io() { return &m_io; }

    void setIoThreads(int n);
    void setCpuThreads(int n);

    static int defaultCpuThreads();
    static int defaultIoThreads();

private:
    QThreadPool m_cpu;
    QThreadPool m_io;
};

} // namespace quire
