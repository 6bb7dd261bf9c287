// ctest-labels: ui
#include "catalog.h"
#include "catalogservice.h"
#include "diagnosticsdialog.h"
#include "pools.h"
#include "responsivenessmonitor.h"
#include "sessionstore.h"
#include "settingsdialog.h"
#include "testsupport.h"
#include "uitestsupport.h"
#include "workstatuswidget.h"

#include <QDialogButtonBox>
#include <QListWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

using namespace quire;
using quire::test::onWorker;

class tst_UiDialogs final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void settingsLoadAndApplyAtOnce();
    void settingsListRemotes();
    void diagnosticsShowEverything();
    void statusBarFollowsWork();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SessionStore> m_store;
    std::unique_ptr<Catalog> m_catalog;
    std::unique_ptr<Pools> m_pools;
    std::unique_ptr<CatalogService> m_service;
};

void tst_UiDialogs::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_store = std::make_unique<SessionStore>();
    m_catalog = std::make_unique<Catalog>(CatalogConfig{m_dir->filePath(QStringLiteral("c.sqlite"))});
    m_pools = std::make_unique<Pools>(2, 2);
    QVERIFY(onWorker([&] { return m_catalog->open(); }).ok());
    m_service = std::make_unique<CatalogService>(*m_catalog, *m_pools);
}

void tst_UiDialogs::cleanup()
{
    m_service.reset();
    m_pools.reset();
    m_catalog.reset();
    m_store.reset();
    QCOMPARE(uitest::guiThreadConnections(), QStringList());
}

void tst_UiDialogs::settingsLoadAndApplyAtOnce()
{
    QVERIFY(m_store->setValue(SettingsDialog::kIoWorkersKey, 7).ok());
    SettingsDialog dialog(*m_store, *m_pools, *m_catalog);
    QCOMPARE(dialog.ioWorkers()->value(), 7);
    QCOMPARE(dialog.cpuWorkers()->value(), Pools::defaultCpuThreads());   // not set: the default
    dialog.ioWorkers()->setValue(5);
    dialog.cpuWorkers()->setValue(3);
    dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
    QCOMPARE(m_store->value(SettingsDialog::kIoWorkersKey).valueOr({}).toInt(), 5);
    QCOMPARE(m_store->value(SettingsDialog::kCpuWorkersKey).valueOr({}).toInt(), 3);
    // No restart needed: the pools were resized.
    QCOMPARE(m_pools->io()->maxThreadCount(), 5);
    QCOMPARE(m_pools->cpu()->maxThreadCount(), 3);
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
}

void tst_UiDialogs::settingsListRemotes()
{
    {
        SettingsDialog dialog(*m_store, *m_pools, *m_catalog);
        QCOMPARE(dialog.findChild<QListWidget *>(QStringLiteral("remotesList"))->count(), 0);
    }
    QVERIFY(m_store->setValues({{QStringLiteral("settings/remotes/nas/type"), QStringLiteral("webdav")},
                                {QStringLiteral("settings/remotes/nas/url"), QStringLiteral("https://nas.invalid/dav")},
                                {QStringLiteral("settings/remotes/backup/type"), QStringLiteral("local")}})
                .ok());
    SettingsDialog dialog(*m_store, *m_pools, *m_catalog);
    auto *list = dialog.findChild<QListWidget *>(QStringLiteral("remotesList"));
    QCOMPARE(list->count(), 2);
    QStringList shown;
    for (int i = 0; i < list->count(); ++i)
        shown << list->item(i)->text();
    QCOMPARE(shown, (QStringList{QStringLiteral("backup (local)"), QStringLiteral("nas (webdav)")}));
}

void tst_UiDialogs::diagnosticsShowEverything()
{
    ResponsivenessMonitor monitor;
    monitor.start();
    QTRY_VERIFY(monitor.session().samples > 3);
    // A catalog connection exists on some worker thread.
    QTRY_VERIFY_WITH_TIMEOUT([&] {
        auto f = m_service->collections();
        return QTest::qWaitFor([&] { return f.isFinished(); }, 30'000);
    }(), 30'000);
    DiagnosticsDialog dialog(*m_service, *m_store, &monitor);
    dialog.refresh();
    const QString text = dialog.text();
    for (const char *expected : {"UI thread responsiveness", "Lateness, whole session", "Lateness, last minute",
                                 "Hashing pool (CPU)", "I/O pool", "Session store", "Failed acquisitions",
                                 "Catalog", "Open connections", "Connections opened"}) {
        QVERIFY2(text.contains(QLatin1String(expected)), expected);
    }
    QVERIFY(text.contains(QStringLiteral("%1 active of %2").arg(0).arg(m_pools->io()->maxThreadCount())));
    QVERIFY(text.contains(m_catalog->config().displayLocation()));
}

void tst_UiDialogs::statusBarFollowsWork()
{
    const qint64 c = onWorker([&] { return m_catalog->createCollection(QStringLiteral("W")).valueOr(0); });
    for (int i = 0; i < 100; ++i)
        uitest::writeFile(m_dir->filePath(QStringLiteral("w/%1").arg(i)), QByteArray(10'000, char('a' + i % 26)));
    QWidget window;
    auto &widget = *new WorkStatusWidget(*m_service, &window);
    window.show();
    QVERIFY(widget.isHidden());   // nothing running: nothing shown
    QSignalSpy idle(m_service.get(), &CatalogService::idle);
    m_service->setPaused(true);
    m_service->ingest(c, {QFile::encodeName(m_dir->filePath(QStringLiteral("w")))});
    QTRY_VERIFY(widget.isVisible());
    QTRY_VERIFY(widget.text().contains(QLatin1String("paused")));
    widget.pauseButton()->click();   // resume
    QVERIFY(!m_service->isPaused());
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, 60'000);
    QVERIFY(widget.isHidden());
}

QTEST_MAIN(tst_UiDialogs)
#include "tst_uidialogs.moc"
