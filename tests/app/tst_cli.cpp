// ctest-labels: cli
// ctest-timeout: 600
// The quire executable as a person or a script uses it: exit statuses, messages, output formats.
#include "testsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QUrl>
#include <QTest>

#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

class tst_Cli final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void usageErrors_data();
    void usageErrors();
    void helpAndVersion();
    void loadsNoLibraryFromTheCurrentFolder();
    void catalogUrlsQuireCannotServeAreRefused();
    void addListRenameRemove();
    void addReportsFailuresAndGoesOn();
    void lsJsonHasEveryField();
    void lsNamesTheMachineOfOthersDocuments();
    void addUploadsWhenCollectionHasRemote();
    void interruptCancelsCleanly();

private:
    using Run = quire::test::QuireRun;
    Run quire(const QStringList &args);
    QStringList common() const;
    QString path(const QString &name) const { return m_dir->filePath(name); }
    void writeFile(const QString &name, const QByteArray &content);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void tst_Cli::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QStringList tst_Cli::common() const
{
    return {QStringLiteral("--catalog"), path(QStringLiteral("catalog.sqlite")),
            QStringLiteral("--config"), path(QStringLiteral("settings.json"))};
}

tst_Cli::Run tst_Cli::quire(const QStringList &args)
{
    return quire::test::runQuire(common() + args, QProcessEnvironment::systemEnvironment());
}

void tst_Cli::writeFile(const QString &name, const QByteArray &content)
{
    QFile f(path(name));
    QVERIFY(QDir().mkpath(QFileInfo(f).absolutePath()));
    QVERIFY(f.open(QIODevice::WriteOnly));
    QCOMPARE(f.write(content), content.size());
}

void tst_Cli::usageErrors_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << QStringLiteral("frobnicate");
    QTest::newRow("unknown option") << QStringList{QStringLiteral("ls"), QStringLiteral("--frob")} << QStringLiteral("frob");
    QTest::newRow("option of another command")
        << QStringList{QStringLiteral("hash"), QStringLiteral("--json"), QStringLiteral("x")} << QStringLiteral("json");
    QTest::newRow("jobs zero") << QStringList{QStringLiteral("--jobs"), QStringLiteral("0"), QStringLiteral("hash")}
                               << QStringLiteral("--jobs");
    QTest::newRow("jobs not a number")
        << QStringList{QStringLiteral("hash"), QStringLiteral("--jobs=many")} << QStringLiteral("many");
    QTest::newRow("slash in collection name")
        << QStringList{QStringLiteral("add"), QStringLiteral("--collection"), QStringLiteral("a/b"), QStringLiteral("x")}
        << QStringLiteral("a/b");
    QTest::newRow("empty collection name")
        << QStringList{QStringLiteral("collections"), QStringLiteral("create"), QString()} << QStringLiteral("collection");
    QTest::newRow("dot-dot collection name")
        << QStringList{QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("..")} << QStringLiteral("..");
    QTest::newRow("catalog password in the URL")
        << QStringList{QStringLiteral("--catalog"), QStringLiteral("postgresql://u:s3cret@127.0.0.1:1/db"), QStringLiteral("ls")}
        << QStringLiteral("$QUIRE_CATALOG_PASSWORD");
    QTest::newRow("catalog password parameter")
        << QStringList{QStringLiteral("ls"), QStringLiteral("--catalog=postgres://127.0.0.1:1/db?user=u&password=s3cret")}
        << QStringLiteral("process listing");
    QTest::newRow("add without paths") << QStringList{QStringLiteral("add")} << QStringLiteral("PATH");
    QTest::newRow("unknown collections subcommand")
        << QStringList{QStringLiteral("collections"), QStringLiteral("explode")} << QStringLiteral("explode");
}

void tst_Cli::usageErrors()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const Run r = quire(args);
    QCOMPARE(r.exitCode, 2);
    QVERIFY(r.out.isEmpty());
    const QString err = QString::fromUtf8(r.err);
    QCOMPARE(err.count(QLatin1Char('\n')), 1);   // one clear line
    QVERIFY2(err.startsWith(QLatin1String("quire: ")), qPrintable(err));
    QVERIFY2(err.contains(mentions), qPrintable(err));
    QVERIFY2(!err.contains(QLatin1String("s3cret")), qPrintable(err));
}

void tst_Cli::helpAndVersion()
{
    const Run help = quire({QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    for (const char *word : {"hash", "add", "collections", "ls", "--catalog", "--config", "--jobs"})
        QVERIFY2(help.out.contains(word), word);
    const Run version = quire({QStringLiteral("--version")});
    QCOMPARE(version.exitCode, 0);
    QVERIFY(version.out.startsWith("quire " QUIRE_VERSION));
    // Global options work after the command name too.
    const Run after = quire({QStringLiteral("collections"), QStringLiteral("--help")});
    QCOMPARE(after.exitCode, 0);
}

// An empty entry in the program's RUNPATH (CMake pads the build tree's with ':' when an install
// RPATH is set) makes the loader look for libraries in the current folder: a file named like one
// of them there would be loaded instead of the system's. Here such files are not libraries at
// all, so a loader that opened them would stop the program ("file too short").
void tst_Cli::loadsNoLibraryFromTheCurrentFolder()
{
#if defined(Q_OS_LINUX)
    for (const char *name : {"libQt6Core.so.6", "libcurl.so.4", "libstdc++.so.6", "libc.so.6"})
        writeFile(QString::fromLatin1(name), "not a library\n");
    QProcess p;
    p.setWorkingDirectory(m_dir->path());
    p.start(quire::test::quireBinary(), {QStringLiteral("--version")});
    QVERIFY(p.waitForFinished(60'000));
    const QByteArray err = p.readAllStandardError();
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, err.constData());
    QVERIFY(p.readAllStandardOutput().startsWith("quire " QUIRE_VERSION));
#else
    QSKIP("the dynamic loader's search path is an ELF (Linux) matter");
#endif
}

// "mysql://..." used to become a SQLite file at ./mysql:/... and the command "succeeded"; a URL
// of a database Quire does not serve is refused the same way now.
void tst_Cli::catalogUrlsQuireCannotServeAreRefused()
{
    writeFile(QStringLiteral("doc.txt"), "a document\n");
    auto run = [&](const QStringList &args, const QString &envCatalog) {
        QProcess p;
        p.setWorkingDirectory(m_dir->path());
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove(QStringLiteral("QUIRE_CATALOG"));
        if (!envCatalog.isEmpty())
            env.insert(QStringLiteral("QUIRE_CATALOG"), envCatalog);
        p.setProcessEnvironment(env);
        p.start(quire::test::quireBinary(),
                QStringList{QStringLiteral("--config"), path(QStringLiteral("settings.json"))} + args);
        if (!p.waitForFinished(120'000))
            qFatal("quire did not finish");
        return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
                   p.readAllStandardError()};
    };
    const QStringList add{QStringLiteral("add"), path(QStringLiteral("doc.txt"))};

    const Run option = run(QStringList{QStringLiteral("--catalog"), QStringLiteral("mongodb://quire:s3cret@127.0.0.1:27017/quire")} + add,
                           QString());
    QCOMPARE(option.exitCode, 2);
    QString err = QString::fromUtf8(option.err);
    QCOMPARE(err.count(u'\n'), 1);
    for (const char *word : {"--catalog", "mongodb://", "SQLite", "postgresql://", "mysql://"})
        QVERIFY2(err.contains(QLatin1String(word)), qPrintable(err));
    QVERIFY2(!err.contains(QLatin1String("s3cret")), qPrintable(err));

    const Run env = run(add, QStringLiteral("sqlserver://quire@db.example/quire"));
    QCOMPARE(env.exitCode, 2);
    err = QString::fromUtf8(env.err);
    QVERIFY2(err.contains(QLatin1String("$QUIRE_CATALOG")) && err.contains(QLatin1String("sqlserver://")), qPrintable(err));
    // Nothing was made of the URL: no "mongodb:" or "sqlserver:" folder, no catalog file.
    const QStringList entries = QDir(m_dir->path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot);
    QCOMPARE(entries, QStringList({QStringLiteral("doc.txt")}));

    // `hash` has no catalog, so the variable does not stop it.
    const Run hash = run({QStringLiteral("hash"), path(QStringLiteral("doc.txt"))}, QStringLiteral("mongodb://x/y"));
    QCOMPARE(hash.exitCode, 0);

    // A file:// URL is the SQLite file at its path.
    const QString viaUrl = path(QStringLiteral("via url.sqlite"));
    const Run file = run(QStringList{QStringLiteral("--catalog"), QUrl::fromLocalFile(viaUrl).toString(QUrl::FullyEncoded)} + add,
                         QString());
    QVERIFY2(file.exitCode == 0, file.err.constData());
    QVERIFY(QFileInfo::exists(viaUrl));
    const Run list = run({QStringLiteral("--catalog"), viaUrl, QStringLiteral("ls")}, QString());
    QVERIFY2(list.out.contains("doc.txt"), list.out.constData());
}

void tst_Cli::addListRenameRemove()
{
    writeFile(QStringLiteral("docs/a.txt"), "alpha");
    writeFile(QStringLiteral("docs/b.txt"), "beta");
    writeFile(QStringLiteral("docs/sub/c.txt"), "alpha");   // a duplicate of a.txt

    Run r = quire({QStringLiteral("add"), QStringLiteral("--collection"), QStringLiteral("Reports 2026"),
                   path(QStringLiteral("docs"))});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("3 file(s), 2 new, 1 duplicate"), r.out.constData());
    QVERIFY(r.err.isEmpty());   // not a terminal: no progress line

    r = quire({QStringLiteral("collections")});
    QCOMPARE(r.exitCode, 0);
    QVERIFY2(r.out.contains("Reports 2026"), r.out.constData());

    r = quire({QStringLiteral("collections"), QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 0);
    const QJsonArray cols = QJsonDocument::fromJson(r.out).array();
    QCOMPARE(cols.size(), 1);
    QCOMPARE(cols.first()[QLatin1String("name")].toString(), QStringLiteral("Reports 2026"));
    QCOMPARE(cols.first()[QLatin1String("documents")].toInt(), 3);

    r = quire({QStringLiteral("collections"), QStringLiteral("rename"), QStringLiteral("Reports 2026"),
               QStringLiteral("Archive")});
    QCOMPARE(r.exitCode, 0);
    r = quire({QStringLiteral("ls"), QStringLiteral("Archive")});
    QCOMPARE(r.exitCode, 0);
    QCOMPARE(r.out.count('\n'), 3);
    QVERIFY(r.out.contains("hashed\t5\t"));
    QVERIFY(r.out.contains("duplicate\t5\t"));

    r = quire({QStringLiteral("ls"), QStringLiteral("Nope")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY(r.err.contains("Nope"));

    // A name that exists already.
    r = quire({QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("Archive")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("Archive"), r.err.constData());

    r = quire({QStringLiteral("collections"), QStringLiteral("remove"), QStringLiteral("Archive")});
    QCOMPARE(r.exitCode, 0);
    r = quire({QStringLiteral("collections"), QStringLiteral("--json")});
    QCOMPARE(QJsonDocument::fromJson(r.out).array().size(), 0);
    // The source files are untouched.
    QVERIFY(QFile::exists(path(QStringLiteral("docs/a.txt"))));
}

void tst_Cli::addReportsFailuresAndGoesOn()
{
    writeFile(QStringLiteral("in/ok.txt"), "ok");
    QVERIFY(::mkfifo(QFile::encodeName(path(QStringLiteral("in/fifo"))).constData(), 0644) == 0);
    const Run r = quire({QStringLiteral("add"), path(QStringLiteral("in")), path(QStringLiteral("missing.txt"))});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("missing.txt: No such file or directory"), r.err.constData());
    QVERIFY2(r.err.contains("skipped ") && r.err.contains("fifo"), r.err.constData());
    QVERIFY2(r.out.contains("1 new"), r.out.constData());
    const Run ls = quire({QStringLiteral("ls")});
    QVERIFY2(ls.out.contains("ok.txt"), ls.out.constData());
}

void tst_Cli::lsJsonHasEveryField()
{
    writeFile(QStringLiteral("one.txt"), "one");
    QCOMPARE(quire({QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("J"), path(QStringLiteral("one.txt"))}).exitCode, 0);
    const Run r = quire({QStringLiteral("ls"), QStringLiteral("J"), QStringLiteral("--json")});
    QCOMPARE(r.exitCode, 0);
    const QJsonArray docs = QJsonDocument::fromJson(r.out).array();
    QCOMPARE(docs.size(), 1);
    const QJsonObject d = docs.first().toObject();
    QCOMPARE(d[QLatin1String("name")].toString(), QStringLiteral("one.txt"));
    QCOMPARE(d[QLatin1String("collection")].toString(), QStringLiteral("J"));
    QCOMPARE(d[QLatin1String("status")].toString(), QStringLiteral("hashed"));
    QCOMPARE(d[QLatin1String("size")].toInt(), 3);
    QCOMPARE(d[QLatin1String("sha256")].toString(),
             QStringLiteral("7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"));
    QCOMPARE(d[QLatin1String("source_path")].toString(), path(QStringLiteral("one.txt")));
    QCOMPARE(d[QLatin1String("this_machine")].toBool(), true);
}

// A shared catalog: what another machine added shows by that machine's name ($QUIRE_MACHINE_ID
// and $QUIRE_MACHINE_NAME stand for a second machine here).
void tst_Cli::lsNamesTheMachineOfOthersDocuments()
{
    writeFile(QStringLiteral("theirs.txt"), "theirs");
    writeFile(QStringLiteral("mine.txt"), "mine");
    qputenv("QUIRE_MACHINE_ID", "box-b-0001");
    qputenv("QUIRE_MACHINE_NAME", "box-b");
    const Run added = quire({QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("T"), path(QStringLiteral("theirs.txt"))});
    qunsetenv("QUIRE_MACHINE_ID");
    qunsetenv("QUIRE_MACHINE_NAME");
    QCOMPARE(added.exitCode, 0);
    QCOMPARE(quire({QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("T"), path(QStringLiteral("mine.txt"))}).exitCode, 0);

    const Run table = quire({QStringLiteral("ls"), QStringLiteral("T")});
    QCOMPARE(table.exitCode, 0);
    const QList<QByteArray> lines = table.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 2);
    for (const QByteArray &line : lines) {
        const bool theirs = line.contains("T/theirs.txt");
        QVERIFY2(line.endsWith("\t(on box-b)") == theirs, line.constData());
    }
    const Run json = quire({QStringLiteral("ls"), QStringLiteral("T"), QStringLiteral("--json")});
    for (const QJsonValue &v : QJsonDocument::fromJson(json.out).array()) {
        const QJsonObject o = v.toObject();
        const bool theirs = o[QLatin1String("name")].toString() == QLatin1String("theirs.txt");
        QCOMPARE(o[QLatin1String("this_machine")].toBool(), !theirs);
        if (theirs)
            QCOMPARE(o[QLatin1String("machine")].toString(), QStringLiteral("box-b"));
    }
}

void tst_Cli::addUploadsWhenCollectionHasRemote()
{
    const QString dest = path(QStringLiteral("remote-folder"));
    QCOMPARE(quire({QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("shelf"), QStringLiteral("--kind"),
                    QStringLiteral("local"), QStringLiteral("--url"), dest}).exitCode, 0);
    QCOMPARE(quire({QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("Shelved"),
                    QStringLiteral("--remote"), QStringLiteral("shelf")}).exitCode, 0);
    writeFile(QStringLiteral("up/report 1.txt"), "first report");
    writeFile(QStringLiteral("later/report 2.txt"), "second report");

    Run r = quire({QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("Shelved"), path(QStringLiteral("up"))});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QFile uploaded(dest + QStringLiteral("/Shelved/report 1.txt"));
    QVERIFY(uploaded.open(QIODevice::ReadOnly));
    QCOMPARE(uploaded.readAll(), QByteArray("first report"));

    // --no-upload only catalogs; push sends it later.
    r = quire({QStringLiteral("add"), QStringLiteral("--no-upload"), QStringLiteral("-c"), QStringLiteral("Shelved"),
               path(QStringLiteral("later"))});
    QCOMPARE(r.exitCode, 0);
    QVERIFY(!QFile::exists(dest + QStringLiteral("/Shelved/report 2.txt")));
    r = quire({QStringLiteral("ls"), QStringLiteral("Shelved")});
    QVERIFY2(r.out.contains("uploaded\t12\t") && r.out.contains("hashed\t13\t"), r.out.constData());
    QCOMPARE(quire({QStringLiteral("push"), QStringLiteral("Shelved")}).exitCode, 0);
    QVERIFY(QFile::exists(dest + QStringLiteral("/Shelved/report 2.txt")));

    // A remote that does not exist is refused; set-remote moves where pending documents go.
    r = quire({QStringLiteral("collections"), QStringLiteral("create"), QStringLiteral("Nowhere"), QStringLiteral("--remote"),
               QStringLiteral("no-such-remote")});
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.err.contains("no remote 'no-such-remote'"), r.err.constData());
    const QString other = path(QStringLiteral("other-folder"));
    QCOMPARE(quire({QStringLiteral("remote"), QStringLiteral("add"), QStringLiteral("box"), QStringLiteral("--kind"),
                    QStringLiteral("local"), QStringLiteral("--url"), other}).exitCode, 0);
    r = quire({QStringLiteral("remote"), QStringLiteral("remove"), QStringLiteral("shelf")});
    QCOMPARE(r.exitCode, 1);   // still used by Shelved
    QVERIFY2(r.err.contains("set-remote"), r.err.constData());
    QCOMPARE(quire({QStringLiteral("collections"), QStringLiteral("set-remote"), QStringLiteral("Shelved"),
                    QStringLiteral("box")}).exitCode, 0);
    writeFile(QStringLiteral("third/report 3.txt"), "third report");
    r = quire({QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("Shelved"), path(QStringLiteral("third"))});
    QVERIFY2(r.exitCode == 0, r.err.constData());
    QVERIFY(QFile::exists(other + QStringLiteral("/Shelved/report 3.txt")));
    QVERIFY(!QFile::exists(dest + QStringLiteral("/Shelved/report 3.txt")));
    QCOMPARE(quire({QStringLiteral("remote"), QStringLiteral("remove"), QStringLiteral("shelf")}).exitCode, 0);
    // No remote: added documents stay hashed, nothing is uploaded.
    QCOMPARE(quire({QStringLiteral("collections"), QStringLiteral("set-remote"), QStringLiteral("Shelved")}).exitCode, 0);
    writeFile(QStringLiteral("fourth/report 4.txt"), "fourth report");
    QCOMPARE(quire({QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("Shelved"), path(QStringLiteral("fourth"))}).exitCode, 0);
    QVERIFY(!QFile::exists(other + QStringLiteral("/Shelved/report 4.txt")));
    QCOMPARE(quire({QStringLiteral("collections"), QStringLiteral("set-remote"), QStringLiteral("Missing"),
                    QStringLiteral("box")}).exitCode, 1);
    QCOMPARE(quire({QStringLiteral("collections"), QStringLiteral("set-remote")}).exitCode, 2);
}

void tst_Cli::interruptCancelsCleanly()
{
    // A sparse file big enough that hashing it takes seconds, so the interrupt lands mid-way.
    const QByteArray big = QFile::encodeName(path(QStringLiteral("big.bin")));
    const int fd = ::open(big.constData(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    QVERIFY(fd >= 0);
    QCOMPARE(::ftruncate(fd, qint64(64) << 30), 0);
    ::close(fd);

    QProcess p;
    p.start(quire::test::quireBinary(),
            common() + QStringList{QStringLiteral("add"), QStringLiteral("-c"), QStringLiteral("Big"),
                                   QFile::decodeName(big)});
    QVERIFY(p.waitForStarted());
    // Wait until the file is cataloged as queued (read the catalog the way another tool would).
    auto statusOf = [&] {
        QProcess q;
        q.start(QStringLiteral("sqlite3"),
                {path(QStringLiteral("catalog.sqlite")), QStringLiteral("select status from documents")});
        q.waitForFinished(30'000);
        return QString::fromUtf8(q.readAllStandardOutput()).trimmed();
    };
    QTRY_VERIFY_WITH_TIMEOUT(!statusOf().isEmpty() || p.state() == QProcess::NotRunning, 60'000);
    QVERIFY2(p.state() == QProcess::Running, "finished before it could be interrupted");
    ::kill(pid_t(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(60'000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(p.readAllStandardOutput().contains("Cancelled"), "summary says it was cancelled");
    const QString status = statusOf();
    QCOMPARE(status, QStringLiteral("cancelled"));
    // The catalog is intact.
    QProcess check;
    check.start(QStringLiteral("sqlite3"), {path(QStringLiteral("catalog.sqlite")), QStringLiteral("pragma integrity_check")});
    QVERIFY(check.waitForFinished(30'000));
    QCOMPARE(check.readAllStandardOutput().trimmed(), QByteArray("ok"));
}

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
