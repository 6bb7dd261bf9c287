// ctest-labels: uploads
// The local-folder remote (the embedded default): atomic placement, collision names, identical
// content, sources that change, verification.

#include "faultserver.h"
#include "hashing/hasher.h"
#include "remotes/remotelocal.h"
#include "testsupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <utime.h>

using namespace quire;
using namespace quire::test;

class TestRemoteLocal final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString write(const QString &name, const QByteArray &content)
    {
        const QString path = m_dir.filePath(QStringLiteral("src/") + name);
        return createFile(path, content) ? path : QString();
    }

    static UploadItem itemFor(const QString &path, const QString &collection, const QString &name)
    {
        const FileHash h = Hasher::hashFile(QFile::encodeName(path));
        UploadItem item;
        item.collection = collection;
        item.fileName = name;
        item.sourcePath = QFile::encodeName(path);
        item.size = h.size;
        item.mtimeMs = h.mtimeMs;
        item.sha256 = h.sha256;
        return item;
    }

    std::unique_ptr<Remote> remote(const QString &sub)
    {
        RemoteProfile p;
        p.name = QStringLiteral("folder");
        p.kind = RemoteKind::Local;
        p.url = m_dir.filePath(sub);
        auto r = Remote::create(p);
        return r ? std::move(r).value() : nullptr;
    }

    static UploadOutcome upload(Remote &r, const UploadItem &item)
    {
        UploadOutcome out;
        onWorker([&] {
            UploadControl control;
            out = r.upload(item, control);
        });
        return out;
    }

    // Test Connection, on a worker thread as the window runs it.
    static Result<QString> testConnection(Remote &r)
    {
        Result<QString> result = Result<QString>::failure({});
        onWorker([&] {
            UploadControl control;
            result = r.test(control);
        });
        return result;
    }

    static QByteArray bytes(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    // The files in `folder`, hidden ones too: a partial upload left behind would be one of them.
    static QStringList filesIn(const QString &folder)
    {
        return QDir(folder).entryList(QDir::Files | QDir::Hidden);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
    }

    void uploadsAndPlacesAtomically()
    {
        auto r = remote(QStringLiteral("dest1"));
        QVERIFY(r);
        const QString src = write(QStringLiteral("a/report.pdf"), QByteArray(3 << 20, 'r'));
        const UploadItem item = itemFor(src, QStringLiteral("Reports #1"), QStringLiteral("report.pdf"));
        const UploadOutcome out = upload(*r, item);
        QVERIFY2(out.ok(), out.ok() ? "" : qPrintable(out.error->message));
        const QString expected = m_dir.filePath(QStringLiteral("dest1/Reports #1/report.pdf"));
        QCOMPARE(out.value.location, expected);
        QCOMPARE(out.value.storedName, QStringLiteral("report.pdf"));
        QVERIFY(!out.value.alreadyPresent);
        QCOMPARE(bytes(expected), QByteArray(3 << 20, 'r'));
        // Only the document: no partial file left behind.
        QCOMPARE(filesIn(QFileInfo(expected).path()), QStringList{QStringLiteral("report.pdf")});
    }

    void storedCopiesAreNotWritableByOthers()
    {
#ifdef Q_OS_UNIX
        // rw-r--r--, also where the umask would let the group write (002, common on desktops).
        const mode_t previous = ::umask(002);
        auto r = remote(QStringLiteral("dest-mode"));
        QVERIFY(r);
        const QString src = write(QStringLiteral("mode/notes.txt"), "notes");
        const UploadOutcome out = upload(*r, itemFor(src, QStringLiteral("Mode"), QStringLiteral("notes.txt")));
        ::umask(previous);
        QVERIFY2(out.ok(), out.ok() ? "" : qPrintable(out.error->message));
        const QFile::Permissions p = QFileInfo(out.value.location).permissions();
        QVERIFY(p.testFlag(QFile::WriteOwner));
        QVERIFY(p.testFlag(QFile::ReadGroup) && p.testFlag(QFile::ReadOther));
        QVERIFY(!p.testFlag(QFile::WriteGroup));
        QVERIFY(!p.testFlag(QFile::WriteOther));
#else
        QSKIP("POSIX permissions");
#endif
    }

    void storedCopiesKeepTheSourcesPermissions_data()
    {
        QTest::addColumn<int>("sourceMode");
        QTest::addColumn<int>("umaskBits");
        QTest::addColumn<int>("expected");
        QTest::newRow("private file stays private") << 0600 << 022 << 0600;
        QTest::newRow("read-only file") << 0444 << 022 << 0444;
        QTest::newRow("script keeps x") << 0755 << 022 << 0755;
        QTest::newRow("never writable by others") << 0666 << 0 << 0644;
        QTest::newRow("umask removes more") << 0644 << 077 << 0600;
    }

    void storedCopiesKeepTheSourcesPermissions()
    {
#ifdef Q_OS_UNIX
        QFETCH(int, sourceMode);
        QFETCH(int, umaskBits);
        QFETCH(int, expected);
        const QString tag = QString::fromLatin1(QTest::currentDataTag()).replace(QLatin1Char(' '), QLatin1Char('-'));
        const QString src = write(QStringLiteral("perm/") + tag, "secret " + tag.toUtf8());
        QCOMPARE(::chmod(QFile::encodeName(src).constData(), mode_t(sourceMode)), 0);
        auto r = remote(QStringLiteral("dest-perm"));
        QVERIFY(r);
        const mode_t previous = ::umask(mode_t(umaskBits));
        const UploadOutcome out = upload(*r, itemFor(src, QStringLiteral("Perm"), tag));
        ::umask(previous);
        QVERIFY2(out.ok(), out.ok() ? "" : qPrintable(out.error->message));
        struct stat st{};
        QCOMPARE(::stat(QFile::encodeName(out.value.location).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 07777), expected);
#else
        QSKIP("POSIX permissions");
#endif
    }

    void createdFoldersHonourTheUmask()
    {
#ifdef Q_OS_UNIX
        const QString src = write(QStringLiteral("umask/a.txt"), "a");
        auto r = remote(QStringLiteral("dest-umask/inner"));
        QVERIFY(r);
        const mode_t previous = ::umask(027);
        const UploadOutcome out = upload(*r, itemFor(src, QStringLiteral("Shared"), QStringLiteral("a.txt")));
        ::umask(previous);
        QVERIFY2(out.ok(), out.ok() ? "" : qPrintable(out.error->message));
        for (const QString &folder : {QStringLiteral("dest-umask"), QStringLiteral("dest-umask/inner"),
                                      QStringLiteral("dest-umask/inner/Shared")}) {
            struct stat st{};
            QCOMPARE(::stat(QFile::encodeName(m_dir.filePath(folder)).constData(), &st), 0);
            QCOMPARE(int(st.st_mode & 07777), 0750);
        }
#else
        QSKIP("POSIX permissions");
#endif
    }

    void plantedSymlinksAreNeverFollowed()
    {
#ifdef Q_OS_UNIX
        // Another file of the user's, which a symlink in the remote folder points at.
        const QString victim = write(QStringLiteral("victim.txt"), "precious");
        const QString folder = m_dir.filePath(QStringLiteral("dest-link"));
        QVERIFY(QDir().mkpath(folder + QStringLiteral("/Links")));
        // At the connection test's probe name...
        QVERIFY(QFile::link(victim, folder + QStringLiteral("/.quire-write-test")));
        // ...and at the name a document will be stored under.
        QVERIFY(QFile::link(victim, folder + QStringLiteral("/Links/doc.txt")));
        auto r = remote(QStringLiteral("dest-link"));
        QVERIFY(r);
        const Result<QString> result = testConnection(*r);
        QVERIFY2(result.ok(), qPrintable(result.error()));
        const QString src = write(QStringLiteral("link/doc.txt"), "the document");
        const UploadOutcome out = upload(*r, itemFor(src, QStringLiteral("Links"), QStringLiteral("doc.txt")));
        QVERIFY2(out.ok(), out.ok() ? "" : qPrintable(out.error->message));
        QCOMPARE(out.value.storedName, QStringLiteral("doc (2).txt"));
        QCOMPARE(bytes(out.value.location), QByteArray("the document"));
        QCOMPARE(bytes(victim), QByteArray("precious"));
        // The symlinks are left as they were: not followed, not removed.
        QCOMPARE(QFileInfo(folder + QStringLiteral("/.quire-write-test")).symLinkTarget(), victim);
        QCOMPARE(QFileInfo(folder + QStringLiteral("/Links/doc.txt")).symLinkTarget(), victim);
        // Nothing else left behind by the probe.
        QCOMPARE(QDir(folder).entryList(QDir::Files | QDir::Hidden | QDir::System),
                 QStringList{QStringLiteral(".quire-write-test")});
#else
        QSKIP("symlinks");
#endif
    }

    void collisionsAndIdenticalContent()
    {
        auto r = remote(QStringLiteral("dest2"));
        QVERIFY(r);
        const UploadItem a = itemFor(write(QStringLiteral("a/notes.txt"), "first"), QStringLiteral("c"), QStringLiteral("notes.txt"));
        const UploadItem b = itemFor(write(QStringLiteral("b/notes.txt"), "second"), QStringLiteral("c"), QStringLiteral("notes.txt"));
        const UploadItem c = itemFor(write(QStringLiteral("c/notes.txt"), "third!"), QStringLiteral("c"), QStringLiteral("notes.txt"));
        QVERIFY(upload(*r, a).ok());
        const UploadOutcome ob = upload(*r, b);
        QVERIFY(ob.ok());
        QCOMPARE(ob.value.storedName, QStringLiteral("notes (2).txt"));
        QCOMPARE(upload(*r, c).value.storedName, QStringLiteral("notes (3).txt"));
        // b again (say after a crash): already there, nothing new.
        const UploadOutcome again = upload(*r, b);
        QVERIFY(again.ok());
        QVERIFY(again.value.alreadyPresent);
        QCOMPARE(again.value.storedName, QStringLiteral("notes (2).txt"));
        const QString folder = m_dir.filePath(QStringLiteral("dest2/c"));
        QCOMPARE(filesIn(folder).size(), 3);
        QCOMPARE(bytes(folder + QStringLiteral("/notes.txt")), QByteArray("first"));
        QCOMPARE(bytes(folder + QStringLiteral("/notes (2).txt")), QByteArray("second"));
    }

    void sourceChangedSinceHashing()
    {
        auto r = remote(QStringLiteral("dest3"));
        QVERIFY(r);
        const QString src = write(QStringLiteral("changing.txt"), "version one");
        const UploadItem item = itemFor(src, QStringLiteral("c"), QStringLiteral("changing.txt"));
        write(QStringLiteral("changing.txt"), "version two, longer");
        UploadOutcome out = upload(*r, item);
        QVERIFY(!out.ok());
        QCOMPARE(out.error->kind, RemoteError::Kind::SourceChanged);

        // Same size and mtime, other content (someone restored the mtime): the hash notices.
        write(QStringLiteral("changing.txt"), "version one");
        UploadItem fresh = itemFor(src, QStringLiteral("c"), QStringLiteral("changing.txt"));
        write(QStringLiteral("changing.txt"), "version 1!!");
        utimbuf times{fresh.mtimeMs / 1000, fresh.mtimeMs / 1000};
        QCOMPARE(::utime(QFile::encodeName(src).constData(), &times), 0);
        fresh.mtimeMs = fresh.mtimeMs / 1000 * 1000;
        out = upload(*r, fresh);
        QVERIFY(!out.ok());
        QCOMPARE(out.error->kind, RemoteError::Kind::SourceChanged);
        // Nothing stored, nothing left over.
        QCOMPARE(filesIn(m_dir.filePath(QStringLiteral("dest3/c"))), QStringList());
    }

    void stopped()
    {
        auto r = remote(QStringLiteral("dest4"));
        QVERIFY(r);
        const UploadItem item = itemFor(write(QStringLiteral("big.bin"), QByteArray(8 << 20, 'b')), QStringLiteral("c"), QStringLiteral("big.bin"));
        UploadOutcome out;
        onWorker([&] {
            UploadControl control;
            control.progress = [&](qint64 done, qint64) {
                if (done >= (1 << 20))
                    control.requestStop(UploadControl::Stop::Cancel);
            };
            out = r->upload(item, control);
        });
        QVERIFY(!out.ok());
        QCOMPARE(out.error->kind, RemoteError::Kind::Stopped);
        QCOMPARE(filesIn(m_dir.filePath(QStringLiteral("dest4/c"))), QStringList());
    }

    void verify()
    {
        auto r = remote(QStringLiteral("dest5"));
        QVERIFY(r);
        const UploadItem item = itemFor(write(QStringLiteral("v.txt"), "verify me"), QStringLiteral("c"), QStringLiteral("v.txt"));
        const UploadOutcome out = upload(*r, item);
        QVERIFY(out.ok());
        VerifyOutcome good, changed, missing;
        onWorker([&] {
            UploadControl control;
            good = r->verify(item, out.value.location, false, control);
            QFile f(out.value.location);
            f.open(QIODevice::WriteOnly | QIODevice::Truncate);
            f.write("verify Me");
            f.close();
            changed = r->verify(item, out.value.location, false, control);
            QFile::remove(out.value.location);
            missing = r->verify(item, out.value.location, false, control);
        });
        QVERIFY(good.ok() && good.value.matches() && good.value.checksumChecked);
        QVERIFY(changed.ok() && !changed.value.matches());
        QVERIFY(changed.value.sizeMatches);
        QVERIFY(missing.ok() && !missing.value.exists);
    }

    void connectionTest()
    {
        auto r = remote(QStringLiteral("dest6/deeper"));
        QVERIFY(r);
        const Result<QString> result = testConnection(*r);
        QVERIFY2(result.ok(), qPrintable(result.error()));
        QVERIFY(QFileInfo(m_dir.filePath(QStringLiteral("dest6/deeper"))).isDir());
    }

    void defaultProfileWorksOutOfTheBox()
    {
        const RemoteProfile p = RemoteProfile::defaultLocal();
        QCOMPARE(p.name, QStringLiteral("local"));
        QVERIFY(!p.validationError());
        QVERIFY(Remote::create(p).ok());
    }
};

QTEST_GUILESS_MAIN(TestRemoteLocal)
#include "tst_remotelocal.moc"
