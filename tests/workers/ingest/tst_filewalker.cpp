// ctest-labels: hashing
#include "ingest/filewalker.h"
#include "platform/nativefs.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <algorithm>
#include <fcntl.h>
#include <ftw.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace quire;

namespace {

// Builds a tree from a list of specs, each relative to base:
//   "f:PATH"          regular file whose content is PATH
//   "d:PATH"          folder
//   "l:PATH>TARGET"   symbolic link to TARGET (taken as is)
//   "p:PATH"          FIFO
//   "s:PATH"          unix socket
//   "x:PATH"          folder that nobody but root may enter (mode 000)
bool build(const QByteArray &base, const QByteArrayList &specs, QString *error)
{
    auto fail = [&](const QByteArray &spec) {
        *error = QStringLiteral("cannot create %1: %2").arg(QString::fromUtf8(spec), errnoMessage(errno));
        return false;
    };
    // By bytes: QDir::mkpath would decode (and so lose) names that are not valid UTF-8.
    auto makeParents = [&](const QByteArray &path) {
        for (qsizetype slash = path.indexOf('/', base.size() + 1); slash > 0; slash = path.indexOf('/', slash + 1))
            ::mkdir(path.left(slash).constData(), 0755);
    };
    for (const QByteArray &spec : specs) {
        const char kind = spec.at(0);
        QByteArray rel = spec.mid(2);
        QByteArray target;
        if (kind == 'l') {
            const qsizetype arrow = rel.indexOf('>');
            target = rel.mid(arrow + 1);
            rel = rel.left(arrow);
        }
        const QByteArray path = base + '/' + rel;
        makeParents(path);
        switch (kind) {
        case 'f': {
            const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0 || ::write(fd, rel.constData(), size_t(rel.size())) != rel.size())
                return fail(spec);
            ::close(fd);
            break;
        }
        case 'd':
        case 'x':
            if (::mkdir(path.constData(), 0755) != 0 && errno != EEXIST)
                return fail(spec);
            if (kind == 'x' && ::chmod(path.constData(), 0) != 0)
                return fail(spec);
            break;
        case 'l':
            if (::symlink(target.constData(), path.constData()) != 0)
                return fail(spec);
            break;
        case 'p':
            if (::mkfifo(path.constData(), 0644) != 0)
                return fail(spec);
            break;
        case 's': {
            const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            if (fd < 0 || size_t(path.size()) >= sizeof addr.sun_path)
                return fail(spec);
            std::memcpy(addr.sun_path, path.constData(), size_t(path.size()));
            const bool bound = ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
            ::close(fd);   // the socket file stays
            if (!bound)
                return fail(spec);
            break;
        }
        default:
            *error = QStringLiteral("bad spec");
            return false;
        }
    }
    return true;
}

// rm -rf by bytes (QDir::removeRecursively cannot remove names that are not valid UTF-8).
void removeTree(const QByteArray &path)
{
    ::nftw(path.constData(), [](const char *p, const struct stat *, int, FTW *) {
        ::chmod(p, 0700);   // folders made unreadable by a test
        return 0;
    }, 16, FTW_PHYS);
    ::nftw(path.constData(), [](const char *p, const struct stat *, int, FTW *) {
        ::remove(p);   // best effort: go on with the rest
        return 0;
    }, 16, FTW_DEPTH | FTW_PHYS);
}

QByteArray absolute(const QByteArray &base, const QByteArray &rel)
{
    if (rel.startsWith('/'))
        return rel;
    if (rel.isEmpty())
        return base;
    return base + '/' + rel;
}

// Printable form for failure messages (newlines and invalid bytes made visible).
QByteArray show(const QByteArrayList &list)
{
    QByteArray out;
    for (const QByteArray &item : list)
        out += '[' + item.toPercentEncoding("/|. ") + "] ";
    return out;
}

struct Collected
{
    QByteArrayList files;
    QByteArrayList skips;   // "path|reason"
    QList<WalkEntry> entries;
    QList<int> batchSizes;
};

Collected runWalk(const QList<QByteArray> &roots, int batchSize = 256, const std::atomic_bool *cancel = nullptr,
                  const std::function<void()> &afterBatch = {})
{
    Collected c;
    FileWalker::walk(
        roots,
        [&](QList<WalkEntry> batch) {
            c.batchSizes.append(int(batch.size()));
            for (const WalkEntry &e : batch) {
                c.files.append(e.path);
                c.entries.append(e);
            }
            if (afterBatch)
                afterBatch();
        },
        [&](const WalkSkip &skip) { c.skips.append(skip.path + '|' + skip.reason.toUtf8()); }, cancel,
        batchSize);
    return c;
}

} // namespace

class TestFileWalker final : public QObject
{
    Q_OBJECT

private slots:
    void cleanupTestCase() { removeTree(nativePath(m_dir.path())); }
    void walk_data();
    void walk();
    void batches_data();
    void batches();
    void cancel_data();
    void cancel();
    void order();
    void deepTree();

private:
    // A new, empty folder for one test row (never the current folder: name is made safe).
    QByteArray freshBase(const char *name)
    {
        QByteArray safe = QByteArray(name).toPercentEncoding();
        safe.replace('%', '_');
        const QString dir = m_dir.path() + QLatin1Char('/') + QString::number(++m_rows) + QLatin1Char('-')
            + QString::fromLatin1(safe);
        Q_ASSERT(m_dir.isValid() && !safe.isEmpty());
        QDir().mkpath(dir);
        return nativePath(dir);
    }
    int m_rows = 0;
    QTemporaryDir m_dir;
};

void TestFileWalker::walk_data()
{
    QTest::addColumn<QByteArrayList>("specs");
    QTest::addColumn<QByteArrayList>("roots");      // relative to the row's folder; "" is the folder
    QTest::addColumn<QByteArrayList>("files");      // expected, relative
    QTest::addColumn<QByteArrayList>("skips");      // expected "path|reason", relative
    QTest::addColumn<bool>("needsNonRoot");

    const QByteArrayList here{""};
    // Every row also has ok.txt next to the odd thing: the walk goes on after a skip.
    QTest::newRow("nested folders")
        << QByteArrayList{"f:ok.txt", "f:a/mid.txt", "f:a/b/c/deep.txt"} << here
        << QByteArrayList{"ok.txt", "a/mid.txt", "a/b/c/deep.txt"} << QByteArrayList{} << false;
    QTest::newRow("space in name") << QByteArrayList{"f:ok.txt", "f:with space.txt", "f:dir with space/x"}
                                   << here << QByteArrayList{"ok.txt", "with space.txt", "dir with space/x"}
                                   << QByteArrayList{} << false;
    QTest::newRow("newline in name") << QByteArrayList{"f:ok.txt", "f:new\nline.txt"} << here
                                     << QByteArrayList{"ok.txt", "new\nline.txt"} << QByteArrayList{} << false;
    QTest::newRow("backslash in name") << QByteArrayList{"f:ok.txt", "f:back\\slash.txt"} << here
                                       << QByteArrayList{"ok.txt", "back\\slash.txt"} << QByteArrayList{} << false;
    QTest::newRow("carriage return in name") << QByteArrayList{"f:ok.txt", "f:cr\rname"} << here
                                             << QByteArrayList{"ok.txt", "cr\rname"} << QByteArrayList{} << false;
    QTest::newRow("invalid UTF-8 name")
        << QByteArrayList{"f:ok.txt", "f:bad\xff\xfe.txt", "f:dir\xc3(/inner"} << here
        << QByteArrayList{"ok.txt", "bad\xff\xfe.txt", "dir\xc3(/inner"} << QByteArrayList{} << false;
    QTest::newRow("leading dash") << QByteArrayList{"f:ok.txt", "f:-n"} << here
                                  << QByteArrayList{"ok.txt", "-n"} << QByteArrayList{} << false;
    QTest::newRow("symlink loop to parent")
        << QByteArrayList{"f:ok.txt", "f:sub/x", "l:sub/up>.."} << here << QByteArrayList{"ok.txt", "sub/x"}
        << QByteArrayList{"sub/up|symbolic link loop"} << false;
    QTest::newRow("symlink to its own folder")
        << QByteArrayList{"f:ok.txt", "l:self>."} << here << QByteArrayList{"ok.txt"}
        << QByteArrayList{"self|symbolic link loop"} << false;
    QTest::newRow("symlink to itself") << QByteArrayList{"f:ok.txt", "l:me>me"} << here
                                       << QByteArrayList{"ok.txt"} << QByteArrayList{"me|symbolic link loop"}
                                       << false;
    QTest::newRow("symlink to file") << QByteArrayList{"f:ok.txt", "l:link>ok.txt"} << here
                                     << QByteArrayList{"ok.txt", "link"} << QByteArrayList{} << false;
    QTest::newRow("symlink to folder elsewhere")
        << QByteArrayList{"f:in/ok.txt", "f:out/o.txt", "l:in/link>../out"} << QByteArrayList{"in"}
        << QByteArrayList{"in/ok.txt", "in/link/o.txt"} << QByteArrayList{} << false;
    QTest::newRow("folder and a link to it")
        << QByteArrayList{"f:ok.txt", "f:real/r.txt", "l:alias>real"} << here
        << QByteArrayList{"ok.txt", "real/r.txt"} << QByteArrayList{"alias|already listed"} << false;
    QTest::newRow("broken symlink") << QByteArrayList{"f:ok.txt", "l:broken>nowhere"} << here
                                    << QByteArrayList{"ok.txt"} << QByteArrayList{"broken|broken symbolic link"}
                                    << false;
    QTest::newRow("FIFO") << QByteArrayList{"f:ok.txt", "p:fifo"} << here << QByteArrayList{"ok.txt"}
                          << QByteArrayList{"fifo|is a FIFO"} << false;
    QTest::newRow("socket") << QByteArrayList{"f:ok.txt", "s:sock"} << here << QByteArrayList{"ok.txt"}
                            << QByteArrayList{"sock|is a socket"} << false;
    QTest::newRow("link to a device") << QByteArrayList{"f:ok.txt", "l:null>/dev/null"} << here
                                      << QByteArrayList{"ok.txt"} << QByteArrayList{"null|is a device"} << false;
    QTest::newRow("/dev/null as a root") << QByteArrayList{"f:ok.txt"} << QByteArrayList{"/dev/null", ""}
                                         << QByteArrayList{"ok.txt"} << QByteArrayList{"/dev/null|is a device"}
                                         << false;
    QTest::newRow("empty folder") << QByteArrayList{"f:ok.txt", "d:empty", "d:empty2/empty3"} << here
                                  << QByteArrayList{"ok.txt"} << QByteArrayList{} << false;
    QTest::newRow("nonexistent root")
        << QByteArrayList{"f:ok.txt"} << QByteArrayList{"missing", "", "missing/too"} << QByteArrayList{"ok.txt"}
        << QByteArrayList{"missing|No such file or directory", "missing/too|No such file or directory"} << false;
    QTest::newRow("broken link as a root")
        << QByteArrayList{"f:ok.txt", "l:dangling>nowhere"} << QByteArrayList{"dangling", "ok.txt"}
        << QByteArrayList{"ok.txt"} << QByteArrayList{"dangling|broken symbolic link"} << false;
    QTest::newRow("same root twice") << QByteArrayList{"f:ok.txt", "f:d/x"} << QByteArrayList{"", "", "d"}
                                     << QByteArrayList{"ok.txt", "d/x"} << QByteArrayList{} << false;
    QTest::newRow("same file root twice") << QByteArrayList{"f:ok.txt", "l:link>ok.txt"}
                                          << QByteArrayList{"ok.txt", "ok.txt", "link"}
                                          << QByteArrayList{"ok.txt"} << QByteArrayList{} << false;
    QTest::newRow("root with trailing slash") << QByteArrayList{"f:sub/ok.txt"} << QByteArrayList{"sub/"}
                                              << QByteArrayList{"sub/ok.txt"} << QByteArrayList{} << false;
    QTest::newRow("unreadable folder")
        << QByteArrayList{"f:ok.txt", "f:locked/secret", "x:locked"} << here << QByteArrayList{"ok.txt"}
        << QByteArrayList{"locked|Permission denied"} << true;
}

void TestFileWalker::walk()
{
    QFETCH(QByteArrayList, specs);
    QFETCH(QByteArrayList, roots);
    QFETCH(QByteArrayList, files);
    QFETCH(QByteArrayList, skips);
    QFETCH(bool, needsNonRoot);
    if (needsNonRoot && ::geteuid() == 0)
        QSKIP("running as root: permissions do not stop root from reading a folder");

    const QByteArray base = freshBase(QTest::currentDataTag());
    QString error;
    QVERIFY2(build(base, specs, &error), qPrintable(error));

    QList<QByteArray> absRoots;
    for (const QByteArray &r : std::as_const(roots))
        absRoots.append(absolute(base, r));
    Collected got = runWalk(absRoots);

    QByteArrayList wantFiles;
    for (const QByteArray &f : std::as_const(files))
        wantFiles.append(absolute(base, f));
    QByteArrayList wantSkips;
    for (const QByteArray &s : std::as_const(skips)) {
        const qsizetype bar = s.indexOf('|');
        wantSkips.append(absolute(base, s.left(bar)) + s.mid(bar));
    }
    std::sort(got.files.begin(), got.files.end());
    std::sort(wantFiles.begin(), wantFiles.end());
    std::sort(got.skips.begin(), got.skips.end());
    std::sort(wantSkips.begin(), wantSkips.end());
    QVERIFY2(got.files == wantFiles, show(got.files) + " != " + show(wantFiles));
    QVERIFY2(got.skips == wantSkips, show(got.skips) + " != " + show(wantSkips));

    // Each entry carries the size and mtime of the file it names (through links).
    for (const WalkEntry &e : std::as_const(got.entries)) {
        const auto st = statPath(e.path);
        QVERIFY(st.ok());
        QCOMPARE(e.size, st->size);
        QCOMPARE(e.mtimeMs, st->mtimeMs());
    }

}

void TestFileWalker::batches_data()
{
    QTest::addColumn<int>("files");
    QTest::addColumn<int>("batchSize");
    QTest::addColumn<QList<int>>("expected");
    QTest::newRow("none") << 0 << 3 << QList<int>{};
    QTest::newRow("one") << 1 << 256 << QList<int>{1};
    QTest::newRow("exact multiple") << 6 << 3 << QList<int>{3, 3};
    QTest::newRow("remainder") << 10 << 3 << QList<int>{3, 3, 3, 1};
    QTest::newRow("batch of one") << 3 << 1 << QList<int>{1, 1, 1};
    QTest::newRow("nonsense size") << 2 << 0 << QList<int>{1, 1};
}

void TestFileWalker::batches()
{
    QFETCH(int, files);
    QFETCH(int, batchSize);
    QFETCH(QList<int>, expected);
    const QByteArray base = freshBase("batches");
    QByteArrayList specs;
    for (int i = 0; i < files; ++i)
        specs.append("f:" + QByteArray(i % 2 ? "sub/" : "") + QByteArray::number(i));
    QString error;
    QVERIFY2(build(base, specs, &error), qPrintable(error));
    const Collected got = runWalk({base}, batchSize);
    QCOMPARE(got.batchSizes, expected);
    QCOMPARE(got.files.size(), files);
}

void TestFileWalker::cancel_data()
{
    quire::test::addBoolRows("beforeStart", "before start", "after the first batch");
}

void TestFileWalker::cancel()
{
    QFETCH(bool, beforeStart);
    const QByteArray base = freshBase("cancel");
    QByteArrayList specs;
    for (int i = 0; i < 50; ++i)
        specs.append("f:" + QByteArray::number(i % 5) + '/' + QByteArray::number(i));
    specs.append("p:4/fifo");
    QString error;
    QVERIFY2(build(base, specs, &error), qPrintable(error));

    std::atomic_bool cancel = beforeStart;
    const Collected got = runWalk({base, base + "/missing"}, 5, &cancel, [&] { cancel = true; });
    QCOMPARE(got.batchSizes.size(), beforeStart ? 0 : 1);
    QCOMPARE(got.skips.size(), 0);   // the FIFO and the missing root come later
}

void TestFileWalker::order()
{
    // Depth first: a folder's files in byte order of their names, then its subfolders.
    const QByteArray base = freshBase("order");
    QString error;
    QVERIFY2(build(base, {"f:c.txt", "f:b/z", "f:b/a", "f:a.txt", "f:B.txt", "f:b/c/inner", "f:d/x"}, &error),
             qPrintable(error));
    const Collected got = runWalk({base}, 2);
    QByteArrayList want;
    for (const char *rel : {"B.txt", "a.txt", "c.txt", "b/a", "b/z", "b/c/inner", "d/x"})
        want.append(base + '/' + rel);
    QVERIFY2(got.files == want, show(got.files));
}

void TestFileWalker::deepTree()
{
    const QByteArray base = freshBase("deep");
    QByteArray rel;
    for (int i = 0; i < 300; ++i)
        rel += "d/";
    QString error;
    QVERIFY2(build(base, {"f:" + rel + "bottom", "f:top"}, &error), qPrintable(error));
    const Collected got = runWalk({base});
    QCOMPARE(got.files, (QByteArrayList{base + "/top", base + '/' + rel + "bottom"}));
    QVERIFY(got.skips.isEmpty());
}

QTEST_GUILESS_MAIN(TestFileWalker)
#include "tst_filewalker.moc"
