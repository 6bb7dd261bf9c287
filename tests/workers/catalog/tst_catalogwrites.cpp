// ctest-labels: concurrency catalog
// ctest-timeout: 900
// The SQL catalog's writes: documents queued and hashed (addQueued, applyHashes), added hashed
// in one step (addHashed), their status through the upload, the batches of every size, and the
// statistics a big add refreshes. Against SQLite, PostgreSQL and MariaDB, as tst_catalog.
#include "catalog/catalog.h"
#include "catalog/transaction.h"
#include "catalogtests.h"

#include <QElapsedTimer>
#include <QTest>

#include <algorithm>
#include <map>

using namespace quire;
using namespace quire::test;

class TestCatalogWrites final : public CatalogTests
{
    Q_OBJECT

private slots:
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Big")));
        auto analyzed = [&] {
            return fx.scalar(QStringLiteral("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'documents'"));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Docs")));
        TRY_VALUE(other, fx.createCollection(QStringLiteral("Other")));

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
        QCOMPARE(outcomeOf(*doc0), outcome(DocStatus::Queued));
        QCOMPARE(doc0->fileName, QStringLiteral("a.txt"));
        QCOMPARE(doc0->collectionId, c);
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
        QCOMPARE(outcomeOf(*a), outcome(DocStatus::Hashed, 0, shaA));
        QCOMPARE(a->size, 100);   // the hasher's measurement wins
        QCOMPARE(fx.outcomeOf(q1[1].id), outcome(DocStatus::Hashed, 0, shaB));   // stored lowercase
        QCOMPARE(fx.outcomeOf(q1[2].id), outcome(DocStatus::Duplicate, q1[0].id, shaA));
        QCOMPARE(fx.outcomeOf(q1[3].id), outcome(DocStatus::Failed, 0, {}, QStringLiteral("permission denied")));

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
        QCOMPARE(fx.outcomeOf(q1[3].id), outcome(DocStatus::Queued));
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
        QCOMPARE(fx.outcomeOf(q9[1].id), outcome(DocStatus::Hashed, 0, shaOf("z2")));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Direct")));
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
        QCOMPARE(outcomeOf(*b1), outcome(DocStatus::Hashed, 0, shaB));
        QCOMPARE(b1->fileName, QStringLiteral("b1"));
        QCOMPARE(b1->sourcePath, QByteArray("/new/b1"));
        QCOMPARE(b1->size, 100);
        QCOMPARE(b1->collectionId, c);
        QCOMPARE(fx.outcomeOf(added[2].id), outcome(DocStatus::Duplicate, added[0].id, shaB));
        QCOMPARE(fx.outcomeOf(added[3].id), outcome(DocStatus::Failed, 0, {}, QStringLiteral("permission denied")));
        QCOMPARE(fx.outcomeOf(added[4].id), outcome(DocStatus::Cancelled));
        // Nothing was written for the conflicts: /old/queued is still the one queued row.
        QCOMPARE(fx.outcomeOf(stillQueued[0].id), outcome(DocStatus::Queued));
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
        TRY_VALUE(c1, fx.createCollection(QStringLiteral("One")));
        TRY_VALUE(c2, fx.createCollection(QStringLiteral("Two")));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Up")));
        TRY_VALUE(ids, fx.addHashedDocuments(c, "/up/", 10));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Sizes")));
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
        TRY_VALUE(c, fx.createCollection(QStringLiteral("Large")));
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

QTEST_GUILESS_MAIN(TestCatalogWrites)
#include "tst_catalogwrites.moc"
