// ctest-labels: ui
// The Settings dialog (its catalog page and its list of remotes), the Diagnostics dialog and the
// status bar's work indicator.
#include "common/responsivenessmonitor.h"
#include "dialogfixture.h"
#include "dialogs/catalogsettings.h"
#include "dialogs/diagnosticsdialog.h"
#include "views/workstatuswidget.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTcpServer>
#include <QTest>
#include <QToolButton>
#include <QTreeWidget>

#include <atomic>

using namespace quire;
using quire::test::onWorker;

class tst_UiDialogs final : public QObject, private test::DialogFixture
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
    void diagnosticsShowEverything();
    void diagnosticsShowQueuedWork();
    void statusBarFollowsWork();

private:
    // Fills in and submits the editor; the dialog saves the profile.
    static void submitLocal(RemoteEditDialog *editor, const QString &name, const QString &folder);
    // Saves the remote `name` in the settings, as the dialog would.
    bool saveRemote(const QString &name, RemoteKind kind, const QString &url, const QString &user = {});
};

void tst_UiDialogs::init()
{
    setUpFixture();
}

void tst_UiDialogs::cleanup()
{
    tearDownFixture();
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
    if (const QString why = uitest::PasswordCatalogServer::unavailable(); !why.isEmpty())
        QSKIP(qPrintable(why));
    const QString password = QStringLiteral("catalog-pw");
    uitest::PasswordCatalogServer server;
    QVERIFY2(server.start(QStringLiteral("settingsdb"), password, m_dir->path()), qPrintable(server.error()));

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

bool tst_UiDialogs::saveRemote(const QString &name, RemoteKind kind, const QString &url, const QString &user)
{
    RemoteProfile profile;
    profile.name = name;
    profile.kind = kind;
    profile.url = url;
    profile.user = user;
    return RemoteProfiles(*m_store).save(profile).ok();
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
    QVERIFY(saveRemote(QStringLiteral("nas"), RemoteKind::WebDav, QStringLiteral("https://nas.invalid/dav"), QStringLiteral("me")));
    QVERIFY(saveRemote(QStringLiteral("backup"), RemoteKind::Local, m_dir->filePath(QStringLiteral("backup"))));

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
    QVERIFY(saveRemote(QStringLiteral("taken"), RemoteKind::Local, m_dir->filePath(QStringLiteral("t"))));
    SettingsDialog dialog(*m_store, *m_service);
    RemoteEditDialog *editor = openNewRemote(dialog);
    QVERIFY(editor);

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
    QVERIFY(saveRemote(QStringLiteral("archive"), RemoteKind::Local, m_dir->filePath(QStringLiteral("archive"))));
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
    const QString good = m_dir->filePath(QStringLiteral("good-remote"));
    QVERIFY(QDir().mkpath(good));
    QVERIFY(saveRemote(QStringLiteral("good"), RemoteKind::Local, good));
    // A folder under a regular file can never be created, whoever runs the test.
    uitest::writeFile(m_dir->filePath(QStringLiteral("plain-file")), "x");
    const QString bad = m_dir->filePath(QStringLiteral("plain-file/remote"));
    QVERIFY(saveRemote(QStringLiteral("bad"), RemoteKind::Local, bad));

    SettingsDialog dialog(*m_store, *m_service);
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);

    QVERIFY(testSavedRemote(dialog, QStringLiteral("good")));
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
             QStringLiteral("Remote “good” works: the folder %1 exists and is writable.").arg(good));
    QVERIFY(dialog.testRemoteButton()->isEnabled());
    QVERIFY(!dialog.stopTestButton()->isVisible());

    QVERIFY(testSavedRemote(dialog, QStringLiteral("bad")));
    QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 60'000);
    QCOMPARE(done.at(1).at(0).toBool(), false);
    QCOMPARE(dialog.remoteMessage(),
             QStringLiteral("Remote “bad” failed the test: cannot create the folder %1.").arg(bad));
}

void tst_UiDialogs::settingsStopTestConnection()
{
    // A server that takes the connection and never answers: only Stop (or the remote's
    // transfer timeout) ends the test.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    QVERIFY(saveRemote(QStringLiteral("silent"), RemoteKind::WebDav, QStringLiteral("http://127.0.0.1:%1/dav/").arg(silent.serverPort())));

    SettingsDialog dialog(*m_store, *m_service);
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);
    QVERIFY(testSavedRemote(dialog, QStringLiteral("silent")));
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
    QVERIFY(saveRemote(QStringLiteral("backup"), RemoteKind::Local, m_dir->filePath(QStringLiteral("backup-remote"))));
    QVERIFY(saveRemote(QStringLiteral("nas"), RemoteKind::WebDav,
                       QStringLiteral("https://nas.example.org/remote.php/dav/files/me/Quire"), QStringLiteral("me")));

    SettingsDialog dialog(*m_store, *m_service);
    QSignalSpy done(&dialog, &SettingsDialog::remoteOperationFinished);
    QVERIFY(testSavedRemote(dialog, QStringLiteral("backup")));
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
