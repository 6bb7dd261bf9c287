#include "testsupport.h"

#include <QCoreApplication>

namespace quire::test {

QString quireBinary()
{
    return QStringLiteral(QUIRE_BINARY);
}

namespace {
QThreadPool *g_pool = nullptr;

// Runs in ~QCoreApplication, before static destruction: the pool's threads close their catalog
// connections as they end, which needs Qt's SQL registry to still exist.
void deletePool()
{
    if (g_pool) {
        g_pool->waitForDone();
        delete g_pool;
        g_pool = nullptr;
    }
}
} // namespace

QThreadPool &workerPool()
{
    if (!g_pool) {
        g_pool = new QThreadPool;
        qAddPostRoutine(deletePool);
    }
    return *g_pool;
}

} // namespace quire::test
