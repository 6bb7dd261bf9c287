#include "testsupport.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTest>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

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

void addBoolRows(const char *column, const char *whenTrue, const char *whenFalse)
{
    QTest::addColumn<bool>(column);
    QTest::newRow(whenTrue) << true;
    QTest::newRow(whenFalse) << false;
}

bool writeRaw(const QByteArray &path, const QByteArray &data, int openFlags)
{
    const int fd = ::open(path.constData(), openFlags | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    const bool ok = ::write(fd, data.constData(), size_t(data.size())) == data.size();
    ::close(fd);
    return ok;
}

QByteArray pseudoRandomBytes(qint64 size, quint32 seed)
{
    QByteArray data(size, Qt::Uninitialized);
    QRandomGenerator rng(seed);
    qint64 i = 0;
    for (; i + 4 <= size; i += 4) {
        const quint32 v = rng.generate();
        std::memcpy(data.data() + i, &v, 4);
    }
    for (; i < size; ++i)
        data[i] = char(rng.generate());
    return data;
}

QProcessEnvironment quireEnvironment(const QString &dir, QProcessEnvironment base)
{
    base.insert(QStringLiteral("QUIRE_CONFIG"), dir + QStringLiteral("/settings.json"));
    base.insert(QStringLiteral("QUIRE_CATALOG"), dir + QStringLiteral("/catalog.sqlite"));
    base.insert(QStringLiteral("XDG_DATA_HOME"), dir + QStringLiteral("/data"));
    base.remove(QStringLiteral("QUIRE_PASSWORD"));
    base.insert(QStringLiteral("ASAN_OPTIONS"), QStringLiteral("detect_leaks=0"));
    return base;
}

bool writeQuireSettings(const QString &dir, const QVariantMap &settings)
{
    return createFile(dir + QStringLiteral("/settings.json"), QJsonDocument(QJsonObject::fromVariantMap(settings)).toJson());
}

QuireRun runQuire(const QStringList &args, const QProcessEnvironment &env, const QByteArray &input, int timeoutMs)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(quireBinary(), args);
    QuireRun run;
    if (!p.waitForStarted(10'000)) {
        run.err = p.errorString().toUtf8();
        return run;
    }
    if (!input.isEmpty())
        p.write(input);
    p.closeWriteChannel();
    const bool ended = p.waitForFinished(timeoutMs);
    if (!ended) {
        p.kill();
        p.waitForFinished(10'000);
    }
    run.out = p.readAllStandardOutput();
    run.err = p.readAllStandardError();
    if (!ended)
        run.err += QByteArrayLiteral("\n(did not end within ") + QByteArray::number(timeoutMs / 1000) + QByteArrayLiteral(" s: killed)\n");
    else if (p.exitStatus() == QProcess::NormalExit)
        run.exitCode = p.exitCode();
    return run;
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
