// ctest-labels: ui
// ctest-timeout: 600
// `quire gui` end to end: the real executable, its window on the offscreen platform.
#include "testsupport.h"
#include "uitestsupport.h"

#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

class tst_UiGui final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ingestsAndQuitsWhenIdle();
    void opensAnExistingCollectionAndReportsFirstPaint();
    void uploadsBeforeQuittingWhenIdle();
    void secondStartHandsFilesToTheOpenWindow();

private:
    QJsonObject runGui(const QStringList &args, int *exitCode);
    QTemporaryDir m_dir;
};

QJsonObject tst_UiGui::runGui(const QStringList &args, int *exitCode)
{
    const QString stats = m_dir.filePath(QStringLiteral("stats.json"));
    QFile::remove(stats);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p.start(quire::test::quireBinary(),
            QStringList{QStringLiteral("--catalog"), m_dir.filePath(QStringLiteral("c.sqlite")), QStringLiteral("--config"),
                        m_dir.filePath(QStringLiteral("s.json")), QStringLiteral("gui"), QStringLiteral("--quit-when-idle"),
                        QStringLiteral("--stats-json"), stats}
                + args);
    // A test may block: this is not the application's UI thread.
    if (!p.waitForFinished(300'000)) {
        p.kill();
        p.waitForFinished();
        qWarning("quire gui did not quit");
        *exitCode = -1;
        return {};
    }
    *exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    QFile f(stats);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

void tst_UiGui::ingestsAndQuitsWhenIdle()
{
    QVERIFY(m_dir.isValid());
    for (int i = 0; i < 120; ++i)
        quire::uitest::writeFile(m_dir.filePath(QStringLiteral("in/d%1/f%2.txt").arg(i % 4).arg(i)), QByteArray::number(i));
    quire::uitest::writeFile(m_dir.filePath(QStringLiteral("in/same.txt")), "1");   // same content as f1.txt
    const QString shot = m_dir.filePath(QStringLiteral("shot.png"));
    int exitCode = 0;
    const QJsonObject stats = runGui({QStringLiteral("--collection"), QStringLiteral("Letters"), QStringLiteral("--screenshot"),
                                      shot, m_dir.filePath(QStringLiteral("in"))},
                                     &exitCode);
    QCOMPARE(exitCode, 0);
    QVERIFY(!stats.isEmpty());
    const QJsonObject byStatus = stats.value(QStringLiteral("documents_by_status")).toObject();
    QCOMPARE(byStatus.value(QStringLiteral("hashed")).toInteger(), 120);
    QCOMPARE(byStatus.value(QStringLiteral("duplicate")).toInteger(), 1);
    QCOMPARE(byStatus.value(QStringLiteral("queued")).toInteger(), 0);
    QCOMPARE(stats.value(QStringLiteral("documents_total")).toInteger(), 121);
    // The list held every document when the window quit (its last refresh was waited for).
    QCOMPARE(stats.value(QStringLiteral("documents_listed")).toInteger(), 121);
    QCOMPARE(stats.value(QStringLiteral("ingest")).toObject().value(QStringLiteral("files_done")).toInteger(), 121);
    QVERIFY(stats.value(QStringLiteral("first_paint_ms")).toInteger() > 0);
    QVERIFY(stats.value(QStringLiteral("max_lateness_ms")).toDouble() >= stats.value(QStringLiteral("p99_lateness_ms")).toDouble());
    QVERIFY(stats.value(QStringLiteral("responsiveness")).toObject().contains(QStringLiteral("last_minute")));
    QCOMPARE(stats.value(QStringLiteral("exit_code")).toInteger(), 0);
    const QImage image(shot);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() >= 800);
}

void tst_UiGui::opensAnExistingCollectionAndReportsFirstPaint()
{
    int exitCode = 0;
    const QJsonObject stats = runGui({QStringLiteral("--collection"), QStringLiteral("Letters")}, &exitCode);
    QCOMPARE(exitCode, 0);
    // The collection's rows were painted, after the window itself.
    const qint64 window = stats.value(QStringLiteral("first_paint_ms")).toInteger();
    const qint64 rows = stats.value(QStringLiteral("first_rows_paint_ms")).toInteger();
    QVERIFY(window > 0);
    QVERIFY(rows >= window);
    QCOMPARE(stats.value(QStringLiteral("documents_total")).toInteger(), 121);
    QCOMPARE(stats.value(QStringLiteral("ingest")).toObject().value(QStringLiteral("jobs")).toInteger(), 0);
}

// "Idle" means the uploads are done too: files added to a collection with a remote are on the
// remote when --quit-when-idle quits.
void tst_UiGui::uploadsBeforeQuittingWhenIdle()
{
    const QString remoteDir = m_dir.filePath(QStringLiteral("remote"));
    auto cli = [&](const QStringList &args) {
        QProcess p;
        p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        p.start(quire::test::quireBinary(),
                QStringList{QStringLiteral("--catalog"), m_dir.filePath(QStringLiteral("c.sqlite")), QStringLiteral("--config"),
                            m_dir.filePath(QStringLiteral("s.json"))}
                    + args);
        return p.waitForFinished(120'000) && p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    };
    QCOMPARE(cli({QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("outbox"), QStringLiteral("--kind"),
                  QStringLiteral("local"), QStringLiteral("--url"), remoteDir}),
             0);
    QCOMPARE(cli({QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("Sent"), QStringLiteral("--remote"),
                  QStringLiteral("outbox")}),
             0);
    // 20 are waiting from an earlier `add --no-upload`; the window adds 10 more.
    for (int i = 0; i < 30; ++i) {
        const QString folder = i < 20 ? QStringLiteral("out") : QStringLiteral("later");
        quire::uitest::writeFile(m_dir.filePath(QStringLiteral("%1/n%2.txt").arg(folder).arg(i)), "note " + QByteArray::number(i));
    }
    QCOMPARE(cli({QStringLiteral("add"), QStringLiteral("--no-upload"), QStringLiteral("--collection"), QStringLiteral("Sent"),
                  m_dir.filePath(QStringLiteral("out"))}),
             0);
    QVERIFY(!QFile::exists(remoteDir + QStringLiteral("/Sent/n0.txt")));
    // Nothing to add: the window still waits for the pending uploads before it quits.
    int exitCode = 0;
    QJsonObject stats = runGui({QStringLiteral("--collection"), QStringLiteral("Sent")}, &exitCode);
    QCOMPARE(exitCode, 0);
    QCOMPARE(stats.value(QStringLiteral("documents_by_status")).toObject().value(QStringLiteral("uploaded")).toInteger(), 20);
    // Adding in the window uploads too, before it quits.
    stats = runGui({QStringLiteral("--collection"), QStringLiteral("Sent"), m_dir.filePath(QStringLiteral("later"))}, &exitCode);
    QCOMPARE(exitCode, 0);
    QCOMPARE(stats.value(QStringLiteral("documents_by_status")).toObject().value(QStringLiteral("uploaded")).toInteger(), 30);
    for (int i = 0; i < 30; ++i) {
        QFile f(remoteDir + QStringLiteral("/Sent/n%1.txt").arg(i));
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(f.fileName()));
        QCOMPARE(f.readAll(), "note " + QByteArray::number(i));
    }
}

// "Open with Quire" while Quire is open: the new process hands its files to the open window
// (which adds them) and ends; SIGTERM then closes that window cleanly.
void tst_UiGui::secondStartHandsFilesToTheOpenWindow()
{
#ifdef Q_OS_WIN
    QSKIP("the window is closed with SIGTERM here");
#else
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QStringList common{QStringLiteral("--catalog"), dir.filePath(QStringLiteral("one.sqlite")), QStringLiteral("--config"),
                             dir.filePath(QStringLiteral("s.json"))};
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    auto listed = [&] {
        QProcess ls;
        ls.start(quire::test::quireBinary(), common + QStringList{QStringLiteral("ls")});
        return ls.waitForFinished(60'000) ? QString::fromUtf8(ls.readAllStandardOutput()) : QString();
    };
    quire::uitest::writeFile(dir.filePath(QStringLiteral("first.txt")), "first");
    quire::uitest::writeFile(dir.filePath(QStringLiteral("sub/second one.txt")), "second");

    QProcess window;
    window.setProcessEnvironment(env);
    window.setProcessChannelMode(QProcess::ForwardedChannels);
    window.start(quire::test::quireBinary(), common + QStringList{QStringLiteral("gui"), dir.filePath(QStringLiteral("first.txt"))});
    QVERIFY(window.waitForStarted());
    // Its own file is in: the window is up (it listens before it opens).
    QTRY_VERIFY_WITH_TIMEOUT(listed().contains(QStringLiteral("Inbox/first.txt")), 120'000);

    // The second start, from another folder with a relative path, as a file manager would.
    QProcess second;
    second.setProcessEnvironment(env);
    second.setWorkingDirectory(dir.filePath(QStringLiteral("sub")));
    second.start(quire::test::quireBinary(), common + QStringList{QStringLiteral("gui"), QStringLiteral("second one.txt")});
    QVERIFY(second.waitForFinished(60'000));
    QCOMPARE(second.exitStatus(), QProcess::NormalExit);
    QCOMPARE(second.exitCode(), 0);
    QVERIFY(second.readAllStandardError().contains("handed over"));
    QTRY_VERIFY_WITH_TIMEOUT(listed().contains(QStringLiteral("Inbox/second one.txt")), 120'000);
    QCOMPARE(window.state(), QProcess::Running);

    window.terminate();   // SIGTERM
    QVERIFY(window.waitForFinished(60'000));
    QCOMPARE(window.exitStatus(), QProcess::NormalExit);
    QCOMPARE(window.exitCode(), 0);
#endif
}

QTEST_MAIN(tst_UiGui)
#include "tst_guicommand.moc"
