#include "catalog/catalogservice.h"

#include "catalog/dbconnections.h"
#include "hashing/hasher.h"
#include "platform/nativefs.h"
#include "jobs/pools.h"

#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <utility>

namespace quire {

namespace {

void addTotals(IngestProgress &sum, const IngestProgress &p)
{
    sum.walking = sum.walking || p.walking;
    sum.filesFound += p.filesFound;
    sum.bytesFound += p.bytesFound;
    sum.filesDone += p.filesDone;
    sum.bytesDone += p.bytesDone;
    sum.filesHashed += p.filesHashed;
    sum.filesDuplicate += p.filesDuplicate;
    sum.filesUnchanged += p.filesUnchanged;
    sum.filesFailed += p.filesFailed;
    sum.filesSkipped += p.filesSkipped;
}

} // namespace

CatalogService::CatalogService(Catalog &catalog, Pools &pools, QObject *parent)
    : QObject(parent)
    , m_catalog(catalog)
    , m_pools(pools)
{
    qRegisterMetaType<quire::DocumentEvent>();
    qRegisterMetaType<QList<quire::DocumentEvent>>();
    qRegisterMetaType<quire::IngestProgress>();
    qRegisterMetaType<quire::IngestResult>();
    qRegisterMetaType<quire::IngestIssue>();
    qRegisterMetaType<quire::VerifyResult>();
    qRegisterMetaType<quire::WorkSummary>();
}

CatalogService::~CatalogService()
{
    // Deleting a running job cancels it without waiting (ingestjob.h); the pools drain later,
    // in the composition root, after the event loop has returned.
    const auto jobs = std::exchange(m_jobs, {});
    for (IngestJob *job : jobs) {
        job->disconnect(this);
        delete job;
    }
}

// Every catalog call goes through here: the I/O pool, never the calling (GUI) thread.
template <typename F>
auto CatalogService::runIo(F &&f)
{
    m_inFlight->fetch_add(1, std::memory_order_relaxed);
    // Through Pools::run, so Help > Diagnostics counts it while it waits for a thread.
    return m_pools.run(m_pools.io(), [catalog = &m_catalog, inFlight = m_inFlight,
                                      f = std::forward<F>(f)]() mutable {
        struct Done
        {
            std::atomic_int &n;
            ~Done() { n.fetch_sub(1, std::memory_order_relaxed); }
        } done{*inFlight};
        return f(*catalog);
    });
}

// An edit of the collections list (a name, a remote, a new one): collectionsChanged() once it
// succeeded, then the future resolves.
template <typename F>
auto CatalogService::editCollections(F &&f)
{
    return thenOn(runIo(std::forward<F>(f)), this, [this](auto r) {
        if (r)
            Q_EMIT collectionsChanged();
        return r;
    });
}

ConnectionStats CatalogService::connectionStats() const
{
    ConnectionStats s;
    s.open = m_catalog.connections().openConnections();
    s.opened = m_catalog.connections().connectionsOpened();
    s.queriesInFlight = m_inFlight->load(std::memory_order_relaxed);
    return s;
}

QFuture<Status> CatalogService::open()
{
    return runIo([](Catalog &c) { return c.open(); });
}

QFuture<CatalogService::CatalogTest> CatalogService::testCatalog(const QString &location, const QString &password)
{
    return m_pools.run(m_pools.io(), [location, password]() -> CatalogTest {
        const CatalogConfig config{location};
        if (const std::optional<QString> problem = config.locationError())
            return {false, *problem};
        ConnectionManager manager(config);
        if (!password.isEmpty())
            manager.setPassword(password);
        CatalogTest out;
        {
            const Result<QSqlDatabase> db = manager.database();
            if (!db) {
                const QString e = db.error();
                QString headline;
                if (manager.passwordRefused())
                    headline = tr("The server refused the password (or needs one).");
                else if (!QSqlDatabase::isDriverAvailable(config.isPostgres() ? QStringLiteral("QPSQL")
                                                          : config.isMariaDb() ? QStringLiteral("QMYSQL")
                                                                               : QStringLiteral("QSQLITE")))
                    headline = tr("The database driver is not installed.");
                else if (e.contains(QLatin1StringView("does not exist")) || e.contains(QLatin1StringView("Unknown database")))
                    headline = tr("The server has no such database.");
                else if (e.contains(QLatin1StringView("refused")) || e.contains(QLatin1StringView("Can't connect"))
                         || e.contains(QLatin1StringView("could not connect"))
                         || e.contains(QLatin1StringView("timeout"), Qt::CaseInsensitive))
                    headline = tr("The server could not be reached.");
                else
                    headline = tr("The catalog could not be opened.");
                out = {false, headline + u' ' + e};
            } else {
                QSqlQuery q(*db);
                out = q.exec(QStringLiteral("SELECT 1")) && q.next()
                        ? CatalogTest{true, tr("Connected to %1.").arg(config.displayLocation())}
                        : CatalogTest{false, tr("Connected, but a query failed: %1").arg(q.lastError().text())};
            }
        }
        manager.releaseThisThread();   // closed on the thread that opened it
        return out;
    });
}

QFuture<Result<QList<Collection>>> CatalogService::collections()
{
    return runIo([](Catalog &c) { return c.collections(); });
}

QFuture<Result<std::optional<Collection>>> CatalogService::collection(qint64 id)
{
    return runIo([id](Catalog &c) { return c.collection(id); });
}

QFuture<Result<std::optional<Collection>>> CatalogService::collectionByName(const QString &name)
{
    return runIo([name](Catalog &c) { return c.collectionByName(name); });
}

QFuture<Result<QList<Document>>> CatalogService::documents(const DocumentQuery &query)
{
    return runIo([query](Catalog &c) { return c.documents(query); });
}

QFuture<Result<qint64>> CatalogService::countDocuments(const DocumentQuery &query)
{
    return runIo([query](Catalog &c) { return c.countDocuments(query); });
}

QFuture<Result<std::optional<Document>>> CatalogService::document(qint64 id)
{
    return runIo([id](Catalog &c) { return c.document(id); });
}

QFuture<Result<QHash<DocStatus, qint64>>> CatalogService::statusCounts(qint64 collectionId)
{
    return runIo([collectionId](Catalog &c) { return c.statusCounts(collectionId); });
}

QFuture<Result<qint64>> CatalogService::createCollection(const QString &name, const QString &remote)
{
    return editCollections([name, remote](Catalog &c) { return c.createCollection(name, remote); });
}

QFuture<Result<qint64>> CatalogService::ensureCollection(const QString &name, const QString &remote)
{
    return editCollections([name, remote](Catalog &c) -> Result<qint64> {
        auto existing = c.collectionByName(name);
        if (!existing)
            return Result<qint64>::failure(existing.error());
        if (existing->has_value())
            return (*existing)->id;
        auto created = c.createCollection(name, remote);
        if (created)
            return created;
        // Another thread may have created it in between.
        existing = c.collectionByName(name);
        if (existing && existing->has_value())
            return (*existing)->id;
        return created;
    });
}

QFuture<Status> CatalogService::renameCollection(qint64 id, const QString &name)
{
    return editCollections([id, name](Catalog &c) { return c.renameCollection(id, name); });
}

QFuture<Status> CatalogService::setCollectionRemote(qint64 id, const QString &remote)
{
    return editCollections([id, remote](Catalog &c) { return c.setCollectionRemote(id, remote); });
}

QFuture<Status> CatalogService::removeCollection(qint64 id)
{
    cancelCollection(id);
    return thenOn(runIo([id](Catalog &c) { return c.removeCollection(id); }),
                  this, [this, id](Status s) {
            if (s) {
                Q_EMIT collectionsChanged();
                Q_EMIT documentsChanged(id);
            }
            return s;
        });
}

QFuture<Result<QList<Document>>> CatalogService::removeDocuments(const QList<qint64> &ids)
{
    return thenOn(runIo([ids](Catalog &c) { return c.removeDocuments(ids); }),
                  this, [this](Result<QList<Document>> r) {
            if (r) {
                QSet<qint64> touched;
                for (const Document &d : std::as_const(*r))
                    touched.insert(d.collectionId);
                Q_EMIT collectionsChanged();
                for (qint64 id : std::as_const(touched))
                    Q_EMIT documentsChanged(id);
            }
            return r;
        });
}

QFuture<Status> CatalogService::restoreDocuments(const QList<Document> &docs)
{
    QSet<qint64> touched;
    for (const Document &d : docs)
        touched.insert(d.collectionId);
    return thenOn(runIo([docs](Catalog &c) { return c.restoreDocuments(docs); }),
                  this, [this, touched](Status s) {
            if (s) {
                Q_EMIT collectionsChanged();
                for (qint64 id : touched)
                    Q_EMIT documentsChanged(id);
            }
            return s;
        });
}

QFuture<QString> CatalogService::suggestCollectionName(const QList<QByteArray> &paths, const QString &fallback)
{
    return m_pools.run(m_pools.io(), [paths, fallback] {
        if (paths.isEmpty())
            return fallback;
        const QByteArray first = paths.first();
        const bool isDir = statPath(first).valueOr({}).type == FileType::Directory;
        QByteArray dir = first;
        while (dir.size() > 1 && dir.endsWith('/'))
            dir.chop(1);
        if (!isDir || paths.size() > 1) {
            const qsizetype slash = dir.lastIndexOf('/');
            dir = slash > 0 ? dir.left(slash) : QByteArray();
        }
        const QString name = displayName(dir);
        if (name.isEmpty() || Catalog::collectionNameError(name))
            return fallback;
        return name;
    });
}

QFuture<Result<VerifyResult>> CatalogService::verify(qint64 documentId)
{
    // Two hops: the catalog read on the I/O pool, the hashing on the CPU pool.
    return runIo([documentId](Catalog &c) { return c.document(documentId); })
        .then(m_pools.cpu(), [documentId](Result<std::optional<Document>> r) -> Result<VerifyResult> {
            if (!r)
                return Result<VerifyResult>::failure(r.error());
            if (!r->has_value())
                return Result<VerifyResult>::failure(
                    tr("Document %1 is no longer in the catalog.").arg(documentId));
            const Document &doc = **r;
            VerifyResult v;
            v.id = doc.id;
            v.expected = doc.sha256;
            if (doc.sha256.isEmpty()) {
                v.outcome = VerifyResult::Outcome::NotHashed;
                return v;
            }
            const FileHash h = Hasher::hashFile(doc.sourcePath);
            if (!h.ok()) {
                v.outcome = VerifyResult::Outcome::Unreadable;
                v.error = h.error;
                return v;
            }
            v.actual = h.sha256;
            v.outcome = h.sha256 == doc.sha256 ? VerifyResult::Outcome::Match
                                               : VerifyResult::Outcome::Mismatch;
            return v;
        });
}

IngestJob *CatalogService::ingest(qint64 collectionId, const QList<QByteArray> &paths)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_jobs.isEmpty()) {
        m_finishedTotals = IngestProgress{};
        m_finishedTotals.walking = false;
        m_workClock.start();
    }
    auto *job = new IngestJob(m_catalog, m_pools, collectionId, paths, this);
    m_jobs.append(job);
    connect(job, &IngestJob::progressChanged, this, [this, collectionId] {
        onJobProgress();
        // Counts and badges change as files are found and hashed.
        Q_EMIT collectionsChanged();
        Q_EMIT documentsChanged(collectionId);
    });
    connect(job, &IngestJob::documentsChanged, this, &CatalogService::documentEvents);
    connect(job, &IngestJob::finished, this,
            [this, job](const IngestResult &result) { onJobFinished(job, result); });
    if (m_paused)
        job->setPaused(true);
    job->start();
    Q_EMIT jobStarted(job);
    Q_EMIT collectionsChanged();
    Q_EMIT workChanged();
    return job;
}

QFuture<Result<int>> CatalogService::retryFailed(qint64 collectionId, const QList<qint64> &ids)
{
    DocumentQuery q;
    q.collectionId = collectionId;
    q.statuses = {DocStatus::Failed, DocStatus::Cancelled};
    return thenOn(runIo([q](Catalog &c) { return c.documents(q); }),
                  this, [this, collectionId, ids](Result<QList<Document>> r) -> Result<int> {
            if (!r)
                return Result<int>::failure(r.error());
            const QSet<qint64> wanted(ids.cbegin(), ids.cend());
            QList<QByteArray> paths;
            QSet<QByteArray> seen;
            for (const Document &d : std::as_const(*r)) {
                if (!wanted.isEmpty() && !wanted.contains(d.id))
                    continue;
                if (!seen.contains(d.sourcePath)) {
                    seen.insert(d.sourcePath);
                    paths.append(d.sourcePath);
                }
            }
            if (!paths.isEmpty())
                ingest(collectionId, paths);
            return int(paths.size());
        });
}

QList<IngestJob *> CatalogService::jobs() const
{
    return m_jobs;
}

bool CatalogService::isCollectionBusy(qint64 collectionId) const
{
    for (const IngestJob *job : m_jobs) {
        if (job->collectionId() == collectionId)
            return true;
    }
    return false;
}

QList<qint64> CatalogService::busyCollections() const
{
    QList<qint64> ids;
    for (const IngestJob *job : m_jobs) {
        if (!ids.contains(job->collectionId()))
            ids.append(job->collectionId());
    }
    return ids;
}

WorkSummary CatalogService::summary() const
{
    IngestProgress sum = m_finishedTotals;
    for (const IngestJob *job : m_jobs)
        addTotals(sum, job->progress());
    WorkSummary s;
    s.runningJobs = int(m_jobs.size());
    s.walking = sum.walking;
    s.paused = m_paused;
    s.filesFound = sum.filesFound;
    s.bytesFound = sum.bytesFound;
    s.filesDone = sum.filesDone;
    s.bytesDone = sum.bytesDone;
    s.filesFailed = sum.filesFailed;
    s.elapsedMs = m_workClock.isValid() ? m_workClock.elapsed() : 0;
    return s;
}

void CatalogService::setPaused(bool paused)
{
    if (m_paused == paused)
        return;
    m_paused = paused;
    for (IngestJob *job : std::as_const(m_jobs))
        job->setPaused(paused);
    Q_EMIT pausedChanged(paused);
    Q_EMIT workChanged();
}

void CatalogService::cancelAll()
{
    for (IngestJob *job : std::as_const(m_jobs))
        job->cancel();
    // Paused jobs must run to notice the cancel.
    if (m_paused)
        setPaused(false);
}

void CatalogService::cancelCollection(qint64 collectionId)
{
    for (IngestJob *job : std::as_const(m_jobs)) {
        if (job->collectionId() == collectionId) {
            job->cancel();
            job->setPaused(false);
        }
    }
}

void CatalogService::onJobProgress()
{
    Q_EMIT workChanged();
}

void CatalogService::onJobFinished(IngestJob *job, const IngestResult &result)
{
    if (!m_jobs.removeOne(job))
        return;
    const qint64 collectionId = job->collectionId();
    IngestProgress totals = result.totals;
    totals.walking = false;
    addTotals(m_finishedTotals, totals);
    job->deleteLater();
    Q_EMIT jobFinished(job, result);
    Q_EMIT collectionsChanged();
    Q_EMIT documentsChanged(collectionId);
    Q_EMIT workChanged();
    if (m_jobs.isEmpty()) {
        if (m_paused) {
            m_paused = false;
            Q_EMIT pausedChanged(false);
        }
        Q_EMIT idle();
    }
}

} // namespace quire
