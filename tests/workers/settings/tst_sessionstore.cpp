// ctest-labels: concurrency
// ctest-timeout: 600
#include "settings/sessionstore.h"
#include "settingsfiles.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPoint>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using quire::SessionStore;
using quire::Status;
using namespace quire::test;

namespace {

// QSignalSpy stores a QVariant argument either as is or wrapped in another QVariant.
QVariant spiedVariant(const QVariant &argument)
{
    return argument.metaType() == QMetaType::fromType<QVariant>() ? argument.value<QVariant>() : argument;
}

// Records valueChanged() in whatever thread it lives in. Read from the test thread: atomics and
// a std::mutex, which ThreadSanitizer can see.
class Receiver final : public QObject
{
    Q_OBJECT
public:
    std::atomic<int> count{0};
    std::atomic<QThread *> lastThread{nullptr};
    std::atomic<bool> wrongThread{false};

    QStringList keys() const
    {
        std::lock_guard lock(m_mutex);
        return m_keys;
    }

public Q_SLOTS:
    void onValueChanged(const QString &key, const QVariant &)
    {
        QThread *current = QThread::currentThread();
        if (current != thread())
            wrongThread = true;
        lastThread = current;
        {
            std::lock_guard lock(m_mutex);
            m_keys << key;
        }
        ++count;
    }

private:
    mutable std::mutex m_mutex;
    QStringList m_keys;
};

} // namespace

class TestSessionStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void singleKey_data();
    void singleKey();
    void refusedChanges_data();
    void refusedChanges();
    void batch();
    void keysAndSnapshot();
    void clearRemovesEverything();
    void updateIsAtomic();
    void updateRemovesWithInvalidVariant();
    void updateRefusedChangeAppliesNothing();
    void updateMustNotCallBack();

    void signalsAreEmittedOnlyForRealChanges();
    void signalsAreEmittedAfterTheLockIsReleased_data();
    void signalsAreEmittedAfterTheLockIsReleased();
    void signalArrivesInReceiverThread_data();
    void signalArrivesInReceiverThread();

    void concurrentMixedOperations();
    void lockTimeoutFailsAndIsCounted_data();
    void lockTimeoutFailsAndIsCounted();
    void lockTimeoutAccessors();
};

void TestSessionStore::initTestCase()
{
    // defaultSettingsPath() then points into a test location, never the user's real settings.
    QStandardPaths::setTestModeEnabled(true);
}

// ---------------------------------------------------------------------------------------------
// Single-key, batch and atomic operations

void TestSessionStore::singleKey_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QVariant>("value");

    QTest::newRow("session int") << QStringLiteral("session/count") << QVariant(42);
    QTest::newRow("session string") << QStringLiteral("session/name") << QVariant(QStringLiteral("Ünïcode"));
    QTest::newRow("session bytes") << QStringLiteral("session/blob") << QVariant(QByteArray("\0\1\2", 3));
    QTest::newRow("session non-JSON type") << QStringLiteral("session/point") << QVariant(QPoint(3, 4));
    QTest::newRow("settings bool") << QStringLiteral("settings/ui/dark") << QVariant(true);
    QTest::newRow("settings double") << QStringLiteral("settings/zoom") << QVariant(1.25);
    QTest::newRow("settings list") << QStringLiteral("settings/recent")
                                   << QVariant(QStringList{QStringLiteral("a"), QStringLiteral("b")});
    QTest::newRow("settings map") << QStringLiteral("settings/window")
                                  << QVariant(QVariantMap{{QStringLiteral("w"), 640}, {QStringLiteral("h"), 480}});
    QTest::newRow("other prefix") << QStringLiteral("cache/x") << QVariant(7);
}

void TestSessionStore::singleKey()
{
    QFETCH(QString, key);
    QFETCH(QVariant, value);

    SessionStore store;
    QSignalSpy spy(&store, &SessionStore::valueChanged);

    QCOMPARE(store.contains(key).value(), false);
    QCOMPARE(store.value(key, QStringLiteral("fallback")).value(), QVariant(QStringLiteral("fallback")));
    QCOMPARE(store.value(key).value(), QVariant());

    const Status set = store.setValue(key, value);
    QVERIFY2(set.ok(), qPrintable(set.error()));
    QCOMPARE(store.contains(key).value(), true);
    QCOMPARE(store.value(key).value(), value);
    QCOMPARE(store.value(key, QStringLiteral("fallback")).value(), value);
    QCOMPARE(store.keys().value(), QStringList{key});
    QCOMPARE(store.stats().keyCount, 1);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), key);
    QCOMPARE(spiedVariant(spy.at(0).at(1)), value);

    QVERIFY(store.remove(key).ok());
    QCOMPARE(store.contains(key).value(), false);
    QCOMPARE(store.stats().keyCount, 0);
    QCOMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).toString(), key);
    QVERIFY(!spiedVariant(spy.at(1).at(1)).isValid());

    QVERIFY(store.remove(key).ok());   // removing a missing key succeeds and signals nothing
    QCOMPARE(spy.count(), 2);
}

void TestSessionStore::refusedChanges_data()
{
    QTest::addColumn<QVariantMap>("changes");
    QTest::addColumn<QString>("expected");

    QTest::newRow("empty key") << QVariantMap{{QString(), 1}} << QStringLiteral("empty key");
    QTest::newRow("point under settings")
        << QVariantMap{{QStringLiteral("settings/point"), QPoint(1, 2)}}
        << QStringLiteral("refused a value of type QPoint for \"settings/point\"");
    QTest::newRow("point inside a settings list")
        << QVariantMap{{QStringLiteral("settings/list"), QVariantList{1, QPoint(1, 2)}}}
        << QStringLiteral("representable in JSON");
    QTest::newRow("one bad key spoils the batch")
        << QVariantMap{{QStringLiteral("session/fine"), 1}, {QStringLiteral("settings/point"), QPoint(1, 2)}}
        << QStringLiteral("\"settings/point\"");
}

void TestSessionStore::refusedChanges()
{
    QFETCH(QVariantMap, changes);
    QFETCH(QString, expected);

    SessionStore store;
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    const Status status = store.setValues(changes);
    QVERIFY(!status.ok());
    QVERIFY2(status.error().contains(expected), qPrintable(status.error()));

    const Status viaUpdate = store.update([&](const QVariantMap &) { return changes; });
    QVERIFY(!viaUpdate.ok());
    QVERIFY2(viaUpdate.error().contains(expected), qPrintable(viaUpdate.error()));

    QCOMPARE(store.stats().keyCount, 0);   // all or nothing
    QCOMPARE(spy.count(), 0);
}

void TestSessionStore::batch()
{
    SessionStore store;
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    const QVariantMap pair{{QStringLiteral("session/a"), 1}, {QStringLiteral("session/b"), 2}};
    QVERIFY(store.setValues(pair).ok());
    QCOMPARE(spy.count(), 2);

    const auto read = store.values({QStringLiteral("session/a"), QStringLiteral("session/b"),
                                    QStringLiteral("session/missing")});
    QVERIFY2(read.ok(), qPrintable(read.error()));
    QCOMPARE(read.value(), pair);   // a missing key is left out

    // Invalid values remove in the same batch; unchanged values signal nothing.
    QVERIFY(store.setValues({{QStringLiteral("session/a"), 1},
                             {QStringLiteral("session/b"), QVariant()},
                             {QStringLiteral("session/c"), 3}}).ok());
    QCOMPARE(spy.count(), 4);
    QCOMPARE(store.keys().value(), (QStringList{QStringLiteral("session/a"), QStringLiteral("session/c")}));
    QCOMPARE(store.values({}).value(), QVariantMap());
}

void TestSessionStore::keysAndSnapshot()
{
    SessionStore store;
    QVERIFY(store.setValues({{QStringLiteral("settings/ui/theme"), QStringLiteral("dark")},
                             {QStringLiteral("settings/ui/zoom"), 2},
                             {QStringLiteral("settings/io"), 4},
                             {QStringLiteral("session/open"), 1},
                             {QStringLiteral("settingsX"), 0}}).ok());

    QCOMPARE(store.keys(QStringLiteral("settings/ui/")).value(),
             (QStringList{QStringLiteral("settings/ui/theme"), QStringLiteral("settings/ui/zoom")}));
    QCOMPARE(store.keys(QStringLiteral("settings/")).value().size(), 3);
    QCOMPARE(store.keys().value().size(), 5);
    QCOMPARE(store.keys(QStringLiteral("nothing/")).value(), QStringList());

    const auto ui = store.snapshot(QStringLiteral("settings/ui/"));
    QVERIFY(ui.ok());
    QCOMPARE(ui->size(), 2);
    QCOMPARE(ui->value(QStringLiteral("settings/ui/theme")).toString(), QStringLiteral("dark"));
    QCOMPARE(store.snapshot().value().size(), 5);
}

void TestSessionStore::clearRemovesEverything()
{
    SessionStore store;
    QVERIFY(store.setValues({{QStringLiteral("settings/a"), 1}, {QStringLiteral("session/b"), 2}}).ok());
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    QVERIFY(store.clear().ok());
    QCOMPARE(spy.count(), 2);
    for (const QList<QVariant> &arguments : spy)
        QVERIFY(!spiedVariant(arguments.at(1)).isValid());
    QCOMPARE(store.stats().keyCount, 0);
    QCOMPARE(store.keys().value(), QStringList());
    QVERIFY(store.clear().ok());
    QCOMPARE(spy.count(), 2);
}

void TestSessionStore::updateIsAtomic()
{
    SessionStore store;
    QVERIFY(store.setValue(QStringLiteral("session/n"), 1).ok());
    QVariantMap seen;
    const Status status = store.update([&](const QVariantMap &snapshot) {
        seen = snapshot;
        return QVariantMap{{QStringLiteral("session/n"), snapshot.value(QStringLiteral("session/n")).toInt() + 1},
                           {QStringLiteral("session/m"), 10}};
    });
    QVERIFY2(status.ok(), qPrintable(status.error()));
    QCOMPARE(seen, (QVariantMap{{QStringLiteral("session/n"), 1}}));
    QCOMPARE(store.value(QStringLiteral("session/n")).value(), QVariant(2));
    QCOMPARE(store.value(QStringLiteral("session/m")).value(), QVariant(10));

    // Returning no changes is fine and signals nothing.
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    QVERIFY(store.update([](const QVariantMap &) { return QVariantMap(); }).ok());
    QCOMPARE(spy.count(), 0);
    QVERIFY(!store.update({}).ok());
}

void TestSessionStore::updateRemovesWithInvalidVariant()
{
    SessionStore store;
    QVERIFY(store.setValues({{QStringLiteral("session/a"), 1}, {QStringLiteral("session/b"), 2}}).ok());
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    QVERIFY(store.update([](const QVariantMap &) {
        return QVariantMap{{QStringLiteral("session/a"), QVariant()},
                           {QStringLiteral("session/absent"), QVariant()}};
    }).ok());
    QCOMPARE(store.contains(QStringLiteral("session/a")).value(), false);
    QCOMPARE(store.contains(QStringLiteral("session/b")).value(), true);
    QCOMPARE(spy.count(), 1);   // removing a key that was never there changes nothing
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("session/a"));
    QVERIFY(!spiedVariant(spy.at(0).at(1)).isValid());
}

void TestSessionStore::updateRefusedChangeAppliesNothing()
{
    SessionStore store;
    QVERIFY(store.setValue(QStringLiteral("session/a"), 1).ok());
    const Status status = store.update([](const QVariantMap &) {
        return QVariantMap{{QStringLiteral("session/a"), 2}, {QString(), 3}};
    });
    QVERIFY(!status.ok());
    QCOMPARE(store.value(QStringLiteral("session/a")).value(), QVariant(1));
    // The lock was released on that early return.
    QVERIFY(store.setValue(QStringLiteral("session/a"), 4).ok());
}

void TestSessionStore::updateMustNotCallBack()
{
    SessionStore store;
    store.setLockTimeout(10s);   // a deadlock would show as a 10 s wait and a timeout message
    QString innerError;
    QTest::ignoreMessage(QtWarningMsg,
                         QRegularExpression(escaped(QStringLiteral("value(\"session/a\") was called from inside an update()"))));
    const Status status = store.update([&](const QVariantMap &) {
        const auto inner = store.value(QStringLiteral("session/a"));
        innerError = inner.ok() ? QString() : inner.error();
        return QVariantMap{{QStringLiteral("session/a"), 1}};
    });
    QVERIFY(status.ok());
    QVERIFY2(innerError.contains(QStringLiteral("must not call back")), qPrintable(innerError));
    QCOMPARE(store.stats().failedAcquisitions, quint64(0));
    // Other stores may be used from inside the function.
    SessionStore other;
    QVERIFY(store.update([&](const QVariantMap &) {
        innerError = other.setValue(QStringLiteral("session/x"), 1).error();
        return QVariantMap();
    }).ok());
    QCOMPARE(innerError, QString());
}

// ---------------------------------------------------------------------------------------------
// Change signals

void TestSessionStore::signalsAreEmittedOnlyForRealChanges()
{
    SessionStore store;
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    QVERIFY(store.setValue(QStringLiteral("session/a"), 1).ok());
    QVERIFY(store.setValue(QStringLiteral("session/a"), 1).ok());
    QCOMPARE(spy.count(), 1);
    // Same number, other type: a change.
    QVERIFY(store.setValue(QStringLiteral("session/a"), 1.0).ok());
    QCOMPARE(spy.count(), 2);
    QCOMPARE(store.value(QStringLiteral("session/a"))->metaType(), QMetaType::fromType<double>());
    // setValue of an invalid variant removes.
    QVERIFY(store.setValue(QStringLiteral("session/a"), QVariant()).ok());
    QCOMPARE(spy.count(), 3);
    QCOMPARE(store.contains(QStringLiteral("session/a")).value(), false);
}

void TestSessionStore::signalsAreEmittedAfterTheLockIsReleased_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<bool>("fromWorker");
    for (const char *op : {"setValue", "setValues", "update", "remove", "clear", "load"}) {
        QTest::addRow("%s from test thread", op) << QString::fromLatin1(op) << false;
        QTest::addRow("%s from worker thread", op) << QString::fromLatin1(op) << true;
    }
}

void TestSessionStore::signalsAreEmittedAfterTheLockIsReleased()
{
    QFETCH(QString, operation);
    QFETCH(bool, fromWorker);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("settings.json"));
    QVERIFY(writeFile(path, R"({"settings/a": 5, "settings/b": 6})"));

    SessionStore store(path);
    if (operation != QLatin1String("load")) {
        QVERIFY(store.load().ok());
    }
    store.setLockTimeout(50ms);
    store.resetStats();

    // A directly connected slot runs inside the emitting call: if the store still held its lock
    // there, these reads would fail (time out) instead of seeing the new values.
    struct Seen { QString key; QVariant emitted; QVariant read; QString error; };
    std::mutex mutex;
    QList<Seen> seen;
    connect(&store, &SessionStore::valueChanged, &store,
            [&](const QString &key, const QVariant &value) {
                const auto read = store.value(key);
                const auto batch = store.values({key});
                const auto contains = store.contains(key);
                std::lock_guard lock(mutex);
                QString error = read.ok() ? QString() : read.error();
                if (!batch.ok() || !contains.ok())
                    error += QStringLiteral(" batch/contains failed");
                seen.append({key, value, read.ok() ? read.value() : QVariant(), error});
            },
            Qt::DirectConnection);

    auto run = [&] {
        if (operation == QLatin1String("setValue"))
            return store.setValue(QStringLiteral("settings/a"), 1);
        if (operation == QLatin1String("setValues"))
            return store.setValues({{QStringLiteral("settings/a"), 1}, {QStringLiteral("settings/b"), 2}});
        if (operation == QLatin1String("update"))
            return store.update([](const QVariantMap &snapshot) {
                return QVariantMap{{QStringLiteral("settings/a"), snapshot.value(QStringLiteral("settings/a")).toInt() + 1}};
            });
        if (operation == QLatin1String("remove"))
            return store.remove(QStringLiteral("settings/a"));
        if (operation == QLatin1String("clear"))
            return store.clear();
        return store.load();
    };
    Status status = Status::failure(QStringLiteral("not run"));
    if (fromWorker) {
        std::thread worker([&] { status = run(); });
        worker.join();
    } else {
        status = run();
    }
    QVERIFY2(status.ok(), qPrintable(status.error()));

    std::lock_guard lock(mutex);
    QVERIFY(!seen.isEmpty());
    for (const Seen &s : std::as_const(seen)) {
        QVERIFY2(s.error.isEmpty(), qPrintable(s.error));
        QCOMPARE(s.read, s.emitted);
    }
    QCOMPARE(store.stats().failedAcquisitions, quint64(0));
}

void TestSessionStore::signalArrivesInReceiverThread_data()
{
    QTest::addColumn<bool>("emitFromWorker");
    QTest::addColumn<bool>("receiverInOtherThread");
    QTest::newRow("test thread -> receiver in test thread") << false << false;
    QTest::newRow("worker -> receiver in test thread") << true << false;
    QTest::newRow("test thread -> receiver in QThread") << false << true;
    QTest::newRow("worker -> receiver in QThread") << true << true;
}

void TestSessionStore::signalArrivesInReceiverThread()
{
    QFETCH(bool, emitFromWorker);
    QFETCH(bool, receiverInOtherThread);

    SessionStore store;
    QThread receiverThread;
    receiverThread.setObjectName(QStringLiteral("receiver"));
    auto receiver = std::make_unique<Receiver>();
    // ThreadSanitizer cannot see the locks inside Qt's event queue, so every hand-over between
    // this thread and the receiver's goes through something it can see: the connection is made
    // before the thread starts (pthread_create orders it), and the receiver is deleted here
    // after the thread said it finished through a std::promise.
    connect(&store, &SessionStore::valueChanged, receiver.get(), &Receiver::onValueChanged);
    std::promise<void> finished;
    std::future<void> finishedFuture = finished.get_future();
    if (receiverInOtherThread) {
        receiver->moveToThread(&receiverThread);
        connect(&receiverThread, &QThread::finished, &receiverThread,
                [&finished] { finished.set_value(); }, Qt::DirectConnection);
        receiverThread.start();
    }
    QThread *const expectedThread = receiverInOtherThread ? &receiverThread : QThread::currentThread();

    auto change = [&] {
        QVERIFY(store.setValue(QStringLiteral("session/a"), 1).ok());
        QVERIFY(store.setValues({{QStringLiteral("session/b"), 2}, {QStringLiteral("session/c"), 3}}).ok());
    };
    if (emitFromWorker) {
        std::thread worker(change);
        worker.join();
    } else {
        change();
    }

    QTRY_COMPARE_WITH_TIMEOUT(receiver->count.load(), 3, 30'000);
    QCOMPARE(receiver->lastThread.load(), expectedThread);
    QVERIFY(!receiver->wrongThread.load());
    QCOMPARE(receiver->keys(),
             (QStringList{QStringLiteral("session/a"), QStringLiteral("session/b"), QStringLiteral("session/c")}));

    if (receiverInOtherThread) {
        receiverThread.quit();
        finishedFuture.wait();
        QVERIFY(receiverThread.wait(30'000));
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency and lock timeouts

void TestSessionStore::concurrentMixedOperations()
{
    constexpr int kThreads = 16;
    constexpr int kOperations = 10'000;
    constexpr int kPairs = 4;
    const QString counterKey = QStringLiteral("session/counter");

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    SessionStore store(dir.filePath(QStringLiteral("settings.json")));
    QVERIFY(store.load().ok());
    store.setFlushDelay(20ms);   // let the debounce and the writer thread run during the storm

    // Signals cross to this thread while the workers run (queued, delivered by QTRY's event loop).
    // The context dies before signalsReceived and takes the signals still queued with it.
    int signalsReceived = 0;
    QObject context;
    connect(&store, &SessionStore::valueChanged, &context, [&] { ++signalsReceived; });

    QStringList pairA, pairB;
    for (int p = 0; p < kPairs; ++p) {
        pairA << QStringLiteral("session/pair/a%1").arg(p);
        pairB << QStringLiteral("session/pair/b%1").arg(p);
    }

    std::atomic<qint64> increments{0};
    std::atomic<int> failures{0};
    std::atomic<int> pairViolations{0};
    std::atomic<int> finished{0};
    std::mutex firstErrorMutex;
    QString firstError;

    auto worker = [&](int t) {
        std::minstd_rand rng(quint32(t) + 1);
        const QString ownKey = QStringLiteral("session/thread/%1").arg(t);
        const QString settingKey = QStringLiteral("settings/stress/t%1").arg(t);
        qint64 myIncrements = 0;
        auto check = [&](const QString &error) {
            if (error.isEmpty())
                return;
            ++failures;
            std::lock_guard lock(firstErrorMutex);
            if (firstError.isEmpty())
                firstError = error;
        };
        // A pair is written only together; anyone reading both must see both equal or both absent.
        auto pairConsistent = [](const QVariantMap &map, const QString &a, const QString &b) {
            const bool hasA = map.contains(a);
            return hasA == map.contains(b) && (!hasA || map.value(a) == map.value(b));
        };

        for (int i = 0; i < kOperations; ++i) {
            const int p = int(rng() % kPairs);
            const QString &a = pairA.at(p);
            const QString &b = pairB.at(p);
            switch (rng() % 10) {
            case 0:
                check(store.value(counterKey, 0).error());
                break;
            case 1:
                check(store.setValue(ownKey, i).error());
                break;
            case 2: {
                const auto read = store.values({a, b});
                check(read.error());
                if (read.ok() && !pairConsistent(read.value(), a, b))
                    ++pairViolations;
                break;
            }
            case 3: {
                const int v = t * kOperations + i;
                check(store.setValues({{a, v}, {b, v}}).error());
                break;
            }
            case 4:
            case 5: {
                const Status s = store.update([&](const QVariantMap &snapshot) {
                    for (int q = 0; q < kPairs; ++q) {
                        if (!pairConsistent(snapshot, pairA.at(q), pairB.at(q)))
                            ++pairViolations;
                    }
                    return QVariantMap{{counterKey, snapshot.value(counterKey, 0).toLongLong() + 1}};
                });
                check(s.error());
                if (s.ok())
                    ++myIncrements;
                break;
            }
            case 6:
                check(store.contains(a).error());
                break;
            case 7:
                check(store.remove(ownKey).error());
                break;
            case 8:
                check(store.update([&](const QVariantMap &) {
                    return QVariantMap{{a, QVariant()}, {b, QVariant()}};
                }).error());
                break;
            default:
                check(store.setValue(settingKey, i).error());
                break;
            }
        }
        increments += myIncrements;
        ++finished;
    };

    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back(worker, t);
    // Keep this thread's event loop running meanwhile (debounce timer, queued signals).
    QTRY_COMPARE_WITH_TIMEOUT(finished.load(), kThreads, 540'000);
    for (std::thread &thread : threads)
        thread.join();

    {
        std::lock_guard lock(firstErrorMutex);
        QVERIFY2(failures.load() == 0, qPrintable(QStringLiteral("%1 failed calls, first: %2")
                                                      .arg(failures.load()).arg(firstError)));
    }
    QCOMPARE(pairViolations.load(), 0);
    QVERIFY(increments.load() > 0);
    QCOMPARE(store.value(counterKey).value().toLongLong(), increments.load());
    const auto stats = store.stats();
    QCOMPARE(stats.failedAcquisitions, quint64(0));
    QVERIFY(stats.acquisitions >= quint64(kThreads) * kOperations);
    QVERIFY(store.isHealthy());

    // Every pair read at the end is still consistent, and the settings written last are on disk.
    const auto pairs = store.snapshot(QStringLiteral("session/pair/"));
    QVERIFY(pairs.ok());
    for (int p = 0; p < kPairs; ++p)
        QCOMPARE(pairs->value(pairA.at(p)), pairs->value(pairB.at(p)));
    QVERIFY(store.flush().ok());
    const QJsonObject json = readJson(store.settingsFilePath());
    const auto settings = store.snapshot(QStringLiteral("settings/"));
    QVERIFY(settings.ok());
    QCOMPARE(json.size(), int(settings->size()));
    for (auto it = settings->cbegin(); it != settings->cend(); ++it)
        QCOMPARE(json.value(it.key()).toInteger(), it.value().toLongLong());
    QVERIFY(signalsReceived > 0);
}

void TestSessionStore::lockTimeoutFailsAndIsCounted_data()
{
    QTest::addColumn<QString>("operation");
    QTest::addColumn<QString>("expected");

    // The row is named after the operation; the message names the call and the lock it waited for.
    const auto addRow = [](const char *operation, const char *call, const char *lock) {
        QTest::newRow(operation) << QString::fromLatin1(operation)
                                 << QStringLiteral("%1 timed out after 50 ms waiting for the %2 lock")
                                        .arg(QString::fromLatin1(call), QString::fromLatin1(lock));
    };
    addRow("value", R"(value("session/k"))", "shared");
    addRow("contains", R"(contains("session/k"))", "shared");
    addRow("values", R"(values(2 keys: "session/k", "session/j"))", "shared");
    addRow("keys", R"(keys("session/"))", "shared");
    addRow("snapshot", R"(snapshot(""))", "shared");
    addRow("setValue", R"(setValue("session/k"))", "exclusive");
    addRow("remove", R"(remove("session/k"))", "exclusive");
    addRow("setValues", R"(setValues(1 key: "session/k"))", "exclusive");
    addRow("update", "update()", "exclusive");
    addRow("clear", "clear()", "exclusive");
}

void TestSessionStore::lockTimeoutFailsAndIsCounted()
{
    QFETCH(QString, operation);
    QFETCH(QString, expected);
    const QString key = QStringLiteral("session/k");

    SessionStore store;
    QVERIFY(store.setValue(key, 1).ok());
    store.setLockTimeout(50ms);
    store.resetStats();
    QVERIFY(store.isHealthy());

    // A writer holds the exclusive lock (inside update()) until the call under test has failed.
    std::promise<void> entered;
    std::promise<void> release;
    std::future<void> enteredFuture = entered.get_future();
    std::future<void> releaseFuture = release.get_future();
    Status holderStatus = Status::failure(QStringLiteral("not run"));
    std::thread holder([&] {
        holderStatus = store.update([&](const QVariantMap &) {
            entered.set_value();
            releaseFuture.wait();
            return QVariantMap{{key, 2}};
        });
    });
    enteredFuture.wait();

    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(escaped(expected)));
    QSignalSpy spy(&store, &SessionStore::valueChanged);
    QString error;
    if (operation == QLatin1String("value"))
        error = store.value(key).error();
    else if (operation == QLatin1String("contains"))
        error = store.contains(key).error();
    else if (operation == QLatin1String("values"))
        error = store.values({key, QStringLiteral("session/j")}).error();
    else if (operation == QLatin1String("keys"))
        error = store.keys(QStringLiteral("session/")).error();
    else if (operation == QLatin1String("snapshot"))
        error = store.snapshot().error();
    else if (operation == QLatin1String("setValue"))
        error = store.setValue(key, 3).error();
    else if (operation == QLatin1String("remove"))
        error = store.remove(key).error();
    else if (operation == QLatin1String("setValues"))
        error = store.setValues({{key, 3}}).error();
    else if (operation == QLatin1String("update"))
        error = store.update([&](const QVariantMap &) { return QVariantMap{{key, 3}}; }).error();
    else if (operation == QLatin1String("clear"))
        error = store.clear().error();
    else
        QFAIL("unknown operation");

    // Check the stats while the lock is still held: exactly one success (the holder), one failure.
    const auto stats = store.stats();
    const bool healthyWhileFailed = store.isHealthy();
    release.set_value();
    holder.join();

    QVERIFY2(holderStatus.ok(), qPrintable(holderStatus.error()));
    QVERIFY2(!error.isEmpty(), "the call should have timed out");
    QVERIFY2(error.contains(expected), qPrintable(error));
    QCOMPARE(stats.failedAcquisitions, quint64(1));
    QCOMPARE(stats.acquisitions, quint64(1));
    QCOMPARE(stats.lockTimeout, 50ms);
    QVERIFY(!healthyWhileFailed);

    // The failed call changed nothing; the holder's change went through.
    QCOMPARE(store.value(key).value(), QVariant(2));
    QCOMPARE(spy.count(), 1);   // the holder's change only (emitted in its thread, directly)

    // Health rule: fewer than 1 % of acquisitions failed. 1 failure in 101+ is healthy again.
    for (int i = 0; i < 100; ++i)
        QVERIFY(store.value(key).ok());
    QVERIFY(store.isHealthy());
    QCOMPARE(store.stats().failedAcquisitions, quint64(1));
    store.resetStats();
    QCOMPARE(store.stats().failedAcquisitions, quint64(0));
    QCOMPARE(store.stats().acquisitions, quint64(0));
    QVERIFY(store.isHealthy());
}

void TestSessionStore::lockTimeoutAccessors()
{
    SessionStore store;
    QCOMPARE(store.lockTimeout(), 5000ms);
    QCOMPARE(store.stats().lockTimeout, 5000ms);
    store.setLockTimeout(250ms);
    QCOMPARE(store.lockTimeout(), 250ms);
    store.setLockTimeout(-5ms);
    QCOMPARE(store.lockTimeout(), 0ms);
    // A zero timeout still takes a free lock.
    QVERIFY(store.setValue(QStringLiteral("session/a"), 1).ok());
    QCOMPARE(store.flushDelay(), 200ms);
}

QTEST_GUILESS_MAIN(TestSessionStore)
#include "tst_sessionstore.moc"
