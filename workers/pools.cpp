#include "pools.h"

#include <QThread>

#include <algorithm>

namespace quire {

namespace {
constexpr int kExpiryMs = 30'000;
}

Pools::Pools(int cpuThreads, int ioThreads)
{
    m_cpu.setObjectName(QStringLiteral("quire-cpu"));
    m_io.setObjectName(QStringLiteral("quire-io"));
    m_cpu.setExpiryTimeout(kExpiryMs);
    m_io.setExpiryTimeout(kExpiryMs);
    setCpuThreads(cpuThreads);
    setIoThreads(ioThreads);
}

Pools::~Pools()
{
    m_cpu.waitForDone();
    m_io.waitForDone();
}

void Pools::setIoThreads(int n)
{
    m_io.setMaxThreadCount(n > 0 ? n : defaultIoThreads());
}

void Pools::setCpuThreads(int n)
{
    m_cpu.setMaxThreadCount(n > 0 ? n : defaultCpuThreads());
}

int Pools::defaultCpuThreads()
{
    return std::max(1, QThread::idealThreadCount());
}

int Pools::defaultIoThreads()
{
    return 4;
}

} // namespace quire
