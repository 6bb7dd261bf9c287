// ctest-labels: ui uploads
// ctest-timeout: 600
// Uploads as the window shows them: the document table's per-document progress and speed (from
// UploadDocumentEvent batches), the status bar's overall progress, speed and time left (from
// UploadProgress), and the session's upload controller taking documents to their collection's
// remote after they are added: a local folder, and a WebDAV server that reads slowly enough for
// the progress to be seen.
#include "views/browserwindow.h"
#include "catalog/catalogservice.h"
#include "models/documentmodel.h"
#include "views/documentview.h"
#include "faultserver.h"
#include "common/format.h"
#include "views/statusdelegate.h"
#include "testsupport.h"
#include "uitestsupport.h"
#include "upload/uploadcontroller.h"
#include "views/workstatuswidget.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMenu>
#include <QMainWindow>
#include <QProgressBar>
#include <QStatusBar>
#include <QToolButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTableView>
#include <QTimer>
#include <QTest>

using namespace quire;
using namespace quire::test;

namespace {

// Makes `server` a WebDAV server that reads PUT bodies of 1 MiB or more slowly (trickleBytes
// every 100 ms, for `puts` such requests), saves it as the remote "dav" and returns the
// collection "Scans" on it (0 when the fixture, the remote or the collection could not be made).
qint64 slowDavScans(UploadFixture &fx, FaultServer &server, int trickleBytes, int puts)
{
    server.setReceiveBuffer(64 * 1024);
    FaultServer::Behaviour slow;
    slow.method = "PUT";
    slow.minContentLength = 1024 * 1024;
    slow.kind = FaultServer::Behaviour::Kind::SlowRead;
    slow.trickleBytes = trickleBytes;
    slow.trickleIntervalMs = 100;
    server.script(QList<FaultServer::Behaviour>(puts, slow));
    RemoteProfile dav;
    dav.name = QStringLiteral("dav");
    dav.kind = RemoteKind::WebDav;
    dav.url = server.url().toString();
    return fx.isValid() && fx.saveRemote(dav) ? fx.createCollection(QStringLiteral("Scans"), dav.name) : 0;
}

// Saves the remote "shelf", a local folder; returns the folder ("" when it could not be saved).
QString shelfRemote(UploadFixture &fx)
{
    const QString shelf = fx.dir() + QStringLiteral("/shelf");
    RemoteProfile local;
    local.name = QStringLiteral("shelf");
    local.url = shelf;
    return fx.saveRemote(local) ? shelf : QString();
}

// Every document of the collection is in the catalog as `uploaded`, and there are `count`.
bool allUploaded(UploadFixture &fx, qint64 collectionId, qsizetype count)
{
    const QList<Document> docs = uitest::documentsOf(fx.catalog(), collectionId);
    return docs.size() == count && std::all_of(docs.begin(), docs.end(), [](const Document &d) {
               return d.status == DocStatus::Uploaded;
           });
}

const int kTimeout = qEnvironmentVariableIntValue("QUIRE_TEST_TIMEOUT_MS") > 0 ? qEnvironmentVariableIntValue("QUIRE_TEST_TIMEOUT_MS") : 120'000;
}

class tst_UiUploads final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void tableShowsUploadProgressAndSpeed();
    void statusBarShowsUploadProgressAndTimeLeft();
    void windowUploadsWhatWasAdded();
    void windowUploadsWaitingDocumentsOnceGivenARemote();
    void newRemoteTakesOverWhileUploading();
    void windowShowsSpeedWhileUploading();
};

void tst_UiUploads::tableShowsUploadProgressAndSpeed()
{
    UploadFixture fx;
    QVERIFY(fx.isValid());
    const qint64 c = fx.createCollection(QStringLiteral("Papers"), {});
    const qint64 other = fx.createCollection(QStringLiteral("Other"), {});
    const qint64 a = fx.addFile(c, QStringLiteral("a.pdf"), QByteArray(4096, 'a'));
    const qint64 b = fx.addFile(c, QStringLiteral("b.pdf"), QByteArray(100, 'b'));
    const qint64 elsewhere = fx.addFile(other, QStringLiteral("c.pdf"), QByteArray(10, 'c'), QStringLiteral("o"));
    QVERIFY(a && b && elsewhere);

    CatalogService service(fx.catalog(), fx.pools());
    DocumentModel model(service);
    QSignalSpy loaded(&model, &DocumentModel::loaded);
    model.setCollection(c);
    QTRY_COMPARE_WITH_TIMEOUT(loaded.count(), 1, kTimeout);
    const int ra = model.rowOfId(a);
    const int rb = model.rowOfId(b);
    QVERIFY(ra >= 0 && rb >= 0);
    auto status = [&](int row, int role = Qt::DisplayRole) { return model.index(row, DocumentModel::StatusColumn).data(role); };

    // In flight: a quarter sent at 1.5 MiB/s.
    UploadDocumentEvent up;
    up.id = a;
    up.collectionId = c;
    up.status = DocStatus::Uploading;
    up.bytesDone = 1024;
    up.bytesTotal = 4096;
    up.bytesPerSecond = 1.5 * 1024 * 1024;
    up.attempt = 1;
    UploadDocumentEvent foreign = up;
    foreign.id = elsewhere;
    foreign.collectionId = other;
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.applyUploadEvents({up, foreign});
    QTRY_COMPARE_WITH_TIMEOUT(changed.count(), 1, kTimeout);   // coalesced
    QCOMPARE(status(ra, DocumentModel::StatusRole).toInt(), int(DocStatus::Uploading));
    QCOMPARE(status(ra, DocumentModel::ProgressRole).toDouble(), 0.25);
    QCOMPARE(status(ra, DocumentModel::SpeedRole).toDouble(), 1.5 * 1024 * 1024);
    QCOMPARE(status(ra).toString(), QStringLiteral("Uploading 25% · %1").arg(Format::speed(1.5 * 1024 * 1024)));
    QVERIFY(status(ra, Qt::ToolTipRole).toString().contains(Format::bytes(4096)));
    QCOMPARE(model.bytesDone(a), 1024);
    QCOMPARE(status(rb, DocumentModel::SpeedRole).toDouble(), -1.0);   // not uploading
    QCOMPARE(model.rowOfId(elsewhere), -1);

    // Waiting to retry: the cell says when, the tooltip why.
    up.bytesDone = 2048;
    up.bytesPerSecond = 0;
    up.attempt = 2;
    up.message = QStringLiteral("retrying in 4 s: HTTP 503 Service Unavailable");
    model.applyUploadEvents({up});
    QTRY_COMPARE_WITH_TIMEOUT(status(ra).toString(), QStringLiteral("Uploading 50% · retrying in 4 s"), kTimeout);
    QVERIFY(status(ra, Qt::ToolTipRole).toString().contains(QLatin1String("HTTP 503")));
    QCOMPARE(status(ra, DocumentModel::AttemptRole).toInt(), 2);

    // The status cell paints a bar labelled with the same text (a real view, offscreen).
    QTableView view;
    view.setModel(&model);
    view.setItemDelegateForColumn(DocumentModel::StatusColumn, new StatusDelegate(&view));
    view.resize(900, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(!view.grab().isNull());

    // Done: where the remote has it; no more progress or speed.
    UploadDocumentEvent done = up;
    done.status = DocStatus::Uploaded;
    done.bytesDone = 4096;
    done.message.clear();
    done.location = QStringLiteral("https://dav.example/Papers/a.pdf");
    UploadDocumentEvent failed;
    failed.id = b;
    failed.collectionId = c;
    failed.status = DocStatus::Failed;
    failed.message = QStringLiteral("HTTP 507 Insufficient Storage: the server is out of space");
    model.applyUploadEvents({done, failed});
    QTRY_COMPARE_WITH_TIMEOUT(status(ra, DocumentModel::StatusRole).toInt(), int(DocStatus::Uploaded), kTimeout);
    QCOMPARE(status(ra).toString(), QStringLiteral("Uploaded"));
    QCOMPARE(status(ra, DocumentModel::ProgressRole).toDouble(), -1.0);
    QCOMPARE(status(ra, DocumentModel::SpeedRole).toDouble(), -1.0);
    QCOMPARE(model.index(ra, DocumentModel::RemoteColumn).data().toString(), done.location);
    QCOMPARE(status(rb).toString(), QStringLiteral("Failed: %1").arg(failed.message));
}

void tst_UiUploads::statusBarShowsUploadProgressAndTimeLeft()
{
    UploadFixture fx;
    QVERIFY(fx.isValid());
    CatalogService service(fx.catalog(), fx.pools());
    UploadController uploads(service, fx.store());
    QMainWindow window;   // in a status bar, as in the window
    window.resize(900, 300);
    auto *widget = new WorkStatusWidget(service, &window);
    widget->setUploads(&uploads);
    window.statusBar()->addPermanentWidget(widget);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(!widget->isShowingWork());
    QCOMPARE(widget->width(), 0);

    // A job that found nothing to upload shows nothing.
    widget->setUploadProgress(UploadProgress{});
    QVERIFY(!widget->isShowingWork());

    UploadProgress p;
    p.filesTotal = 10;
    p.filesDone = 3;
    p.filesUploaded = 3;
    p.bytesTotal = 20 * 1024 * 1024;
    p.bytesDone = 5 * 1024 * 1024;
    p.bytesPerSecond = 2 * 1024 * 1024;
    p.etaMs = 7'600;
    p.active = 2;
    widget->setUploadProgress(p);
    QTRY_VERIFY(widget->isShowingWork());
    QTRY_VERIFY(widget->width() > 160);   // room for the bar at least
    QCOMPARE(widget->text(), QStringLiteral("Uploading 3 of 10 files · %1 of %2 · %3 · about %4 left")
                                 .arg(Format::bytes(p.bytesDone), Format::bytes(p.bytesTotal),
                                      Format::speed(p.bytesPerSecond), Format::duration(p.etaMs)));
    QVERIFY(widget->text().contains(QLatin1String("about 8 s left")));
    auto *bar = widget->findChild<QProgressBar *>();
    QCOMPARE(bar->value(), 250);   // bytes, not files: 5 of 20 MiB

    p.filesFailed = 1;
    p.etaMs = -1;   // unknown: no guess shown
    widget->setUploadProgress(p);
    QTRY_VERIFY(widget->text().endsWith(QLatin1String("1 failed")));
    QVERIFY(!widget->text().contains(QLatin1String("left")));

    // All sent: the bar goes once the uploads are idle.
    p.filesDone = 10;
    widget->setUploadProgress(p);
    Q_EMIT uploads.idle();
    QVERIFY(!widget->isShowingWork());
    QTRY_COMPARE(widget->width(), 0);
    QVERIFY(!widget->cancelButton()->isEnabled());
}

void tst_UiUploads::windowUploadsWhatWasAdded()
{
    UploadFixture fx;
    QVERIFY(fx.isValid());
    const QString shelf = shelfRemote(fx);
    QVERIFY(!shelf.isEmpty());
    const qint64 c = fx.createCollection(QStringLiteral("Papers"), QStringLiteral("shelf"));
    QVERIFY(c > 0);
    const QString src = fx.dir() + QStringLiteral("/incoming");
    for (int i = 0; i < 12; ++i)
        uitest::writeFile(src + QStringLiteral("/doc%1.txt").arg(i), "paper " + QByteArray::number(i));

    {
        uitest::WindowParts app(fx.catalog(), fx.store(), fx.pools());
        QVERIFY(app.startWindow(QStringLiteral("Papers"), {QFile::encodeName(src)}, kTimeout));
        BrowserWindow &window = *app.window();

        // Hashed, then uploaded by the controller: the catalog, the folder and the rows agree.
        QTRY_VERIFY_WITH_TIMEOUT(allUploaded(fx, c, 12), kTimeout);
        QCOMPARE(QDir(shelf + QStringLiteral("/Papers")).entryList(QDir::Files).size(), 12);
        DocumentModel *model = window.documentModel();
        QTRY_VERIFY_WITH_TIMEOUT([&] {
            if (model->rowCount() != 12)
                return false;
            for (int r = 0; r < model->rowCount(); ++r) {
                if (model->index(r, DocumentModel::StatusColumn).data().toString() != QLatin1String("Uploaded")
                    || model->index(r, DocumentModel::RemoteColumn).data().toString().isEmpty())
                    return false;
            }
            return true;
        }(), kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(!window.uploads().isBusy(), kTimeout);
        QTRY_VERIFY(!window.workStatus()->isShowingWork());
    }
}

void tst_UiUploads::windowUploadsWaitingDocumentsOnceGivenARemote()
{
    // Documents hashed while their collection had no remote wait; choosing a local-folder remote
    // with Collection › Upload To sends them there.
    UploadFixture fx;
    QVERIFY(fx.isValid());
    const QString shelf = shelfRemote(fx);
    QVERIFY(!shelf.isEmpty());
    const qint64 c = fx.createCollection(QStringLiteral("Papers"), {});
    QList<qint64> ids;
    for (int i = 0; i < 3; ++i)
        ids << fx.addFile(c, QStringLiteral("waiting%1.txt").arg(i), "waiting " + QByteArray::number(i));
    QVERIFY(!ids.contains(0));

    uitest::WindowParts app(fx.catalog(), fx.store(), fx.pools());
    QVERIFY(app.startWindow(QStringLiteral("Papers"), {}, kTimeout));
    BrowserWindow &window = *app.window();
    for (qint64 id : ids)
        QCOMPARE(fx.document(id).status, DocStatus::Hashed);   // nowhere to go yet

    QMenu *menu = window.uploadToMenu();
    menu->popup(window.mapToGlobal(QPoint(40, 40)));
    QTRY_VERIFY_WITH_TIMEOUT(menu->isVisible(), kTimeout);
    QAction *toShelf = menu->findChild<QAction *>(QStringLiteral("actionUploadTo_shelf"));
    QVERIFY(toShelf);
    toShelf->trigger();
    menu->hide();

    // The catalog (read through the service), the folder and the rows agree.
    QTRY_VERIFY_WITH_TIMEOUT(allUploaded(fx, c, 3), kTimeout);
    QStringList uploaded = QDir(shelf + QStringLiteral("/Papers")).entryList(QDir::Files);
    uploaded.sort();
    QCOMPARE(uploaded, (QStringList{QStringLiteral("waiting0.txt"), QStringLiteral("waiting1.txt"),
                                    QStringLiteral("waiting2.txt")}));
    QFile copy(shelf + QStringLiteral("/Papers/waiting1.txt"));
    QVERIFY(copy.open(QIODevice::ReadOnly));
    QCOMPARE(copy.readAll(), QByteArray("waiting 1"));
    auto remote = app.service().collection(c);
    QTRY_VERIFY_WITH_TIMEOUT(remote.isFinished(), kTimeout);
    QCOMPARE(remote.result().value()->remote, QStringLiteral("shelf"));
    DocumentModel *model = window.documentModel();
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        for (qint64 id : ids) {
            const int row = model->rowOfId(id);
            if (row < 0 || model->index(row, DocumentModel::StatusColumn).data().toString() != QLatin1String("Uploaded"))
                return false;
        }
        return true;
    }(), kTimeout);
    QTRY_VERIFY_WITH_TIMEOUT(!window.uploads().isBusy(), kTimeout);
}

void tst_UiUploads::newRemoteTakesOverWhileUploading()
{
    // The collection's remote changes while its documents are being uploaded to a WebDAV server
    // that reads slowly: what was not uploaded yet goes to the new remote, a local folder.
    UploadFixture fx;
    FaultServer server;
    const qint64 c = slowDavScans(fx, server, 64 * 1024, 4);
    QVERIFY(c);
    const QString shelf = shelfRemote(fx);
    QVERIFY(!shelf.isEmpty());
    constexpr qint64 kSize = 6 * 1024 * 1024;
    const qint64 one = fx.addFile(c, QStringLiteral("one.tiff"), QByteArray(kSize, '1'));
    const qint64 two = fx.addFile(c, QStringLiteral("two.tiff"), QByteArray(kSize, '2'));
    QVERIFY(one > 0 && two > 0);

    uitest::WindowParts app(fx.catalog(), fx.store(), fx.pools());
    QVERIFY(app.startWindow(QStringLiteral("Scans"), {}, kTimeout));
    BrowserWindow &window = *app.window();
    // Both on their way to the slow server (about 10 s each at 640 KiB/s).
    QTRY_VERIFY_WITH_TIMEOUT(fx.document(one).status == DocStatus::Uploading
                                 && fx.document(two).status == DocStatus::Uploading,
                             kTimeout);
    QVERIFY(window.uploads().isBusy());

    window.setCurrentCollectionRemote(QStringLiteral("shelf"));
    QTRY_VERIFY_WITH_TIMEOUT(fx.document(one).status == DocStatus::Uploaded
                                 && fx.document(two).status == DocStatus::Uploaded,
                             kTimeout);
    for (qint64 id : {one, two}) {
        const Document d = fx.document(id);
        QVERIFY2(d.remoteLocation.contains(shelf), qPrintable(d.remoteLocation));
        QCOMPARE(QFileInfo(shelf + QStringLiteral("/Scans/") + d.fileName).size(), kSize);
    }
    QTRY_VERIFY_WITH_TIMEOUT(!window.uploads().isBusy(), kTimeout);
}

void tst_UiUploads::windowShowsSpeedWhileUploading()
{
    // A WebDAV server that reads a large body slowly (about 1.3 MB/s): the upload lasts seconds,
    // long enough for its speed to be measured and shown.
    UploadFixture fx;
    FaultServer server;
    const qint64 c = slowDavScans(fx, server, 128 * 1024, 1);
    QVERIFY(c);
    // Under the resumable-upload threshold (16 MiB): one PUT.
    const qint64 id = fx.addSparseFile(c, QStringLiteral("scan.tiff"), 15 * 1024 * 1024);
    QVERIFY(id > 0);

    uitest::WindowParts app(fx.catalog(), fx.store(), fx.pools());
    QVERIFY(app.startWindow(QStringLiteral("Scans"), {}, kTimeout));
    BrowserWindow &window = *app.window();

    DocumentModel *model = window.documentModel();
    QTRY_COMPARE_WITH_TIMEOUT(model->rowOfId(id), 0, kTimeout);
    // What a person would have seen while it ran, sampled more often than the row (50 ms) and
    // the status bar (250 ms) change, so nothing that lasts depends on when the checks run.
    const QRegularExpression rowText(QStringLiteral("^Uploading \\d+% · .+/s$"));
    // "of \d+ files": the job may briefly count the document in flight as pending too.
    const QRegularExpression barText(QStringLiteral("^Uploading 0 of \\d+ files · .+ of %1 · .+/s · (about .+ left|almost done)$")
                                         .arg(QRegularExpression::escape(Format::bytes(15 * 1024 * 1024))));
    QString rowSeen;
    QString barSeen;
    QStringList barTexts;   // everything it showed, for the failure message
    bool speedRole = false;
    QTimer look;
    look.setInterval(20);
    connect(&look, &QTimer::timeout, &window, [&] {
        const int row = model->rowOfId(id);
        if (row < 0)
            return;
        const QModelIndex cell = model->index(row, DocumentModel::StatusColumn);
        if (rowText.match(cell.data().toString()).hasMatch()) {
            rowSeen = cell.data().toString();
            speedRole = speedRole || cell.data(DocumentModel::SpeedRole).toDouble() > 0;
        }
        if (window.workStatus()->isShowingWork() && barText.match(window.workStatus()->text()).hasMatch())
            barSeen = window.workStatus()->text();
        if (window.workStatus()->isShowingWork() && !barTexts.contains(window.workStatus()->text()))
            barTexts << window.workStatus()->text();
    });
    look.start();
    QTRY_COMPARE_WITH_TIMEOUT(fx.document(id).status, DocStatus::Uploaded, kTimeout);
    QTRY_COMPARE_WITH_TIMEOUT(model->index(model->rowOfId(id), DocumentModel::StatusColumn).data().toString(),
                              QStringLiteral("Uploaded"), kTimeout);
    look.stop();
    // The row: a progress bar labelled with the percentage and the speed.
    QVERIFY2(!rowSeen.isEmpty(), "the row never showed the upload's speed");
    QVERIFY(speedRole);
    // The status bar: files and bytes of the total, the speed and the time left.
    QVERIFY2(!barSeen.isEmpty(), qPrintable(QStringLiteral("the status bar never showed the upload's progress, "
                                                          "speed and time left; it showed: ")
                                           + barTexts.join(QStringLiteral(" | "))));
    QTRY_VERIFY_WITH_TIMEOUT(!window.workStatus()->isShowingWork(), kTimeout);
}

QTEST_MAIN(tst_UiUploads)
#include "tst_uploadsview.moc"
