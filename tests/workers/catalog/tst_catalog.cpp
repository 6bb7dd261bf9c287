// ctest-labels: concurrency catalog
// ctest-timeout: 900
// The SQL catalog. Every data-driven test runs once against SQLite and once against a
// throw-away PostgreSQL server (tests/support/pgserver.h): the same code, the same results.
#include "catalog/catalog.h"
#include "catalog/dbconnections.h"
#include "catalog/machine.h"
#include "catalogservers.h"
#include "catalog/transaction.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QDir>
#include <QUrl>
#include <QTest>
#include <QThreadPool>

#include <algorithm>
#include <atomic>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <semaphore>
#include <thread>

using namespace quire;
using namespace std::chrono_literals;

namespace {

// QThreadPool hands a task to its thread through QMutex/QWaitCondition, which ThreadSanitizer
// cannot see (Debian's Qt is not instrumented), so TSan would report the task reading its own
// captures as a race with the thread that created them. A release/acquire pair on an atomic
// around the hand-over shows TSan the ordering Qt provides; everything the task does is still
// checked.
std::atomic<quint64> g_handoff{0};

void startTask(QThreadPool &pool, std::function<void()> task)
{
    std::function<void()> wrapped = [task = std::move(task)] {
        g_handoff.load(std::memory_order_acquire);
        task();
    };
    g_handoff.fetch_add(1, std::memory_order_release);
    pool.start(std::move(wrapped));
}

QByteArray shaOf(const QByteArray &content)
{
    return QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex();
}

NewDocument newDoc(const QByteArray &path, qint64 size = 100, qint64 mtime = 1'700'000'000'000)
{
    const qsizetype slash = path.lastIndexOf('/');
    return NewDocument{path, QString::fromUtf8(path.mid(slash + 1)), size, mtime};
}

HashUpdate hashed(qint64 id, const QByteArray &sha, qint64 size = 100, qint64 mtime = 1'700'000'000'000)
{
    return HashUpdate{id, sha, size, mtime, {}};
}

HashUpdate failed(qint64 id, const QString &error)
{
    return HashUpdate{id, {}, 0, 0, error};
}

QString describe(const Document &d)
{
    return QStringLiteral("#%1 c%2 %3 [%4] size=%5 mtime=%6 sha=%7 %8 err=%9 remote=%10 att=%11 dup=%12 added=%13 updated=%14")
            .arg(d.id).arg(d.collectionId).arg(d.fileName, QString::fromLatin1(d.sourcePath.toHex()))
            .arg(d.size).arg(d.mtimeMs).arg(QString::fromLatin1(d.sha256), statusName(d.status), d.error, d.remoteLocation)
            .arg(d.attempts).arg(d.duplicateOf)
            .arg(d.added.toMSecsSinceEpoch()).arg(d.updated.toMSecsSinceEpoch());
}

DocumentQuery inCollection(qint64 collectionId)
{
    DocumentQuery q;
    q.collectionId = collectionId;
    return q;
}

QList<qint64> idsOf(const QList<Document> &docs)
{
    QList<qint64> ids;
    for (const Document &d : docs)
        ids.append(d.id);
    return ids;
}

bool isHex(const QString &s)
{
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return isxdigit(c.toLatin1()) && c.unicode() < 128; });
}

} // namespace

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

class TestCatalog final : public QObject
{
    Q_OBJECT

    struct Fixture
    {
        QString backend;
        CatalogConfig config;
        std::unique_ptr<Catalog> catalog;
        QThreadPool pool;   // one long-lived thread: one connection for the whole test

        Fixture() { pool.setMaxThreadCount(1); pool.setExpiryTimeout(-1); }
        ~Fixture() { pool.waitForDone(); }

        Catalog &cat() { return *catalog; }

        // Runs f on the worker thread and returns its result.
        template <typename F>
        auto run(F &&f) -> std::invoke_result_t<F &>
        {
            std::optional<std::invoke_result_t<F &>> out;
            std::binary_semaphore done(0);
            startTask(pool, [&] {
                out.emplace(f());
                done.release();
            });
            done.acquire();
            return std::move(*out);
        }
    };

    QString newLocation(const QString &backend)
    {
        return m_servers.newLocation(backend, m_dir.filePath(QStringLiteral("cat-%1").arg(++m_counter)), &m_skip, &m_fail);
    }

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

    static void addBackends() { test::CatalogServers::addBackendRows(); }

    QTemporaryDir m_dir;
    test::CatalogServers m_servers;
    QString m_skip;
    QString m_fail;
    int m_counter = 0;

private slots:
    void initTestCase()
    {
        QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
    }

    void collectionNameError_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("expectedError");   // substring; empty: valid
        QTest::newRow("plain") << QStringLiteral("Invoices 2024") << QString();
        QTest::newRow("unicode") << QString::fromUtf8("Fran\xc3\xa7" "ais \xe6\x96\x87\xe6\x9b\xb8") << QString();
        QTest::newRow("dots inside") << QStringLiteral("a..b") << QString();
        QTest::newRow("three dots") << QStringLiteral("...") << QString();
        QTest::newRow("200 chars") << QString(200, u'x') << QString();
        QTest::newRow("empty") << QString() << QStringLiteral("empty");
        QTest::newRow("201 chars") << QString(201, u'x') << QStringLiteral("longer than 200");
        QTest::newRow("slash") << QStringLiteral("a/b") << QStringLiteral("'/'");
        QTest::newRow("backslash") << QStringLiteral("a\\b") << QStringLiteral("'\\'");
        QTest::newRow("tab") << QStringLiteral("a\tb") << QStringLiteral("control");
        QTest::newRow("newline") << QStringLiteral("a\nb") << QStringLiteral("control");
        QTest::newRow("DEL") << QStringLiteral("a\x7f" "b") << QStringLiteral("control");
        QTest::newRow("leading space") << QStringLiteral(" a") << QStringLiteral("white space");
        QTest::newRow("trailing space") << QStringLiteral("a ") << QStringLiteral("white space");
        QTest::newRow("trailing nbsp") << QStringLiteral("a\u00a0") << QStringLiteral("white space");
        QTest::newRow("dot") << QStringLiteral(".") << QStringLiteral("\".\"");
        QTest::newRow("dot dot") << QStringLiteral("..") << QStringLiteral("\"..\"");
    }
    void collectionNameError()
    {
        QFETCH(QString, name);
        QFETCH(QString, expectedError);
        const std::optional<QString> error = Catalog::collectionNameError(name);
        if (expectedError.isEmpty()) {
            QVERIFY2(!error, qPrintable(error.value_or(QString())));
        } else {
            QVERIFY(error);
            QVERIFY2(error->contains(expectedError), qPrintable(*error));
        }
    }

    // A location is a SQLite path, a file:// URL, a PostgreSQL or a MariaDB URL; any other URL is refused
    // with the supported kinds named, and nothing is made of it on disk.
    void locationsQuireCannotServe_data()
    {
        QTest::addColumn<QString>("location");
        QTest::addColumn<QString>("error");   // substring; empty: served
        QTest::newRow("path") << QStringLiteral("a/catalog.sqlite") << QString();
        QTest::newRow("windows drive") << QStringLiteral("C://data/catalog.sqlite") << QString();
        QTest::newRow("postgresql") << QStringLiteral("postgresql://u@h/db") << QString();
        QTest::newRow("POSTGRES") << QStringLiteral("POSTGRES://u@h/db") << QString();
        QTest::newRow("mysql") << QStringLiteral("mysql://quire@127.0.0.1:3306/quire") << QString();
        QTest::newRow("mariadb") << QStringLiteral("MariaDB://quire@[::1]/quire") << QString();
        QTest::newRow("mongodb") << QStringLiteral("mongodb://quire@127.0.0.1/quire") << QStringLiteral("mongodb://");
        QTest::newRow("mysqlx") << QStringLiteral("mysqlx://quire@127.0.0.1/quire") << QStringLiteral("mysqlx://");
        QTest::newRow("https") << QStringLiteral("https://example.com/catalog.sqlite") << QStringLiteral("https://");
        QTest::newRow("sqlite+x") << QStringLiteral("sqlite+x://a") << QStringLiteral("sqlite+x://");
        QTest::newRow("file with a host") << QStringLiteral("file://server/share/c.sqlite") << QStringLiteral("not a local file");
        QTest::newRow("empty") << QString() << QStringLiteral("no catalog given");
    }
    void locationsQuireCannotServe()
    {
        QFETCH(QString, location);
        QFETCH(QString, error);
        const CatalogConfig config{location};
        const std::optional<QString> problem = config.locationError();
        if (error.isEmpty()) {
            QVERIFY2(!problem, qPrintable(problem.value_or(QString())));
            return;
        }
        QVERIFY(problem);
        QVERIFY2(problem->contains(error), qPrintable(*problem));
        if (!location.startsWith(QLatin1StringView("file")) && !location.isEmpty())
            QVERIFY2(problem->contains(QLatin1StringView("postgresql://")) && problem->contains(QLatin1StringView("SQLite"))
                             && problem->contains(QLatin1StringView("mysql://")),
                     qPrintable(*problem));

        // Opening it fails with that reason, in a folder where nothing gets created.
        const QString before = QDir::currentPath();
        QTemporaryDir cwd;
        QVERIFY(QDir::setCurrent(cwd.path()));
        Fixture fx;
        fx.catalog = std::make_unique<Catalog>(config);
        const Status opened = fx.run([&] { return fx.cat().open(); });
        QVERIFY(QDir::setCurrent(before));
        QVERIFY(!opened);
        QVERIFY2(opened.error().contains(error), qPrintable(opened.error()));
        QVERIFY(QDir(cwd.path()).isEmpty());
    }

    void fileUrlIsTheSqliteFileAtItsPath()
    {
        const QString path = m_dir.filePath(QStringLiteral("file url/catalog #1.sqlite"));
        const CatalogConfig config = CatalogConfig::fromOption(QUrl::fromLocalFile(path).toString(QUrl::FullyEncoded));
        QCOMPARE(config.location, path);
        QVERIFY(!config.locationError());
    }

    void passwordOfAnotherUrlIsNotShown()
    {
        for (const char *url : {"mongodb://quire:s3cret@db.example:27017/quire", "mysql://quire:s3cret@db.example:3306/quire",
                                "mariadb://quire:s3cret@db.example/quire?ssl-ca=/ca.pem"}) {
            const CatalogConfig config{QString::fromLatin1(url)};
            QVERIFY2(!config.displayLocation().contains(QLatin1StringView("s3cret")), url);
            QVERIFY2(!config.locationError().value_or(QString()).contains(QLatin1StringView("s3cret")), url);
            QVERIFY2(config.displayLocation().contains(QLatin1StringView("db.example")), url);
            QVERIFY2(config.passwordInUrl(), url);
        }
    }

    void refusedOnGuiThread()
    {
        const QString path = m_dir.filePath(QStringLiteral("gui/catalog.sqlite"));
        Catalog catalog(CatalogConfig{path});
        ConnectionManager::setAssertOnGuiThread(false);
        const Status opened = catalog.open();
        const auto listed = catalog.collections();
        ConnectionManager::setAssertOnGuiThread(true);
        QVERIFY(!opened);
        QVERIFY(!listed);
        QVERIFY2(opened.error().contains(QLatin1StringView("GUI thread")), qPrintable(opened.error()));
        QVERIFY(!QFileInfo::exists(path));
    }

    void collections_data() { addBackends(); }
    void collections()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        const qint64 before = QDateTime::currentMSecsSinceEpoch();
        TRY_VALUE(beta, fx.run([&] { return cat.createCollection(QStringLiteral("Beta")); }));
        TRY_VALUE(alpha, fx.run([&] { return cat.createCollection(QStringLiteral("alpha")); }));
        TRY_VALUE(gamma, fx.run([&] { return cat.createCollection(QStringLiteral("Gamma"), QStringLiteral("nas")); }));
        QVERIFY(beta > 0 && alpha > 0 && gamma > 0);
        QCOMPARE(QSet<qint64>({alpha, beta, gamma}).size(), 3);

        const auto again = fx.run([&] { return cat.createCollection(QStringLiteral("alpha")); });
        QVERIFY(!again);
        QVERIFY2(again.error().contains(QLatin1StringView("already exists")), qPrintable(again.error()));
        const auto invalid = fx.run([&] { return cat.createCollection(QStringLiteral("a/b")); });
        QVERIFY(!invalid);
        QVERIFY2(invalid.error().contains(QLatin1StringView("'/'")), qPrintable(invalid.error()));

        TRY_VALUE(list, fx.run([&] { return cat.collections(); }));
        QCOMPARE(list.size(), 3);
        QCOMPARE(list[0].name, QStringLiteral("alpha"));   // ordered by name, ignoring case
        QCOMPARE(list[1].name, QStringLiteral("Beta"));
        QCOMPARE(list[2].name, QStringLiteral("Gamma"));
        QCOMPARE(list[2].remote, QStringLiteral("nas"));
        QCOMPARE(list[0].remote, QString());
        for (const Collection &c : list) {
            QCOMPARE(c.documentCount, 0);
            QCOMPARE(c.created.timeSpec(), Qt::UTC);
            QVERIFY(c.created.toMSecsSinceEpoch() >= before);
            QVERIFY(c.created.toMSecsSinceEpoch() <= QDateTime::currentMSecsSinceEpoch());
        }

        TRY_VALUE(byId, fx.run([&] { return cat.collection(gamma); }));
        QVERIFY(byId);
        QCOMPARE(byId->name, QStringLiteral("Gamma"));
        TRY_VALUE(byName, fx.run([&] { return cat.collectionByName(QStringLiteral("Beta")); }));
        QVERIFY(byName);
        QCOMPARE(byName->id, beta);
        TRY_VALUE(noName, fx.run([&] { return cat.collectionByName(QStringLiteral("beta")); }));
        QVERIFY(!noName);   // names are exact
        TRY_VALUE(noId, fx.run([&] { return cat.collection(987654); }));
        QVERIFY(!noId);

        TRY_STATUS(fx.run([&] { return cat.renameCollection(beta, QStringLiteral("Delta")); }));
        TRY_VALUE(renamed, fx.run([&] { return cat.collection(beta); }));
        QCOMPARE(renamed->name, QStringLiteral("Delta"));
        const Status clash = fx.run([&] { return cat.renameCollection(alpha, QStringLiteral("Gamma")); });
        QVERIFY(!clash);
        QVERIFY2(clash.error().contains(QLatin1StringView("another collection")), qPrintable(clash.error()));
        QVERIFY(!fx.run([&] { return cat.renameCollection(alpha, QStringLiteral("..")); }));
        QVERIFY(!fx.run([&] { return cat.renameCollection(987654, QStringLiteral("Nope")); }));
        TRY_STATUS(fx.run([&] { return cat.renameCollection(alpha, QStringLiteral("alpha")); }));   // same name: fine

        TRY_STATUS(fx.run([&] { return cat.setCollectionRemote(alpha, QStringLiteral("webdav-1")); }));
        TRY_VALUE(withRemote, fx.run([&] { return cat.collection(alpha); }));
        QCOMPARE(withRemote->remote, QStringLiteral("webdav-1"));
        TRY_STATUS(fx.run([&] { return cat.setCollectionRemote(alpha, QString()); }));
        TRY_VALUE(noRemote, fx.run([&] { return cat.collection(alpha); }));
        QCOMPARE(noRemote->remote, QString());
        QVERIFY(!fx.run([&] { return cat.setCollectionRemote(987654, QStringLiteral("x")); }));

        // Counters, then removal with its documents.
        TRY_VALUE(queued, fx.run([&] {
            return cat.addQueued(gamma, {newDoc("/g/a", 10), newDoc("/g/b", 20), newDoc("/g/c", 30)});
        }));
        TRY_VALUE(applied, fx.run([&] { return cat.applyHashes({failed(queued[2].id, QStringLiteral("unreadable"))}); }));
        TRY_VALUE(counted, fx.run([&] { return cat.collection(gamma); }));
        QCOMPARE(counted->documentCount, 3);
        QCOMPARE(counted->bytes, 60);
        QCOMPARE(counted->failedCount, 1);
        QCOMPARE(counted->pendingCount, 2);

        TRY_STATUS(fx.run([&] { return cat.removeCollection(gamma); }));
        TRY_VALUE(gone, fx.run([&] { return cat.document(queued[0].id); }));
        QVERIFY(!gone);   // ON DELETE CASCADE
        TRY_VALUE(countAfter, fx.run([&] { return cat.countDocuments(DocumentQuery{}); }));
        QCOMPARE(countAfter, 0);
        TRY_VALUE(left, fx.run([&] { return cat.collections(); }));
        QCOMPARE(left.size(), 2);
        QVERIFY(!fx.run([&] { return cat.removeCollection(gamma); }));
    }

    // Each document records the machine that added it; the same path added on another machine
    // is another file (a row of its own), and the machines' names can be shown.
    void documentsRecordTheirMachine_data() { addBackends(); }
    void documentsRecordTheirMachine()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Team")); }));
        TRY_VALUE(q1, fx.run([&] { return cat.addQueued(c, {newDoc("/shared/a.txt"), newDoc("/shared/b.txt")}); }));
        TRY_VALUE(a, fx.run([&] { return cat.document(q1[0].id); }));
        QCOMPARE(a->machineId, thisMachine().id);
        TRY_VALUE(names, fx.run([&] { return cat.machineNames(); }));
        QCOMPARE(names.value(thisMachine().id), thisMachine().name);

        // b.txt becomes another machine's (named with a newline, as anyone could write it), a.txt
        // one from before machines were recorded.
        const bool moved = fx.run([&] {
            Result<QSqlDatabase> db = cat.connections().database();
            QSqlQuery q(*db);
            return db && q.exec(QStringLiteral("UPDATE documents SET machine_id = 'laptop-b-id' WHERE id = %1").arg(q1[1].id))
                   && q.exec(QStringLiteral("UPDATE documents SET machine_id = '' WHERE id = %1").arg(q1[0].id))
                   && q.exec(QStringLiteral("INSERT INTO machines (id, name, seen) VALUES ('laptop-b-id', 'laptop-b\nX', 0)"));
        });
        QVERIFY(moved);
        TRY_VALUE(q2, fx.run([&] { return cat.addQueued(c, {newDoc("/shared/a.txt", 7), newDoc("/shared/b.txt", 9)}); }));
        QCOMPARE(q2[0].id, q1[0].id);   // adopted: this machine's from now on
        QVERIFY(q2[1].id != q1[1].id);  // not the other machine's row
        TRY_VALUE(adopted, fx.run([&] { return cat.document(q1[0].id); }));
        QCOMPARE(adopted->machineId, thisMachine().id);
        TRY_VALUE(theirs, fx.run([&] { return cat.document(q1[1].id); }));
        QCOMPARE(theirs->machineId, QStringLiteral("laptop-b-id"));
        QCOMPARE(theirs->size, newDoc("/shared/b.txt").size);

        DocumentQuery mineOnly;
        mineOnly.collectionId = c;
        mineOnly.thisMachineOnly = true;
        TRY_VALUE(mine, fx.run([&] { return cat.documents(mineOnly); }));
        QCOMPARE(mine.size(), 2);
        for (const Document &d : mine)
            QCOMPARE(d.machineId, thisMachine().id);
        // The collection's pending work is this machine's: the other one's row is not counted.
        TRY_VALUE(collections, fx.run([&] { return cat.collections(); }));
        QCOMPARE(collections.size(), 1);
        QCOMPARE(collections.first().documentCount, 3);
        QCOMPARE(collections.first().pendingCount, 2);
        TRY_VALUE(names2, fx.run([&] { return cat.machineNames(); }));
        QCOMPARE(names2.value(QStringLiteral("laptop-b-id")), QStringLiteral("laptop-bX"));
    }

    // PostgreSQL: a big add brings the planner's statistics up to date, so the batched lookups
    // of the next batches use the indexes instead of scanning the grown table.
    void bigAddsRefreshPostgresStatistics_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("postgres") << QStringLiteral("postgres");
    }
    void bigAddsRefreshPostgresStatistics()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Big")); }));
        auto analyzed = [&] {
            return fx.run([&] {
                Result<QSqlDatabase> db = cat.connections().database();
                QSqlQuery q(*db);
                return db && q.exec(QStringLiteral("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'documents'"))
                               && q.next() ? q.value(0).toLongLong() : qint64(-1);
            });
        };
        const qint64 before = analyzed();
        QList<NewDocument> docs;
        for (int i = 0; i < 2100; ++i)
            docs << newDoc("/big/f" + QByteArray::number(i));
        TRY_VALUE(added, fx.run([&] { return cat.addQueued(c, docs); }));
        QCOMPARE(added.size(), 2100);
        QVERIFY2(analyzed() > before, qPrintable(QStringLiteral("analyze_count %1 -> %2").arg(before).arg(analyzed())));
    }

    void addQueuedAndApplyHashes_data() { addBackends(); }
    void addQueuedAndApplyHashes()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Docs")); }));
        TRY_VALUE(other, fx.run([&] { return cat.createCollection(QStringLiteral("Other")); }));

        const QByteArray shaA = shaOf("a"), shaB = shaOf("b");
        TRY_VALUE(q1, fx.run([&] {
            return cat.addQueued(c, {newDoc("/in/a.txt"), newDoc("/in/b.txt"), newDoc("/in/c.txt"), newDoc("/in/d.txt")});
        }));
        QCOMPARE(q1.size(), 4);
        for (const QueuedDocument &q : q1)
            QVERIFY(!q.unchanged);
        QCOMPARE(QSet<qint64>({q1[0].id, q1[1].id, q1[2].id, q1[3].id}).size(), 4);

        TRY_VALUE(doc0, fx.run([&] { return cat.document(q1[0].id); }));
        QVERIFY(doc0);
        QCOMPARE(doc0->status, DocStatus::Queued);
        QCOMPARE(doc0->fileName, QStringLiteral("a.txt"));
        QCOMPARE(doc0->collectionId, c);
        QVERIFY(doc0->sha256.isEmpty());
        QCOMPARE(doc0->duplicateOf, 0);
        QCOMPARE(doc0->added.timeSpec(), Qt::UTC);

        // Still queued: adding it again re-queues the same row with the new size/mtime.
        TRY_VALUE(q2, fx.run([&] { return cat.addQueued(c, {newDoc("/in/a.txt", 111, 5)}); }));
        QCOMPARE(q2[0].id, q1[0].id);
        QVERIFY(!q2[0].unchanged);
        TRY_VALUE(requeued, fx.run([&] { return cat.document(q1[0].id); }));
        QCOMPARE(requeued->size, 111);
        QCOMPARE(requeued->mtimeMs, 5);

        // a and c have the same content: c becomes a duplicate of a; d fails.
        TRY_VALUE(applied, fx.run([&] {
            return cat.applyHashes({hashed(q1[0].id, shaA), hashed(q1[1].id, shaB.toUpper()), hashed(q1[2].id, shaA),
                                    failed(q1[3].id, QStringLiteral("permission denied"))});
        }));
        QCOMPARE(applied.size(), 4);
        QCOMPARE(applied[0].status, DocStatus::Hashed);
        QCOMPARE(applied[1].status, DocStatus::Hashed);
        QCOMPARE(applied[2].status, DocStatus::Duplicate);
        QCOMPARE(applied[2].duplicateOf, q1[0].id);
        QCOMPARE(applied[3].status, DocStatus::Failed);
        for (int i = 0; i < 4; ++i)
            QCOMPARE(applied[i].id, q1[i].id);

        TRY_VALUE(a, fx.run([&] { return cat.document(q1[0].id); }));
        QCOMPARE(a->sha256, shaA);
        QCOMPARE(a->size, 100);   // the hasher's measurement wins
        TRY_VALUE(b, fx.run([&] { return cat.document(q1[1].id); }));
        QCOMPARE(b->sha256, shaB);   // stored lowercase
        TRY_VALUE(dup, fx.run([&] { return cat.document(q1[2].id); }));
        QCOMPARE(dup->status, DocStatus::Duplicate);
        QCOMPARE(dup->duplicateOf, q1[0].id);
        QCOMPARE(dup->sha256, shaA);
        TRY_VALUE(d, fx.run([&] { return cat.document(q1[3].id); }));
        QCOMPARE(d->status, DocStatus::Failed);
        QCOMPARE(d->error, QStringLiteral("permission denied"));
        QVERIFY(d->sha256.isEmpty());

        // Same path, size and mtime, already hashed: nothing to do.
        TRY_VALUE(q3, fx.run([&] { return cat.addQueued(c, {newDoc("/in/a.txt"), newDoc("/in/c.txt")}); }));
        QCOMPARE(q3[0].id, q1[0].id);
        QVERIFY(q3[0].unchanged);
        QCOMPARE(q3[1].id, q1[2].id);   // a duplicate counts as done too
        QVERIFY(q3[1].unchanged);
        // The failed one is re-queued, its error cleared.
        TRY_VALUE(q4, fx.run([&] { return cat.addQueued(c, {newDoc("/in/d.txt")}); }));
        QCOMPARE(q4[0].id, q1[3].id);
        QVERIFY(!q4[0].unchanged);
        TRY_VALUE(d2, fx.run([&] { return cat.document(q1[3].id); }));
        QCOMPARE(d2->status, DocStatus::Queued);
        QCOMPARE(d2->error, QString());
        // A changed file (other mtime) that was hashed: a new document.
        TRY_VALUE(q5, fx.run([&] { return cat.addQueued(c, {newDoc("/in/a.txt", 100, 42)}); }));
        QVERIFY(q5[0].id != q1[0].id);
        QVERIFY(!q5[0].unchanged);

        // Two new files with the same content in one batch: one original, one duplicate.
        TRY_VALUE(q6, fx.run([&] { return cat.addQueued(c, {newDoc("/in/e1"), newDoc("/in/e2")}); }));
        const QByteArray shaE = shaOf("e");
        TRY_VALUE(applied6, fx.run([&] { return cat.applyHashes({hashed(q6[0].id, shaE), hashed(q6[1].id, shaE)}); }));
        QCOMPARE(applied6[0].status, DocStatus::Hashed);
        QCOMPARE(applied6[1].status, DocStatus::Duplicate);
        QCOMPARE(applied6[1].duplicateOf, q6[0].id);

        // Another collection may hold the same content as an original of its own.
        TRY_VALUE(q7, fx.run([&] { return cat.addQueued(other, {newDoc("/in/a.txt")}); }));
        QVERIFY(!q7[0].unchanged);   // paths are per collection
        TRY_VALUE(applied7, fx.run([&] { return cat.applyHashes({hashed(q7[0].id, shaA)}); }));
        QCOMPARE(applied7[0].status, DocStatus::Hashed);

        // Re-applying a document's own hash does not make it a duplicate of itself.
        TRY_VALUE(applied8, fx.run([&] { return cat.applyHashes({hashed(q1[0].id, shaA)}); }));
        QCOMPARE(applied8[0].status, DocStatus::Hashed);

        // A document re-hashed with new content gives up the old content, which another document
        // later in the same batch then holds as the original.
        TRY_VALUE(q9, fx.run([&] { return cat.addQueued(c, {newDoc("/in/x"), newDoc("/in/z")}); }));
        TRY_VALUE(x1, fx.run([&] { return cat.applyHashes({hashed(q9[0].id, shaOf("x1"))}); }));
        QCOMPARE(x1[0].status, DocStatus::Hashed);
        TRY_VALUE(moved, fx.run([&] {
            return cat.applyHashes({hashed(q9[0].id, shaOf("x2")), hashed(q9[1].id, shaOf("x1"))});
        }));
        QCOMPARE(moved[0].status, DocStatus::Hashed);
        QCOMPARE(moved[1].status, DocStatus::Hashed);
        // The same document twice in one batch: the last result stands.
        TRY_VALUE(twice, fx.run([&] {
            return cat.applyHashes({hashed(q9[1].id, shaOf("z1")), hashed(q9[1].id, shaOf("z2"))});
        }));
        QCOMPARE(twice[1].status, DocStatus::Hashed);
        TRY_VALUE(z, fx.run([&] { return cat.document(q9[1].id); }));
        QCOMPARE(z->sha256, shaOf("z2"));
        // The same path twice in one batch is one document; the later entry's details win.
        TRY_VALUE(q10, fx.run([&] { return cat.addQueued(c, {newDoc("/in/twice", 1), newDoc("/in/twice", 2)}); }));
        QCOMPARE(q10[0].id, q10[1].id);
        TRY_VALUE(twiceDoc, fx.run([&] { return cat.document(q10[0].id); }));
        QCOMPARE(twiceDoc->size, 2);

        // Bad input is refused before anything is written; unknown ids are skipped.
        QVERIFY(!fx.run([&] { return cat.applyHashes({hashed(q5[0].id, "not-a-sha")}); }));
        QVERIFY(!fx.run([&] { return cat.addQueued(987654, {newDoc("/x")}); }));
        TRY_VALUE(unknown, fx.run([&] { return cat.applyHashes({hashed(987654, shaOf("z"))}); }));
        QCOMPARE(unknown[0].status, DocStatus::Failed);
        TRY_VALUE(none, fx.run([&] { return cat.addQueued(c, {}); }));
        QVERIFY(none.isEmpty());
    }

    // Files new to a collection are recorded with their hash results in one step; the outcome
    // is the same as addQueued() followed by applyHashes().
    void addHashed_data() { addBackends(); }
    void addHashed()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Direct")); }));
        const QByteArray shaA = shaOf("a"), shaB = shaOf("b");
        auto hd = [](const char *path, const QByteArray &sha, qint64 size = 100) {
            return HashedDocument{newDoc(path, size), sha, {}, false};
        };

        // One already there the usual way (queued, then hashed): its content is taken.
        TRY_VALUE(old, fx.run([&] { return cat.addQueued(c, {newDoc("/old/a")}); }));
        TRY_VALUE(oldApplied, fx.run([&] { return cat.applyHashes({hashed(old[0].id, shaA)}); }));
        QCOMPARE(oldApplied[0].status, DocStatus::Hashed);
        TRY_VALUE(stillQueued, fx.run([&] { return cat.addQueued(c, {newDoc("/old/queued")}); }));

        TRY_VALUE(added, fx.run([&] {
            return cat.addHashed(c, {hd("/new/b1", shaB.toUpper()),    // new content: Hashed (stored lowercase)
                                     hd("/new/a", shaA),                 // content of /old/a: Duplicate of it
                                     hd("/new/b2", shaB),                // same content as /new/b1: Duplicate of it
                                     HashedDocument{newDoc("/new/bad"), {}, QStringLiteral("permission denied"), false},
                                     HashedDocument{newDoc("/new/later"), {}, {}, true},
                                     hd("/old/a", shaA),                 // already there, unchanged
                                     hd("/old/queued", shaOf("q")),      // already there, not hashed: conflict
                                     hd("/new/twice", shaOf("t1")),
                                     hd("/new/twice", shaOf("t2"))});    // listed twice: conflict
        }));
        QCOMPARE(added.size(), 9);
        QCOMPARE(added[0].status, DocStatus::Hashed);
        QCOMPARE(added[1].status, DocStatus::Duplicate);
        QCOMPARE(added[1].duplicateOf, old[0].id);
        QCOMPARE(added[2].status, DocStatus::Duplicate);
        QCOMPARE(added[2].duplicateOf, added[0].id);
        QCOMPARE(added[3].status, DocStatus::Failed);
        QCOMPARE(added[4].status, DocStatus::Cancelled);
        QVERIFY(added[5].unchanged);
        QCOMPARE(added[5].id, old[0].id);
        QVERIFY(added[6].conflict);
        QCOMPARE(added[6].id, 0);
        QVERIFY(!added[7].conflict);
        QCOMPARE(added[7].status, DocStatus::Hashed);
        QVERIFY(added[8].conflict);
        for (int i : {0, 1, 2, 3, 4, 7}) {
            QVERIFY(!added[i].conflict);
            QVERIFY(!added[i].unchanged);
            QVERIFY(added[i].id > 0);
        }

        TRY_VALUE(b1, fx.run([&] { return cat.document(added[0].id); }));
        QVERIFY(b1);
        QCOMPARE(b1->sha256, shaB);
        QCOMPARE(b1->fileName, QStringLiteral("b1"));
        QCOMPARE(b1->sourcePath, QByteArray("/new/b1"));
        QCOMPARE(b1->size, 100);
        QCOMPARE(b1->collectionId, c);
        TRY_VALUE(b2, fx.run([&] { return cat.document(added[2].id); }));
        QCOMPARE(b2->status, DocStatus::Duplicate);
        QCOMPARE(b2->duplicateOf, added[0].id);
        QCOMPARE(b2->sha256, shaB);
        TRY_VALUE(bad, fx.run([&] { return cat.document(added[3].id); }));
        QCOMPARE(bad->status, DocStatus::Failed);
        QCOMPARE(bad->error, QStringLiteral("permission denied"));
        QVERIFY(bad->sha256.isEmpty());
        TRY_VALUE(later, fx.run([&] { return cat.document(added[4].id); }));
        QCOMPARE(later->status, DocStatus::Cancelled);
        QVERIFY(later->sha256.isEmpty());
        // Nothing was written for the conflicts: /old/queued is still the one queued row.
        TRY_VALUE(queuedDoc, fx.run([&] { return cat.document(stillQueued[0].id); }));
        QCOMPARE(queuedDoc->status, DocStatus::Queued);
        TRY_VALUE(count, fx.run([&] { return cat.countDocuments(inCollection(c)); }));
        QCOMPARE(count, 2 + 6);

        // pathStates(): the newest row per path, absent paths left out.
        TRY_VALUE(states, fx.run([&] {
            return cat.pathStates(c, {QByteArray("/new/b1"), QByteArray("/old/queued"), QByteArray("/nowhere"),
                                      QByteArray("/new/b1")});
        }));
        QCOMPARE(states.size(), 2);
        QCOMPARE(states.value("/new/b1").id, added[0].id);
        QCOMPARE(states.value("/new/b1").status, DocStatus::Hashed);
        QCOMPARE(states.value("/old/queued").status, DocStatus::Queued);
        QVERIFY(!states.contains("/nowhere"));

        // Re-adding a cancelled one the usual way picks it up again.
        TRY_VALUE(again, fx.run([&] { return cat.addQueued(c, {newDoc("/new/later")}); }));
        QCOMPARE(again[0].id, added[4].id);
        QVERIFY(!again[0].unchanged);

        // More than one statement's worth of rows, with duplicates across the chunks.
        QList<HashedDocument> many;
        for (int i = 0; i < 1234; ++i) {
            const QByteArray path = "/many/" + QByteArray::number(i);
            many.append(HashedDocument{newDoc(path.constData()), shaOf("m" + QByteArray::number(i % 1000)), {}, false});
        }
        TRY_VALUE(manyAdded, fx.run([&] { return cat.addHashed(c, many); }));
        QCOMPARE(manyAdded.size(), 1234);
        for (int i = 0; i < 1234; ++i) {
            if (i < 1000) {
                QCOMPARE(manyAdded[i].status, DocStatus::Hashed);
            } else {
                QCOMPARE(manyAdded[i].status, DocStatus::Duplicate);
                QCOMPARE(manyAdded[i].duplicateOf, manyAdded[i - 1000].id);
            }
        }

        // Bad input is refused before anything is written.
        QVERIFY(!fx.run([&] { return cat.addHashed(c, {hd("/bad/sha", "not-a-sha")}); }));
        QVERIFY(!fx.run([&] { return cat.addHashed(987654, {hd("/x", shaA)}); }));
        TRY_VALUE(none, fx.run([&] { return cat.addHashed(c, {}); }));
        QVERIFY(none.isEmpty());
        TRY_VALUE(countAfter, fx.run([&] { return cat.countDocuments(inCollection(c)); }));
        QCOMPARE(countAfter, 2 + 6 + 1234);
    }

    void statusLifecycle_data() { addBackends(); }
    void statusLifecycle()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c1, fx.run([&] { return cat.createCollection(QStringLiteral("One")); }));
        TRY_VALUE(c2, fx.run([&] { return cat.createCollection(QStringLiteral("Two")); }));
        QList<NewDocument> docs;
        for (int i = 0; i < 8; ++i)
            docs.append(newDoc("/one/" + QByteArray::number(i)));
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c1, docs); }));
        TRY_VALUE(q2, fx.run([&] { return cat.addQueued(c2, {newDoc("/two/0"), newDoc("/two/1")}); }));

        TRY_STATUS(fx.run([&] { return cat.setStatus({q[0].id, q[1].id}, DocStatus::Hashing); }));
        TRY_VALUE(applied, fx.run([&] {
            return cat.applyHashes({hashed(q[2].id, shaOf("2")), hashed(q[3].id, shaOf("3")), hashed(q[4].id, shaOf("2")),
                                    failed(q[5].id, QStringLiteral("gone")), hashed(q[6].id, shaOf("6"))});
        }));
        TRY_STATUS(fx.run([&] { return cat.setStatus({q[3].id, q[6].id}, DocStatus::Uploading); }));
        TRY_STATUS(fx.run([&] { return cat.setStatus({q[6].id}, DocStatus::Uploading); }));   // a retry
        TRY_STATUS(fx.run([&] { return cat.setUploaded(q[6].id, QStringLiteral("dav://host/One/6")); }));
        TRY_STATUS(fx.run([&] { return cat.setStatus({q[7].id, 987654}, DocStatus::Cancelled); }));
        QVERIFY(!fx.run([&] { return cat.setUploaded(987654, QStringLiteral("x")); }));

        TRY_VALUE(uploaded, fx.run([&] { return cat.document(q[6].id); }));
        QCOMPARE(uploaded->status, DocStatus::Uploaded);
        QCOMPARE(uploaded->remoteLocation, QStringLiteral("dav://host/One/6"));
        QCOMPARE(uploaded->attempts, 2);
        QVERIFY(uploaded->updated >= uploaded->added);
        TRY_VALUE(uploading, fx.run([&] { return cat.document(q[3].id); }));
        QCOMPARE(uploading->attempts, 1);

        TRY_VALUE(counts, fx.run([&] { return cat.statusCounts(c1); }));
        QHash<DocStatus, qint64> expected;
        for (int i = 0; i < kDocStatusCount; ++i)
            expected.insert(static_cast<DocStatus>(i), 0);
        expected[DocStatus::Hashing] = 2;
        expected[DocStatus::Hashed] = 1;
        expected[DocStatus::Uploading] = 1;
        expected[DocStatus::Uploaded] = 1;
        expected[DocStatus::Duplicate] = 1;
        expected[DocStatus::Failed] = 1;
        expected[DocStatus::Cancelled] = 1;
        QCOMPARE(counts, expected);
        TRY_VALUE(all, fx.run([&] { return cat.statusCounts(); }));
        expected[DocStatus::Queued] = 2;
        QCOMPARE(all, expected);

        TRY_VALUE(unfinished, fx.run([&] { return cat.unfinishedHashing(c1); }));
        QCOMPARE(idsOf(unfinished), QList<qint64>({q[0].id, q[1].id}));
        TRY_VALUE(unfinishedAll, fx.run([&] { return cat.unfinishedHashing(); }));
        QCOMPARE(idsOf(unfinishedAll), QList<qint64>({q[0].id, q[1].id, q2[0].id, q2[1].id}));

        TRY_VALUE(coll, fx.run([&] { return cat.collection(c1); }));
        QCOMPARE(coll->documentCount, 8);
        QCOMPARE(coll->failedCount, 1);
        QCOMPARE(coll->pendingCount, 4);   // 2 hashing, 1 hashed, 1 uploading

        // Conditional claims: only documents in one of the `from` statuses change.
        TRY_VALUE(claimed, fx.run([&] {
            return cat.transitionStatus({q[2].id, q[3].id, q[5].id, 987654}, {DocStatus::Hashed, DocStatus::Failed},
                                        DocStatus::Uploading);
        }));
        QCOMPARE(claimed, QList<qint64>({q[2].id, q[5].id}));
        TRY_VALUE(claimedAgain, fx.run([&] {
            return cat.transitionStatus({q[2].id}, {DocStatus::Hashed}, DocStatus::Uploading);
        }));
        QVERIFY(claimedAgain.isEmpty());   // someone got there first
        TRY_VALUE(claimedDoc, fx.run([&] { return cat.document(q[2].id); }));
        QCOMPARE(claimedDoc->status, DocStatus::Uploading);
        QCOMPARE(claimedDoc->attempts, 1);
    }

    // The upload queue's batches: several documents claimed in one transaction, given back when
    // their upload never started, and recorded as uploaded together.
    void uploadBatches_data() { addBackends(); }
    void uploadBatches()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Up")); }));
        QList<NewDocument> docs;
        for (int i = 0; i < 10; ++i)
            docs.append(newDoc("/up/" + QByteArray::number(i)));
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c, docs); }));
        QList<HashUpdate> updates;
        QList<qint64> ids;
        for (int i = 0; i < 10; ++i) {
            updates.append(hashed(q[i].id, shaOf(QByteArray::number(i))));
            ids.append(q[i].id);
        }
        TRY_VALUE(applied, fx.run([&] { return cat.applyHashes(updates); }));
        const qint64 commitsBefore = Transaction::committedCount();

        // One claim for eight of them, listed out of order and one twice: claimed once, in input order.
        const QList<qint64> wanted{ids[7], ids[0], ids[3], ids[0], ids[1], ids[2], ids[4], ids[5], ids[6], 987654};
        TRY_VALUE(claimed, fx.run([&] { return cat.transitionStatus(wanted, {DocStatus::Hashed}, DocStatus::Uploading); }));
        QCOMPARE(claimed, QList<qint64>({ids[7], ids[0], ids[3], ids[1], ids[2], ids[4], ids[5], ids[6]}));
        QCOMPARE(Transaction::committedCount() - commitsBefore, 1);

        // Given back: the ones never started return to `hashed` with the attempt uncounted; one
        // cancelled from the waiting list becomes `cancelled`; ids not `uploading` are left alone.
        TRY_VALUE(back, fx.run([&] { return cat.releaseClaims({ids[5], ids[6], ids[8]}); }));
        QCOMPARE(back, QList<qint64>({ids[5], ids[6]}));
        TRY_VALUE(cancelled, fx.run([&] { return cat.releaseClaims({ids[4]}, DocStatus::Cancelled); }));
        QCOMPARE(cancelled, QList<qint64>({ids[4]}));
        for (const qint64 id : {ids[5], ids[6]}) {
            TRY_VALUE(d, fx.run([&] { return cat.document(id); }));
            QCOMPARE(d->status, DocStatus::Hashed);
            QCOMPARE(d->attempts, 0);
        }
        TRY_VALUE(dc, fx.run([&] { return cat.document(ids[4]); }));
        QCOMPARE(dc->status, DocStatus::Cancelled);
        QCOMPARE(dc->attempts, 0);
        TRY_VALUE(d8, fx.run([&] { return cat.document(ids[8]); }));
        QCOMPARE(d8->status, DocStatus::Hashed);

        // Results of several uploads in one transaction; a document removed meanwhile is named
        // and the others are written all the same.
        TRY_VALUE(removed, fx.run([&] { return cat.removeDocuments({ids[2]}); }));
        QList<UploadedDocument> results;
        for (const qint64 id : {ids[7], ids[0], ids[3], ids[2], ids[1]})
            results.append({id, QStringLiteral("dav://host/Up/%1").arg(id)});
        const qint64 commitsBeforeResults = Transaction::committedCount();
        TRY_VALUE(missing, fx.run([&] { return cat.setUploaded(results); }));
        QCOMPARE(missing, QList<qint64>({ids[2]}));
        QCOMPARE(Transaction::committedCount() - commitsBeforeResults, 1);
        for (const qint64 id : {ids[7], ids[0], ids[3], ids[1]}) {
            TRY_VALUE(d, fx.run([&] { return cat.document(id); }));
            QCOMPARE(d->status, DocStatus::Uploaded);
            QCOMPARE(d->remoteLocation, QStringLiteral("dav://host/Up/%1").arg(id));
            QCOMPARE(d->attempts, 1);
            QVERIFY(d->error.isEmpty());
        }
        TRY_VALUE(none, fx.run([&] { return cat.setUploaded(QList<UploadedDocument>()); }));
        QVERIFY(none.isEmpty());
        // The statements are kept with the connection: the same calls again still work.
        const Status noSuch = fx.run([&] { return cat.setUploaded(987654, QStringLiteral("x")); });
        QVERIFY(!noSuch);
        QVERIFY2(noSuch.error().contains(QLatin1StringView("there is no such document")), qPrintable(noSuch.error()));
        TRY_VALUE(again, fx.run([&] { return cat.transitionStatus({ids[5], ids[6]}, {DocStatus::Hashed}, DocStatus::Uploading); }));
        QCOMPARE(again, QList<qint64>({ids[5], ids[6]}));
        TRY_STATUS(fx.run([&] { return cat.setUploaded(ids[5], QStringLiteral("dav://host/Up/5")); }));
        TRY_VALUE(d5, fx.run([&] { return cat.document(ids[5]); }));
        QCOMPARE(d5->status, DocStatus::Uploaded);
        QCOMPARE(d5->attempts, 1);
    }

    // Workers of two processes (two Catalog objects) claim overlapping batches of the same
    // documents at once: each document is claimed exactly once.
    void concurrentClaims_data() { addBackends(); }
    void concurrentClaims()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        Catalog second(fx.config);
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Claims")); }));
        constexpr int kDocs = 400, kThreads = 6, kBatch = 32;
        QList<NewDocument> docs;
        for (int i = 0; i < kDocs; ++i)
            docs.append(newDoc("/claims/" + QByteArray::number(i)));
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c, docs); }));
        QList<HashUpdate> updates;
        QList<qint64> ids;
        for (int i = 0; i < kDocs; ++i) {
            updates.append(hashed(q[i].id, shaOf("claim " + QByteArray::number(i))));
            ids.append(q[i].id);
        }
        TRY_VALUE(applied, fx.run([&] { return cat.applyHashes(updates); }));

        QStringList errors;
        std::map<qint64, int> claimedBy;   // id -> how often claimed
        std::mutex mutex;
        std::latch start(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                Catalog &mine = t % 2 ? second : cat;
                start.arrive_and_wait();
                // Every thread walks all documents in batches, from a different starting point, so
                // batches overlap in every way.
                for (int b = 0; b < kDocs / kBatch + 1; ++b) {
                    QList<qint64> batch;
                    for (int i = 0; i < kBatch; ++i)
                        batch.append(ids[(t * 67 + b * kBatch + i) % kDocs]);
                    const auto got = mine.transitionStatus(batch, {DocStatus::Hashed}, DocStatus::Uploading);
                    std::lock_guard lock(mutex);
                    if (!got) {
                        errors.append(QStringLiteral("thread %1: %2").arg(t).arg(got.error()));
                        return;
                    }
                    for (const qint64 id : *got)
                        ++claimedBy[id];
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        int claimedOnce = 0;
        for (const auto &[id, n] : claimedBy) {
            QVERIFY2(n == 1, qPrintable(QStringLiteral("document %1 claimed %2 times").arg(id).arg(n)));
            ++claimedOnce;
        }
        TRY_VALUE(all, fx.run([&] { return cat.documents(inCollection(c)); }));
        int uploading = 0;
        for (const Document &d : std::as_const(all)) {
            if (d.status == DocStatus::Uploading) {
                ++uploading;
                QCOMPARE(d.attempts, 1);
            }
        }
        // Every thread asked for every document: all were claimed, each by one of them.
        QCOMPARE(claimedOnce, kDocs);
        QCOMPARE(uploading, kDocs);
    }

    // documents()/countDocuments(): filtering, sorting and paging in SQL, checked against the
    // same rules applied in C++ to a known data set.
    void documentsQuery_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<bool>("allCollections");
        QTest::addColumn<int>("column");
        QTest::addColumn<int>("order");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QList<int>>("statuses");
        QTest::addColumn<qint64>("offset");
        QTest::addColumn<qint64>("limit");

        const auto A = Qt::AscendingOrder, D = Qt::DescendingOrder;
        const struct
        {
            const char *name;
            bool all;
            DocColumn column;
            Qt::SortOrder order;
            const char *text;
            QList<int> statuses;
            qint64 offset, limit;
        } cases[] = {
            {"name asc", false, DocColumn::Name, A, "", {}, 0, -1},
            {"name desc", false, DocColumn::Name, D, "", {}, 0, -1},
            {"size asc paged", false, DocColumn::Size, A, "", {}, 5, 10},
            {"size desc", false, DocColumn::Size, D, "", {}, 0, -1},
            {"status asc", false, DocColumn::Status, A, "", {}, 0, -1},
            {"status desc paged", false, DocColumn::Status, D, "", {}, 3, 7},
            {"added asc (ties)", false, DocColumn::Added, A, "", {}, 0, -1},
            {"added desc", false, DocColumn::Added, D, "", {}, 0, -1},
            {"sha asc (nulls first)", false, DocColumn::Sha256, A, "", {}, 0, -1},
            {"sha desc (nulls last)", false, DocColumn::Sha256, D, "", {}, 0, -1},
            {"remote asc", false, DocColumn::Remote, A, "", {}, 0, -1},
            {"remote desc", false, DocColumn::Remote, D, "", {}, 0, -1},
            {"text any case", false, DocColumn::Name, A, "rEpOrT", {}, 0, -1},
            {"text underscore is literal", false, DocColumn::Name, A, "_", {}, 0, -1},
            {"text percent is literal", false, DocColumn::Name, A, "%", {}, 0, -1},
            {"text bang", false, DocColumn::Name, A, "!", {}, 0, -1},
            {"text quote", false, DocColumn::Name, A, "o'b", {}, 0, -1},
            {"text sha prefix", false, DocColumn::Added, A, "AB12", {}, 0, -1},
            {"text no match", false, DocColumn::Added, A, "zzz", {}, 0, -1},
            {"statuses", false, DocColumn::Added, D, "", {int(DocStatus::Failed), int(DocStatus::Duplicate)}, 0, -1},
            {"text+status+page", false, DocColumn::Size, A, "a", {int(DocStatus::Hashed), int(DocStatus::Uploaded),
                                                                  int(DocStatus::Queued)}, 1, 3},
            {"all collections", true, DocColumn::Added, A, "", {}, 0, -1},
            {"all collections paged", true, DocColumn::Name, D, "", {}, 20, 15},
            {"offset past end", false, DocColumn::Added, A, "", {}, 100, 10},
            {"offset without limit", false, DocColumn::Size, A, "", {}, 30, -1},
            {"limit zero", false, DocColumn::Added, A, "", {}, 0, 0},
        };
        for (const char *backend : {"sqlite", "postgres", "mariadb"}) {
            for (const auto &c : cases) {
                QTest::addRow("%s: %s", backend, c.name)
                        << QString::fromLatin1(backend) << c.all << int(c.column) << int(c.order)
                        << QString::fromUtf8(c.text) << c.statuses << c.offset << c.limit;
            }
        }
    }
    void documentsQuery()
    {
        FIXTURE(fx);
        QFETCH(bool, allCollections);
        QFETCH(int, column);
        QFETCH(int, order);
        QFETCH(QString, text);
        QFETCH(QList<int>, statuses);
        QFETCH(qint64, offset);
        QFETCH(qint64, limit);
        Catalog &cat = fx.cat();

        TRY_VALUE(ca, fx.run([&] { return cat.createCollection(QStringLiteral("A")); }));
        TRY_VALUE(cb, fx.run([&] { return cat.createCollection(QStringLiteral("B")); }));

        // The data set: every status, equal sort keys (ties), names with LIKE wildcards,
        // hashes with a common prefix, rows without a hash.
        QList<Document> data;
        const qint64 base = 1'700'000'000'000;
        const char *names[] = {"Report-%02d.pdf", "report_%d.txt", "IMG_%04d.JPG", "notes %d%%.md", "Archive-%d.zip",
                               "o'brien-%d.doc", "bang!%d.txt"};
        for (int i = 0; i < 50; ++i) {
            Document d;
            d.id = 1000 + i;
            d.collectionId = i < 40 ? ca : cb;
            d.fileName = QString::asprintf(names[i % 7], i);
            if (i == 14)
                d.fileName = QStringLiteral("REPORT-07.PDF");   // equal to #7's name but for case
            d.sourcePath = "/data/" + d.fileName.toUtf8() + '.' + QByteArray::number(i);
            d.size = (i % 13) * 100;
            d.mtimeMs = base - i;
            d.status = static_cast<DocStatus>(i % kDocStatusCount);
            if (d.status != DocStatus::Queued && d.status != DocStatus::Hashing && d.status != DocStatus::Failed
                && d.status != DocStatus::Cancelled) {
                d.sha256 = shaOf(QByteArray::number(i));
                if (i % 9 == 0)
                    d.sha256.replace(0, 4, "ab12");
            }
            if (d.status == DocStatus::Duplicate) {   // i-3 is Hashed, in the same collection
                d.sha256 = data[i - 3].sha256;
                d.duplicateOf = data[i - 3].id;
            }
            if (d.status == DocStatus::Failed)
                d.error = QStringLiteral("read error %1").arg(i);
            if (d.status == DocStatus::Uploaded || i % 11 == 0)
                d.remoteLocation = QStringLiteral("remote/%1").arg(i % 4);
            d.attempts = i % 3;
            d.added = QDateTime::fromMSecsSinceEpoch(base + (i / 3) * 1000, Qt::UTC);
            d.updated = d.added.addSecs(i);
            data.append(d);
        }
        TRY_STATUS(fx.run([&] { return cat.restoreDocuments(data); }));

        DocumentQuery query;
        query.collectionId = allCollections ? 0 : ca;
        query.text = text;
        for (int s : statuses)
            query.statuses.append(static_cast<DocStatus>(s));
        query.sortColumn = static_cast<DocColumn>(column);
        query.order = static_cast<Qt::SortOrder>(order);
        query.offset = offset;
        query.limit = limit;

        // The expected rows, by the documented rules.
        QList<Document> expected;
        const QString needle = text.trimmed().toLower();
        for (const Document &d : std::as_const(data)) {
            if (query.collectionId && d.collectionId != query.collectionId)
                continue;
            if (!query.statuses.isEmpty() && !query.statuses.contains(d.status))
                continue;
            if (!needle.isEmpty() && !d.fileName.toLower().contains(needle)
                && !(isHex(needle) && QString::fromLatin1(d.sha256).startsWith(needle)))
                continue;
            expected.append(d);
        }
        const bool asc = query.order == Qt::AscendingOrder;
        auto key = [&](const Document &d) -> QVariant {
            switch (query.sortColumn) {
            case DocColumn::Name: return d.fileName.toLower();
            case DocColumn::Size: return d.size;
            case DocColumn::Status: return int(d.status);
            case DocColumn::Added: return d.added.toMSecsSinceEpoch();
            case DocColumn::Sha256: return QString::fromLatin1(d.sha256);   // empty (NULL) sorts first
            case DocColumn::Remote: return d.remoteLocation;
            }
            return {};
        };
        std::sort(expected.begin(), expected.end(), [&](const Document &x, const Document &y) {
            const QPartialOrdering c = QVariant::compare(key(x), key(y));
            if (c != QPartialOrdering::Equivalent)
                return asc ? c == QPartialOrdering::Less : c == QPartialOrdering::Greater;
            return asc ? x.id < y.id : x.id > y.id;
        });
        const qint64 total = expected.size();
        expected = expected.mid(std::min<qint64>(offset, total), limit < 0 ? -1 : limit);
        if (total > 0 && limit != 0 && offset < total)
            QVERIFY(!expected.isEmpty());

        TRY_VALUE(rows, fx.run([&] { return cat.documents(query); }));
        QCOMPARE(idsOf(rows), idsOf(expected));
        for (int i = 0; i < rows.size(); ++i)
            QCOMPARE(describe(rows[i]), describe(expected[i]));   // every field round-trips
        TRY_VALUE(count, fx.run([&] { return cat.countDocuments(query); }));
        QCOMPARE(count, total);
    }

    void removeAndRestore_data() { addBackends(); }
    void removeAndRestore()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("R")); }));
        QList<NewDocument> docs;
        for (int i = 0; i < 6; ++i)
            docs.append(newDoc("/r/" + QByteArray::number(i), 10 * i));
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c, docs); }));
        TRY_VALUE(applied, fx.run([&] {
            return cat.applyHashes({hashed(q[0].id, shaOf("0")), hashed(q[1].id, shaOf("0")), hashed(q[2].id, shaOf("2")),
                                    failed(q[3].id, QStringLiteral("nope"))});
        }));
        TRY_STATUS(fx.run([&] { return cat.setUploaded(q[2].id, QStringLiteral("there/2")); }));
        TRY_VALUE(before, fx.run([&] { return cat.documents(inCollection(c)); }));
        QCOMPARE(before.size(), 6);

        // The last ids too: an id must never be handed out again, or restore would collide.
        const QList<qint64> removeIds{q[1].id, q[2].id, q[3].id, q[5].id, 987654};
        TRY_VALUE(removed, fx.run([&] { return cat.removeDocuments(removeIds); }));
        QCOMPARE(idsOf(removed), QList<qint64>({q[1].id, q[2].id, q[3].id, q[5].id}));
        for (const Document &r : removed) {
            const auto was = std::find_if(before.begin(), before.end(), [&](const Document &d) { return d.id == r.id; });
            QCOMPARE(describe(r), describe(*was));
        }
        TRY_VALUE(countAfterRemove, fx.run([&] { return cat.countDocuments(inCollection(c)); }));
        QCOMPARE(countAfterRemove, 2);

        TRY_VALUE(fresh, fx.run([&] { return cat.addQueued(c, {newDoc("/r/new")}); }));
        QVERIFY(fresh[0].id > q[5].id);

        TRY_STATUS(fx.run([&] { return cat.restoreDocuments(removed); }));
        TRY_VALUE(after, fx.run([&] { return cat.documents(inCollection(c)); }));
        QCOMPARE(after.size(), 7);
        for (const Document &d : std::as_const(before)) {
            const auto now = std::find_if(after.begin(), after.end(), [&](const Document &x) { return x.id == d.id; });
            QVERIFY(now != after.end());
            QCOMPARE(describe(*now), describe(d));
        }
        // New documents after a restore still get new ids (PostgreSQL: the sequence was moved).
        TRY_VALUE(fresh2, fx.run([&] { return cat.addQueued(c, {newDoc("/r/newer")}); }));
        QVERIFY(fresh2[0].id > fresh[0].id);

        // All or nothing: the second row's id exists, so the first is not restored either.
        Document extra = removed[0];
        extra.id = fresh2[0].id + 100;
        const Status clash = fx.run([&] { return cat.restoreDocuments({extra, removed[1]}); });
        QVERIFY(!clash);
        QVERIFY2(clash.error().contains(QLatin1StringView("Could not restore")), qPrintable(clash.error()));
        TRY_VALUE(notThere, fx.run([&] { return cat.document(extra.id); }));
        QVERIFY(!notThere);

        // Restoring an original whose content was added again meanwhile makes it a duplicate.
        TRY_VALUE(removedOriginal, fx.run([&] { return cat.removeDocuments({q[0].id}); }));
        TRY_VALUE(again, fx.run([&] { return cat.addQueued(c, {newDoc("/r/again")}); }));
        TRY_VALUE(againHashed, fx.run([&] { return cat.applyHashes({hashed(again[0].id, shaOf("0"))}); }));
        QCOMPARE(againHashed[0].status, DocStatus::Hashed);
        TRY_STATUS(fx.run([&] { return cat.restoreDocuments(removedOriginal); }));
        TRY_VALUE(restoredOriginal, fx.run([&] { return cat.document(q[0].id); }));
        QCOMPARE(restoredOriginal->status, DocStatus::Duplicate);
        QCOMPARE(restoredOriginal->duplicateOf, again[0].id);
    }

    void invalidUtf8Paths_data() { addBackends(); }
    void invalidUtf8Paths()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Bytes")); }));
        // Latin-1 names from an old disk, a lone continuation byte, an overlong slash, a byte
        // that only differs from the next path in its invalid part, and every byte 1..255.
        QByteArray everyByte("/b/");
        for (int b = 1; b < 256; ++b) {
            if (b != '/')
                everyByte.append(char(b));
        }
        const QList<QByteArray> paths{
            QByteArray("/b/caf\xe9.txt"), QByteArray("/b/caf\xe8.txt"), QByteArray("/b/\x80\x81\xfe\xff"),
            QByteArray("/b/\xc0\xaf" "x"), QByteArray("/b/ok-\xc3\xa9t\xc3\xa9"), QByteArray("/b/quote'\\%_"), everyByte,
        };
        QList<NewDocument> docs;
        for (const QByteArray &p : paths)
            docs.append(NewDocument{p, QString::fromLocal8Bit(p.mid(3)), 1, 2});
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c, docs); }));
        QCOMPARE(q.size(), paths.size());
        for (int i = 0; i < paths.size(); ++i) {
            TRY_VALUE(d, fx.run([&] { return cat.document(q[i].id); }));
            QVERIFY(d);
            QCOMPARE(d->sourcePath, paths[i]);   // exact bytes
            QCOMPARE(d->sourcePath.size(), paths[i].size());
        }
        QSet<qint64> ids;
        for (const QueuedDocument &x : q)
            ids.insert(x.id);
        QCOMPARE(ids.size(), paths.size());   // near-identical byte strings stay distinct

        // Looking them up by path finds the same rows.
        QList<HashUpdate> updates;
        for (int i = 0; i < q.size(); ++i)
            updates.append(hashed(q[i].id, shaOf(paths[i]), 1, 2));
        TRY_VALUE(applied, fx.run([&] { return cat.applyHashes(updates); }));
        TRY_VALUE(again, fx.run([&] { return cat.addQueued(c, docs); }));
        for (int i = 0; i < q.size(); ++i) {
            QCOMPARE(again[i].id, q[i].id);
            QVERIFY(again[i].unchanged);
        }
        TRY_VALUE(listed, fx.run([&] { return cat.documents(inCollection(c)); }));
        QCOMPARE(listed.size(), paths.size());
        for (const Document &d : std::as_const(listed))
            QVERIFY(paths.contains(d.sourcePath));
    }

    void migrations_data() { addBackends(); }
    void migrations()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        QVERIFY(Catalog::latestSchemaVersion() >= 1);
        TRY_VALUE(version, fx.run([&] { return cat.schemaVersion(); }));
        QCOMPARE(version, Catalog::latestSchemaVersion());
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Kept")); }));

        // Opening again (same catalog object, another object, several at once) changes nothing.
        TRY_STATUS(fx.run([&] { return cat.open(); }));
        Catalog second(fx.config);
        TRY_STATUS(fx.run([&] { return second.open(); }));
        TRY_VALUE(secondVersion, fx.run([&] { return second.schemaVersion(); }));
        QCOMPARE(secondVersion, Catalog::latestSchemaVersion());

        auto rowCount = [&](const QString &sql) -> qint64 {
            return fx.run([&]() -> qint64 {
                const Result<QSqlDatabase> db = cat.connections().database();
                if (!db)
                    return -1;
                QSqlQuery q(*db);
                if (!q.exec(sql) || !q.next())
                    return -2;
                return q.value(0).toLongLong();
            });
        };
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM schema_version")), Catalog::latestSchemaVersion());
        QCOMPARE(rowCount(QStringLiteral("SELECT COUNT(*) FROM collections")), 1);
        Q_UNUSED(c);

        // A fresh catalog migrated by four threads at once, each with its own Catalog.
        const QString location = newLocation(fx.backend);
        QVERIFY2(!location.isEmpty(), qPrintable(m_fail));
        constexpr int kThreads = 4;
        std::vector<std::unique_ptr<Catalog>> catalogs;
        for (int i = 0; i < kThreads; ++i)
            catalogs.push_back(std::make_unique<Catalog>(CatalogConfig{location}));
        QStringList errors;
        std::mutex mutex;
        std::latch start(kThreads);
        std::vector<std::thread> threads;
        for (int i = 0; i < kThreads; ++i) {
            threads.emplace_back([&, i] {
                start.arrive_and_wait();
                const Status s = catalogs[i]->open();
                const Result<int> v = catalogs[i]->schemaVersion();
                std::lock_guard lock(mutex);
                if (!s)
                    errors.append(s.error());
                else if (!v || *v != Catalog::latestSchemaVersion())
                    errors.append(QStringLiteral("thread %1: wrong schema version").arg(i));
            });
        }
        for (std::thread &t : threads)
            t.join();
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        Catalog fresh{CatalogConfig{location}};
        const qint64 rows = fx.run([&]() -> qint64 {
            const Result<QSqlDatabase> db = fresh.connections().database();
            QSqlQuery q(*db);
            return q.exec(QStringLiteral("SELECT COUNT(*) FROM schema_version")) && q.next() ? q.value(0).toLongLong() : -1;
        });
        QCOMPARE(rows, Catalog::latestSchemaVersion());

        // A catalog from a newer Quire is refused, not "migrated".
        const qint64 inserted = fx.run([&]() -> qint64 {
            const Result<QSqlDatabase> db = fresh.connections().database();
            QSqlQuery q(*db);
            q.prepare(QStringLiteral("INSERT INTO schema_version (version, applied) VALUES (?, 0)"));
            q.addBindValue(Catalog::latestSchemaVersion() + 1);
            return q.exec() ? 1 : 0;
        });
        QCOMPARE(inserted, 1);
        Catalog newer{CatalogConfig{location}};
        const Status refused = fx.run([&] { return newer.open(); });
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QLatin1StringView("newer")), qPrintable(refused.error()));
    }

    // The RAII guard: rolls back unless committed; a second writer waits for the first (SQLite:
    // BEGIN IMMEDIATE + busy timeout; PostgreSQL: the advisory writer lock) instead of failing.
    void transactionGuard_data() { addBackends(); }
    void transactionGuard()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        auto countNamed = [&](const QString &name) {
            return fx.run([&]() -> qint64 {
                const Result<QSqlDatabase> db = cat.connections().database();
                QSqlQuery q(*db);
                q.prepare(QStringLiteral("SELECT COUNT(*) FROM collections WHERE name = ?"));
                q.addBindValue(name);
                return q.exec() && q.next() ? q.value(0).toLongLong() : -1;
            });
        };
        auto insertNamed = [&](const QString &name, bool commit) {
            return fx.run([&]() -> QString {
                const Result<QSqlDatabase> db = cat.connections().database();
                if (!db)
                    return db.error();
                QSqlQuery q(*db);
                Transaction tx(*db, QStringLiteral("test"));
                if (!tx.ok())
                    return tx.error();
                q.prepare(QStringLiteral("INSERT INTO collections (name, remote, created) VALUES (?, '', 0)"));
                q.addBindValue(name);
                if (!q.exec())
                    return q.lastError().text();
                if (commit) {
                    const Status s = tx.commit();
                    return s ? QString() : s.error();
                }
                return QString();   // ~Transaction rolls back
            });
        };
        QCOMPARE(insertNamed(QStringLiteral("rolled back"), false), QString());
        QCOMPARE(countNamed(QStringLiteral("rolled back")), 0);
        QCOMPARE(insertNamed(QStringLiteral("committed"), true), QString());
        QCOMPARE(countNamed(QStringLiteral("committed")), 1);

        // Writer A holds the write lock while writer B (another connection) tries to write.
        Catalog other(fx.config);
        std::binary_semaphore locked(0), bTrying(0);
        QString errorA, errorB;
        std::atomic<bool> aCommitted{false};
        bool bAfterA = false;
        std::thread a([&] {
            const Result<QSqlDatabase> db = cat.connections().database();
            if (!db) {
                errorA = db.error();
                locked.release();
                return;
            }
            {
                QSqlQuery q(*db);
                Transaction tx(*db, QStringLiteral("writer A"));
                if (!tx.ok() || !q.exec(QStringLiteral("INSERT INTO collections (name, remote, created) VALUES ('A', '', 0)")))
                    errorA = tx.ok() ? q.lastError().text() : tx.error();
                locked.release();
                bTrying.acquire();
                std::this_thread::sleep_for(300ms);   // B is (very likely) waiting on the lock now
                aCommitted = true;
                if (const Status s = tx.commit(); !s)
                    errorA = s.error();
            }
        });
        std::thread b([&] {
            locked.acquire();
            bTrying.release();
            const Result<qint64> id = other.createCollection(QStringLiteral("B"));
            bAfterA = aCommitted.load();
            if (!id)
                errorB = id.error();
        });
        a.join();
        b.join();
        QVERIFY2(errorA.isEmpty(), qPrintable(errorA));
        QVERIFY2(errorB.isEmpty(), qPrintable(errorB));
        QVERIFY(bAfterA);
        QCOMPARE(countNamed(QStringLiteral("A")), 1);
        QCOMPARE(countNamed(QStringLiteral("B")), 1);
    }

    // Eight threads (two Catalog objects, i.e. two sets of connections, as two processes would
    // have) write at once, with content shared between threads so that dedupe races too.
    void concurrentWriters_data() { addBackends(); }
    void concurrentWriters()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        Catalog second(fx.config);
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Busy")); }));

        constexpr int kThreads = 8, kRounds = 12, kBatch = 10, kContents = 60;
        QStringList errors;
        std::mutex mutex;
        std::latch start(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                Catalog &mine = t % 2 ? second : cat;
                auto fail = [&](const QString &e) {
                    std::lock_guard lock(mutex);
                    errors.append(QStringLiteral("thread %1: %2").arg(t).arg(e));
                };
                start.arrive_and_wait();
                for (int r = 0; r < kRounds; ++r) {
                    QList<NewDocument> docs;
                    for (int i = 0; i < kBatch; ++i)
                        docs.append(newDoc(QStringLiteral("/t%1/r%2/f%3").arg(t).arg(r).arg(i).toUtf8()));
                    const auto queued = mine.addQueued(c, docs);
                    if (!queued) {
                        fail(queued.error());
                        return;
                    }
                    QList<HashUpdate> updates;
                    for (int i = 0; i < kBatch; ++i) {
                        const int content = (t * 7 + r * 13 + i * 3) % kContents;
                        updates.append(hashed((*queued)[i].id, shaOf(QByteArray::number(content))));
                    }
                    const auto applied = mine.applyHashes(updates);
                    if (!applied) {
                        fail(applied.error());
                        return;
                    }
                    const auto counted = mine.countDocuments(inCollection(c));
                    if (!counted) {
                        fail(counted.error());
                        return;
                    }
                }
            });
        }
        for (std::thread &t : threads)
            t.join();
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));

        TRY_VALUE(all, fx.run([&] { return cat.documents(inCollection(c)); }));
        QCOMPARE(all.size(), kThreads * kRounds * kBatch);
        // Exactly one original per content; every other copy points at it.
        std::map<QByteArray, qint64> originals;
        for (const Document &d : std::as_const(all)) {
            if (d.status == DocStatus::Hashed) {
                QVERIFY2(originals.emplace(d.sha256, d.id).second, d.sha256.constData());
            } else {
                QCOMPARE(d.status, DocStatus::Duplicate);
            }
        }
        QCOMPARE(int(originals.size()), kContents);
        for (const Document &d : std::as_const(all)) {
            if (d.status == DocStatus::Duplicate)
                QCOMPARE(d.duplicateOf, originals.at(d.sha256));
        }
    }

    // Other tools can read the catalog while Quire writes to it and while it holds a connection.
    void sqliteReadableWhileWriting_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::newRow("sqlite") << QStringLiteral("sqlite");
    }
    void sqliteReadableWhileWriting()
    {
        const QString sqlite3 = QStandardPaths::findExecutable(QStringLiteral("sqlite3"));
        if (sqlite3.isEmpty())
            QSKIP("the sqlite3 command-line tool is not installed (scripts/install-deps --test installs it)");
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Read me")); }));
        TRY_VALUE(seed, fx.run([&] { return cat.addQueued(c, {newDoc("/seed")}); }));

        auto cli = [&](const QString &sql, QString *out) {
            // .timeout: a reader may meet a checkpoint for a moment; it must never meet a lock
            // that lasts (an exclusive lock would make it fail after these 10 s).
            const test::ProgramResult r = test::runProgram(
                    sqlite3, {QStringLiteral("-cmd"), QStringLiteral(".timeout 10000"), fx.config.location, sql}, {}, 60'000);
            *out = QString::fromLocal8Bit(r.out + r.err).trimmed();
            if (!r.ok())
                *out += u' ' + r.error;
            return r.ok();
        };

        // Quire holds an open, idle connection (the fixture's worker thread keeps it).
        QString out;
        QVERIFY2(cli(QStringLiteral("PRAGMA journal_mode"), &out), qPrintable(out));
        QCOMPARE(out, QStringLiteral("wal"));
        QVERIFY2(cli(QStringLiteral("SELECT COUNT(*) FROM documents"), &out), qPrintable(out));
        QCOMPARE(out, QStringLiteral("1"));

        // Now under a write-heavy load from two threads.
        std::atomic<bool> stop{false};
        std::atomic<int> batches{0};
        QStringList errors;
        std::mutex mutex;
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w) {
            writers.emplace_back([&, w] {
                for (int r = 0; !stop.load(); ++r) {
                    QList<NewDocument> docs;
                    for (int i = 0; i < 50; ++i)
                        docs.append(newDoc(QStringLiteral("/w%1/%2/%3").arg(w).arg(r).arg(i).toUtf8()));
                    const auto q = cat.addQueued(c, docs);
                    if (!q) {
                        std::lock_guard lock(mutex);
                        errors.append(q.error());
                        return;
                    }
                    ++batches;
                }
            });
        }
        QTRY_VERIFY_WITH_TIMEOUT(batches.load() > 0, 60'000);
        qint64 last = 0;
        QStringList readErrors;
        for (int i = 0; i < 5; ++i) {
            if (!cli(QStringLiteral("SELECT COUNT(*) FROM documents"), &out)) {
                readErrors.append(out);
                continue;
            }
            bool isNumber = false;
            const qint64 n = out.toLongLong(&isNumber);
            if (!isNumber || n < last)
                readErrors.append(QStringLiteral("unexpected count \"%1\" after %2").arg(out).arg(last));
            last = n;
        }
        stop = true;
        for (std::thread &t : writers)
            t.join();
        QVERIFY2(readErrors.isEmpty(), qPrintable(readErrors.join(u'\n')));
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        QVERIFY(last >= 1);

        TRY_VALUE(count, fx.run([&] { return cat.countDocuments(DocumentQuery{}); }));
        QVERIFY2(cli(QStringLiteral("SELECT COUNT(*) FROM documents"), &out), qPrintable(out));
        QCOMPARE(out.toLongLong(), count);
        QCOMPARE(count, 1 + qint64(batches.load()) * 50);
        Q_UNUSED(seed);
    }

    // Batches are written a chunk of rows per statement: every size around the chunk limits
    // must map each returned id to its own path.
    void batchSizes_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<int>("size");
        for (const char *backend : {"sqlite", "postgres", "mariadb"}) {
            for (int size : {1, 2, 63, 64, 65, 99, 100, 101, 250, 255, 256, 257, 499, 500, 501, 1234})
                QTest::addRow("%s: %d", backend, size) << QString::fromLatin1(backend) << size;
        }
    }
    void batchSizes()
    {
        FIXTURE(fx);
        QFETCH(int, size);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Sizes")); }));
        // Some paths exist already (queued, so they are re-queued), some appear twice.
        QList<NewDocument> first;
        for (int i = 0; i < size; i += 3) {
            if (i % 7 != 6)   // paths the second batch below has too
                first.append(newDoc("/s/" + QByteArray::number(i)));
        }
        TRY_VALUE(q0, fx.run([&] { return cat.addQueued(c, first); }));
        QList<NewDocument> docs;
        for (int i = 0; i < size; ++i)
            docs.append(newDoc("/s/" + QByteArray::number(i % 7 == 6 ? i - 1 : i), i));
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c, docs); }));
        QCOMPARE(q.size(), size);
        QHash<QByteArray, qint64> idOfPath;
        for (int i = 0; i < size; ++i) {
            if (!idOfPath.contains(docs[i].sourcePath))
                idOfPath.insert(docs[i].sourcePath, q[i].id);
            QCOMPARE(idOfPath.value(docs[i].sourcePath), q[i].id);   // one id per path
            QVERIFY(!q[i].unchanged);
        }
        for (int i = 0; i < first.size(); ++i)
            QCOMPARE(idOfPath.value(first[i].sourcePath), q0[i].id);
        TRY_VALUE(rows, fx.run([&] { return cat.documents(inCollection(c)); }));
        QCOMPARE(rows.size(), idOfPath.size());
        for (const Document &d : std::as_const(rows))
            QCOMPARE(idOfPath.value(d.sourcePath), d.id);

        QList<HashUpdate> updates;
        for (const Document &d : std::as_const(rows))   // content repeats every 5 documents
            updates.append(hashed(d.id, shaOf(QByteArray::number(d.id % 5)), d.size, d.mtimeMs));
        TRY_VALUE(applied, fx.run([&] { return cat.applyHashes(updates); }));
        TRY_VALUE(after, fx.run([&] { return cat.documents(inCollection(c)); }));
        std::map<QByteArray, qint64> originals;
        for (const Document &d : std::as_const(after)) {
            QCOMPARE(d.sha256, shaOf(QByteArray::number(d.id % 5)));
            if (d.status == DocStatus::Hashed)
                QVERIFY(originals.emplace(d.sha256, d.id).second);
        }
        QCOMPARE(qsizetype(originals.size()), std::min<qsizetype>(5, after.size()));
        for (qsizetype i = 0; i < after.size(); ++i) {
            QCOMPARE(applied[i].id, after[i].id);
            QCOMPARE(applied[i].status, after[i].status);
            if (after[i].status == DocStatus::Duplicate)
                QCOMPARE(after[i].duplicateOf, originals.at(after[i].sha256));
        }
    }

    // 10,000 documents through addQueued and applyHashes, one batch each. Prints the time;
    // asserts only the outcome (no timing assertions: the machine may be loaded).
    void largeBatch_data() { addBackends(); }
    void largeBatch()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.run([&] { return cat.createCollection(QStringLiteral("Large")); }));
        constexpr int kCount = 10'000;
        QList<NewDocument> docs;
        docs.reserve(kCount);
        for (int i = 0; i < kCount; ++i)
            docs.append(newDoc("/large/dir" + QByteArray::number(i % 100) + "/file" + QByteArray::number(i) + ".bin",
                               i, 1'700'000'000'000 + i));

        QElapsedTimer timer;
        timer.start();
        TRY_VALUE(q, fx.run([&] { return cat.addQueued(c, docs); }));
        const qint64 addMs = timer.restart();
        QList<HashUpdate> updates;
        updates.reserve(kCount);
        for (int i = 0; i < kCount; ++i)   // every tenth file repeats content: duplicates too
            updates.append(hashed(q[i].id, shaOf(QByteArray::number(i % 10 == 9 ? i - 1 : i)), i, 1'700'000'000'000 + i));
        TRY_VALUE(applied, fx.run([&] { return cat.applyHashes(updates); }));
        const qint64 hashMs = timer.elapsed();
        qInfo("%s: addQueued(10000) %lld ms, applyHashes(10000) %lld ms", qPrintable(fx.backend), addMs, hashMs);

        QCOMPARE(q.size(), kCount);
        QCOMPARE(applied.size(), kCount);
        TRY_VALUE(counts, fx.run([&] { return cat.statusCounts(c); }));
        QCOMPARE(counts.value(DocStatus::Hashed), 9'000);
        QCOMPARE(counts.value(DocStatus::Duplicate), 1'000);

        // Adding the same files again: all unchanged.
        timer.restart();
        TRY_VALUE(again, fx.run([&] { return cat.addQueued(c, docs); }));
        qInfo("%s: addQueued(10000 unchanged) %lld ms", qPrintable(fx.backend), timer.elapsed());
        QVERIFY(std::all_of(again.begin(), again.end(), [](const QueuedDocument &d) { return d.unchanged; }));

        timer.restart();
        DocumentQuery page = inCollection(c);
        page.sortColumn = DocColumn::Name;
        page.offset = 5'000;
        page.limit = 200;
        TRY_VALUE(rows, fx.run([&] { return cat.documents(page); }));
        qInfo("%s: documents(page of 200 at 5000, by name) %lld ms", qPrintable(fx.backend), timer.elapsed());
        QCOMPARE(rows.size(), 200);
    }
};

QTEST_GUILESS_MAIN(TestCatalog)
#include "tst_catalog.moc"
