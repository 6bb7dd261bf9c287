// ctest-labels: uploads keychain
// ctest-timeout: 300
// Credentials through a real Secret Service keyring. main() re-runs this test under
// `dbus-run-session` (its own session bus, ended by dbus-run-session after the test) with HOME
// and the XDG folders in a temporary folder; initTestCase() starts an unlocked
// gnome-keyring-daemon on that bus (empty password on stdin). So neither the user's keyring nor
// their bus is touched, and the bus outlives every D-Bus connection of the test (GDBus raises
// SIGTERM in a process whose session bus goes away).
// Then: store/read/remove through QtKeychain, uploads that take the password from the keychain,
// `quire remote add` reading the password from stdin, and the settings file and catalog never
// containing the secret.

#include "settings/credentials.h"
#include "davserver.h"
#include "faultserver.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace quire;
using namespace quire::test;

class TestCredentials final : public QObject
{
    Q_OBJECT

private:
    QProcess m_keyring;
    DavServer m_dav;


    static QProcessEnvironment daemonEnvironment()
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("DISPLAY"));   // never a GUI prompt
        return env;
    }

    static QString missingTool()
    {
        for (const char *tool : {"dbus-run-session", "gnome-keyring-daemon", "dbus-send"}) {
            if (QStandardPaths::findExecutable(QLatin1String(tool)).isEmpty())
                return QLatin1String(tool);
        }
        return {};
    }

    bool secretServiceOnBus()
    {
        QProcess p;
        p.setProcessEnvironment(daemonEnvironment());
        p.start(QStringLiteral("dbus-send"),
                {QStringLiteral("--session"), QStringLiteral("--print-reply"), QStringLiteral("--dest=org.freedesktop.DBus"),
                 QStringLiteral("/org/freedesktop/DBus"), QStringLiteral("org.freedesktop.DBus.NameHasOwner"),
                 QStringLiteral("string:org.freedesktop.secrets")});
        return p.waitForFinished(5000) && p.readAllStandardOutput().contains("boolean true");
    }

    using Run = QuireRun;

    Run quire(const QString &dir, const QStringList &args, const QByteArray &stdinData = {})
    {
        return runQuire(args, quireEnvironment(dir, daemonEnvironment()), stdinData, 240'000);
    }

    static QByteArray readAll(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    // Every form in which a secret could leak into a file.
    static QList<QByteArray> leakForms(const QString &user, const QString &secret)
    {
        const QByteArray utf8 = secret.toUtf8();
        QByteArray utf16(reinterpret_cast<const char *>(secret.utf16()), secret.size() * 2);
        return {utf8, utf16, utf8.toBase64(), (user + QLatin1Char(':') + secret).toUtf8().toBase64(),
                QUrl::toPercentEncoding(secret)};
    }

private slots:
    void initTestCase()
    {
        if (const QString tool = missingTool(); !tool.isEmpty()) {
            const QString why = QStringLiteral("%1 is not installed (scripts/install-deps --test installs dbus and "
                                               "gnome-keyring); QUIRE_ALLOW_SKIP=1 skips").arg(tool);
            if (DavServer::skipAllowed())
                QSKIP(qPrintable(why));
            QFAIL(qPrintable(why));
        }
        QVERIFY2(qEnvironmentVariable("QUIRE_TEST_KEYRING_SESSION") == QLatin1String("1"),
                 "run through main(), which starts the test's own session bus");

        m_keyring.setProcessEnvironment(daemonEnvironment());
        m_keyring.setProcessChannelMode(QProcess::MergedChannels);
        m_keyring.start(QStringLiteral("gnome-keyring-daemon"), {QStringLiteral("--unlock"), QStringLiteral("--foreground"),
                                                                 QStringLiteral("--components=secrets")});
        QVERIFY(m_keyring.waitForStarted(10'000));
        m_keyring.write("\n");   // the (empty) password of the new login keyring
        m_keyring.closeWriteChannel();
        QTRY_VERIFY_WITH_TIMEOUT(secretServiceOnBus(), 20'000);
        qunsetenv("QUIRE_PASSWORD");

        if (!DavServer::available() && DavServer::skipAllowed())
            return;
        QVERIFY2(m_dav.start(), qPrintable(m_dav.error()));
    }

    void storeReadRemove()
    {
        const QString secret = QStringLiteral("p\u00e4ss w\u00f6rd \U0001F511 #1");
        Status stored = Status::failure({}), removed = Status::failure({});
        Result<std::optional<QString>> read = Result<std::optional<QString>>::failure({});
        Result<std::optional<QString>> afterRemove = Result<std::optional<QString>>::failure({});
        onWorker([&] {
            stored = Credentials::store(QStringLiteral("nas"), secret);
            read = Credentials::read(QStringLiteral("nas"));
            removed = Credentials::remove(QStringLiteral("nas"));
            afterRemove = Credentials::read(QStringLiteral("nas"));
        });
        QVERIFY2(stored.ok(), qPrintable(stored.error()));
        QVERIFY2(read.ok(), qPrintable(read.error()));
        QVERIFY(read->has_value());
        QCOMPARE(**read, secret);
        QVERIFY2(removed.ok(), qPrintable(removed.error()));
        QVERIFY(afterRemove.ok());
        QVERIFY(!afterRemove->has_value());
    }

    void secretForPrefersEnvironment()
    {
        const RemoteProfile p{.name = QStringLiteral("envtest"), .kind = RemoteKind::WebDav,
                              .url = QStringLiteral("https://dav.example/"), .user = QStringLiteral("ann"), .options = {}};
        Result<QString> missing = Result<QString>::failure({}), fromEnv = Result<QString>::failure({}),
                        genericForOthers = Result<QString>::failure({}), genericForSole = Result<QString>::failure({}),
                        fromKeychain = Result<QString>::failure({});
        onWorker([&] {
            missing = Credentials::secretFor(p);
            qputenv("QUIRE_PASSWORD_ENVTEST", "from-env");
            fromEnv = Credentials::secretFor(p);
            qunsetenv("QUIRE_PASSWORD_ENVTEST");
            // Plain QUIRE_PASSWORD is no remote's unless a command touches only that one.
            qputenv("QUIRE_PASSWORD", "generic");
            genericForOthers = Credentials::secretFor(p);
            Credentials::setSoleRemote(p.name);
            genericForSole = Credentials::secretFor(p);
            Credentials::setSoleRemote(QString());
            qunsetenv("QUIRE_PASSWORD");
            (void)Credentials::store(p.name, QStringLiteral("from-keychain"));
            fromKeychain = Credentials::secretFor(p);
            (void)Credentials::remove(p.name);
        });
        QVERIFY(!missing.ok());
        QVERIFY2(missing.error().contains(QLatin1String("quire remote add envtest")), qPrintable(missing.error()));
        QVERIFY(missing.error().contains(QLatin1String("QUIRE_PASSWORD_ENVTEST")));
        QCOMPARE(*fromEnv, QStringLiteral("from-env"));
        QVERIFY(!genericForOthers.ok());
        QCOMPARE(*genericForSole, QStringLiteral("generic"));
        QCOMPARE(*fromKeychain, QStringLiteral("from-keychain"));
    }

    void uploadUsesTheKeychain()
    {
        if (!m_dav.isRunning())
            QSKIP("Apache is not available");
        UploadFixture fx;
        QVERIFY(fx.isValid());
        const RemoteProfile p{.name = QStringLiteral("keyed"), .kind = RemoteKind::WebDav,
                              .url = m_dav.baseUrl().toString(), .user = m_dav.user(), .options = {}};
        QVERIFY(fx.saveRemote(p));
        Status stored = Status::failure({});
        onWorker([&] { stored = Credentials::store(p.name, m_dav.password()); });
        QVERIFY2(stored.ok(), qPrintable(stored.error()));
        const qint64 c = fx.createCollection(QStringLiteral("keyed"), p.name);
        const qint64 id = fx.addFile(c, QStringLiteral("doc.txt"), "secret-free content");
        // No SecretProvider: the job asks Credentials::secretFor, i.e. the keychain.
        const UploadResult r = fx.runJob(UploadScope{c, {}}, UploadFixture::fastSettings());
        QVERIFY2(r.outcome == UploadResult::Outcome::Succeeded,
                 qPrintable(r.failures.isEmpty() ? r.error : r.failures.first().error));
        QCOMPARE(fx.document(id).status, DocStatus::Uploaded);
        QCOMPARE(readAll(m_dav.documentRoot() + QStringLiteral("/keyed/doc.txt")), QByteArray("secret-free content"));
        onWorker([&] { (void)Credentials::remove(p.name); });
    }

    void commandLineStoresPasswordOnlyInTheKeychain()
    {
        if (!m_dav.isRunning())
            QSKIP("Apache is not available");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString secret = m_dav.password();
        const QString src = dir.filePath(QStringLiteral("file.txt"));
        {
            QFile f(src);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("uploaded with a keychain password\n");
        }
        Run r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("dav"),
                                   QStringLiteral("--kind"), QStringLiteral("webdav"), QStringLiteral("--url"),
                                   m_dav.baseUrl().toString(), QStringLiteral("--user"), m_dav.user()},
                      secret.toUtf8() + '\n');
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("password in the keychain"), r.out.constData());
        Result<std::optional<QString>> read = Result<std::optional<QString>>::failure({});
        onWorker([&] { read = Credentials::read(QStringLiteral("dav")); });
        QVERIFY2(read.ok() && read->has_value(), qPrintable(read.error()));
        QCOMPARE(**read, secret);

        r = quire(dir.path(), {QStringLiteral("remote"), QStringLiteral("test"), QStringLiteral("dav")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = quire(dir.path(), {QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("keyed-cli"),
                               QStringLiteral("--remote"), QStringLiteral("dav")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = quire(dir.path(), {QStringLiteral("add"), QStringLiteral("--collection"), QStringLiteral("keyed-cli"), src});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        r = quire(dir.path(), {QStringLiteral("push"), QStringLiteral("keyed-cli")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(readAll(m_dav.documentRoot() + QStringLiteral("/keyed-cli/file.txt")),
                 QByteArray("uploaded with a keychain password\n"));

        // The secret is in none of Quire's files, in no encoding.
        QStringList files;
        for (const QFileInfo &fi : QDir(dir.path()).entryInfoList(QDir::Files | QDir::Hidden))
            files << fi.filePath();
        QVERIFY(files.contains(dir.filePath(QStringLiteral("settings.json"))));
        QVERIFY(files.contains(dir.filePath(QStringLiteral("catalog.sqlite"))));
        for (const QString &f : std::as_const(files)) {
            const QByteArray bytes = readAll(f);
            for (const QByteArray &form : leakForms(m_dav.user(), secret))
                QVERIFY2(!bytes.contains(form), qPrintable(QStringLiteral("%1 contains the secret").arg(f)));
        }
        QVERIFY(!r.out.contains(secret.toUtf8()) && !r.err.contains(secret.toUtf8()));
        onWorker([&] { (void)Credentials::remove(QStringLiteral("dav")); });
    }

    void cleanupTestCase()
    {
        m_dav.stop();
        if (m_keyring.state() != QProcess::NotRunning) {
            m_keyring.terminate();
            if (!m_keyring.waitForFinished(5000)) {
                m_keyring.kill();
                m_keyring.waitForFinished(5000);
            }
        }
    }
};

int main(int argc, char *argv[])
{
    if (qEnvironmentVariable("QUIRE_TEST_KEYRING_SESSION") != QLatin1String("1")
        && !QStandardPaths::findExecutable(QStringLiteral("dbus-run-session")).isEmpty()) {
        // Run the real test in a private session bus and a private HOME; pass the result on.
        QCoreApplication app(argc, argv);
        QTemporaryDir root(QDir::tempPath() + QStringLiteral("/quire-keyring-XXXXXX"));
        if (!root.isValid())
            return 1;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char *d : {"home/.local/share", "home/.config", "home/.cache", "run"})
            QDir().mkpath(root.filePath(QLatin1String(d)));
        QFile::setPermissions(root.filePath(QStringLiteral("run")),
                              QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        env.insert(QStringLiteral("QUIRE_TEST_KEYRING_SESSION"), QStringLiteral("1"));
        env.insert(QStringLiteral("HOME"), root.filePath(QStringLiteral("home")));
        env.insert(QStringLiteral("XDG_DATA_HOME"), root.filePath(QStringLiteral("home/.local/share")));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), root.filePath(QStringLiteral("home/.config")));
        env.insert(QStringLiteral("XDG_CACHE_HOME"), root.filePath(QStringLiteral("home/.cache")));
        env.insert(QStringLiteral("XDG_RUNTIME_DIR"), root.filePath(QStringLiteral("run")));
        env.remove(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"));
        QStringList args{QStringLiteral("--"), QCoreApplication::applicationFilePath()};
        for (int i = 1; i < argc; ++i)
            args << QString::fromLocal8Bit(argv[i]);
        QProcess child;
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::ForwardedChannels);
        child.setInputChannelMode(QProcess::ForwardedInputChannel);
        child.start(QStringLiteral("dbus-run-session"), args);
        if (!child.waitForStarted(30'000) || !child.waitForFinished(-1))
            return 1;
        return child.exitStatus() == QProcess::NormalExit ? child.exitCode() : 1;
    }
    QCoreApplication app(argc, argv);
    TestCredentials test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_credentials.moc"
