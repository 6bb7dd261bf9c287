// ctest-labels: ui
#include "catalog/catalog.h"
#include "catalog/catalogservice.h"
#include "dialogs/catalogsettings.h"
#include "mariadbserver.h"
#include "dialogs/diagnosticsdialog.h"
#include "faultserver.h"
#include "jobs/pools.h"
#include "dialogs/remoteeditdialog.h"
#include "remotes/remoteprofile.h"
#include "common/responsivenessmonitor.h"
#include "settings/sessionstore.h"
#include "dialogs/settingsdialog.h"
#include "testsupport.h"
#include "uitestsupport.h"
#include "views/workstatuswidget.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include "views/remoteproblembar.h"
#include "testca.h"

#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMainWindow>
#include <QProgressBar>
#include <QStatusBar>
#include <QPushButton>
#include <QTcpServer>
#include <QTreeWidget>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

#include <condition_variable>
#include <mutex>

using namespace quire;
using quire::test::onWorker;

class tst_UiDialogs final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void settingsLoadAndApplyAtOnce();
    void settingsCatalogTestAndSave();
    void settingsListRemotes();
    void settingsAddEditRemoveRemote();
    void settingsRemoteValidation();
    void settingsRemoveRemoteInUseIsRefused();
    void settingsTestConnection();
    void settingsStopTestConnection();
    void settingsRendersRemotes();
    void formTestsTheProfileAsTyped();
    void formTestsWithTheTypedPassword();
    void formTestCanBeStopped();
    void formOffersToTrustAnUntrustedCertificate();
    void formRefusesABadUploadLimit();
    void formAddsAnS3Remote();
    void remoteProblemBarOffersTheFix();
    void diagnosticsShowEverything();
    void diagnosticsShowQueuedWork();
    void statusBarFollowsWork();

private:
    // Waits for the editor the dialog opened with open() (window-modal, no nested loop).
    static RemoteEditDialog *editorOf(SettingsDialog &dialog);
    // Fills in and submits the editor; the dialog saves the profile.
    static void submitLocal(RemoteEditDialog *editor, const QString &name, const QString &folder);
    static QStringList listedRemotes(SettingsDialog &dialog);

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
    SettingsDialog dialog(*m_store, *m_service);
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

// Settings › Catalog: Test Connection says what went wrong in words a person can act on, or
// that it connected; OK saves the location (never a password) for the next start.
void tst_UiDialogs::settingsCatalogTestAndSave()
{
    if (!test::MariaDbServer::available())
        QSKIP(qPrintable(test::MariaDbServer::missingMessage()));
    test::MariaDbServer server;
    QVERIFY2(server.start(), qPrintable(server.error()));
    QVERIFY2(!server.createDatabase(QStringLiteral("settingsdb")).isEmpty(), qPrintable(server.error()));
    const QString password = QStringLiteral("catalog-pw");
    QVERIFY2(!server.passwordUserUrl(QStringLiteral("settingsdb"), password).isEmpty(), qPrintable(server.error()));
    test::ScopedEnv env;
    env.set("QUIRE_CATALOG_PASSWORD", QByteArray());
    env.set("HOME", QFile::encodeName(m_dir->path()));   // no ~/.my.cnf

    SettingsDialog dialog(*m_store, *m_service);
    CatalogSettings *c = dialog.catalogSettings();
    QCOMPARE(c->kindBox()->currentIndex(), int(CatalogSettings::SqliteKind));   // nothing saved: the default file
    c->kindBox()->setCurrentIndex(CatalogSettings::MariaDbKind);
    QCOMPARE(c->portBox()->value(), 3306);
    auto test = [&](const QString &database, const QString &user, const QString &pw, int port) {
        c->hostEdit()->setText(QStringLiteral("127.0.0.1"));
        c->portBox()->setValue(port);
        c->databaseEdit()->setText(database);
        c->userEdit()->setText(user);
        c->passwordEdit()->setText(pw);
        QSignalSpy done(c, &CatalogSettings::testFinished);
        c->testButton()->click();
        if (!QTest::qWaitFor([&] { return done.count() == 1; }, 60'000))
            return std::pair{false, QStringLiteral("<no answer>")};
        return std::pair{done.first().first().toBool(), c->message()};
    };
    auto [ok, message] = test(QStringLiteral("settingsdb"), QStringLiteral("quire_password"), QString(), server.port());
    QVERIFY(!ok);
    QVERIFY2(message.contains(QLatin1StringView("password")), qPrintable(message));
    std::tie(ok, message) = test(QStringLiteral("settingsdb"), QStringLiteral("quire_password"), QStringLiteral("wrong"), server.port());
    QVERIFY(!ok);
    QVERIFY2(message.contains(QLatin1StringView("refused the password")), qPrintable(message));
    QVERIFY2(!message.contains(QLatin1StringView("wrong")), qPrintable(message));
    std::tie(ok, message) = test(QStringLiteral("nosuch"), QStringLiteral("quire"), QString(), server.port());
    QVERIFY(!ok);
    QVERIFY2(message.contains(QLatin1StringView("no such database")), qPrintable(message));
    QTcpServer closed;
    QVERIFY(closed.listen(QHostAddress::LocalHost));
    const int closedPort = closed.serverPort();
    closed.close();
    std::tie(ok, message) = test(QStringLiteral("settingsdb"), QStringLiteral("quire"), QString(), closedPort);
    QVERIFY(!ok);
    QVERIFY2(message.contains(QLatin1StringView("could not be reached")), qPrintable(message));
    std::tie(ok, message) = test(QStringLiteral("settingsdb"), QStringLiteral("quire_password"), password, server.port());
    QVERIFY2(ok, qPrintable(message));
    QVERIFY2(message.startsWith(QLatin1StringView("Connected to mysql://quire_password@127.0.0.1:")), qPrintable(message));

    c->passwordEdit()->clear();   // no keychain in this test
    dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    const QString saved = m_store->value(CatalogSettings::kCatalogKey).valueOr({}).toString();
    QCOMPARE(saved, QStringLiteral("mysql://quire_password@127.0.0.1:%1/settingsdb").arg(server.port()));

    SettingsDialog again(*m_store, *m_service);   // loads what was saved
    QCOMPARE(again.catalogSettings()->kindBox()->currentIndex(), int(CatalogSettings::MariaDbKind));
    QCOMPARE(again.catalogSettings()->databaseEdit()->text(), QStringLiteral("settingsdb"));
    QCOMPARE(again.catalogSettings()->location(), saved);
    // Parameters the form has no field for survive a save.
    QVERIFY(m_store->setValue(CatalogSettings::kCatalogKey, saved + QStringLiteral("?ssl-ca=%2Fetc%2Fdb%20ca.pem")).ok());
    {
        SettingsDialog third(*m_store, *m_service);
        third.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
        QCOMPARE(m_store->value(CatalogSettings::kCatalogKey).valueOr({}).toString(),
                 saved + QStringLiteral("?ssl-ca=%2Fetc%2Fdb%20ca.pem"));
    }
    // A server without a host cannot be saved: OK says why and keeps the dialog open.
    again.catalogSettings()->hostEdit()->clear();
    again.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
    QVERIFY(again.result() != int(QDialog::Accepted));
    QVERIFY2(again.remoteMessage().contains(QLatin1StringView("host")), qPrintable(again.remoteMessage()));
}

RemoteEditDialog *tst_UiDialogs::editorOf(SettingsDialog &dialog)
{
    RemoteEditDialog *editor = nullptr;
    [&] { QTRY_VERIFY((editor = dialog.findChild<RemoteEditDialog *>()) && editor->isVisible()); }();
    return editor;
}

void tst_UiDialogs::submitLocal(RemoteEditDialog *editor, const QString &name, const QString &folder)
{
    if (!editor->nameEdit()->isReadOnly()) {
        editor->nameEdit()->clear();
        QTest::keyClicks(editor->nameEdit(), name);
    }
    editor->setKind(RemoteKind::Local);
    editor->urlEdit()->clear();
    QTest::keyClicks(editor->urlEdit(), folder);
    QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
    QVERIFY(editor->okButton()->isEnabled());
    editor->okButton()->click();
}

QStringList tst_UiDialogs::listedRemotes(SettingsDialog &dialog)
{
    QStringList names;
    for (int i = 0; i < dialog.remotesList()->topLevelItemCount(); ++i)
        names << dialog.remotesList()->topLevelItem(i)->text(0);
    return names;
}

void tst_UiDialogs::settingsListRemotes()
{
    {
        // Nothing configured: the built-in local folder, which cannot be removed.
        SettingsDialog dialog(*m_store, *m_service);
        QCOMPARE(listedRemotes(dialog), QStringList{RemoteProfile::defaultLocalName()});
        QVERIFY(dialog.selectRemote(RemoteProfile::defaultLocalName()));
        QCOMPARE(dialog.remotesList()->topLevelItem(0)->text(3), QStringLiteral("(built-in)"));
        QVERIFY(dialog.editRemoteButton()->isEnabled());
        QVERIFY(dialog.testRemoteButton()->isEnabled());
        QVERIFY(!dialog.removeRemoteButton()->isEnabled());
    }
    RemoteProfiles profiles(*m_store);
    RemoteProfile nas;
    nas.name = QStringLiteral("nas");
    nas.kind = RemoteKind::WebDav;
    nas.url = QStringLiteral("https://nas.invalid/dav");
    nas.user = QStringLiteral("me");
    QVERIFY(profiles.save(nas).ok());
    RemoteProfile backup;
    backup.name = QStringLiteral("backup");
    backup.url = m_dir->filePath(QStringLiteral("backup"));
    QVERIFY(profiles.save(backup).ok());

    SettingsDialog dialog(*m_store, *m_service);
    QCOMPARE(listedRemotes(dialog), (QStringList{QStringLiteral("backup"), QStringLiteral("local"), QStringLiteral("nas")}));
    QTreeWidgetItem *row = dialog.remotesList()->topLevelItem(2);
    QCOMPARE(row->text(1), QStringLiteral("WebDAV"));
    QCOMPARE(row->text(2), QStringLiteral("https://nas.invalid/dav"));
    QCOMPARE(row->text(3), QStringLiteral("me"));
    QCOMPARE(dialog.remotesList()->topLevelItem(0)->text(1), QStringLiteral("Local folder"));
}

void tst_UiDialogs::settingsAddEditRemoveRemote()
{
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));

    // Add: OK stays disabled until the values make a usable profile.
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QVERIFY(editor->isNew());
    QVERIFY(!editor->okButton()->isEnabled());
    QVERIFY(editor->problem().contains(QLatin1String("name")));
    const QString folder = m_dir->filePath(QStringLiteral("remote-a"));
    submitLocal(editor, QStringLiteral("backup"), folder);
    QTRY_VERIFY(!dialog.isBusy());
    QVERIFY2(dialog.remoteMessage().contains(QStringLiteral("“backup” added")), qPrintable(dialog.remoteMessage()));

    // Saved as `quire remote add` saves it: settings/remotes/backup, a profile map.
    auto found = RemoteProfiles(*m_store).find(QStringLiteral("backup"));
    QVERIFY(found.ok() && found->has_value());
    QCOMPARE((*found)->kind, RemoteKind::Local);
    QCOMPARE((*found)->url, folder);
    QCOMPARE(m_store->value(QStringLiteral("settings/remotes/backup")).valueOr({}).toMap().value(QStringLiteral("kind")).toString(),
             QStringLiteral("local"));
    QVERIFY(listedRemotes(dialog).contains(QStringLiteral("backup")));
    QCOMPARE(dialog.selectedRemote(), QStringLiteral("backup"));

    // Edit: the form starts with the stored values, the name stays.
    dialog.editRemoteButton()->click();
    editor = editorOf(dialog);
    QVERIFY(!editor->isNew());
    QVERIFY(editor->nameEdit()->isReadOnly());
    QCOMPARE(editor->nameEdit()->text(), QStringLiteral("backup"));
    QCOMPARE(editor->urlEdit()->text(), folder);
    QVERIFY(!editor->userEdit()->isEnabled());   // a local folder needs no account
    const QString folder2 = m_dir->filePath(QStringLiteral("remote-b"));
    submitLocal(editor, QStringLiteral("backup"), folder2);
    QTRY_VERIFY(!dialog.isBusy());
    QVERIFY2(dialog.remoteMessage().contains(QStringLiteral("“backup” saved")), qPrintable(dialog.remoteMessage()));
    found = RemoteProfiles(*m_store).find(QStringLiteral("backup"));
    QVERIFY(found.ok() && found->has_value());
    QCOMPARE((*found)->url, folder2);
    QCOMPARE(dialog.remotesList()->findItems(QStringLiteral("backup"), Qt::MatchExactly).first()->text(2), folder2);

    // Keyboard: Return in the list edits the remote (and does not press OK); Alt+D adds one.
    dialog.activateWindow();
    QTRY_VERIFY(dialog.isActiveWindow());
    dialog.remotesList()->setFocus();
    QTest::keyClick(dialog.remotesList(), Qt::Key_Return);
    editor = editorOf(dialog);
    QCOMPARE(editor->nameEdit()->text(), QStringLiteral("backup"));
    QVERIFY(dialog.isVisible());
    editor->reject();
    QTRY_VERIFY(dialog.findChildren<RemoteEditDialog *>().isEmpty());   // deleted on close
    dialog.activateWindow();   // the offscreen platform does not hand activation back by itself
    QTRY_VERIFY(dialog.isActiveWindow());
    QTest::keyClick(&dialog, Qt::Key_D, Qt::AltModifier);
    editor = editorOf(dialog);
    QVERIFY(editor->isNew());
    editor->reject();
    QTRY_VERIFY(dialog.findChildren<RemoteEditDialog *>().isEmpty());

    // Remove: no collection uses it, so it asks, then removes.
    QVERIFY(dialog.selectRemote(QStringLiteral("backup")));
    dialog.removeRemoteButton()->click();
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = dialog.findChild<QMessageBox *>(QStringLiteral("removeRemoteBox"))) && box->isVisible(), 30'000);
    QVERIFY(box->text().contains(QStringLiteral("“backup”")));
    QCOMPARE(box->defaultButton(), box->button(QMessageBox::Cancel));
    QAbstractButton *remove = nullptr;
    for (QAbstractButton *b : box->buttons()) {
        if (box->buttonRole(b) == QMessageBox::DestructiveRole)
            remove = b;
    }
    QVERIFY(remove);
    remove->click();
    QTRY_VERIFY(!dialog.isBusy());
    QVERIFY2(dialog.remoteMessage().contains(QStringLiteral("“backup” removed")), qPrintable(dialog.remoteMessage()));
    QVERIFY(!m_store->contains(QStringLiteral("settings/remotes/backup")).valueOr(true));
    QCOMPARE(listedRemotes(dialog), QStringList{RemoteProfile::defaultLocalName()});
}

void tst_UiDialogs::settingsRemoteValidation()
{
    RemoteProfile taken;
    taken.name = QStringLiteral("taken");
    taken.url = m_dir->filePath(QStringLiteral("t"));
    QVERIFY(RemoteProfiles(*m_store).save(taken).ok());
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);

    auto problemFor = [&](const QString &name, RemoteKind kind, const QString &url, const QString &user = {},
                          const QString &password = {}, bool insecure = false) {
        editor->nameEdit()->setText(name);
        editor->setKind(kind);
        editor->urlEdit()->setText(url);
        editor->userEdit()->setText(user);
        editor->passwordEdit()->setText(password);
        editor->insecureBox()->setChecked(insecure);
        // The message shown is the one OK is judged by.
        const QString why = editor->problem();
        const auto *label = editor->findChild<QLabel *>(QStringLiteral("remoteProblem"));
        if (label->text() != why || editor->okButton()->isEnabled() != why.isEmpty())
            return QStringLiteral("<label and OK button out of date>");
        return why;
    };
    const QString folder = m_dir->filePath(QStringLiteral("f"));
    QVERIFY(problemFor(QString(), RemoteKind::Local, folder).contains(QLatin1String("Type a name")));
    QVERIFY(problemFor(QStringLiteral("a b"), RemoteKind::Local, folder).contains(QLatin1String("letters, digits")));
    QVERIFY(problemFor(QStringLiteral(".hidden"), RemoteKind::Local, folder).contains(QLatin1String("does not start")));
    QVERIFY(problemFor(QStringLiteral("taken"), RemoteKind::Local, folder).contains(QStringLiteral("already is a remote named “taken”")));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::Local, QString()).contains(QLatin1String("Type the folder")));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::Local, QStringLiteral("relative/dir")).contains(QLatin1String("full path")));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::Local, folder).isEmpty());
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::WebDav, QString()).contains(QLatin1String("URL")));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::WebDav, QStringLiteral("ftp://host/x")).contains(QLatin1String("http://")));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::WebDav, QStringLiteral("https://me:pw@host/x")).contains(QLatin1String("password out of the URL")));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::WebDav, QStringLiteral("https://host/x"), QString(), QStringLiteral("pw")).contains(QLatin1String("user")));
    // A user needs a password (kept in the keychain; none typed and no QUIRE_PASSWORD here).
    if (qEnvironmentVariableIsEmpty("QUIRE_PASSWORD"))
        QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::WebDav, QStringLiteral("https://host/x"), QStringLiteral("me")).contains(QLatin1String("password")));
    // Never a password over plain http:// to another computer, unless allowed explicitly.
    const QString plain = problemFor(QStringLiteral("n"), RemoteKind::WebDav, QStringLiteral("http://nas.example/dav"),
                                     QStringLiteral("me"), QStringLiteral("pw"));
    QVERIFY2(plain.contains(QLatin1String("unencrypted to nas.example")), qPrintable(plain));
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::WebDav, QStringLiteral("http://nas.example/dav"), QStringLiteral("me"),
                       QStringLiteral("pw"), true).isEmpty());
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::Http, QStringLiteral("http://127.0.0.1:8080/api"), QStringLiteral("me"),
                       QStringLiteral("pw")).isEmpty());
    QVERIFY(problemFor(QStringLiteral("n"), RemoteKind::Http, QStringLiteral("https://api.example/{collection}/docs")).isEmpty());
    const RemoteProfile p = editor->profile();
    QCOMPARE(p.kind, RemoteKind::Http);
    QVERIFY(!p.allowInsecureAuth());
    QVERIFY(editor->userEdit()->isEnabled());
    // A local folder has no account: user, password and the http:// option are off.
    editor->setKind(RemoteKind::Local);
    QVERIFY(!editor->userEdit()->isEnabled());
    QVERIFY(!editor->passwordEdit()->isEnabled());
    QVERIFY(!editor->insecureBox()->isEnabled());
    QCOMPARE(editor->passwordEdit()->echoMode(), QLineEdit::Password);
    editor->reject();
    // Nothing was saved.
    QCOMPARE(listedRemotes(dialog), (QStringList{QStringLiteral("local"), QStringLiteral("taken")}));
    QVERIFY(!m_store->contains(QStringLiteral("settings/remotes/n")).valueOr(true));
}

void tst_UiDialogs::settingsRemoveRemoteInUseIsRefused()
{
    RemoteProfile used;
    used.name = QStringLiteral("archive");
    used.url = m_dir->filePath(QStringLiteral("archive"));
    QVERIFY(RemoteProfiles(*m_store).save(used).ok());
    QVERIFY(onWorker([&] { return m_catalog->createCollection(QStringLiteral("Invoices"), QStringLiteral("archive")); }).ok());
    QVERIFY(onWorker([&] { return m_catalog->createCollection(QStringLiteral("Letters"), QStringLiteral("archive")); }).ok());

    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QVERIFY(dialog.selectRemote(QStringLiteral("archive")));
    dialog.removeRemoteButton()->click();
    QVERIFY(dialog.isBusy());   // the catalog is asked on the I/O pool
    QVERIFY(!dialog.removeRemoteButton()->isEnabled());
    QMessageBox *box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT((box = dialog.findChild<QMessageBox *>(QStringLiteral("remoteInUseBox"))) && box->isVisible(), 30'000);
    QVERIFY2(box->informativeText().contains(QStringLiteral("used by 2 collections: “Invoices”, “Letters”")),
             qPrintable(box->informativeText()));
    // It names the way out.
    QVERIFY2(dialog.remoteMessage().contains(QStringLiteral("Choose another remote for them first with "
                                                            "Collection › Upload To.")),
             qPrintable(dialog.remoteMessage()));
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QCoreApplication::sendPostedEvents();
        QVERIFY(dialog.grab().save(dir + QStringLiteral("/settings-remote-in-use.png")));
        QVERIFY(box->grab().save(dir + QStringLiteral("/remote-in-use-box.png")));
    }
    box->button(QMessageBox::Close)->click();
    QVERIFY(m_store->contains(QStringLiteral("settings/remotes/archive")).valueOr(false));
    QVERIFY(listedRemotes(dialog).contains(QStringLiteral("archive")));
    QVERIFY(!dialog.isBusy());
}

void tst_UiDialogs::settingsTestConnection()
{
    RemoteProfiles profiles(*m_store);
    RemoteProfile good;
    good.name = QStringLiteral("good");
    good.url = m_dir->filePath(QStringLiteral("good-remote"));
    QVERIFY(QDir().mkpath(good.url));
    QVERIFY(profiles.save(good).ok());
    // A folder under a regular file can never be created, whoever runs the test.
    uitest::writeFile(m_dir->filePath(QStringLiteral("plain-file")), "x");
    RemoteProfile bad;
    bad.name = QStringLiteral("bad");
    bad.url = m_dir->filePath(QStringLiteral("plain-file/remote"));
    QVERIFY(profiles.save(bad).ok());

    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);

    QVERIFY(dialog.selectRemote(QStringLiteral("good")));
    dialog.testRemoteButton()->click();
    // Off the GUI thread: the dialog shows it is busy and the click returns at once.
    QVERIFY(dialog.isBusy());
    QVERIFY(!dialog.testRemoteButton()->isEnabled());
    QVERIFY(!dialog.editRemoteButton()->isEnabled());
    QVERIFY(dialog.findChild<QProgressBar *>(QStringLiteral("remoteBusy"))->isVisible());
    QVERIFY(dialog.stopTestButton()->isVisible());
    QVERIFY(dialog.remoteMessage().contains(QStringLiteral("Testing “good”")));
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60'000);
    QCOMPARE(done.at(0).at(0).toBool(), true);
    QCOMPARE(dialog.remoteMessage(),
             QStringLiteral("Remote “good” works: the folder %1 exists and is writable.").arg(good.url));
    QVERIFY(dialog.testRemoteButton()->isEnabled());
    QVERIFY(!dialog.stopTestButton()->isVisible());

    QVERIFY(dialog.selectRemote(QStringLiteral("bad")));
    dialog.testRemoteButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 60'000);
    QCOMPARE(done.at(1).at(0).toBool(), false);
    QCOMPARE(dialog.remoteMessage(),
             QStringLiteral("Remote “bad” failed the test: cannot create the folder %1.").arg(bad.url));
}

void tst_UiDialogs::settingsStopTestConnection()
{
    // A server that takes the connection and never answers: only Stop (or the remote's
    // transfer timeout) ends the test.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    RemoteProfile dav;
    dav.name = QStringLiteral("silent");
    dav.kind = RemoteKind::WebDav;
    dav.url = QStringLiteral("http://127.0.0.1:%1/dav/").arg(silent.serverPort());
    QVERIFY(RemoteProfiles(*m_store).save(dav).ok());

    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);
    QVERIFY(dialog.selectRemote(QStringLiteral("silent")));
    dialog.testRemoteButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(silent.hasPendingConnections(), 30'000);
    QVERIFY(dialog.isBusy());
    QVERIFY(done.isEmpty());
    dialog.stopTestButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 20'000);
    QCOMPARE(dialog.remoteMessage(), QStringLiteral("The test of “silent” was stopped."));
    QVERIFY(!dialog.isBusy());
    QVERIFY(dialog.testRemoteButton()->isEnabled());
}

void tst_UiDialogs::settingsRendersRemotes()
{
    // Renders the dialog with remotes listed and a test result shown; with
    // $QUIRE_SCREENSHOT_DIR set, saves the images there for a person to look at.
    RemoteProfiles profiles(*m_store);
    RemoteProfile backup;
    backup.name = QStringLiteral("backup");
    backup.url = m_dir->filePath(QStringLiteral("backup-remote"));
    QVERIFY(profiles.save(backup).ok());
    RemoteProfile nas;
    nas.name = QStringLiteral("nas");
    nas.kind = RemoteKind::WebDav;
    nas.url = QStringLiteral("https://nas.example.org/remote.php/dav/files/me/Quire");
    nas.user = QStringLiteral("me");
    QVERIFY(profiles.save(nas).ok());

    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);
    QVERIFY(dialog.selectRemote(QStringLiteral("backup")));
    dialog.testRemoteButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, 60'000);
    QCoreApplication::sendPostedEvents();   // the layout follows the new message
    const QImage image = dialog.grab().toImage();
    // The whole message is shown, however many lines it wraps to.
    auto *message = dialog.findChild<QLabel *>(QStringLiteral("remoteMessage"));
    QVERIFY(message->height() >= message->heightForWidth(message->width()));
    QVERIFY(!image.isNull());
    // Every remote's row is on screen and no column is cut to nothing.
    QTreeWidget *list = dialog.remotesList();
    for (int c = 0; c < list->columnCount(); ++c)
        QVERIFY2(list->columnWidth(c) > 20, qPrintable(QString::number(c)));
    QVERIFY(list->visualItemRect(list->topLevelItem(2)).bottom() <= list->viewport()->height());

    dialog.editRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QVERIFY(QTest::qWaitForWindowExposed(editor));
    const QImage editorImage = editor->grab().toImage();
    QVERIFY(!editorImage.isNull());
    dialog.selectRemote(QStringLiteral("nas"));
    editor->reject();
    dialog.editRemoteButton()->click();
    QTRY_VERIFY(dialog.findChildren<RemoteEditDialog *>().size() == 1 && editorOf(dialog)->userEdit()->text() == QLatin1String("me"));
    const QImage davImage = editorOf(dialog)->grab().toImage();

    const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR");
    if (!dir.isEmpty()) {
        QVERIFY(image.save(dir + QStringLiteral("/settings.png")));
        QVERIFY(editorImage.save(dir + QStringLiteral("/remote-edit-local.png")));
        QVERIFY(davImage.save(dir + QStringLiteral("/remote-edit-webdav.png")));
    }
}

void tst_UiDialogs::formTestsTheProfileAsTyped()
{
    // Test Connection inside the Add form: the folder typed, before anything is saved.
    const QString good = m_dir->filePath(QStringLiteral("typed-remote"));
    uitest::writeFile(m_dir->filePath(QStringLiteral("plain-file")), "x");
    const QString bad = m_dir->filePath(QStringLiteral("plain-file/remote"));   // can never be created
    const QVariantMap before = m_store->snapshot().valueOr({});

    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
    QVERIFY(editor->testButton()->isVisible());
    QVERIFY(!editor->testButton()->isEnabled());   // nothing to test yet
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("shelf"));
    editor->setKind(RemoteKind::Local);
    QTest::keyClicks(editor->urlEdit(), good);
    QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
    QVERIFY(editor->testButton()->isEnabled());

    // The test runs on the I/O pool: the click returns at once, the form shows it is busy.
    editor->testButton()->click();
    QVERIFY(!dialog.isBusy());   // the form's own test, not the Settings dialog's
    QVERIFY(editor->isTesting());
    QVERIFY(!editor->testButton()->isEnabled());
    QVERIFY(editor->stopTestButton()->isVisible());
    QVERIFY(editor->findChild<QProgressBar *>(QStringLiteral("remoteTestBusy"))->isVisible());
    QVERIFY(editor->testMessage().startsWith(QStringLiteral("Testing ")));
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 1, 60'000);
    QCOMPARE(tested.at(0).at(0).toBool(), true);
    QCOMPARE(editor->testMessage(), QStringLiteral("Test passed: the folder %1 exists and is writable.").arg(good));
    QVERIFY(!editor->isTesting());
    QVERIFY(!editor->stopTestButton()->isVisible());
    QVERIFY(editor->testButton()->isEnabled());
    QVERIFY(editor->isVisible());   // testing does not close the form
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QCoreApplication::sendPostedEvents();
        QVERIFY(editor->grab().save(dir + QStringLiteral("/remote-edit-test-passed.png")));
    }

    // Another folder: the old outcome is no longer the verdict; testing it fails, saying why.
    editor->urlEdit()->clear();
    QTest::keyClicks(editor->urlEdit(), bad);
    QVERIFY(editor->testMessage().startsWith(QStringLiteral("Before the last changes: Test passed")));
    // Alt+T, as a person would (in the form, not in the Settings dialog behind it).
    editor->activateWindow();
    QTRY_COMPARE(QApplication::activeWindow(), editor);
    QTest::keyClick(editor, Qt::Key_T, Qt::AltModifier);
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 2, 60'000);
    QCOMPARE(tested.at(1).at(0).toBool(), false);
    QCOMPARE(editor->testMessage(), QStringLiteral("Test failed: cannot create the folder %1.").arg(bad));
    auto *message = editor->findChild<QLabel *>(QStringLiteral("remoteTestMessage"));
    QVERIFY(message->isVisible());

    // Nothing was saved by testing: not the profile, not any other setting.
    QVERIFY(!m_store->contains(QStringLiteral("settings/remotes/shelf")).valueOr(true));
    QCOMPARE(m_store->snapshot().valueOr({}), before);
    QVERIFY(!listedRemotes(dialog).contains(QStringLiteral("shelf")));
    QCoreApplication::sendPostedEvents();   // the layout follows the message
    const QImage image = editor->grab().toImage();
    QVERIFY(!image.isNull());
    QVERIFY(message->height() >= message->heightForWidth(message->width()));
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty())
        QVERIFY(image.save(dir + QStringLiteral("/remote-edit-test-failed.png")));

    editor->reject();
    QTRY_VERIFY(dialog.findChildren<RemoteEditDialog *>().isEmpty());
    QVERIFY(!m_store->contains(QStringLiteral("settings/remotes/shelf")).valueOr(true));
}

void tst_UiDialogs::formTestsWithTheTypedPassword()
{
    // A WebDAV server on this computer: the test sends the user and password as typed, and the
    // password goes nowhere else.
    test::FaultServer server;
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("dav"));
    editor->setKind(RemoteKind::WebDav);
    QTest::keyClicks(editor->urlEdit(), server.url().toString());
    QTest::keyClicks(editor->userEdit(), QStringLiteral("me"));
    QTest::keyClicks(editor->passwordEdit(), QStringLiteral("typed-secret"));
    QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
    editor->testButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 1, 60'000);
    QVERIFY2(tested.at(0).at(0).toBool(), qPrintable(editor->testMessage()));
    QVERIFY2(editor->testMessage().startsWith(QStringLiteral("Test passed: WebDAV folder ")), qPrintable(editor->testMessage()));
    const QByteArray expected = "Basic " + QByteArray("me:typed-secret").toBase64();
    bool sent = false;
    for (const test::FaultServer::Seen &r : server.requests())
        sent = sent || r.header("Authorization") == expected;
    QVERIFY2(sent, "the typed password was not used");
    // Not saved: the settings hold no such remote, and never a password; the field keeps it.
    QVERIFY(!m_store->contains(QStringLiteral("settings/remotes/dav")).valueOr(true));
    const QVariantMap settings = m_store->snapshot().valueOr({});
    for (auto it = settings.cbegin(); it != settings.cend(); ++it)
        QVERIFY2(!it.value().toString().contains(QLatin1String("typed-secret")), qPrintable(it.key()));
    QCOMPARE(editor->passwordEdit()->text(), QStringLiteral("typed-secret"));
    editor->reject();
}

void tst_UiDialogs::formOffersToTrustAnUntrustedCertificate()
{
    // A NAS-like server with a self-signed certificate: the test stops at the certificate (no
    // request reaches the server), shows it, and offers Trust This Certificate; once trusted, the
    // test passes and the fingerprint is part of the profile.
    test::TestCa ca;
    if (!ca.create())
        QFAIL(qPrintable(ca.error()));
    test::FaultServer::Options options;
    options.tls = ca.selfSigned();
    test::FaultServer server(options);
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("nas"));
    editor->setKind(RemoteKind::WebDav);
    QTest::keyClicks(editor->urlEdit(), server.url().toString());
    QTest::keyClicks(editor->userEdit(), QStringLiteral("me"));
    QTest::keyClicks(editor->passwordEdit(), QStringLiteral("secret"));
    QVERIFY(!editor->trustButton()->isVisibleTo(editor));
    editor->testButton()->click();
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 1, 60'000);
    QVERIFY(!tested.at(0).at(0).toBool());
    const QByteArray fingerprint = test::TestCa::sha256Fingerprint(ca.selfSigned().certPath);
    QVERIFY2(editor->testMessage().contains(QString::fromLatin1(fingerprint)), qPrintable(editor->testMessage()));
    QVERIFY2(editor->testMessage().contains(QLatin1String("self-signed")), qPrintable(editor->testMessage()));
    QVERIFY(editor->trustButton()->isVisibleTo(editor));
    QVERIFY(!editor->trustButton()->isDefault());
    QCOMPARE(server.requests().size(), 0);

    // The button asks first; Cancel is the default answer and trusts nothing.
    editor->trustButton()->click();
    QMessageBox *box = nullptr;
    QTRY_VERIFY((box = editor->findChild<QMessageBox *>()) != nullptr);
    QCOMPARE(box->defaultButton(), box->button(QMessageBox::Cancel));
    QVERIFY(box->informativeText().contains(QString::fromLatin1(fingerprint)));
    box->button(QMessageBox::Cancel)->click();
    QTRY_VERIFY(editor->findChild<QMessageBox *>() == nullptr);
    QVERIFY(editor->trustedCertificate().isEmpty());

    editor->trustShownCertificate();   // what Trust does once confirmed: and it tests again
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 2, 60'000);
    QVERIFY2(tested.at(1).at(0).toBool(), qPrintable(editor->testMessage()));
    QCOMPARE(editor->trustedCertificate(), QString::fromLatin1(fingerprint));
    QCOMPARE(editor->profile().trustedCertificate(), QString::fromLatin1(fingerprint));
    QVERIFY(server.requests().size() > 0);
    editor->reject();
}

void tst_UiDialogs::formRefusesABadUploadLimit()
{
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("slow"));
    editor->setKind(RemoteKind::WebDav);
    QTest::keyClicks(editor->urlEdit(), QStringLiteral("https://dav.example/"));
    QTest::keyClicks(editor->limitRateEdit(), QStringLiteral("fast please"));
    QVERIFY2(editor->problem().contains(QLatin1String("upload limit")), qPrintable(editor->problem()));
    QVERIFY(!editor->okButton()->isEnabled());
    editor->limitRateEdit()->clear();
    QTest::keyClicks(editor->limitRateEdit(), QStringLiteral("2M"));
    QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
    QCOMPARE(editor->profile().limitRate(), qint64(2) * 1024 * 1024);
    editor->reject();
}

void tst_UiDialogs::formAddsAnS3Remote()
{
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("archive"));
    auto *bucket = editor->findChild<QLineEdit *>(QStringLiteral("remoteBucket"));
    QVERIFY(bucket);
    QVERIFY(!bucket->isVisibleTo(editor));   // only for S3
    editor->setKind(RemoteKind::S3);
    QVERIFY(bucket->isVisibleTo(editor));
    QTest::keyClicks(editor->urlEdit(), QStringLiteral("https://s3.eu-west-1.amazonaws.com"));
    QCOMPARE(editor->problem(), QStringLiteral("Type the bucket’s name."));
    QTest::keyClicks(bucket, QStringLiteral("family-docs"));
    QCOMPARE(editor->problem(), QStringLiteral("Type the access key id."));
    QTest::keyClicks(editor->findChild<QLineEdit *>(QStringLiteral("remoteUser")), QStringLiteral("AKIAEXAMPLE"));
    QVERIFY2(editor->problem().startsWith(QLatin1String("Type the secret access key of AKIAEXAMPLE")), qPrintable(editor->problem()));
    QTest::keyClicks(editor->findChild<QLineEdit *>(QStringLiteral("remotePassword")), QStringLiteral("secret"));
    QTest::keyClicks(editor->findChild<QLineEdit *>(QStringLiteral("remotePrefix")), QStringLiteral("quire"));
    editor->findChild<QCheckBox *>(QStringLiteral("remotePathStyle"))->setChecked(true);
    QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
    const RemoteProfile p = editor->profile();
    QCOMPARE(p.kind, RemoteKind::S3);
    QCOMPARE(p.bucket(), QStringLiteral("family-docs"));
    QCOMPARE(p.keyPrefix(), QStringLiteral("quire/"));
    QCOMPARE(p.region(), QStringLiteral("eu-west-1"));
    QVERIFY(p.pathStyle());
    QCOMPARE(p.user, QStringLiteral("AKIAEXAMPLE"));
    // A bucket name S3 would refuse is named before anything is saved.
    bucket->clear();
    QTest::keyClicks(bucket, QStringLiteral("Family/Docs"));
    QVERIFY2(editor->problem().contains(QLatin1String("is not a bucket name")), qPrintable(editor->problem()));
    QVERIFY(!editor->okButton()->isEnabled());
    bucket->clear();
    QTest::keyClicks(bucket, QStringLiteral("family-docs"));
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QCoreApplication::sendPostedEvents();
        QVERIFY(editor->grab().save(dir + QStringLiteral("/remote-s3.png")));
    }
    // Back to WebDAV: the S3 fields go, and nothing of them is kept in the profile.
    editor->setKind(RemoteKind::WebDav);
    QVERIFY(!bucket->isVisibleTo(editor));
    QVERIFY(!editor->profile().options.contains(QStringLiteral("bucket")));
    editor->reject();
}

void tst_UiDialogs::remoteProblemBarOffersTheFix()
{
    RemoteProblemBar bar;
    QSignalSpy fix(&bar, &RemoteProblemBar::fixRequested);
    RemoteError e = RemoteError::make(RemoteError::Kind::Tls, QStringLiteral("the certificate of <b>nas</b>:443 is not trusted "
                                                                             "(quire remote trust nas)"));
    e.problem = RemoteError::Problem::Untrusted;
    bar.showProblem(QStringLiteral("nas"), e, 2);
    QVERIFY(bar.isVisibleTo(nullptr) || !bar.isHidden());
    QCOMPARE(bar.fixButton()->text(), QStringLiteral("&Trust Certificate…"));
    // Text from a server is shown as it is, never as markup.
    QVERIFY(bar.text().contains(QLatin1String("<b>nas</b>")));
    auto *label = bar.findChild<QLabel *>(QStringLiteral("remoteProblemText"));
    QCOMPARE(label->textFormat(), Qt::PlainText);
    QVERIFY2(label->toolTip().contains(QLatin1String("&lt;b&gt;nas&lt;/b&gt;")), qPrintable(label->toolTip()));

    // With the certificate known, the window says it in its own words (no command line), the
    // certificate named; the whole message stays in the tooltip.
    e.certificate.subject = QStringLiteral("CN=<i>nas.local</i>");
    e.certificate.sha256 = "AB:CD:EF";
    bar.showProblem(QStringLiteral("nas"), e, 2);
    QVERIFY2(bar.text().contains(QLatin1String("does not trust (CN=<i>nas.local</i>, SHA-256 AB:CD:EF)")), qPrintable(bar.text()));
    QVERIFY2(!bar.text().contains(QLatin1String("quire remote")), qPrintable(bar.text()));
    QVERIFY(label->toolTip().contains(QLatin1String("quire remote trust nas")));
    e.problem = RemoteError::Problem::Unreachable;
    bar.showProblem(QStringLiteral("nas"), e, 1);
    QVERIFY2(bar.text().contains(QLatin1String("cannot be reached")), qPrintable(bar.text()));
    QCOMPARE(bar.fixButton()->text(), QStringLiteral("&Edit Remote…"));
    e.problem = RemoteError::Problem::Untrusted;
    bar.fixButton()->click();
    QCOMPARE(fix.count(), 1);
    QCOMPARE(fix.at(0).at(0).toString(), QStringLiteral("nas"));
    e.problem = RemoteError::Problem::Credentials;
    bar.showProblem(QStringLiteral("nas"), e, 1);
    QCOMPARE(bar.fixButton()->text(), QStringLiteral("Enter &Password…"));
    bar.dismiss();
    QVERIFY(bar.isHidden());
}

void tst_UiDialogs::formTestCanBeStopped()
{
    // A server that takes the connection and never answers: Stop, a changed value or closing
    // the form end the test.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    SettingsDialog dialog(*m_store, *m_service);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    dialog.addRemoteButton()->click();
    RemoteEditDialog *editor = editorOf(dialog);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
    QTest::keyClicks(editor->nameEdit(), QStringLiteral("silent"));
    editor->setKind(RemoteKind::WebDav);
    const QString url = QStringLiteral("http://127.0.0.1:%1/dav/").arg(silent.serverPort());
    QTest::keyClicks(editor->urlEdit(), url);

    editor->testButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(silent.hasPendingConnections(), 30'000);
    QVERIFY(editor->isTesting());
    QVERIFY(tested.isEmpty());
    if (const QString dir = qEnvironmentVariable("QUIRE_SCREENSHOT_DIR"); !dir.isEmpty()) {
        QCoreApplication::sendPostedEvents();
        QVERIFY(editor->grab().save(dir + QStringLiteral("/remote-edit-testing.png")));
    }
    editor->activateWindow();
    QTRY_COMPARE(QApplication::activeWindow(), editor);
    QTest::keyClick(editor, Qt::Key_O, Qt::AltModifier);   // St&op
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 1, 20'000);
    QCOMPARE(tested.at(0).at(0).toBool(), false);
    QVERIFY(!editor->isTesting());
    QCOMPARE(editor->testMessage(), QStringLiteral("The test was stopped."));
    QVERIFY(editor->testButton()->isEnabled());

    // Changing a value stops the test: its outcome would be about other values.
    QTcpServer silent2;
    QVERIFY(silent2.listen(QHostAddress::LocalHost));
    editor->urlEdit()->clear();
    QTest::keyClicks(editor->urlEdit(), QStringLiteral("http://127.0.0.1:%1/dav/").arg(silent2.serverPort()));
    editor->testButton()->click();
    QTRY_VERIFY_WITH_TIMEOUT(silent2.hasPendingConnections(), 30'000);
    QTest::keyClicks(editor->urlEdit(), QStringLiteral("x"));
    QTRY_COMPARE_WITH_TIMEOUT(tested.count(), 2, 20'000);
    QCOMPARE(editor->testMessage(), QStringLiteral("The test was stopped: the values changed. Test again to check them."));

    // Closing the form while a test runs: it goes at once, the test is stopped.
    editor->testButton()->click();
    QVERIFY(editor->isTesting());
    editor->reject();
    QTRY_VERIFY(dialog.findChildren<RemoteEditDialog *>().isEmpty());
    QVERIFY(!m_store->contains(QStringLiteral("settings/remotes/silent")).valueOr(true));
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
    QVERIFY(text.contains(QStringLiteral("%1 active of %2 · 0 queued").arg(0).arg(m_pools->io()->maxThreadCount())));
    QVERIFY(text.contains(m_catalog->config().displayLocation()));
}

using quire::test::Gate;

void tst_UiDialogs::diagnosticsShowQueuedWork()
{
    // Declared before the pools, which drain before these go; the opener (declared after them)
    // opens the gate first, so a failed check never leaves a pool that cannot drain.
    Gate gate;
    std::atomic_int ran{0};
    std::atomic_bool blocking{false};
    Pools pools(1, 1);
    struct Opener
    {
        Gate &gate;
        ~Opener() { gate.open(); }
    } opener{gate};
    CatalogService service(*m_catalog, pools);
    DiagnosticsDialog dialog(service, *m_store, nullptr);
    auto line = [&](const char *pool) {
        dialog.refresh();
        for (const QString &l : dialog.text().split(QLatin1Char('\n'))) {
            if (l.trimmed().startsWith(QLatin1String(pool)))
                return l.trimmed();
        }
        return QString();
    };
    QCOMPARE(line("I/O pool"), QStringLiteral("I/O pool: 0 active of 1 · 0 queued"));

    // One task holds the only I/O thread; three more wait for it.
    pools.start(pools.io(), [&] {
        blocking = true;
        gate.wait();
        ++ran;
    });
    QTRY_VERIFY_WITH_TIMEOUT(blocking.load(), 30'000);
    for (int i = 0; i < 3; ++i)
        pools.start(pools.io(), [&] { ++ran; });
    QCOMPARE(pools.queued(pools.io()), 3);
    QCOMPARE(line("I/O pool"), QStringLiteral("I/O pool: 1 active of 1 · 3 queued"));
    QCOMPARE(line("Hashing pool (CPU)"), QStringLiteral("Hashing pool (CPU): 0 active of 1 · 0 queued"));

    gate.open();
    QTRY_COMPARE_WITH_TIMEOUT(ran.load(), 4, 30'000);
    QTRY_COMPARE(pools.queued(pools.io()), 0);
    QCOMPARE(pools.load(pools.io()).started, 4);
    QTRY_COMPARE(line("I/O pool"), QStringLiteral("I/O pool: 0 active of 1 · 0 queued"));
}

void tst_UiDialogs::statusBarFollowsWork()
{
    const qint64 c = onWorker([&] { return m_catalog->createCollection(QStringLiteral("W")).valueOr(0); });
    for (int i = 0; i < 100; ++i)
        uitest::writeFile(m_dir->filePath(QStringLiteral("w/%1").arg(i)), QByteArray(10'000, char('a' + i % 26)));
    QMainWindow window;   // in a status bar, as in the window
    window.resize(900, 300);
    auto &widget = *new WorkStatusWidget(*m_service, &window);
    window.statusBar()->addPermanentWidget(&widget);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(!widget.isShowingWork());   // nothing running: nothing shown
    QCOMPARE(widget.width(), 0);
    QSignalSpy idle(m_service.get(), &CatalogService::idle);
    m_service->setPaused(true);
    m_service->ingest(c, {QFile::encodeName(m_dir->filePath(QStringLiteral("w")))});
    QTRY_VERIFY(widget.isShowingWork());
    QTRY_VERIFY(widget.width() > 160);
    QTRY_VERIFY(widget.text().contains(QLatin1String("paused")));
    widget.pauseButton()->click();   // resume
    QVERIFY(!m_service->isPaused());
    QTRY_COMPARE_WITH_TIMEOUT(idle.count(), 1, 60'000);
    QVERIFY(!widget.isShowingWork());
    QTRY_COMPARE(widget.width(), 0);
    QVERIFY(!widget.cancelButton()->isEnabled());
    QVERIFY(widget.findChild<QProgressBar *>()->maximum() > 0);   // no busy indicator left running
}

QTEST_MAIN(tst_UiDialogs)
#include "tst_dialogs.moc"
