#pragma once

#include "catalog/catalog.h"
#include "jobs/pools.h"
#include "jobs/pooltask.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"
#include "runon.h"
#include "upload/uploadjob.h"

#include <QString>
#include <QTemporaryDir>

#include <functional>
#include <future>
#include <memory>
#include <type_traits>

namespace quire::test {

// What the upload tests share: a temporary folder with a SQLite catalog (or the catalog at
// `catalogLocation`, such as a database of CatalogServers), an in-memory session store, pools, and
// helpers to catalog source files as `hashed` and to run an UploadJob to its end. Use from the
// test's main thread; catalog calls are run on the I/O pool.
class UploadFixture final
{
public:
    explicit UploadFixture(const QString &catalogLocation = {});
    ~UploadFixture();
    Q_DISABLE_COPY(UploadFixture)

    bool isValid() const { return m_ok; }
    QString dir() const { return m_dir.path(); }
    Catalog &catalog() { return *m_catalog; }
    SessionStore &store() { return *m_store; }
    Pools &pools() { return *m_pools; }

    // Runs fn on the I/O pool and returns its result (the catalog refuses the main thread).
    template <typename F>
    auto io(F &&fn) -> decltype(fn());

    bool saveRemote(const RemoteProfile &profile);
    qint64 createCollection(const QString &name, const QString &remote);
    // Writes <dir>/src/<subdir>/<fileName> (content, or a sparse file of sparseSize bytes) and
    // catalogs it as `hashed`. Returns the document id (0 on failure).
    qint64 addFile(qint64 collectionId, const QString &fileName, const QByteArray &content,
                   const QString &subdir = {});
    qint64 addSparseFile(qint64 collectionId, const QString &fileName, qint64 sparseSize);
    // Catalogs an existing file as `hashed`.
    qint64 addPath(qint64 collectionId, const QByteArray &path, const QString &fileName);
    QString sourcePath(qint64 documentId);
    Document document(qint64 id);
    QList<Document> documents(qint64 collectionId);
    // Runs one SQL statement on the catalog, as another program sharing it could (bound
    // values in order); false when it fails or changes no row.
    bool exec(const QString &sql, const QVariantList &values = {});

    // Settings for fast tests: 2 s transfer timeout, short backoff, 3 attempts.
    static UploadSettings fastSettings();
    // Starts a job and waits for finished() (at most timeoutMs); events/progress are collected.
    UploadResult runJob(const UploadScope &scope, const UploadSettings &settings,
                        SecretProvider secrets = {}, int timeoutMs = 120'000,
                        QList<UploadDocumentEvent> *events = nullptr, int *progressSignals = nullptr);

private:
    QTemporaryDir m_dir;
    std::unique_ptr<SessionStore> m_store;
    std::unique_ptr<Pools> m_pools;
    std::unique_ptr<Catalog> m_catalog;
    bool m_ok = false;
};

template <typename F>
auto UploadFixture::io(F &&fn) -> decltype(fn())
{
    return runOn(m_pools->io(), [&] { return fn(); });
}

// An upload's error and its failures ("name: error"), one line, for a failure's message.
QString describe(const UploadResult &r);

// Runs fn on a fresh worker thread and waits for it, processing the calling thread's events
// meanwhile (the remotes must not run on the GUI/main thread; the test's main thread stands in
// for it).
void onWorker(const std::function<void()> &fn);

} // namespace quire::test
