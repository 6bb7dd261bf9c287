// ctest-labels: ui
// The form that adds or edits a remote (opened from Settings › Remotes): what it tests, as typed
// and before anything is saved; the certificate it offers to trust; the problem bar that leads
// back to it.
#include "dialogfixture.h"
#include "faultserver.h"
#include "testca.h"
#include "views/remoteproblembar.h"

#include <QApplication>
#include <QCheckBox>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>
#include <QToolButton>

using namespace quire;

class tst_RemoteEditDialog final : public QObject, private test::DialogFixture
{
    Q_OBJECT

private Q_SLOTS:
    void init() { setUpFixture(); }
    void cleanup() { tearDownFixture(); }

    void formTestsTheProfileAsTyped();
    void formTestsWithTheTypedPassword();
    void formTestCanBeStopped();
    void formOffersToTrustAnUntrustedCertificate();
    void formRefusesABadUploadLimit();
    void formAddsAnS3Remote();
    void remoteProblemBarOffersTheFix();

private:
    // Shows the dialog, opens its form for a new remote and types that remote in (typeRemote());
    // null when the form did not open (the test has failed).
    static RemoteEditDialog *typeNewRemote(SettingsDialog &dialog, const QString &name, RemoteKind kind, const QString &url,
                                           const QString &user = {}, const QString &password = {})
    {
        RemoteEditDialog *editor = openNewRemote(dialog);
        if (editor)
            typeRemote(editor, name, kind, url, user, password);
        return editor;
    }
};

void tst_RemoteEditDialog::formTestsTheProfileAsTyped()
{
    // Test Connection inside the Add form: the folder typed, before anything is saved.
    const QString good = m_dir->filePath(QStringLiteral("typed-remote"));
    uitest::writeFile(m_dir->filePath(QStringLiteral("plain-file")), "x");
    const QString bad = m_dir->filePath(QStringLiteral("plain-file/remote"));   // can never be created
    const QVariantMap before = m_store->snapshot().valueOr({});

    SettingsDialog dialog(*m_store, *m_service);
    RemoteEditDialog *editor = openNewRemote(dialog);
    QVERIFY(editor);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
    QVERIFY(editor->testButton()->isVisible());
    QVERIFY(!editor->testButton()->isEnabled());   // nothing to test yet
    typeRemote(editor, QStringLiteral("shelf"), RemoteKind::Local, good);
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

void tst_RemoteEditDialog::formTestsWithTheTypedPassword()
{
    // A WebDAV server on this computer: the test sends the user and password as typed, and the
    // password goes nowhere else.
    test::FaultServer server;
    SettingsDialog dialog(*m_store, *m_service);
    RemoteEditDialog *editor = typeNewRemote(dialog, QStringLiteral("dav"), RemoteKind::WebDav, server.url().toString(),
                                             QStringLiteral("me"), QStringLiteral("typed-secret"));
    QVERIFY(editor);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
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

void tst_RemoteEditDialog::formOffersToTrustAnUntrustedCertificate()
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
    RemoteEditDialog *editor = typeNewRemote(dialog, QStringLiteral("nas"), RemoteKind::WebDav, server.url().toString(),
                                             QStringLiteral("me"), QStringLiteral("secret"));
    QVERIFY(editor);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);
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

void tst_RemoteEditDialog::formRefusesABadUploadLimit()
{
    SettingsDialog dialog(*m_store, *m_service);
    RemoteEditDialog *editor = typeNewRemote(dialog, QStringLiteral("slow"), RemoteKind::WebDav, QStringLiteral("https://dav.example/"));
    QVERIFY(editor);
    QTest::keyClicks(editor->limitRateEdit(), QStringLiteral("fast please"));
    QVERIFY2(editor->problem().contains(QLatin1String("upload limit")), qPrintable(editor->problem()));
    QVERIFY(!editor->okButton()->isEnabled());
    editor->limitRateEdit()->clear();
    QTest::keyClicks(editor->limitRateEdit(), QStringLiteral("2M"));
    QVERIFY2(editor->problem().isEmpty(), qPrintable(editor->problem()));
    QCOMPARE(editor->profile().limitRate(), qint64(2) * 1024 * 1024);
    editor->reject();
}

void tst_RemoteEditDialog::formAddsAnS3Remote()
{
    SettingsDialog dialog(*m_store, *m_service);
    RemoteEditDialog *editor = openNewRemote(dialog);
    QVERIFY(editor);
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

void tst_RemoteEditDialog::remoteProblemBarOffersTheFix()
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

void tst_RemoteEditDialog::formTestCanBeStopped()
{
    // A server that takes the connection and never answers: Stop, a changed value or closing
    // the form end the test.
    QTcpServer silent;
    QVERIFY(silent.listen(QHostAddress::LocalHost));
    SettingsDialog dialog(*m_store, *m_service);
    RemoteEditDialog *editor = typeNewRemote(dialog, QStringLiteral("silent"), RemoteKind::WebDav,
                                             QStringLiteral("http://127.0.0.1:%1/dav/").arg(silent.serverPort()));
    QVERIFY(editor);
    QSignalSpy tested(editor, &RemoteEditDialog::testFinished);

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

QTEST_MAIN(tst_RemoteEditDialog)
#include "tst_remoteeditdialog.moc"
