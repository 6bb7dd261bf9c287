// ctest-labels: concurrency
// ctest-timeout: 600
// The session store's settings file: written after a change (debounced, on its writer thread),
// read back on the next start, never clobbered when it could not be read; the numbers read from
// it kept in range; where it is.
#include "settings/sessionstore.h"
#include "settingsfiles.h"
#include "upload/uploadpolicy.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <optional>
#include <thread>

using namespace std::chrono_literals;
using quire::SessionStore;
using quire::Status;
using namespace quire::test;

class TestSessionStoreFile final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void persistenceSurvivesRestart();
    void destructorWritesPendingSettings();
    void debouncedWritesCoalesce();
    void changeFromWorkerThreadIsWritten();
    void sessionChangesNeverWrite();
    void memoryOnlyStoreNeverWrites();
    void numbersAreKeptInRange_data();
    void numbersAreKeptInRange();
    void uploadSettingsAreKeptInRange();
    void corruptFileKeepsDefaults_data();
    void corruptFileKeepsDefaults();
    void unreadableFileIsNeverOverwritten_data();
    void unreadableFileIsNeverOverwritten();
    void storeThatWasNotLoadedDoesNotClobber();

    void resolveSettingsPath_data();
    void resolveSettingsPath();
    void defaultSettingsPath();

private:
    std::optional<QTemporaryDir> m_dir;   // a fresh folder for each test
    QString m_path;                       // settings.json in it
};

void TestSessionStoreFile::initTestCase()
{
    // defaultSettingsPath() then points into a test location, never the user's real settings.
    QStandardPaths::setTestModeEnabled(true);
}

void TestSessionStoreFile::init()
{
    m_dir.emplace();
    QVERIFY(m_dir->isValid());
    m_path = m_dir->filePath(QStringLiteral("settings.json"));
}

void TestSessionStoreFile::cleanup()
{
    m_dir.reset();
}

// ---------------------------------------------------------------------------------------------
// Persistence

void TestSessionStoreFile::persistenceSurvivesRestart()
{
    const QString path = m_dir->filePath(QStringLiteral("nested/folder/settings.json"));

    {
        SessionStore store(path);
        QVERIFY(store.load().ok());   // a missing file is fine
        QVERIFY(!QFile::exists(path));
        QVERIFY(store.setValues({{QStringLiteral("settings/ui/theme"), QStringLiteral("dark")},
                                 {QStringLiteral("settings/io/threads"), 8},
                                 {QStringLiteral("settings/zoom"), 1.5},
                                 {QStringLiteral("settings/flag"), true},
                                 {QStringLiteral("settings/recent"), QStringList{QStringLiteral("x"), QStringLiteral("y")}},
                                 {QStringLiteral("settings/window"), QVariantMap{{QStringLiteral("w"), 640}}},
                                 {QStringLiteral("session/open"), QStringLiteral("doc")},
                                 {QStringLiteral("cache/other"), 1}}).ok());
        const Status flushed = store.flush();
        QVERIFY2(flushed.ok(), qPrintable(flushed.error()));
        QCOMPARE(store.stats().fileWrites, quint64(1));
        QVERIFY(store.flush().ok());   // nothing new: no second write
        QCOMPARE(store.stats().fileWrites, quint64(1));

        QString jsonError;
        const QJsonObject json = readJson(path, &jsonError);
        QVERIFY2(jsonError.isEmpty(), qPrintable(jsonError));
        QCOMPARE(json.size(), 6);
        QCOMPARE(json.value(QStringLiteral("settings/ui/theme")).toString(), QStringLiteral("dark"));
        QVERIFY(!json.contains(QStringLiteral("session/open")));
        QVERIFY(!json.contains(QStringLiteral("cache/other")));
    }

    SessionStore again(path);
    QSignalSpy spy(&again, &SessionStore::valueChanged);
    const Status loaded = again.load();
    QVERIFY2(loaded.ok(), qPrintable(loaded.error()));
    QCOMPARE(spy.count(), 6);
    QCOMPARE(again.value(QStringLiteral("settings/ui/theme"))->toString(), QStringLiteral("dark"));
    QCOMPARE(again.value(QStringLiteral("settings/io/threads"))->toInt(), 8);
    QCOMPARE(again.value(QStringLiteral("settings/zoom"))->toDouble(), 1.5);
    QCOMPARE(again.value(QStringLiteral("settings/flag"))->toBool(), true);
    QCOMPARE(again.value(QStringLiteral("settings/recent"))->toStringList(),
             (QStringList{QStringLiteral("x"), QStringLiteral("y")}));
    QCOMPARE(again.value(QStringLiteral("settings/window"))->toMap().value(QStringLiteral("w")).toInt(), 640);
    QCOMPARE(again.contains(QStringLiteral("session/open")).value(), false);
    QCOMPARE(again.contains(QStringLiteral("cache/other")).value(), false);
    QCOMPARE(again.stats().keyCount, 6);
    // Loading what is on disk schedules no write.
    QVERIFY(again.flush().ok());
    QCOMPARE(again.stats().fileWrites, quint64(0));
}

void TestSessionStoreFile::destructorWritesPendingSettings()
{
    {
        SessionStore store(m_path);
        QVERIFY(store.load().ok());
        store.setFlushDelay(1h);   // only the destructor can write it
        QVERIFY(store.setValue(QStringLiteral("settings/kept"), 7).ok());
    }
    QCOMPARE(readJson(m_path).value(QStringLiteral("settings/kept")).toInt(), 7);
}

void TestSessionStoreFile::debouncedWritesCoalesce()
{
    SessionStore store(m_path);
    QVERIFY(store.load().ok());
    store.setFlushDelay(50ms);

    // The debounce timer lives in this thread and cannot fire before the event loop runs again,
    // so all of these are one burst whatever the machine's load.
    for (int i = 0; i < 100; ++i)
        QVERIFY(store.setValue(QStringLiteral("settings/counter"), i).ok());
    QCOMPARE(store.stats().fileWrites, quint64(0));

    QTRY_COMPARE_WITH_TIMEOUT(store.stats().fileWrites, quint64(1), 30'000);
    QCOMPARE(readJson(m_path).value(QStringLiteral("settings/counter")).toInt(), 99);
    // Nothing changed since: no further write is scheduled, so none can follow.
    QTRY_VERIFY_WITH_TIMEOUT(!store.stats().writeScheduled, 30'000);
    QCOMPARE(store.stats().fileWrites, quint64(1));
    QCOMPARE(store.stats().fileWriteFailures, quint64(0));

    // A second burst gives a second write with the newest value.
    QVERIFY(store.setValue(QStringLiteral("settings/counter"), 100).ok());
    QVERIFY(store.setValue(QStringLiteral("settings/other"), true).ok());
    QTRY_COMPARE_WITH_TIMEOUT(store.stats().fileWrites, quint64(2), 30'000);
    const QJsonObject json = readJson(m_path);
    QCOMPARE(json.value(QStringLiteral("settings/counter")).toInt(), 100);
    QCOMPARE(json.value(QStringLiteral("settings/other")).toBool(), true);
}

void TestSessionStoreFile::changeFromWorkerThreadIsWritten()
{
    SessionStore store(m_path);
    QVERIFY(store.load().ok());
    store.setFlushDelay(50ms);

    std::thread worker([&] {
        for (int i = 0; i < 50; ++i)
            (void)store.setValue(QStringLiteral("settings/fromWorker"), i);
    });
    worker.join();
    QTRY_VERIFY_WITH_TIMEOUT(readJson(m_path).value(QStringLiteral("settings/fromWorker")).toInt() == 49, 30'000);
    QVERIFY(store.stats().fileWrites >= 1);

    // requestFlush() skips the debounce and still writes on the writer thread.
    store.setFlushDelay(1h);
    QVERIFY(store.setValue(QStringLiteral("settings/fromWorker"), 1000).ok());
    store.requestFlush();
    QTRY_VERIFY_WITH_TIMEOUT(readJson(m_path).value(QStringLiteral("settings/fromWorker")).toInt() == 1000, 30'000);
}

void TestSessionStoreFile::sessionChangesNeverWrite()
{
    {
        SessionStore store(m_path);
        QVERIFY(store.load().ok());
        store.setFlushDelay(10ms);
        QVERIFY(store.setValue(QStringLiteral("session/a"), 1).ok());
        QVERIFY(store.update([](const QVariantMap &) { return QVariantMap{{QStringLiteral("session/b"), 2}}; }).ok());
        const quint64 served = store.stats().writeRequestsServed;
        store.requestFlush();
        // The writer thread has looked at the request (and written nothing: see below).
        QTRY_COMPARE_WITH_TIMEOUT(store.stats().writeRequestsServed, served + 1, 30'000);
        QVERIFY(!store.stats().writeScheduled);
        QVERIFY(store.flush().ok());
        QCOMPARE(store.stats().fileWrites, quint64(0));
    }
    QVERIFY(!QFile::exists(m_path));
}

void TestSessionStoreFile::memoryOnlyStoreNeverWrites()
{
    SessionStore store;
    QVERIFY(store.load().ok());
    QVERIFY(store.setValue(QStringLiteral("settings/a"), 1).ok());
    store.requestFlush();
    QVERIFY(store.flush().ok());
    QCOMPARE(store.stats().fileWrites, quint64(0));
    QCOMPARE(store.value(QStringLiteral("settings/a")).value(), QVariant(1));
}

void TestSessionStoreFile::numbersAreKeptInRange_data()
{
    QTest::addColumn<QVariant>("value");
    QTest::addColumn<qint64>("expected");
    QTest::addColumn<QString>("warning");   // empty: none
    QTest::newRow("missing") << QVariant() << qint64(3) << QString();
    QTest::newRow("in range") << QVariant(7.0) << qint64(7) << QString();
    QTest::newRow("in range, text") << QVariant(QStringLiteral("12")) << qint64(12) << QString();
    QTest::newRow("too large") << QVariant(100000.0) << qint64(16) << QStringLiteral("outside 1 to 16");
    QTest::newRow("huge") << QVariant(1e300) << qint64(3) << QStringLiteral("not a whole number");
    QTest::newRow("negative") << QVariant(qlonglong(-5)) << qint64(1) << QStringLiteral("outside 1 to 16");
    QTest::newRow("fraction") << QVariant(2.5) << qint64(3) << QStringLiteral("not a whole number");
    QTest::newRow("text") << QVariant(QStringLiteral("many")) << qint64(3) << QStringLiteral("not a whole number");
    QTest::newRow("boolean") << QVariant(true) << qint64(3) << QStringLiteral("not a whole number");
}

void TestSessionStoreFile::numbersAreKeptInRange()
{
    QFETCH(QVariant, value);
    QFETCH(qint64, expected);
    QFETCH(QString, warning);
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".")));   // any warning not expected below
    SessionStore store;
    const QString key = QStringLiteral("settings/test/") + QString::fromLatin1(QTest::currentDataTag());
    if (value.isValid())
        QVERIFY(store.setValue(key, value).ok());
    if (!warning.isEmpty()) {
        // Named with the key and the reason, once: a second read says nothing more (an
        // unexpected second warning fails the test).
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^settings: %1 '.*' \\(%2\\); using %3$")
                                                                  .arg(QRegularExpression::escape(key), warning)
                                                                  .arg(expected)));
    }
    QCOMPARE(store.intSetting(key, 3, 1, 16), expected);
    QCOMPARE(store.intSetting(key, 3, 1, 16), expected);
}

void TestSessionStoreFile::uploadSettingsAreKeptInRange()
{
    SessionStore store;
    // As a hand-edited settings file gives them (JSON numbers are doubles).
    QVERIFY(store.setValues(QVariantMap{{quire::UploadSettings::key("parallel"), 1e6},
                             {quire::UploadSettings::key("lanesPerFile"), 0.0},
                             {quire::UploadSettings::key("segmentMiB"), 1e9},
                             {quire::UploadSettings::key("transferTimeoutSecs"), -1.0},
                             {quire::UploadSettings::key("chunkMiB"), QStringLiteral("lots")}})
                .ok());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("settings/uploads/parallel .*using 16$")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("settings/uploads/lanesPerFile .*using 1$")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("settings/uploads/segmentMiB .*using 4096$")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("settings/uploads/transferTimeoutSecs .*using 1$")));
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("settings/uploads/chunkMiB .*not a whole number.*using 10$")));
    const quire::UploadSettings s = quire::UploadSettings::fromStore(store);
    QCOMPARE(s.parallel, 16);
    QCOMPARE(s.limits.lanes, 1);
    QCOMPARE(s.limits.segmentSize, qint64(4096) * 1024 * 1024);
    QCOMPARE(s.limits.transferTimeout, std::chrono::milliseconds(1000));
    QCOMPARE(s.limits.chunkSize, qint64(10) * 1024 * 1024);
}

void TestSessionStoreFile::corruptFileKeepsDefaults_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QString>("reason");

    QTest::newRow("truncated") << QByteArray(R"({"settings/a": 1, "settings/b": )") << QString();
    QTest::newRow("not an object") << QByteArray("[1, 2, 3]") << QStringLiteral("not a JSON object");
    QTest::newRow("empty") << QByteArray() << QString();
    QTest::newRow("binary garbage") << QByteArray("\x00\xff\xfe garbage \x01", 14) << QString();
    QTest::newRow("trailing junk") << QByteArray(R"({"settings/a": 1} junk)") << QString();
}

void TestSessionStoreFile::corruptFileKeepsDefaults()
{
    QFETCH(QByteArray, content);
    QFETCH(QString, reason);

    QVERIFY(writeFile(m_path, content));

    {
        // Loaded and dropped with no change: the file stays as it was.
        SessionStore store(m_path);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(escaped(m_path) + QStringLiteral(" is corrupt")));
        QVERIFY(!store.load().ok());
    }
    QCOMPARE(readFile(m_path), content);

    SessionStore store(m_path);
    QSignalSpy failures(&store, &SessionStore::writeFailed);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(escaped(m_path) + QStringLiteral(" is corrupt")));
    const Status status = store.load();
    QVERIFY(!status.ok());
    QVERIFY2(status.error().contains(QStringLiteral("Settings file ") + m_path + QStringLiteral(" is corrupt")),
             qPrintable(status.error()));
    QVERIFY2(status.error().contains(QStringLiteral("Using default settings")), qPrintable(status.error()));
    if (!reason.isEmpty())
        QVERIFY2(status.error().contains(reason), qPrintable(status.error()));

    // Defaults, and the store works.
    QCOMPARE(store.keys().value(), QStringList());
    QCOMPARE(store.value(QStringLiteral("settings/a"), 42).value(), QVariant(42));
    QVERIFY(store.setValue(QStringLiteral("session/x"), 1).ok());
    QVERIFY(store.flush().ok());
    QCOMPARE(readFile(m_path), content);   // not overwritten: no setting changed yet

    // The first change of a setting keeps a copy and replaces the file atomically.
    QVERIFY(store.setValue(QStringLiteral("settings/a"), 2).ok());
    const Status flushed = store.flush();
    QVERIFY2(flushed.ok(), qPrintable(flushed.error()));
    QString jsonError;
    const QJsonObject json = readJson(m_path, &jsonError);
    QVERIFY2(jsonError.isEmpty(), qPrintable(jsonError));
    QCOMPARE(json, (QJsonObject{{QStringLiteral("settings/a"), 2}}));
    QCOMPARE(readFile(m_path + QStringLiteral(".corrupt")), content);
    QCOMPARE(failures.count(), 0);

    // Now that the file is good again, later writes leave the backup alone.
    QVERIFY(store.setValue(QStringLiteral("settings/a"), 3).ok());
    QVERIFY(store.flush().ok());
    QCOMPARE(readFile(m_path + QStringLiteral(".corrupt")), content);
    SessionStore again(m_path);
    QVERIFY(again.load().ok());
    QCOMPARE(again.value(QStringLiteral("settings/a"))->toInt(), 3);
}

void TestSessionStoreFile::unreadableFileIsNeverOverwritten_data()
{
    quire::test::addBoolRows("directory", "a folder where the file should be", "no read permission");
}

void TestSessionStoreFile::unreadableFileIsNeverOverwritten()
{
    QFETCH(bool, directory);

    const QByteArray content(R"({"settings/a": 1})");
    if (directory) {
        QVERIFY(QDir().mkpath(m_path));
    } else {
        QVERIFY(writeFile(m_path, content));
        QVERIFY(QFile::setPermissions(m_path, QFileDevice::WriteOwner));
        QFile probe(m_path);
        if (probe.open(QIODevice::ReadOnly)) {
            QFile::setPermissions(m_path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
            QSKIP("this user can read files without read permission (root)");
        }
    }

    {
        SessionStore store(m_path);
        QSignalSpy failures(&store, &SessionStore::writeFailed);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("Cannot read settings file ") + escaped(m_path)));
        const Status status = store.load();
        QVERIFY(!status.ok());
        QVERIFY2(status.error().contains(QStringLiteral("Cannot read settings file ") + m_path + QStringLiteral(": ")),
                 qPrintable(status.error()));
        QVERIFY2(status.error().contains(QStringLiteral("Using default settings")), qPrintable(status.error()));

        QCOMPARE(store.value(QStringLiteral("settings/a"), 42).value(), QVariant(42));
        QVERIFY(store.setValue(QStringLiteral("settings/a"), 2).ok());   // works in memory
        QCOMPARE(store.value(QStringLiteral("settings/a")).value(), QVariant(2));

        const QRegularExpression refused(QStringLiteral("not saving settings to ") + escaped(m_path)
                                         + QStringLiteral(".*left untouched"));
        QTest::ignoreMessage(QtWarningMsg, refused);
        const Status flushed = store.flush();
        QVERIFY(!flushed.ok());
        QVERIFY2(flushed.error().contains(QStringLiteral("left untouched")), qPrintable(flushed.error()));
        QCOMPARE(failures.count(), 1);
        QCOMPARE(store.stats().fileWriteFailures, quint64(1));
        QTest::ignoreMessage(QtWarningMsg, refused);   // the destructor tries once more
    }

    if (directory) {
        QVERIFY(QFileInfo(m_path).isDir());
    } else {
        QVERIFY(QFile::setPermissions(m_path, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QCOMPARE(readFile(m_path), content);
    }
}

void TestSessionStoreFile::storeThatWasNotLoadedDoesNotClobber()
{
    const QByteArray content(R"({"settings/a": 1, "settings/b": 2})");
    QVERIFY(writeFile(m_path, content));
    {
        SessionStore store(m_path);
        QVERIFY(store.setValue(QStringLiteral("settings/a"), 5).ok());
        const QRegularExpression refused(QStringLiteral("load\\(\\) was not called"));
        QTest::ignoreMessage(QtWarningMsg, refused);
        QVERIFY(!store.flush().ok());
        QTest::ignoreMessage(QtWarningMsg, refused);   // and again from the destructor
    }
    QCOMPARE(readFile(m_path), content);
}

// ---------------------------------------------------------------------------------------------
// Paths

void TestSessionStoreFile::resolveSettingsPath_data()
{
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("environment");
    QTest::addColumn<QString>("expected");

    const QString fromOption = QDir::temp().absoluteFilePath(QStringLiteral("quire-option/settings.json"));
    const QString fromEnvironment = QDir::temp().absoluteFilePath(QStringLiteral("quire-env/settings.json"));
    QTest::newRow("option wins") << fromOption << fromEnvironment << fromOption;
    QTest::newRow("environment without option") << QString() << fromEnvironment << fromEnvironment;
    QTest::newRow("default") << QString() << QString() << SessionStore::defaultSettingsPath();
    QTest::newRow("relative option made absolute")
        << QStringLiteral("conf/quire.json") << QString()
        << QDir::current().absoluteFilePath(QStringLiteral("conf/quire.json"));
    QTest::newRow("relative environment made absolute")
        << QString() << QStringLiteral("env.json") << QDir::current().absoluteFilePath(QStringLiteral("env.json"));
}

void TestSessionStoreFile::resolveSettingsPath()
{
    QFETCH(QString, option);
    QFETCH(QString, environment);
    QFETCH(QString, expected);

    const QByteArray saved = qgetenv("QUIRE_CONFIG");
    const bool hadSaved = qEnvironmentVariableIsSet("QUIRE_CONFIG");
    if (environment.isEmpty())
        qunsetenv("QUIRE_CONFIG");
    else
        qputenv("QUIRE_CONFIG", environment.toLocal8Bit());
    const QString resolved = SessionStore::resolveSettingsPath(option);
    if (hadSaved)
        qputenv("QUIRE_CONFIG", saved);
    else
        qunsetenv("QUIRE_CONFIG");
    QCOMPARE(resolved, expected);
}

void TestSessionStoreFile::defaultSettingsPath()
{
    const QString path = SessionStore::defaultSettingsPath();
    QVERIFY(path.endsWith(QStringLiteral("/settings.json")));
    QVERIFY(path.startsWith(QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation)));
}

QTEST_GUILESS_MAIN(TestSessionStoreFile)
#include "tst_sessionstorefile.moc"
