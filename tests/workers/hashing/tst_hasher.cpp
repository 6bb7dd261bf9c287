// ctest-labels: hashing concurrency
// ctest-timeout: 600
#include "hashing/hasher.h"
#include "platform/nativefs.h"
#include "hashing/sha256sumformat.h"
#include "testsupport.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <thread>
#include <vector>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace quire;

namespace {

using test::pseudoRandomBytes;

// The reference: GNU coreutils' sha256sum on the same file. Started with posix_spawn rather
// than QProcess: QProcess forks, and ThreadSanitizer (this test also runs under it) refuses a
// fork once threads exist.
QByteArray sha256sumOf(const QString &path)
{
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        return "pipe failed";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    const QByteArray file = QFile::encodeName(path);
    char *argv[] = {const_cast<char *>("sha256sum"), const_cast<char *>("--"), const_cast<char *>(file.constData()),
                    nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, "sha256sum", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    QByteArray output;
    if (rc == 0) {
        char buffer[4096];
        ssize_t n;
        while ((n = ::read(out[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
            if (n > 0)
                output.append(buffer, n);
        }
    }
    ::close(out[0]);
    int status = 0;
    if (rc != 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return "sha256sum failed";
    return output.left(64);
}

} // namespace

class TestHasher final : public QObject
{
    Q_OBJECT

private slots:
    void knownVectors_data();
    void knownVectors();
    void multiBlock_data();
    void multiBlock();
    void progress_data();
    void progress();
    void cancel_data();
    void cancel();
    void errors_data();
    void errors();
    void changedWhileHashed_data();
    void changedWhileHashed();
    void deletedWhileHashed();
    void nonRegularFiles_data();
    void nonRegularFiles();
    void device_data();
    void device();
    void incremental_data();
    void incremental();
    void reentrantProgress();
    void concurrentFiles_data();
    void concurrentFiles();
    void sparseOver4GiB();
    void sha256sumLineFormat_data();
    void sha256sumLineFormat();

private:
    QTemporaryDir m_dir;
    QByteArray path(const char *name) const { return nativePath(m_dir.filePath(QLatin1String(name))); }
};

void TestHasher::knownVectors_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<QByteArray>("expected");
    // FIPS 180-2 examples and the empty message.
    QTest::newRow("empty") << QByteArray()
                           << QByteArray("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    QTest::newRow("abc") << QByteArray("abc")
                         << QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    QTest::newRow("448 bits") << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                              << QByteArray("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    QTest::newRow("million a") << QByteArray(1'000'000, 'a')
                               << QByteArray("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

void TestHasher::knownVectors()
{
    QFETCH(QByteArray, content);
    QFETCH(QByteArray, expected);
    QCOMPARE(expected.size(), 64);

    QCOMPARE(Hasher::hashBytes(content), expected);

    const QByteArray file = path("vector");
    QVERIFY(test::createFile(displayPath(file), content));
    const FileHash h = Hasher::hashFile(file);
    QVERIFY2(h.ok(), qPrintable(h.error));
    QCOMPARE(h.sha256, expected);
    QCOMPARE(h.size, content.size());
    QCOMPARE(h.mtimeMs, statPath(file)->mtimeMs());
}

void TestHasher::multiBlock_data()
{
    QTest::addColumn<qint64>("size");
    QTest::newRow("one byte") << qint64(1);
    QTest::newRow("block - 1") << Hasher::kBlockSize - 1;
    QTest::newRow("one block") << Hasher::kBlockSize;
    QTest::newRow("block + 1") << Hasher::kBlockSize + 1;
    QTest::newRow("5 MiB + 7") << 5 * Hasher::kBlockSize + 7;
}

void TestHasher::multiBlock()
{
    QFETCH(qint64, size);
    const QByteArray data = pseudoRandomBytes(size, quint32(size));
    const QByteArray file = path("multiblock");
    QVERIFY(test::createFile(displayPath(file), data));

    const FileHash h = Hasher::hashFile(file);
    QVERIFY2(h.ok(), qPrintable(h.error));
    QCOMPARE(h.size, size);
    QCOMPARE(h.sha256, sha256sumOf(displayPath(file)));
    QCOMPARE(h.sha256, Hasher::hashBytes(data));
    QCOMPARE(Hasher::hashAnyFile(file).sha256, h.sha256);
}

void TestHasher::progress_data()
{
    QTest::addColumn<qint64>("size");
    QTest::newRow("empty") << qint64(0);
    QTest::newRow("small") << qint64(100);
    QTest::newRow("3 blocks + 1") << 3 * Hasher::kBlockSize + 1;
}

void TestHasher::progress()
{
    QFETCH(qint64, size);
    const QByteArray file = path("progress");
    QVERIFY(test::createFile(displayPath(file), pseudoRandomBytes(size, 7)));

    QList<std::pair<qint64, qint64>> calls;
    const FileHash h = Hasher::hashFile(file, nullptr, [&](qint64 done, qint64 total) {
        calls.append({done, total});
    });
    QVERIFY2(h.ok(), qPrintable(h.error));

    const qint64 blocks = (size + Hasher::kBlockSize - 1) / Hasher::kBlockSize;
    QVERIFY(calls.size() <= blocks);   // never more often than once per block
    qint64 previous = 0;
    for (const auto &[done, total] : std::as_const(calls)) {
        QVERIFY(done > previous);      // strictly increasing
        QVERIFY(done <= total);
        QCOMPARE(total, size);
        previous = done;
    }
    if (size > 0) {
        QVERIFY(!calls.isEmpty());
        QCOMPARE(calls.last().first, size);   // reaches the total
    }
}

void TestHasher::cancel_data()
{
    QTest::addColumn<int>("cancelAfterCalls");   // 0: cancelled before the call
    QTest::newRow("before start") << 0;
    QTest::newRow("after first block") << 1;
    QTest::newRow("after third block") << 3;
}

void TestHasher::cancel()
{
    QFETCH(int, cancelAfterCalls);
    const QByteArray file = path("cancel");
    QVERIFY(test::createFile(displayPath(file), pseudoRandomBytes(8 * Hasher::kBlockSize, 3)));

    std::atomic_bool cancel = cancelAfterCalls == 0;
    int calls = 0;
    const FileHash h = Hasher::hashFile(file, &cancel, [&](qint64, qint64) {
        if (++calls == cancelAfterCalls)
            cancel = true;
    });
    QVERIFY(!h.ok());
    QCOMPARE(h.error, Hasher::cancelledError());
    QVERIFY(h.sha256.isEmpty());
    QCOMPARE(calls, cancelAfterCalls);   // stopped at the next block
}

void TestHasher::errors_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expectedError");
    QTest::newRow("missing") << QStringLiteral("missing") << QStringLiteral("No such file or directory");
    QTest::newRow("vanished") << QStringLiteral("vanished") << QStringLiteral("No such file or directory");
    QTest::newRow("directory") << QStringLiteral("directory") << QStringLiteral("Is a directory");
    QTest::newRow("unreadable") << QStringLiteral("unreadable") << QStringLiteral("Permission denied");
    QTest::newRow("not a directory") << QStringLiteral("notdir") << QStringLiteral("Not a directory");
    QTest::newRow("empty path") << QStringLiteral("empty") << QStringLiteral("No such file or directory");
}

void TestHasher::errors()
{
    QFETCH(QString, kind);
    QFETCH(QString, expectedError);
    QByteArray file = path("error-target");
    QFile::remove(displayPath(file));
    if (kind == QLatin1String("vanished")) {
        QVERIFY(test::createFile(displayPath(file), "here a moment ago"));
        QVERIFY(QFile::remove(displayPath(file)));
    } else if (kind == QLatin1String("directory")) {
        file = path("a-directory");
        QVERIFY(QDir().mkpath(displayPath(file)));
    } else if (kind == QLatin1String("unreadable")) {
        // Root reads through any permission bits, so there is no unreadable file to make.
        if (::geteuid() == 0)
            QSKIP("running as root: mode 000 does not stop root from reading");
        QVERIFY(test::createFile(displayPath(file), "secret"));
        QVERIFY(::chmod(file.constData(), 0) == 0);
    } else if (kind == QLatin1String("notdir")) {
        QVERIFY(test::createFile(displayPath(file), "a file"));
        file += "/child";
    } else if (kind == QLatin1String("empty")) {
        file.clear();
    }
    for (auto hash : {&Hasher::hashFile, &Hasher::hashAnyFile}) {
        const FileHash h = hash(file, nullptr, {});
        QVERIFY(!h.ok());
        QCOMPARE(h.error, expectedError);
        QVERIFY(h.sha256.isEmpty());
    }
    ::chmod(path("error-target").constData(), 0600);
}

void TestHasher::changedWhileHashed_data()
{
    QTest::addColumn<int>("appends");   // how many attempts see an append during the read
    QTest::addColumn<bool>("expectOk");
    QTest::newRow("appended once: hashed again") << 1 << true;
    QTest::newRow("appended twice: hashed a third time") << 2 << true;
    QTest::newRow("appended every time: fails") << Hasher::kMaxAttempts << false;
}

void TestHasher::changedWhileHashed()
{
    QFETCH(int, appends);
    QFETCH(bool, expectOk);
    const QByteArray file = path("changing");
    QByteArray content = pseudoRandomBytes(3 * Hasher::kBlockSize, 11);
    QVERIFY(test::createFile(displayPath(file), content));

    // Deterministic: the writer runs inside the progress callback, after the first block of an
    // attempt was read, so the file is certainly different when the attempt ends.
    int attempts = 0;
    int appended = 0;
    const FileHash h = Hasher::hashFile(file, nullptr, [&](qint64 done, qint64) {
        if (done > Hasher::kBlockSize)
            return;
        ++attempts;   // the first block of each attempt
        if (appended < appends) {
            const QByteArray more = "appended " + QByteArray::number(appended) + '\n';
            QVERIFY(test::writeRaw(file, more, O_WRONLY | O_APPEND));
            content += more;
            ++appended;
        }
    });
    if (expectOk) {
        QVERIFY2(h.ok(), qPrintable(h.error));
        QCOMPARE(attempts, appends + 1);
        QCOMPARE(h.sha256, Hasher::hashBytes(content));
        QCOMPARE(h.sha256, sha256sumOf(displayPath(file)));
        QCOMPARE(h.size, content.size());
    } else {
        QCOMPARE(h.error, Hasher::changedError());
        QCOMPARE(attempts, Hasher::kMaxAttempts);
        QVERIFY(h.sha256.isEmpty());
    }
}

void TestHasher::deletedWhileHashed()
{
    // The open descriptor still reads the data, but the unlink changes the file's ctime, so the
    // hash is retried, and the retry finds no file.
    const QByteArray file = path("deleted");
    QVERIFY(test::createFile(displayPath(file), pseudoRandomBytes(2 * Hasher::kBlockSize, 5)));
    bool removed = false;
    const FileHash h = Hasher::hashFile(file, nullptr, [&](qint64, qint64) {
        if (!removed)
            removed = QFile::remove(displayPath(file));
    });
    QVERIFY(removed);
    QCOMPARE(h.error, QStringLiteral("No such file or directory"));
}

void TestHasher::nonRegularFiles_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QString>("refusal");       // from hashFile()
    QTest::addColumn<QByteArray>("anyResult");  // from hashAnyFile(): sha256 or error text
    QTest::newRow("/dev/null") << QByteArray("/dev/null") << QStringLiteral("is a device")
                               << QByteArray("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    QTest::newRow("fifo") << QByteArray("fifo") << QStringLiteral("is a FIFO")
                          << Hasher::hashBytes("through a FIFO\n");
}

void TestHasher::nonRegularFiles()
{
    QFETCH(QByteArray, file);
    QFETCH(QString, refusal);
    QFETCH(QByteArray, anyResult);

    if (file == "fifo") {
        file = path("fifo");
        ::unlink(file.constData());
        QVERIFY(::mkfifo(file.constData(), 0600) == 0);
    }
    // hashFile never blocks on a FIFO without a writer: it looks before it reads.
    const FileHash refused = Hasher::hashFile(file);
    QCOMPARE(refused.error, refusal);

    // The FIFO's writer: opened for reading and writing (Linux opens a FIFO so at once), it keeps
    // the FIFO and the text in it while hashAnyFile looks at the file and opens it again to read.
    // It is closed once the hasher has read the whole text, which then reaches the end.
    const QByteArray text = "through a FIFO\n";
    int writer = -1;
    if (file.endsWith("fifo")) {
        writer = ::open(file.constData(), O_RDWR | O_CLOEXEC);
        QVERIFY(writer >= 0);
        QCOMPARE(::write(writer, text.constData(), size_t(text.size())), ssize_t(text.size()));
    }
    const FileHash any = Hasher::hashAnyFile(file, nullptr, [&](qint64 done, qint64) {
        if (writer >= 0 && done >= text.size()) {
            ::close(writer);
            writer = -1;
        }
    });
    QCOMPARE(writer, -1);
    QVERIFY2(any.ok(), qPrintable(any.error));
    QCOMPARE(any.sha256, anyResult);
}

void TestHasher::device_data()
{
    QTest::addColumn<qint64>("size");
    QTest::newRow("empty") << qint64(0);
    QTest::newRow("small") << qint64(10);
    QTest::newRow("2.5 blocks") << Hasher::kBlockSize * 5 / 2;
}

void TestHasher::device()
{
    QFETCH(qint64, size);
    const QByteArray data = pseudoRandomBytes(size, 17);
    int fds[2];
    QVERIFY(::pipe(fds) == 0);
    std::thread writer([&] {
        qint64 written = 0;
        while (written < data.size()) {
            const auto n = ::write(fds[1], data.constData() + written, size_t(data.size() - written));
            if (n <= 0)
                break;
            written += n;
        }
        ::close(fds[1]);
    });
    qint64 lastDone = 0;
    const FileHash h = Hasher::hashDevice(fds[0], nullptr, [&](qint64 done, qint64 total) {
        QCOMPARE(total, -1);   // unknown for a stream
        lastDone = done;
    });
    writer.join();
    ::close(fds[0]);
    QVERIFY2(h.ok(), qPrintable(h.error));
    QCOMPARE(h.sha256, Hasher::hashBytes(data));
    QCOMPARE(h.size, size);
    QCOMPARE(lastDone, size);
}

void TestHasher::incremental_data()
{
    QTest::addColumn<int>("pieceSize");
    QTest::newRow("1 byte") << 1;
    QTest::newRow("63 bytes") << 63;
    QTest::newRow("64 KiB") << 65536;
}

void TestHasher::incremental()
{
    QFETCH(int, pieceSize);
    const QByteArray data = pseudoRandomBytes(200'003, 23);
    Sha256 sha;
    for (qsizetype i = 0; i < data.size(); i += pieceSize)
        sha.addData(QByteArrayView(data.constData() + i, std::min<qsizetype>(pieceSize, data.size() - i)));
    QCOMPARE(sha.hexResult(), Hasher::hashBytes(data));
    // Starts over after a result.
    sha.addData("abc");
    QCOMPARE(sha.hexResult(), Hasher::hashBytes("abc"));
}

void TestHasher::reentrantProgress()
{
    // A progress callback that hashes too must not disturb the hash in progress (each thread
    // reuses one context and buffer).
    const QByteArray outer = path("outer");
    const QByteArray inner = path("inner");
    const QByteArray outerData = pseudoRandomBytes(3 * Hasher::kBlockSize + 5, 29);
    const QByteArray innerData = pseudoRandomBytes(Hasher::kBlockSize + 9, 31);
    QVERIFY(test::createFile(displayPath(outer), outerData));
    QVERIFY(test::createFile(displayPath(inner), innerData));
    int innerOk = 0;
    const FileHash h = Hasher::hashFile(outer, nullptr, [&](qint64, qint64) {
        if (Hasher::hashFile(inner).sha256 == Hasher::hashBytes(innerData))
            ++innerOk;
    });
    QCOMPARE(h.sha256, Hasher::hashBytes(outerData));
    QCOMPARE(innerOk, 4);
}

void TestHasher::concurrentFiles_data()
{
    QTest::addColumn<int>("threads");
    QTest::addColumn<int>("files");
    QTest::newRow("2 threads") << 2 << 64;
    QTest::newRow("8 threads") << 8 << 200;
}

void TestHasher::concurrentFiles()
{
    QFETCH(int, threads);
    QFETCH(int, files);
    QTemporaryDir dir;
    QList<QByteArray> paths;
    QList<QByteArray> expected;
    for (int i = 0; i < files; ++i) {
        // Mostly small files, every tenth spans blocks.
        const qint64 size = i % 10 == 0 ? Hasher::kBlockSize + i : 4096 + i;
        const QByteArray data = pseudoRandomBytes(size, quint32(1000 + i));
        const QString name = dir.filePath(QString::number(i));
        QVERIFY(test::createFile(name, data));
        paths.append(nativePath(name));
        expected.append(Hasher::hashBytes(data));
    }
    // Plain threads sharing one work counter: many files hashed at once on each thread's reused
    // context and buffer.
    QList<FileHash> results(files);
    std::atomic_int next = 0;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = next++; i < files; i = next++)
                results[i] = Hasher::hashFile(paths[i]);
        });
    }
    for (std::thread &w : workers)
        w.join();
    for (int i = 0; i < files; ++i) {
        QVERIFY2(results[i].ok(), qPrintable(results[i].error));
        QCOMPARE(results[i].sha256, expected[i]);
    }
}

void TestHasher::sparseOver4GiB()
{
    // Sizes past 32 bits: a sparse file of 4 GiB + 1 MiB (mostly holes, so cheap on disk).
    const QByteArray file = path("sparse");
    const qint64 size = (qint64(4) << 30) + Hasher::kBlockSize;
    {
        const int fd = ::open(file.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        QVERIFY(fd >= 0);
        QVERIFY(::pwrite(fd, "start", 5, 0) == 5);
        const bool truncated = ::ftruncate(fd, size) == 0;
        QVERIFY(::pwrite(fd, "end", 3, size - 3) == 3);
        ::close(fd);
        if (!truncated)
            QSKIP("this file system cannot make a sparse file over 4 GiB");
    }
    qint64 lastDone = 0;
    const FileHash h = Hasher::hashFile(file, nullptr, [&](qint64 done, qint64) { lastDone = done; });
    QVERIFY2(h.ok(), qPrintable(h.error));
    QCOMPARE(h.size, size);
    QCOMPARE(lastDone, size);
    QCOMPARE(h.sha256, sha256sumOf(displayPath(file)));
    QFile::remove(displayPath(file));
}

void TestHasher::sha256sumLineFormat_data()
{
    // As GNU coreutils 9.1 sha256sum prints them (checked with od -c on this platform);
    // tst_hashcommand compares whole runs against the real sha256sum.
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("expected");
    const QByteArray h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QTest::newRow("plain") << QByteArray("a.txt") << h + "  a.txt\n";
    QTest::newRow("space") << QByteArray("sp ace") << h + "  sp ace\n";
    QTest::newRow("stdin") << QByteArray("-") << h + "  -\n";
    QTest::newRow("backslash") << QByteArray("a\\b") << "\\" + h + "  a\\\\b\n";
    QTest::newRow("newline") << QByteArray("n\nl") << "\\" + h + "  n\\nl\n";
    QTest::newRow("carriage return") << QByteArray("c\rr") << "\\" + h + "  c\\rr\n";
    QTest::newRow("all three") << QByteArray("\\\n\r") << "\\" + h + "  \\\\\\n\\r\n";
    QTest::newRow("invalid UTF-8 unchanged") << QByteArray("bad\xff\xfe") << h + "  bad\xff\xfe\n";
    QTest::newRow("tab unchanged") << QByteArray("t\tb") << h + "  t\tb\n";
}

void TestHasher::sha256sumLineFormat()
{
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, expected);
    const QByteArray h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    QCOMPARE(sha256sumLine(h, name), expected);
}

QTEST_GUILESS_MAIN(TestHasher)
#include "tst_hasher.moc"
