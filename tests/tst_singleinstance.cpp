// ctest-labels: ui
// SingleInstance: a second start hands its files to the first over a real local socket.
#include "singleinstance.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTest>
#include <QUuid>

#include <atomic>
#include <thread>

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

QTEST_GUILESS_MAIN(tst_SingleInstance)
#include "tst_singleinstance.moc"
