// ctest-labels: ui
// SingleInstance: a second start hands its files to the first over a real local socket.
#include "platform/singleinstance.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTest>
#include <QTemporaryDir>
#include <QUuid>

#include <atomic>
#include <thread>

#ifndef Q_OS_WIN
#  include <sys/stat.h>
#  include <unistd.h>
#endif

using quire::SingleInstance;

class tst_SingleInstance final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void secondStartHandsItsFilesToTheFirst();
    void otherKeysAreIndependent();
    void leftoverSocketFileIsReplaced();
    void closingWindowStopsTakingRequests();
    void silentClientIsDropped();
    void silentPeerMeansAlone();
    void socketLivesInAPrivateFolder();
    void withoutARuntimeFolderNotInTmp();

private:
    // Runs claim() of a new instance on another thread (the first one answers on this thread's
    // event loop) and waits for its result.
    static SingleInstance::Role claimElsewhere(const QString &key, const QString &collection,
                                               const QList<QByteArray> &paths, int timeoutMs = 5000);
    static QString uniqueKey() { return QUuid::createUuid().toString(); }
};

SingleInstance::Role tst_SingleInstance::claimElsewhere(const QString &key, const QString &collection,
                                                        const QList<QByteArray> &paths, int timeoutMs)
{
    std::atomic<int> role{-1};
    std::thread other([&] {
        SingleInstance second(key);
        role = int(second.claim(collection, paths, timeoutMs));
    });
    // claim() keeps to its time limit; this bound only keeps a broken one from hanging the test.
    const bool done = QTest::qWaitFor([&] { return role.load() >= 0; }, timeoutMs + 60'000);
    other.join();
    if (!done)
        qFatal("claim() did not return");
    return SingleInstance::Role(role.load());
}

void tst_SingleInstance::secondStartHandsItsFilesToTheFirst()
{
    const QString key = uniqueKey();
    SingleInstance first(key);
    QCOMPARE(first.claim(QString(), {}), SingleInstance::Role::Primary);
    QSignalSpy received(&first, &SingleInstance::filesReceived);

    // Path bytes that are not UTF-8 arrive unchanged.
    const QList<QByteArray> paths{"/home/zoë/report.pdf", QByteArray("/tmp/latin1-\xe9t\xe9.txt"), "/srv/a b/c"};
    QCOMPARE(claimElsewhere(key, QStringLiteral("Letters"), paths), SingleInstance::Role::HandedOver);
    QTRY_COMPARE(received.count(), 1);
    QCOMPARE(received.at(0).at(0).toString(), QStringLiteral("Letters"));
    QCOMPARE(received.at(0).at(1).value<QList<QByteArray>>(), paths);

    // A start without files only asks to be shown.
    QCOMPARE(claimElsewhere(key, QString(), {}), SingleInstance::Role::HandedOver);
    QTRY_COMPARE(received.count(), 2);
    QCOMPARE(received.at(1).at(1).value<QList<QByteArray>>(), QList<QByteArray>());
}

void tst_SingleInstance::otherKeysAreIndependent()
{
    SingleInstance a(uniqueKey());
    SingleInstance b(uniqueKey());
    QVERIFY(a.serverName() != b.serverName());
    QCOMPARE(a.claim(QString(), {}), SingleInstance::Role::Primary);
    QCOMPARE(b.claim(QString(), {}), SingleInstance::Role::Primary);
}

void tst_SingleInstance::leftoverSocketFileIsReplaced()
{
#ifdef Q_OS_WIN
    QSKIP("named pipes leave nothing behind");
#else
    // A window that was killed leaves its socket file; nobody answers on it.
    const QString key = uniqueKey();
    SingleInstance probe(key);
    QFile file(probe.serverName());   // on Unix the name is the socket's path
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    SingleInstance first(key);
    QCOMPARE(first.claim(QString(), {}), SingleInstance::Role::Primary);
    QCOMPARE(claimElsewhere(key, QString(), {}), SingleInstance::Role::HandedOver);
#endif
}

void tst_SingleInstance::closingWindowStopsTakingRequests()
{
    // A window that is closing would lose what it is handed: the next start takes over.
    const QString key = uniqueKey();
    SingleInstance closing(key);
    QCOMPARE(closing.claim(QString(), {}), SingleInstance::Role::Primary);
    QSignalSpy received(&closing, &SingleInstance::filesReceived);
    closing.stopListening();
    QCOMPARE(claimElsewhere(key, QStringLiteral("X"), {"/a"}), SingleInstance::Role::Primary);
    QCOMPARE(received.count(), 0);
}

void tst_SingleInstance::silentClientIsDropped()
{
    // A client that connects and says nothing neither blocks the next one nor stays forever.
    const QString key = uniqueKey();
    SingleInstance first(key);
    QCOMPARE(first.claim(QString(), {}), SingleInstance::Role::Primary);
    QLocalSocket mute;
    mute.connectToServer(first.serverName());
    QVERIFY(mute.waitForConnected(10'000));
    QSignalSpy received(&first, &SingleInstance::filesReceived);
    QCOMPARE(claimElsewhere(key, QStringLiteral("Y"), {"/b"}), SingleInstance::Role::HandedOver);
    QTRY_COMPARE(received.count(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(mute.state(), QLocalSocket::UnconnectedState, 30'000);
}

void tst_SingleInstance::silentPeerMeansAlone()
{
    // Something listens under the name but never answers (a hung window): the new start
    // gives up after its time limit and runs on its own.
    const QString key = uniqueKey();
    QLocalServer silent;
    silent.setSocketOptions(QLocalServer::UserAccessOption);
    QVERIFY(silent.listen(SingleInstance(key).serverName()));
    QCOMPARE(claimElsewhere(key, QStringLiteral("X"), {"/a"}, 300), SingleInstance::Role::Alone);
}

namespace {
#ifndef Q_OS_WIN
// The mode bits of a folder that is this user's own and not a symlink; -1 otherwise.
int privateModeOf(const QString &path)
{
    struct stat st{};
    if (::lstat(QFile::encodeName(path).constData(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
        return -1;
    return int(st.st_mode & 07777);
}

// Sets an environment variable for the scope (unset when value is null), then restores it.
class EnvScope
{
public:
    EnvScope(const char *name, const QByteArray &value)
        : m_name(name), m_had(qEnvironmentVariableIsSet(name)), m_old(qgetenv(name))
    {
        value.isNull() ? qunsetenv(name) : qputenv(name, value);
    }
    ~EnvScope() { m_had ? qputenv(m_name, m_old) : qunsetenv(m_name); }

private:
    const char *m_name;
    bool m_had;
    QByteArray m_old;
};
#endif
} // namespace

void tst_SingleInstance::socketLivesInAPrivateFolder()
{
#ifdef Q_OS_WIN
    QSKIP("a named pipe's ACL admits this user only");
#else
    SingleInstance one(uniqueKey());
    QVERIFY(!one.serverName().isEmpty());
    const QString folder = QFileInfo(one.serverName()).path();
    QCOMPARE(folder, SingleInstance::privateFolder());
    QCOMPARE(privateModeOf(folder) & 077, 0);
    QCOMPARE(one.claim(QString(), {}), SingleInstance::Role::Primary);
#endif
}

void tst_SingleInstance::withoutARuntimeFolderNotInTmp()
{
#ifdef Q_OS_WIN
    QSKIP("named pipes");
#else
    QTemporaryDir cache;
    QVERIFY(cache.isValid());
    QTemporaryDir loose;   // a runtime folder anybody may enter is not used either
    QVERIFY(loose.isValid());
    QVERIFY(QFile::setPermissions(loose.path(), QFile::Permissions(0x7777)));
    for (const QByteArray &runtime : {QByteArray(), QFile::encodeName(loose.path())}) {
        EnvScope noRuntime("XDG_RUNTIME_DIR", runtime);
        EnvScope ownCache("XDG_CACHE_HOME", QFile::encodeName(cache.path()));
        // A folder left too open (made by hand, or under a loose umask) is made private again.
        QVERIFY(QDir().mkpath(cache.filePath(QStringLiteral("quire-run"))));
        QVERIFY(QFile::setPermissions(cache.filePath(QStringLiteral("quire-run")), QFile::Permissions(0x7777)));

        const QString key = uniqueKey();
        SingleInstance first(key);
        QCOMPARE(QFileInfo(first.serverName()).path(), cache.filePath(QStringLiteral("quire-run")));
        QCOMPARE(privateModeOf(cache.filePath(QStringLiteral("quire-run"))), 0700);
        QVERIFY(!first.serverName().startsWith(QDir::tempPath() + QStringLiteral("/quire")));
        // And it still works: a second start hands over to the first.
        QCOMPARE(first.claim(QString(), {}), SingleInstance::Role::Primary);
        QCOMPARE(claimElsewhere(key, QString(), {}), SingleInstance::Role::HandedOver);
    }
#endif
}


QTEST_GUILESS_MAIN(tst_SingleInstance)
#include "tst_singleinstance.moc"
