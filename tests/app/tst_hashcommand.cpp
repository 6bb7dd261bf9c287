// ctest-labels: hashing
// ctest-timeout: 300
// `quire hash` against GNU sha256sum: same arguments, same stdout byte for byte, same status.
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <ftw.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>

namespace {

struct Run
{
    QByteArray out;
    QByteArray err;
    int status = -1;
};

// Keeps quire's settings and catalog inside the test's folder, and error texts untranslated.
QProcessEnvironment quireEnvironment(const QString &workDir)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    const QString home = workDir + QStringLiteral("/../home");
    env.insert(QStringLiteral("HOME"), home);
    env.insert(QStringLiteral("LC_ALL"), QStringLiteral("C"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/config"));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/data"));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), home + QStringLiteral("/cache"));
    env.insert(QStringLiteral("QUIRE_CATALOG"), home + QStringLiteral("/catalog.sqlite"));
    env.insert(QStringLiteral("QUIRE_CONFIG"), home + QStringLiteral("/settings.json"));
    return env;
}

// Runs program with the exact argument bytes (which may be invalid UTF-8, so they cannot go
// through QProcess's QStringList): bash reads them NUL-separated from a file.
Run runWithArgs(const QString &workDir, const QStringList &program, const QByteArrayList &args,
                const QByteArray &input)
{
    Run run;
    const QString argsFile = workDir + QStringLiteral("/../args.bin");
    {
        QFile f(argsFile);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            return run;
        for (const QByteArray &a : args)
            f.write(a + '\0');
    }
    QProcess p;
    p.setWorkingDirectory(workDir);
    p.setProcessEnvironment(quireEnvironment(workDir));
    QStringList bashArgs{QStringLiteral("-c"),
                         QStringLiteral("mapfile -d '' -t args < \"$1\"; shift; exec \"$@\" \"${args[@]}\""),
                         QStringLiteral("bash"), argsFile};
    bashArgs += program;
    p.start(QStringLiteral("bash"), bashArgs);
    if (!p.waitForStarted(30'000))
        return run;
    p.write(input);
    p.closeWriteChannel();
    if (!p.waitForFinished(240'000)) {
        p.kill();
        p.waitForFinished();
        return run;
    }
    run.out = p.readAllStandardOutput();
    run.err = p.readAllStandardError();
    run.status = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    return run;
}

using quire::test::pseudoRandomBytes;

bool writeFile(const QByteArray &path, const QByteArray &data)
{
    return quire::test::writeRaw(path, data, O_WRONLY | O_CREAT | O_TRUNC);
}

// rm -rf by bytes (QDir::removeRecursively cannot remove names that are not valid UTF-8).
void removeTree(const QByteArray &path)
{
    ::nftw(path.constData(), [](const char *p, const struct stat *, int, FTW *) {
        ::remove(p);   // best effort: go on with the rest
        return 0;
    }, 16, FTW_DEPTH | FTW_PHYS);
}

// Visible form of bytes for failure messages.
QByteArray show(const QByteArray &bytes)
{
    return bytes.left(2000).toPercentEncoding(" /.:-");
}

// A row of sameAsSha256sum_data(): one file, hashed by its name.
void oneFileByName(const char *tag, const QByteArray &name)
{
    QTest::newRow(tag) << QByteArrayList{name} << QByteArrayList{name} << QByteArray() << 0;
}

} // namespace

class TestHashCommand final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase() { removeTree(QFile::encodeName(m_dir.path())); }
    void sameAsSha256sum_data();
    void sameAsSha256sum();
    void errorMessages_data();
    void errorMessages();
    void streamsLines();

private:
    QTemporaryDir m_dir;
};

void TestHashCommand::initTestCase()
{
    QVERIFY(QFile::exists(quire::test::quireBinary()));
    QVERIFY2(!QStandardPaths::findExecutable(QStringLiteral("sha256sum")).isEmpty(), "sha256sum is needed");
    QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("home"))));
}

void TestHashCommand::sameAsSha256sum_data()
{
    QTest::addColumn<QByteArrayList>("files");     // created in the working folder, content derived from the name
    QTest::addColumn<QByteArrayList>("args");
    QTest::addColumn<QByteArray>("input");         // standard input
    QTest::addColumn<int>("expectedStatus");

    oneFileByName("one file", "a.txt");
    oneFileByName("empty file", "empty");
    oneFileByName("multi-block file", "big.bin");
    oneFileByName("space", "with space.txt");
    oneFileByName("two spaces and tab", "  two\tx ");
    oneFileByName("newline", "new\nline");
    oneFileByName("backslash", "back\\slash");
    oneFileByName("carriage return", "cr\rname");
    oneFileByName("all escapes at once", "\\a\nb\rc\\\\\n");
    oneFileByName("invalid UTF-8", "bad\xff\xfe.txt");
    oneFileByName("invalid UTF-8 and backslash", "\xc3\\(x");
    QTest::newRow("leading dash after --") << QByteArrayList{"-dash"} << QByteArrayList{"--", "-dash"}
                                           << QByteArray() << 0;
    QTest::newRow("a file named -- after --") << QByteArrayList{"--"} << QByteArrayList{"--", "--"}
                                              << QByteArray() << 0;
    QTest::newRow("./ prefix") << QByteArrayList{"a.txt"} << QByteArrayList{"./a.txt", ".//a.txt"}
                               << QByteArray() << 0;
    QTest::newRow("same file twice") << QByteArrayList{"a.txt"} << QByteArrayList{"a.txt", "a.txt"}
                                     << QByteArray() << 0;
    QTest::newRow("/dev/null") << QByteArrayList{} << QByteArrayList{"/dev/null"} << QByteArray() << 0;
    QTest::newRow("stdin without arguments") << QByteArrayList{} << QByteArrayList{} << QByteArray("from stdin\n")
                                             << 0;
    QTest::newRow("stdin as -") << QByteArrayList{} << QByteArrayList{"-"} << pseudoRandomBytes(3'000'000, 1) << 0;
    QTest::newRow("- between files") << QByteArrayList{"a.txt", "b.txt"} << QByteArrayList{"a.txt", "-", "b.txt"}
                                     << QByteArray("middle") << 0;
    QTest::newRow("- twice") << QByteArrayList{} << QByteArrayList{"-", "-"} << QByteArray("once") << 0;
    QTest::newRow("missing file") << QByteArrayList{} << QByteArrayList{"missing"} << QByteArray() << 1;
    QTest::newRow("missing among files") << QByteArrayList{"a.txt", "b.txt"}
                                         << QByteArrayList{"a.txt", "missing", "b.txt"} << QByteArray() << 1;
    QTest::newRow("directory") << QByteArrayList{"d/inside"} << QByteArrayList{"d", "d/inside"} << QByteArray()
                               << 1;
    QTest::newRow("not a directory") << QByteArrayList{"a.txt"} << QByteArrayList{"a.txt/x"} << QByteArray() << 1;

    QByteArrayList many;
    for (int i = 0; i < 500; ++i)
        many.append("f" + QByteArray::number(i));
    QByteArrayList shuffled = many;
    std::reverse(shuffled.begin(), shuffled.end());
    shuffled.insert(250, "missing-in-the-middle");
    QTest::newRow("500 files, argument order") << many << shuffled << QByteArray() << 1;
}

void TestHashCommand::sameAsSha256sum()
{
    QFETCH(QByteArrayList, files);
    QFETCH(QByteArrayList, args);
    QFETCH(QByteArray, input);
    QFETCH(int, expectedStatus);

    const QString work = m_dir.filePath(QStringLiteral("work"));
    const QByteArray workBytes = QFile::encodeName(work);
    removeTree(workBytes);
    QVERIFY(QDir().mkpath(work));
    for (const QByteArray &name : std::as_const(files)) {
        const qsizetype slash = name.lastIndexOf('/');
        if (slash > 0)
            QVERIFY(QDir().mkpath(QFile::decodeName(workBytes + '/' + name.left(slash))));
        QByteArray content = name == "empty" ? QByteArray()
                           : name == "big.bin" ? pseudoRandomBytes(3 * 1024 * 1024 + 1, 7)
                                               : "content of " + name + '\n';
        QVERIFY(writeFile(workBytes + '/' + name, content));
    }

    const Run expected = runWithArgs(work, {QStringLiteral("sha256sum")}, args, input);
    const Run actual = runWithArgs(work, {quire::test::quireBinary(), QStringLiteral("hash")}, args, input);

    QCOMPARE(expected.status, expectedStatus);   // the reference itself behaves as expected
    QVERIFY2(actual.out == expected.out,
             "quire:     " + show(actual.out) + "\nsha256sum: " + show(expected.out) + "\nstderr: " + actual.err);
    QCOMPARE(actual.status, expected.status);
    if (expectedStatus == 0)
        QVERIFY2(actual.err.isEmpty(), actual.err.constData());
    else
        QVERIFY2(actual.err.contains("quire: "), actual.err.constData());
}

void TestHashCommand::errorMessages_data()
{
    QTest::addColumn<QByteArray>("arg");
    QTest::addColumn<QByteArray>("expectedLine");
    QTest::newRow("missing") << QByteArray("missing") << QByteArray("quire: missing: No such file or directory\n");
    QTest::newRow("directory") << QByteArray(".") << QByteArray("quire: .: Is a directory\n");
}

void TestHashCommand::errorMessages()
{
    QFETCH(QByteArray, arg);
    QFETCH(QByteArray, expectedLine);
    const QString work = m_dir.filePath(QStringLiteral("work"));
    QVERIFY(QDir().mkpath(work));
    const Run run = runWithArgs(work, {quire::test::quireBinary(), QStringLiteral("hash")}, {arg}, {});
    QCOMPARE(run.status, 1);
    QVERIFY(run.out.isEmpty());
    QVERIFY2(run.err.endsWith(expectedLine), run.err.constData());
}

void TestHashCommand::streamsLines()
{
    // The second argument is a FIFO nobody writes to yet, so it cannot finish; the first line
    // must still come out. Only then does the test write to the FIFO (no timing assumption: a
    // quire that held lines back would never print it, and the test fails at the deadline).
    const QString work = m_dir.filePath(QStringLiteral("stream"));
    QVERIFY(QDir().mkpath(work));
    const QByteArray dir = QFile::encodeName(work);
    QVERIFY(writeFile(dir + "/a.txt", "first\n"));
    QVERIFY(::mkfifo((dir + "/fifo").constData(), 0600) == 0);

    QProcess p;
    p.setWorkingDirectory(work);
    p.setProcessEnvironment(quireEnvironment(work));
    p.start(quire::test::quireBinary(), {QStringLiteral("hash"), QStringLiteral("a.txt"), QStringLiteral("fifo")});
    QVERIFY(p.waitForStarted(30'000));
    p.closeWriteChannel();

    QByteArray out;
    QDeadlineTimer deadline(60'000);
    while (!out.contains('\n') && !deadline.hasExpired() && p.state() == QProcess::Running) {
        p.waitForReadyRead(200);
        out += p.readAllStandardOutput();
    }
    const bool firstLineEarly = out.contains('\n');

    // Now feed the FIFO. Opening it for writing blocks until quire opens it for reading: in a
    // thread of its own, so that a quire that never does fails the test instead of hanging it.
    const QByteArray fifo = dir + "/fifo";
    auto opener = std::async(std::launch::async, [fifo] { return ::open(fifo.constData(), O_WRONLY | O_CLOEXEC); });
    if (opener.wait_for(std::chrono::milliseconds(std::max<qint64>(1, deadline.remainingTime())))
        != std::future_status::ready) {
        // Be the reader ourselves, so that the blocked open returns and the thread ends.
        const int reader = ::open(fifo.constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        const int writer = opener.get();
        ::close(writer);
        ::close(reader);
        QFAIL("quire never opened the FIFO");
    }
    const int fd = opener.get();
    QVERIFY2(fd >= 0, qPrintable(QStringLiteral("cannot open the FIFO: %1").arg(QString::fromLocal8Bit(::strerror(errno)))));
    QVERIFY(::write(fd, "second\n", 7) == 7);
    ::close(fd);
    QVERIFY(p.waitForFinished(60'000));
    out += p.readAllStandardOutput();

    QVERIFY2(firstLineEarly, "the first line was held back until the second file was done");
    const QByteArray expected = "b640e840b19d378660b32fb51ae18d67dccb4a8596a29e7bd72c1b2ae5928f41  a.txt\n"
                                "480c2336b410f1ad5f8bf1b28944490255804b65350c527787e74ebdd511e3a4  fifo\n";
    QCOMPARE(out, expected);
    QCOMPARE(p.exitCode(), 0);
}

QTEST_GUILESS_MAIN(TestHashCommand)
#include "tst_hashcommand.moc"
