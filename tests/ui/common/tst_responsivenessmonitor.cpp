// ctest-labels: ui
#include "common/responsivenessmonitor.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTest>
#include <QTranslator>

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

// Wraps every text as the pseudo-translation qps does ("[ǫ text ǫ]").
class PseudoTranslator final : public QTranslator
{
public:
    QString translate(const char *, const char *source, const char *, int) const override
    {
        return QStringLiteral("[ǫ %1 ǫ]").arg(QString::fromUtf8(source));
    }
    bool isEmpty() const override { return false; }
};
} // namespace

class tst_ResponsivenessMonitor final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void measuresAndReportsStalls();
    void figuresAreConsistent();
    void writesEnglishWhateverTheLanguage();
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

void tst_ResponsivenessMonitor::writesEnglishWhateverTheLanguage()
{
    PseudoTranslator translator;
    QCoreApplication::installTranslator(&translator);
    const auto uninstall = qScopeGuard([&] { QCoreApplication::removeTranslator(&translator); });
    ResponsivenessMonitor monitor;
    QSignalSpy stalled(&monitor, &ResponsivenessMonitor::stalled);
    monitor.setContextProvider([] {
        return ResponsivenessMonitor::Words{QStringLiteral("[ǫ context ǫ]"), QStringLiteral("context")};
    });
    monitor.start();
    QTRY_VERIFY(monitor.session().samples >= 5);
    // The log is in English too.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("UI thread stalled for .* ms \\(tst::blockFor took [0-9.]+ ms; context\\)")));
    blockFor(150);
    QTRY_COMPARE(stalled.count(), 1);
    // People read it translated...
    const QString shown = stalled.first().at(1).toString();
    QVERIFY2(QRegularExpression(QStringLiteral("^\\[ǫ tst::blockFor took [0-9.]+ ms ǫ\\]; \\[ǫ context ǫ\\]$")).match(shown).hasMatch(),
             qPrintable(shown));
    QCOMPARE(monitor.lastStall(), QStringLiteral("[ǫ %1 ms: %2 ǫ]").arg(stalled.first().first().toDouble(), 0, 'f', 1).arg(shown));
    // ...programs in English.
    const QJsonObject json = monitor.toJson();
    const QString lastStall = json.value(QStringLiteral("last_stall")).toString();
    QVERIFY2(QRegularExpression(QStringLiteral("^[0-9.]+ ms: tst::blockFor took [0-9.]+ ms; context$")).match(lastStall).hasMatch(),
             qPrintable(lastStall));
    const QString worst = json.value(QStringLiteral("worst")).toString();
    QVERIFY2(worst.contains(QLatin1String(" ms late at ")) && !worst.contains(u'ǫ'), qPrintable(worst));
}

QTEST_MAIN(tst_ResponsivenessMonitor)
#include "tst_responsivenessmonitor.moc"
