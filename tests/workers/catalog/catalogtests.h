#pragma once

// What the Catalog tests (tst_catalog, tst_catalogwrites, tst_catalogconcurrency) share: a
// catalog for each backend row, opened, with a worker thread to call it on; builders of
// documents and hash results; the macros that unwrap Results.

#include "backendtests.h"
#include "catalog/catalog.h"
#include "catalog/dbconnections.h"
#include "jobs/pooltask.h"

#include <QCryptographicHash>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QThreadPool>

#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <vector>

namespace quire::test {

inline QByteArray shaOf(const QByteArray &content)
{
    return QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex();
}

inline NewDocument newDoc(const QByteArray &path, qint64 size = 100, qint64 mtime = 1'700'000'000'000)
{
    const qsizetype slash = path.lastIndexOf('/');
    return NewDocument{path, QString::fromUtf8(path.mid(slash + 1)), size, mtime};
}

inline HashUpdate hashed(qint64 id, const QByteArray &sha, qint64 size = 100, qint64 mtime = 1'700'000'000'000)
{
    return HashUpdate{id, sha, size, mtime, {}};
}

inline HashUpdate failed(qint64 id, const QString &error)
{
    return HashUpdate{id, {}, 0, 0, error};
}

// Every field of a document, for comparing two of them whole.
inline QString describe(const Document &d)
{
    return QStringLiteral("#%1 c%2 %3 [%4] size=%5 mtime=%6 sha=%7 %8 err=%9 remote=%10 att=%11 dup=%12 added=%13 updated=%14")
            .arg(d.id).arg(d.collectionId).arg(d.fileName, QString::fromLatin1(d.sourcePath.toHex()))
            .arg(d.size).arg(d.mtimeMs).arg(QString::fromLatin1(d.sha256), statusName(d.status), d.error, d.remoteLocation)
            .arg(d.attempts).arg(d.duplicateOf)
            .arg(d.added.toMSecsSinceEpoch()).arg(d.updated.toMSecsSinceEpoch());
}

// What hashing made of a document: its status, the document it duplicates, its hash and its
// error, for comparing them at once.
inline QString outcome(DocStatus status, qint64 duplicateOf = 0, const QByteArray &sha = {}, const QString &error = {})
{
    return QStringLiteral("%1 dup=%2 sha=%3 err=%4")
            .arg(statusName(status)).arg(duplicateOf).arg(QString::fromLatin1(sha), error);
}

inline QString outcomeOf(const Document &d)
{
    return outcome(d.status, d.duplicateOf, d.sha256, d.error);
}

inline DocumentQuery inCollection(qint64 collectionId)
{
    DocumentQuery q;
    q.collectionId = collectionId;
    return q;
}

inline QList<qint64> idsOf(const QList<Document> &docs)
{
    QList<qint64> ids;
    for (const Document &d : docs)
        ids.append(d.id);
    return ids;
}

// Runs body(0) … body(n - 1), each on a thread of its own, all released at once, and waits for
// them to end.
inline void onThreadsAtOnce(int n, const std::function<void(int)> &body)
{
    std::latch start(n);
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            body(t);
        });
    }
    for (std::thread &t : threads)
        t.join();
}

// The base of the Catalog test classes: makes their fixtures, each a new catalog location on
// the backend of the test's row.
class CatalogTests : public BackendTests
{
protected:
    struct Fixture
    {
        QString backend;
        CatalogConfig config;
        std::unique_ptr<Catalog> catalog;
        QThreadPool pool;   // one long-lived thread: one connection for the whole test

        Fixture() { pool.setMaxThreadCount(1); pool.setExpiryTimeout(-1); }
        ~Fixture() { pool.waitForDone(); }

        Catalog &cat() { return *catalog; }

        // A new collection, made on the worker thread.
        Result<qint64> createCollection(const QString &name, const QString &remote = {})
        {
            return run([&] { return cat().createCollection(name, remote); });
        }

        // `n` new documents, `prefix` and their number, queued in the collection and then hashed,
        // each with content of its own; their ids, in that order.
        Result<QList<qint64>> addHashedDocuments(qint64 collectionId, const QByteArray &prefix, int n)
        {
            using R = Result<QList<qint64>>;
            return run([&]() -> R {
                QList<NewDocument> docs;
                for (int i = 0; i < n; ++i)
                    docs.append(newDoc(prefix + QByteArray::number(i)));
                const Result<QList<QueuedDocument>> queued = cat().addQueued(collectionId, docs);
                if (!queued)
                    return R::failure(queued.error());
                QList<HashUpdate> updates;
                QList<qint64> ids;
                for (qsizetype i = 0; i < queued->size(); ++i) {
                    updates.append(hashed(queued->at(i).id, shaOf(docs[i].sourcePath)));
                    ids.append(queued->at(i).id);
                }
                if (const auto applied = cat().applyHashes(updates); !applied)
                    return R::failure(applied.error());
                return ids;
            });
        }

        // Runs f on the worker thread and returns its result.
        template <typename F>
        auto run(F &&f) -> std::invoke_result_t<F &>
        {
            std::optional<std::invoke_result_t<F &>> out;
            std::binary_semaphore done(0);
            startTask(&pool, [&] {
                out.emplace(f());
                done.release();
            });
            done.acquire();
            return std::move(*out);
        }

        // outcomeOf() the stored document `id`, or why there is none.
        QString outcomeOf(qint64 id)
        {
            const Result<std::optional<Document>> d = run([&] { return cat().document(id); });
            if (!d)
                return d.error();
            return *d ? test::outcomeOf(**d) : QStringLiteral("no document #%1").arg(id);
        }

        // Runs sql, its placeholders bound to `binds`, on the worker thread's connection of `on`
        // (the fixture's catalog unless given).
        Status exec(const QString &sql, const QVariantList &binds = {}, Catalog *on = nullptr)
        {
            return run([&]() -> Status {
                const Result<QSqlDatabase> db = (on ? *on : cat()).connections().database();
                if (!db)
                    return Status::failure(db.error());
                QSqlQuery q(*db);
                if (!execute(q, sql, binds))
                    return Status::failure(q.lastError().text());
                return {};
            });
        }

        // The first row's first column of what sql gives, as exec() runs it, as a number; -1 when
        // it fails.
        qint64 scalar(const QString &sql, const QVariantList &binds = {}, Catalog *on = nullptr)
        {
            return run([&]() -> qint64 {
                const Result<QSqlDatabase> db = (on ? *on : cat()).connections().database();
                if (!db)
                    return -1;
                QSqlQuery q(*db);
                return execute(q, sql, binds) && q.next() ? q.value(0).toLongLong() : -1;
            });
        }

    private:
        static bool execute(QSqlQuery &q, const QString &sql, const QVariantList &binds)
        {
            if (binds.isEmpty())
                return q.exec(sql);
            if (!q.prepare(sql))
                return false;
            for (const QVariant &value : binds)
                q.addBindValue(value);
            return q.exec();
        }
    };

    QString newLocation(const QString &backend) { return BackendTests::newLocation(backend, &m_skip, &m_fail); }

    std::unique_ptr<Fixture> makeFixture(const QString &backend)
    {
        m_skip.clear();
        m_fail.clear();
        const QString location = newLocation(backend);
        if (location.isEmpty())
            return nullptr;
        auto fx = std::make_unique<Fixture>();
        fx->backend = backend;
        fx->config = CatalogConfig{location};
        fx->catalog = std::make_unique<Catalog>(fx->config);
        const Status opened = fx->run([&] { return fx->cat().open(); });
        if (!opened) {
            m_fail = opened.error();
            return nullptr;
        }
        return fx;
    }

    QString m_skip;
    QString m_fail;
};

} // namespace quire::test

// Unwraps a Result or fails the test with its error text.
#define TRY_VALUE(var, expr)                                              \
    auto var##Result_ = (expr);                                           \
    QVERIFY2(var##Result_.ok(), qPrintable(var##Result_.error()));        \
    auto var = std::move(var##Result_).value()

#define TRY_STATUS(expr)                                                  \
    do {                                                                  \
        const Status s_ = (expr);                                         \
        QVERIFY2(s_.ok(), qPrintable(s_.error()));                        \
    } while (false)

// A catalog for the row's backend, opened, plus a worker thread to call it on (catalog calls
// are refused on the GUI thread, which is where QtTest runs the test functions).
#define FIXTURE(fx)                                                       \
    QFETCH(QString, backend);                                             \
    auto fx##Ptr_ = makeFixture(backend);                                 \
    if (!m_skip.isEmpty())                                                \
        QSKIP(qPrintable(m_skip));                                        \
    QVERIFY2(fx##Ptr_, qPrintable(m_fail));                               \
    Fixture &fx = *fx##Ptr_
