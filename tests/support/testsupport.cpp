#include "testsupport.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

namespace quire::test {

QString quireBinary()
{
    return QStringLiteral(QUIRE_BINARY);
}

bool createFile(const QString &path, const QByteArray &content)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(content) == content.size();
}

void ScopedEnv::set(const char *name, const QByteArray &value)
{
    const QByteArray key(name);
    const bool seen = std::any_of(m_saved.cbegin(), m_saved.cend(), [&](const auto &p) { return p.first == key; });
    if (!seen)
        m_saved.append({key, qgetenv(name)});
    if (value.isNull())
        qunsetenv(name);
    else
        qputenv(name, value);
}

ScopedEnv::~ScopedEnv()
{
    for (auto it = m_saved.crbegin(); it != m_saved.crend(); ++it) {
        if (it->second.isNull())
            qunsetenv(it->first.constData());
        else
            qputenv(it->first.constData(), it->second);
    }
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
