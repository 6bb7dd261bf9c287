// ctest-labels: concurrency catalog
// ctest-timeout: 900
// The SQL catalog: names and locations, collections, reading documents back (filters, sorting,
// paging), removal and restore, schema migrations. Every data-driven test runs once against
// SQLite, once against a throw-away PostgreSQL server (tests/support/pgserver.h) and once
// against MariaDB: the same code, the same results. Writes: tst_catalogwrites; several writers
// at once: tst_catalogconcurrency.
#include "catalog/catalog.h"
#include "catalog/dbconnections.h"
#include "catalog/machine.h"
#include "catalogtests.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <algorithm>
#include <mutex>

using namespace quire;
using namespace quire::test;

namespace {

bool isHex(const QString &s)
{
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), [](QChar c) { return isxdigit(c.toLatin1()) && c.unicode() < 128; });
}

// A row of documentsQuery: what it asks documents() for (in the first collection unless `all`).
struct QueryCase
{
    const char *name;
    bool all;
    DocColumn column;
    Qt::SortOrder order;
    const char *text;
    QList<DocStatus> statuses;
    qint64 offset, limit;
};

} // namespace

Q_DECLARE_METATYPE(QueryCase)

class TestCatalog final : public CatalogTests
{
    Q_OBJECT

private slots:
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
        TRY_VALUE(beta, fx.createCollection(QStringLiteral("Beta")));
        TRY_VALUE(alpha, fx.createCollection(QStringLiteral("alpha")));
        TRY_VALUE(gamma, fx.createCollection(QStringLiteral("Gamma"), QStringLiteral("nas")));
        QVERIFY(beta > 0 && alpha > 0 && gamma > 0);
        QCOMPARE(QSet<qint64>({alpha, beta, gamma}).size(), 3);

        const auto again = fx.createCollection(QStringLiteral("alpha"));
        QVERIFY(!again);
        QVERIFY2(again.error().contains(QLatin1StringView("already exists")), qPrintable(again.error()));
        const auto invalid = fx.createCollection(QStringLiteral("a/b"));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Team")));
        TRY_VALUE(q1, fx.run([&] { return cat.addQueued(c, {newDoc("/shared/a.txt"), newDoc("/shared/b.txt")}); }));
        TRY_VALUE(a, fx.run([&] { return cat.document(q1[0].id); }));
        QCOMPARE(a->machineId, thisMachine().id);
        TRY_VALUE(names, fx.run([&] { return cat.machineNames(); }));
        QCOMPARE(names.value(thisMachine().id), thisMachine().name);

        // b.txt becomes another machine's (named with a newline, as anyone could write it), a.txt
        // one from before machines were recorded.
        TRY_STATUS(fx.exec(QStringLiteral("UPDATE documents SET machine_id = 'laptop-b-id' WHERE id = %1").arg(q1[1].id)));
        TRY_STATUS(fx.exec(QStringLiteral("UPDATE documents SET machine_id = '' WHERE id = %1").arg(q1[0].id)));
        TRY_STATUS(fx.exec(QStringLiteral("INSERT INTO machines (id, name, seen) VALUES ('laptop-b-id', 'laptop-b\nX', 0)")));
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

    // documents()/countDocuments(): filtering, sorting and paging in SQL, checked against the
    // same rules applied in C++ to a known data set.
    void documentsQuery_data()
    {
        QTest::addColumn<QString>("backend");
        QTest::addColumn<QueryCase>("asked");

        const auto A = Qt::AscendingOrder, D = Qt::DescendingOrder;
        const QueryCase cases[] = {
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
            {"statuses", false, DocColumn::Added, D, "", {DocStatus::Failed, DocStatus::Duplicate}, 0, -1},
            {"text+status+page", false, DocColumn::Size, A, "a", {DocStatus::Hashed, DocStatus::Uploaded, DocStatus::Queued}, 1, 3},
            {"all collections", true, DocColumn::Added, A, "", {}, 0, -1},
            {"all collections paged", true, DocColumn::Name, D, "", {}, 20, 15},
            {"offset past end", false, DocColumn::Added, A, "", {}, 100, 10},
            {"offset without limit", false, DocColumn::Size, A, "", {}, 30, -1},
            {"limit zero", false, DocColumn::Added, A, "", {}, 0, 0},
        };
        for (const char *backend : {"sqlite", "postgres", "mariadb"}) {
            for (const QueryCase &c : cases)
                QTest::addRow("%s: %s", backend, c.name) << QString::fromLatin1(backend) << c;
        }
    }
    void documentsQuery()
    {
        FIXTURE(fx);
        QFETCH(QueryCase, asked);
        Catalog &cat = fx.cat();

        TRY_VALUE(ca, fx.createCollection(QStringLiteral("A")));
        TRY_VALUE(cb, fx.createCollection(QStringLiteral("B")));

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
        query.collectionId = asked.all ? 0 : ca;
        query.text = QString::fromUtf8(asked.text);
        query.statuses = asked.statuses;
        query.sortColumn = asked.column;
        query.order = asked.order;
        query.offset = asked.offset;
        query.limit = asked.limit;

        // The expected rows, by the documented rules.
        QList<Document> expected;
        const QString needle = query.text.trimmed().toLower();
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
        expected = expected.mid(std::min<qint64>(query.offset, total), query.limit < 0 ? -1 : query.limit);
        if (total > 0 && query.limit != 0 && query.offset < total)
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("R")));
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
        QCOMPARE(fx.outcomeOf(q[0].id), outcome(DocStatus::Duplicate, again[0].id, shaOf("0")));
    }

    void invalidUtf8Paths_data() { addBackends(); }
    void invalidUtf8Paths()
    {
        FIXTURE(fx);
        Catalog &cat = fx.cat();
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Bytes")));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Kept")));

        // Opening again (same catalog object, another object, several at once) changes nothing.
        TRY_STATUS(fx.run([&] { return cat.open(); }));
        Catalog second(fx.config);
        TRY_STATUS(fx.run([&] { return second.open(); }));
        TRY_VALUE(secondVersion, fx.run([&] { return second.schemaVersion(); }));
        QCOMPARE(secondVersion, Catalog::latestSchemaVersion());

        const QString countVersions = QStringLiteral("SELECT COUNT(*) FROM schema_version");
        QCOMPARE(fx.scalar(countVersions), Catalog::latestSchemaVersion());
        QCOMPARE(fx.scalar(QStringLiteral("SELECT COUNT(*) FROM collections")), 1);
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
        onThreadsAtOnce(kThreads, [&](int i) {
            const Status s = catalogs[i]->open();
            const Result<int> v = catalogs[i]->schemaVersion();
            std::lock_guard lock(mutex);
            if (!s)
                errors.append(s.error());
            else if (!v || *v != Catalog::latestSchemaVersion())
                errors.append(QStringLiteral("thread %1: wrong schema version").arg(i));
        });
        QVERIFY2(errors.isEmpty(), qPrintable(errors.join(u'\n')));
        Catalog fresh{CatalogConfig{location}};
        QCOMPARE(fx.scalar(countVersions, {}, &fresh), Catalog::latestSchemaVersion());

        // A catalog from a newer Quire is refused, not "migrated".
        TRY_STATUS(fx.exec(QStringLiteral("INSERT INTO schema_version (version, applied) VALUES (?, 0)"),
                           {Catalog::latestSchemaVersion() + 1}, &fresh));
        Catalog newer{CatalogConfig{location}};
        const Status refused = fx.run([&] { return newer.open(); });
        QVERIFY(!refused);
        QVERIFY2(refused.error().contains(QLatin1StringView("newer")), qPrintable(refused.error()));
    }
};

QTEST_GUILESS_MAIN(TestCatalog)
#include "tst_catalog.moc"
