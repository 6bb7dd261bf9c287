// ctest-labels: ui cli
// ctest-timeout: 600
// Every message is translatable: with the pseudo-translation "qps" as the user's language
// (LANGUAGE=qps), which wraps every text of the sources as "[ǫ text ǫ]", the command line's
// messages (its own, and those made in workers/) and the window show wrapped; without it they
// read as they always did.
#include "platform/translations.h"
#include "testsupport.h"
#include "uitestsupport.h"
#include "views/browserwindow.h"

#include <QAction>
#include <QApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenuBar>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTranslator>

#include <sys/stat.h>

using namespace quire;

class tst_Translations final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void commandLineMessages_data();
    void commandLineMessages();
    void helpDescribesEveryOptionTranslated();
    void uploadMessagesTranslated();
    void windowIsTranslated();
    void statsJsonStaysEnglish();

private:
    using Run = quire::test::QuireRun;
    // quire with args ("{dir}" in them: the test's folder) in `language` (empty: none set), on a
    // catalog of that language's own.
    Run quire(const QStringList &args, const QByteArray &language);
    QString path(const QString &name) const { return m_dir->filePath(name); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

namespace {

constexpr int kTimeoutMs = 300'000;

bool isWrapped(const QString &text)
{
    return text.startsWith(QStringLiteral("[ǫ ")) && text.endsWith(QStringLiteral(" ǫ]"));
}

} // namespace

void tst_Translations::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QFile settings(path(QStringLiteral("corrupt.json")));
    QVERIFY(settings.open(QIODevice::WriteOnly));
    settings.write("{ not json");
    settings.close();
    QFile document(path(QStringLiteral("note.txt")));
    QVERIFY(document.open(QIODevice::WriteOnly));
    document.write("a note\n");
    QCOMPARE(::mkfifo(QFile::encodeName(path(QStringLiteral("fifo"))).constData(), 0600), 0);
    QVERIFY(QFile::link(path(QStringLiteral("missing")), path(QStringLiteral("dangling"))));
}

tst_Translations::Run tst_Translations::quire(const QStringList &args, const QByteArray &language)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("LANGUAGE"));
    if (!language.isEmpty())
        env.insert(QStringLiteral("LANGUAGE"), QString::fromLatin1(language));
    const QString catalog = QStringLiteral("catalog-%1.sqlite").arg(QLatin1String(language.isEmpty() ? "en" : language));
    QStringList all = {QStringLiteral("--catalog"), path(catalog),
                       QStringLiteral("--config"), path(QStringLiteral("settings.json"))};
    for (const QString &a : args)
        all << QString(a).replace(QStringLiteral("{dir}"), m_dir->path());
    return quire::test::runQuire(all, env, {}, kTimeoutMs);
}

// Each row: a command, where its message goes, the message in the pseudo-translation and the
// same message in English (byte for byte as before translations existed).
void tst_Translations::commandLineMessages_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<bool>("onStderr");
    QTest::addColumn<QString>("pseudo");
    QTest::addColumn<QString>("english");

    QTest::newRow("--help (app)") << QStringList{QStringLiteral("--help")} << 0 << false
                                  << QStringLiteral("  -h, --help             [ǫ show this help and exit ǫ]\n")
                                  << QStringLiteral("  -h, --help             show this help and exit\n");
    QTest::newRow("usage error (app)")
        << QStringList{QStringLiteral("frobnicate")} << 2 << true
        << QStringLiteral("quire: [ǫ [ǫ unknown command 'frobnicate' ǫ] (see 'quire --help') ǫ]\n")
        << QStringLiteral("quire: unknown command 'frobnicate' (see 'quire --help')\n");
    QTest::newRow("%n plural (app)")
        << QStringList{QStringLiteral("add"), QStringLiteral("--no-upload"), QStringLiteral("{dir}/note.txt")} << 0 << false
        << QStringLiteral("[ǫ Added to 'Inbox': 1 file(s), 1 new, 0 duplicate, 0 unchanged, 0 failed, 0 skipped (")
        << QStringLiteral("Added to 'Inbox': 1 file(s), 1 new, 0 duplicate, 0 unchanged, 0 failed, 0 skipped (");
    // The settings file is read by workers/settings; a FIFO is refused with workers/platform's
    // reason.
    const QStringList fifo = {QStringLiteral("--config"), QStringLiteral("{dir}/corrupt.json"), QStringLiteral("add"),
                              QStringLiteral("--no-upload"), QStringLiteral("{dir}/fifo")};
    QTest::newRow("settings file (workers)") << fifo << 0 << true
                                             << QStringLiteral("quire: [ǫ [ǫ Settings file {dir}/corrupt.json is corrupt: ")
                                             << QStringLiteral("quire: Settings file {dir}/corrupt.json is corrupt: ");
    QTest::newRow("file type (workers)") << fifo << 0 << true
                                         << QStringLiteral("quire: [ǫ skipped ǫ] {dir}/fifo: [ǫ is a FIFO ǫ]\n")
                                         << QStringLiteral("quire: skipped {dir}/fifo: is a FIFO\n");
    QTest::newRow("walk reason (workers)")
        << QStringList{QStringLiteral("add"), QStringLiteral("--no-upload"), QStringLiteral("{dir}/dangling")} << 0 << true
        << QStringLiteral("quire: [ǫ skipped ǫ] {dir}/dangling: [ǫ broken symbolic link ǫ]\n")
        << QStringLiteral("quire: skipped {dir}/dangling: broken symbolic link\n");
    // Messages made in workers/catalog (a catalog URL refused, as the connection reports it; the
    // last --catalog wins over the one quire() gives) and workers/remotes (a remote profile refused).
    QTest::newRow("catalog URL (workers)")
        << QStringList{QStringLiteral("--catalog"), QStringLiteral("mysql://x@h/db?bogus=1"), QStringLiteral("ls")} << 1 << true
        << QStringLiteral("quire: [ǫ Cannot open the catalog: [ǫ invalid MariaDB/MySQL URL \"mysql://x@h/db?bogus=1\": "
                          "[ǫ unknown parameter \"bogus\" (Quire takes socket, ssl-ca, ssl-capath, ssl-cert and ssl-key) ǫ] ǫ] ǫ]\n")
        << QStringLiteral("quire: Cannot open the catalog: invalid MariaDB/MySQL URL \"mysql://x@h/db?bogus=1\": "
                          "unknown parameter \"bogus\" (Quire takes socket, ssl-ca, ssl-capath, ssl-cert and ssl-key)\n");
    QTest::newRow("remote profile (workers)")
        << QStringList{QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("ftp"), QStringLiteral("--kind"),
                       QStringLiteral("webdav"), QStringLiteral("--url"), QStringLiteral("ftp://h/")} << 2 << true
        << QStringLiteral("[ǫ remote \"ftp\": the URL must start with http:// or https:// and name a host (got \"ftp://h/\") ǫ]")
        << QStringLiteral("quire: remote \"ftp\": the URL must start with http:// or https:// and name a host (got \"ftp://h/\")");
}

void tst_Translations::commandLineMessages()
{
    QFETCH(QStringList, args);
    QFETCH(int, exitCode);
    QFETCH(bool, onStderr);
    QFETCH(QString, pseudo);
    QFETCH(QString, english);
    pseudo.replace(QStringLiteral("{dir}"), m_dir->path());
    english.replace(QStringLiteral("{dir}"), m_dir->path());

    for (const QByteArray &language : {QByteArray("qps"), QByteArray()}) {
        const Run r = quire(args, language);
        const QString shown = QString::fromUtf8(onStderr ? r.err : r.out);
        const QString expected = language.isEmpty() ? english : pseudo;
        QVERIFY2(shown.contains(expected), qPrintable(QStringLiteral("LANGUAGE=%1: no \"%2\" in:\n%3")
                                                         .arg(QLatin1String(language), expected, shown)));
        // In English nothing is wrapped.
        QVERIFY2(!language.isEmpty() || !(r.out + r.err).contains("ǫ"), (r.out + r.err).constData());
        QCOMPARE(r.exitCode, exitCode);
    }
}

// Every option's description in --help is translated, not only the first.
void tst_Translations::helpDescribesEveryOptionTranslated()
{
    const Run r = quire({QStringLiteral("--help")}, "qps");
    QCOMPARE(r.exitCode, 0);
    const QString help = QString::fromUtf8(r.out);
    QVERIFY2(help.startsWith(QStringLiteral("[ǫ Usage: quire")), qPrintable(help));
    int options = 0;
    for (const QString &line : help.split(QLatin1Char('\n'))) {
        if (!line.trimmed().startsWith(QLatin1Char('-')))
            continue;
        ++options;
        QVERIFY2(line.contains(QStringLiteral("[ǫ ")), qPrintable(line));
    }
    QVERIFY2(options > 10, qPrintable(help));
}

// A message made in workers/upload: the push after `quire add` to a server that refuses the
// connection says its remote's problem once, and the document waits.
void tst_Translations::uploadMessagesTranslated()
{
    quint16 closedPort = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        closedPort = probe.serverPort();
    }
    auto words = [](const QString &line) { return line.split(QLatin1Char(' ')); };
    // The settings file (with the remote) is the same in both languages, the catalogs are not.
    const QString remoteAdd = QStringLiteral("remote add down --kind webdav --url http://127.0.0.1:%1/").arg(closedPort);
    QCOMPARE(quire(words(remoteAdd), {}).exitCode, 0);
    for (const QByteArray &language : {QByteArray("qps"), QByteArray()}) {
        QCOMPARE(quire(words(QStringLiteral("collections create C --remote down")), language).exitCode, 0);
        const Run r = quire(words(QStringLiteral("add -c C {dir}/note.txt")), language);
        QCOMPARE(r.exitCode, 1);
        const QString err = QString::fromUtf8(r.err);
        const bool english = language.isEmpty();
        const QString start = english ? QStringLiteral("quire: remote \"down\": ") : QStringLiteral("quire: [ǫ remote \"down\": ");
        const QString end = english ? QStringLiteral(" (its documents wait until this is fixed)\n")
                                    : QStringLiteral(" (its documents wait until this is fixed) ǫ]\n");
        QVERIFY2(err.contains(start) && err.contains(end), qPrintable(err));
        QVERIFY2(!english || !(r.out + r.err).contains("ǫ"), (r.out + r.err).constData());
    }
}

// The window as main() sets it up: the translations installed for the user's languages (this
// process reads in "qps", see main() below) before the window is built.
void tst_Translations::windowIsTranslated()
{
    uitest::UiFixture fx;
    QVERIFY(fx.isValid());
    auto titles = [&] {
        QStringList out;
        for (const QAction *menu : fx.window()->menuBar()->actions())
            out << menu->text();
        out << fx.window()->windowTitle()
            << fx.window()->findChild<QAction *>(QStringLiteral("actionAbout"))->text();
        return out;
    };

    // Without the translations: the source texts.
    fx.makeWindow();
    const QStringList english = titles();
    QVERIFY2(english.contains(QStringLiteral("&File")) && english.contains(QStringLiteral("&Help")),
             qPrintable(english.join(QLatin1Char('|'))));

    Q_INIT_RESOURCE(quire_translations);   // as main() does: a static library's resource
    const QStringList loaded = installTranslations();
    QVERIFY2(loaded.contains(QStringLiteral(":/i18n/quire_qps.qm")), qPrintable(loaded.join(QLatin1Char(' '))));
    fx.makeWindow();
    const QStringList pseudo = titles();
    QCOMPARE(pseudo.size(), english.size());
    for (qsizetype i = 0; i < pseudo.size(); ++i) {
        QVERIFY2(isWrapped(pseudo.at(i)), qPrintable(pseudo.at(i)));
        // The mnemonic (&File) is kept, inside the marks.
        QCOMPARE(pseudo.at(i), QStringLiteral("[ǫ %1 ǫ]").arg(english.at(i)));
    }
    fx.closeWindow();
    qDeleteAll(qApp->findChildren<QTranslator *>());   // the next test reads English again
}

void tst_Translations::statsJsonStaysEnglish()
{
    // --stats-json is read by programs: its keys and values are English in every language.
    const QString stats = path(QStringLiteral("stats.json"));
    const Run r = quire({QStringLiteral("gui"), QStringLiteral("--quit-when-idle"), QStringLiteral("--stats-json"), stats,
                         QStringLiteral("{dir}/note.txt")},
                        "qps");
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QFile f(stats);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray json = f.readAll();
    const QJsonObject o = QJsonDocument::fromJson(json).object().value(QStringLiteral("responsiveness")).toObject();
    // "worst" always says something (what the worst moment was, or that there was none).
    QVERIFY2(!o.value(QStringLiteral("worst")).toString().isEmpty(), json.constData());
    QVERIFY2(!QString::fromUtf8(json).contains(QStringLiteral("ǫ")), json.constData());
}

int main(int argc, char *argv[])
{
    // The user's language is the pseudo-translation, set before Qt first reads the locale; the
    // quire processes started here get theirs from quire() instead.
    qputenv("LANGUAGE", "qps");
    QApplication app(argc, argv);
    tst_Translations test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_translations.moc"
