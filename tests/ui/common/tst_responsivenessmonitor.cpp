// ctest-labels: ui
#include "common/responsivenessmonitor.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

using namespace quire;

namespace {
// Keeps the GUI thread busy, the way a mistake in UI code would.
void blockFor(int ms)
{
    ResponsivenessMonitor::Activity a("tst::blockFor");
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms) {
    }
}
} // namespace

class tst_ResponsivenessMonitor final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void measuresAndReportsStalls();
    void figuresAreConsistent();
};

void tst_ResponsivenessMonitor::measuresAndReportsStalls()
{
    ResponsivenessMonitor monitor;
    QSignalSpy stalled(&monitor, &ResponsivenessMonitor::stalled);
    monitor.setContextProvider([] { return QStringLiteral("test context"); });
    monitor.start();
    QTRY_VERIFY(monitor.session().samples >= 5);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("UI thread stalled for .* ms \\(tst::blockFor took .*test context\\)")));
    blockFor(150);
    QTRY_COMPARE(stalled.count(), 1);
    // A stall can only ever be measured as at least as long as it was, less one interval.
    QVERIFY(stalled.first().first().toDouble() >= 150 - monitor.interval());
    QVERIFY(stalled.first().at(1).toString().contains(QLatin1String("tst::blockFor")));
    QCOMPARE(monitor.stalls(), qint64(1));
    QVERIFY(monitor.session().maxMs >= 150 - monitor.interval());
    QVERIFY(monitor.lastMinute().maxMs >= 150 - monitor.interval());
    QVERIFY(!monitor.lastStall().isEmpty());
}

void tst_ResponsivenessMonitor::figuresAreConsistent()
{
    ResponsivenessMonitor monitor;
    monitor.setStallThreshold(100'000);   // no warnings from this test
    monitor.start();
    QTRY_VERIFY(monitor.session().samples >= 20);
    blockFor(30);
    QTRY_VERIFY(monitor.session().samples >= 40);
    const auto s = monitor.session();
    QVERIFY(s.p50Ms <= s.p99Ms);
    QVERIFY(s.p99Ms <= s.maxMs);
    QVERIFY(s.maxMs >= 30 - monitor.interval());
    const auto m = monitor.lastMinute();
    QCOMPARE(m.samples, s.samples);
    QVERIFY(m.p50Ms <= m.p99Ms && m.p99Ms <= m.maxMs);
    const QJsonObject json = monitor.toJson();
    QVERIFY(json.contains(QStringLiteral("session")));
    QCOMPARE(json.value(QStringLiteral("session")).toObject().value(QStringLiteral("samples")).toInteger(), s.samples);
    QCOMPARE(json.value(QStringLiteral("stalls")).toInteger(), qint64(0));
#ifdef Q_OS_LINUX
    QVERIFY(monitor.threadCpuMs() >= 0);
    QVERIFY(json.value(QStringLiteral("ui_thread_cpu_ms")).toInteger() >= 0);
    QVERIFY(json.value(QStringLiteral("measured_ms")).toInteger() > 0);
#endif
    monitor.stop();
    QVERIFY(!monitor.isRunning());
}

QTEST_MAIN(tst_ResponsivenessMonitor)
#include "tst_responsivenessmonitor.moc"
