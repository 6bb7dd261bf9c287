#include "uploadfixture.h"

#include "catalog/dbconnections.h"
#include "hashing/hasher.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QSignalSpy>
#include <QSqlQuery>
#include <QThread>

namespace quire::test {

UploadFixture::UploadFixture(const QString &catalogLocation)
{
    if (!m_dir.isValid())
        return;
    m_store = std::make_unique<SessionStore>();
    m_pools = std::make_unique<Pools>(2, 4);
    m_catalog = std::make_unique<Catalog>(CatalogConfig{
            catalogLocation.isEmpty() ? m_dir.filePath(QStringLiteral("catalog.sqlite")) : catalogLocation});
    m_ok = io([this] { return m_catalog->open(); }).ok();
}

UploadFixture::~UploadFixture()
{
    // Workers still finishing (e.g. after a failed QTRY) must end before the catalog goes.
    m_pools->io()->waitForDone();
    m_pools->cpu()->waitForDone();
}

bool UploadFixture::saveRemote(const RemoteProfile &profile)
{
    return RemoteProfiles(*m_store).save(profile).ok();
}

qint64 UploadFixture::createCollection(const QString &name, const QString &remote)
{
    const auto r = io([&] { return m_catalog->createCollection(name, remote); });
    return r ? *r : 0;
}

qint64 UploadFixture::addPath(qint64 collectionId, const QByteArray &path, const QString &fileName)
{
    return io([&]() -> qint64 {
        const FileHash h = Hasher::hashFile(path);
        if (!h.ok())
            return 0;
        NewDocument nd;
        nd.sourcePath = path;
        nd.fileName = fileName;
        nd.size = h.size;
        nd.mtimeMs = h.mtimeMs;
        const auto queued = m_catalog->addQueued(collectionId, {nd});
        if (!queued || queued->isEmpty())
            return 0;
        const qint64 id = queued->first().id;
        HashUpdate u;
        u.id = id;
        u.sha256 = h.sha256;
        u.size = h.size;
        u.mtimeMs = h.mtimeMs;
        const auto applied = m_catalog->applyHashes({u});
        return applied && !applied->isEmpty() && applied->first().status == DocStatus::Hashed ? id : 0;
    });
}

qint64 UploadFixture::addFile(qint64 collectionId, const QString &fileName, const QByteArray &content,
                              const QString &subdir)
{
    const QString folder = m_dir.filePath(QStringLiteral("src/") + subdir);
    QDir().mkpath(folder);
    const QString path = folder + QLatin1Char('/') + fileName;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(content) != content.size())
        return 0;
    f.close();
    return addPath(collectionId, QFile::encodeName(path), fileName);
}

qint64 UploadFixture::addSparseFile(qint64 collectionId, const QString &fileName, qint64 sparseSize)
{
    const QString folder = m_dir.filePath(QStringLiteral("src"));
    QDir().mkpath(folder);
    const QString path = folder + QLatin1Char('/') + fileName;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || !f.resize(sparseSize))
        return 0;
    f.close();
    return addPath(collectionId, QFile::encodeName(path), fileName);
}

QString UploadFixture::sourcePath(qint64 documentId)
{
    return QFile::decodeName(document(documentId).sourcePath);
}

Document UploadFixture::document(qint64 id)
{
    const auto d = io([&] { return m_catalog->document(id); });
    return d && d->has_value() ? **d : Document();
}

bool UploadFixture::exec(const QString &sql, const QVariantList &values)
{
    return io([&] {
        Result<QSqlDatabase> db = m_catalog->connections().database();
        if (!db)
            return false;
        QSqlQuery q(*db);
        if (!q.prepare(sql))
            return false;
        for (const QVariant &v : values)
            q.addBindValue(v);
        return q.exec() && q.numRowsAffected() > 0;
    });
}

QList<Document> UploadFixture::documents(qint64 collectionId)
{
    DocumentQuery q;
    q.collectionId = collectionId;
    q.sortColumn = DocColumn::Added;
    const auto r = io([&] { return m_catalog->documents(q); });
    return r ? *r : QList<Document>();
}

UploadSettings UploadFixture::fastSettings()
{
    using namespace std::chrono_literals;
    UploadSettings s;
    s.parallel = 3;
    s.retry.maxAttempts = 3;
    s.retry.initialDelay = 100ms;
    s.retry.maxDelay = 400ms;
    s.retry.maxRetryAfter = 10'000ms;
    s.limits.transferTimeout = 2000ms;
    s.limits.minTotal = 60'000ms;
    return s;
}

QString describe(const UploadResult &r)
{
    QStringList parts{r.error};
    for (const UploadFailure &f : r.failures)
        parts << f.fileName + QStringLiteral(": ") + f.error;
    return parts.join(QStringLiteral(" | "));
}

UploadResult UploadFixture::runJob(const UploadScope &scope, const UploadSettings &settings,
                                   SecretProvider secrets, int timeoutMs,
                                   QList<UploadDocumentEvent> *events, int *progressSignals)
{
    UploadJob job(*m_catalog, *m_store, *m_pools, scope);
    job.setSettings(settings);
    if (secrets)
        job.setSecretProvider(std::move(secrets));
    if (events)
        QObject::connect(&job, &UploadJob::documentsChanged, &job,
                         [events](const QList<UploadDocumentEvent> &e) { *events += e; });
    if (progressSignals)
        QObject::connect(&job, &UploadJob::progressChanged, &job, [progressSignals] { ++*progressSignals; });
    QSignalSpy finished(&job, &UploadJob::finished);
    job.start();
    if (!finished.wait(timeoutMs)) {
        job.cancel();
        finished.wait(30'000);
        UploadResult r;
        r.outcome = UploadResult::Outcome::Error;
        r.error = QStringLiteral("the job did not finish in time");
        return r;
    }
    return finished.first().first().value<UploadResult>();
}

void onWorker(const std::function<void()> &fn)
{
    QThread *thread = QThread::create(fn);
    QEventLoop loop;
    QObject::connect(thread, &QThread::finished, &loop, &QEventLoop::quit);
    thread->start();
    if (!thread->isFinished())
        loop.exec();
    thread->wait();
    delete thread;
}

} // namespace quire::test
