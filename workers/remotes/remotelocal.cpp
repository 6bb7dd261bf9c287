#include "remotes/remotelocal.h"

#include "hashing/hasher.h"
#include "platform/durablefs.h"
#include "remotes/remotetransport.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QUrl>

#include <atomic>
#include <cerrno>
#include <utility>

namespace quire {

namespace {

// The translation context of the messages below (LocalRemote is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::LocalRemote)
};

using K = RemoteError::Kind;

// The stored copy's SHA-256 (Hasher: per-thread buffer, stops with the upload); nullopt on a
// read error or a stop; empty when its size is not expectSize.
std::optional<QByteArray> hashFile(const QByteArray &path, qint64 expectSize, UploadControl &control)
{
    const FileHash h = Hasher::hashFile(path, control.stopFlag());
    if (!h.ok())
        return std::nullopt;
    if (expectSize >= 0 && h.size != expectSize)
        return QByteArray();
    return h.sha256;
}

// The permissions of a stored copy: the source's own bits (a private 0600 file stays private,
// a script keeps its x bits), never writable by the group or others (the folder is the user's
// archive), 0644 when the source's are unknown. open(2) then removes what the umask removes,
// as cp(1) does.
QFile::Permissions storedPermissions(quint32 sourceBits)
{
    const quint32 bits = (sourceBits != 0 ? sourceBits : 0644) & 0755;
    QFile::Permissions p;
    const std::pair<quint32, QFile::Permission> map[] = {
        {0400, QFile::ReadOwner},  {0200, QFile::WriteOwner}, {0100, QFile::ExeOwner},
        {0040, QFile::ReadGroup},  {0020, QFile::WriteGroup}, {0010, QFile::ExeGroup},
        {0004, QFile::ReadOther},  {0002, QFile::WriteOther}, {0001, QFile::ExeOther},
    };
    for (const auto &[bit, flag] : map) {
        if (bits & bit)
            p |= flag;
    }
    return p;
}

} // namespace

LocalRemote::LocalRemote(const RemoteProfile &profile, const RemoteLimits &limits)
    : Remote(profile, limits)
{
    const QUrl u(profile.url);
    m_folder = QDir::cleanPath(u.isLocalFile() ? u.toLocalFile() : profile.url);
}

namespace {
// One path segment in the remote folder. Windows file systems refuse more names than POSIX
// ones (reserved characters, device names); elsewhere names stay as they are, so folders
// made by earlier versions keep their names.
QString localName(const QString &name)
{
#ifdef Q_OS_WIN
    return windowsSafeFileName(name);
#else
    return safeFileName(name);
#endif
}
} // namespace

QString LocalRemote::collectionFolder(const QString &collection) const
{
    return m_folder + QLatin1Char('/') + localName(collection);
}

UploadOutcome LocalRemote::upload(const UploadItem &item, UploadControl &control)
{
    const QString dirPath = collectionFolder(item.collection);
    if (!QDir().mkpath(dirPath)) {
        return UploadOutcome::fail(RemoteError::make(
            K::LocalIo, Tr::tr("cannot create the folder %1").arg(dirPath)));
    }
    const QByteArray dir = nativePath(dirPath);
    const QString name = localName(item.fileName);

    // Already there (a re-push after a crash)? Then nothing needs copying.
    auto sameContent = [&](const QByteArray &path) -> std::optional<bool> {
        const Result<FileStat> st = statPath(path, false);
        if (!st)
            return std::nullopt;   // free
        if (st->type != FileType::Regular || st->size != item.size)
            return false;
        const auto sha = hashFile(path, item.size, control);
        return sha && *sha == item.sha256;
    };

    UploadReport report;
    int firstFree = 0;
    for (int n = 1; n <= 10'000; ++n) {
        const QString candidate = collisionName(name, n);
        const auto same = sameContent(joinPath(dir, nativePath(candidate)));
        if (control.isStopped())
            return UploadOutcome::fail(RemoteError::make(K::Stopped, Tr::tr("stopped")));
        if (!same) {
            firstFree = n;
            break;
        }
        if (*same) {
            report.location = dirPath + QLatin1Char('/') + candidate;
            report.storedName = candidate;
            report.alreadyPresent = true;
            return UploadOutcome::success(report);
        }
    }
    if (firstFree == 0)
        return UploadOutcome::fail(RemoteError::make(K::LocalIo, Tr::tr("too many files named %1").arg(name)));

    net::SourceDevice source(item, /*hashContent=*/true);   // it reads every byte anyway
    if (auto e = source.openAt(0, &control))
        return UploadOutcome::fail(*e);

    // Unique per attempt (another process may be uploading the same content right now); the
    // leftovers of a killed upload of this content are removed once they are an hour old.
    static std::atomic<quint64> counter{0};
    const QByteArray stem = ".quire-" + item.sha256 + '-';
    for (const QFileInfo &old : QDir(dirPath).entryInfoList({QString::fromLatin1(stem) + QStringLiteral("*.partial")},
                                                            QDir::Files | QDir::Hidden)) {
        if (old.lastModified().secsTo(QDateTime::currentDateTime()) > 3600)
            QFile::remove(old.filePath());
    }
    const QByteArray partial = joinPath(dir, stem + QByteArray::number(QCoreApplication::applicationPid()) + '-'
                                                  + QByteArray::number(++counter) + ".partial");
    QFile out(qtPath(partial));
    // NewOnly is O_CREAT | O_EXCL: never opens what is already there, a planted symlink included.
    const Result<FileStat> sourceStat = statPath(item.sourcePath);
    if (!out.open(QIODevice::WriteOnly | QIODevice::NewOnly | QIODevice::Unbuffered,
                  storedPermissions(sourceStat ? sourceStat->permissions : 0))) {
        return UploadOutcome::fail(RemoteError::make(
            K::LocalIo, Tr::tr("cannot write in %1: %2").arg(dirPath, out.errorString())));
    }
    auto fail = [&](RemoteError e) {
        out.close();
        out.remove();
        return UploadOutcome::fail(std::move(e));
    };
    auto writeError = [&](const QString &why) {
        return fail(RemoteError::make(K::LocalIo, Tr::tr("cannot write in %1: %2").arg(dirPath, why)));
    };

    QByteArray buf(1 << 20, Qt::Uninitialized);
    qint64 done = 0;
    while (done < item.size) {
        if (control.isStopped())
            return fail(RemoteError::make(K::Stopped, Tr::tr("stopped")));
        const qint64 n = source.read(buf.data(), buf.size());
        if (n < 0) {
            return fail(RemoteError::make(K::LocalIo, Tr::tr("cannot read %1: %2")
                                                          .arg(displayPath(item.sourcePath),
                                                               source.errorString())));
        }
        if (n == 0)
            break;   // short, or the content differs: checked below
        // A disk that fills up part way through gives a short write first, then the error.
        for (qint64 written = 0; written < n;) {
            const qint64 w = out.write(buf.constData() + written, n - written);
            if (w <= 0) {
                // Qt reports ENOSPC (ERROR_DISK_FULL) as a ResourceError.
                return writeError(out.error() == QFileDevice::ResourceError ? Tr::tr("the disk is full") : out.errorString());
            }
            written += w;
        }
        done += n;
        control.reportProgress(done, item.size);
    }
    if (auto e = source.checkUnchanged(); e || !source.contentVerified()) {
        return fail(e ? *e : RemoteError::make(K::SourceChanged,
                                               Tr::tr("the file changed while it was being copied")));
    }
    if (const int err = syncFile(out); err != 0)
        return writeError(errnoMessage(err));
    out.close();
    report.bytesSent = done;

    for (int n = firstFree; n <= 10'000; ++n) {
        const QString candidate = collisionName(name, n);
        const QByteArray target = joinPath(dir, nativePath(candidate));
        const int rc = renameNoReplace(partial, target);
        if (rc == 0) {
            syncFolder(dir);
            report.location = dirPath + QLatin1Char('/') + candidate;
            report.storedName = candidate;
            return UploadOutcome::success(report);
        }
        if (rc != EEXIST) {
            out.remove();
            return UploadOutcome::fail(RemoteError::make(
                K::LocalIo, Tr::tr("cannot store %1 in %2: %3").arg(candidate, dirPath, errnoMessage(rc))));
        }
        // Taken meanwhile: by the same content?
        if (const auto same = sameContent(target); same && *same) {
            out.remove();
            report.location = dirPath + QLatin1Char('/') + candidate;
            report.storedName = candidate;
            report.alreadyPresent = true;
            return UploadOutcome::success(report);
        }
    }
    out.remove();
    return UploadOutcome::fail(RemoteError::make(K::LocalIo, Tr::tr("too many files named %1").arg(name)));
}

VerifyOutcome LocalRemote::verify(const UploadItem &item, const QString &location, bool deep,
                                  UploadControl &control)
{
    Q_UNUSED(deep);   // reading a local file back is cheap enough to always do it
    VerifyReport r;
    const QByteArray path = nativePath(location);
    const Result<FileStat> st = statPath(path);
    if (!st) {
        r.detail = Tr::tr("missing: %1").arg(location);
        return VerifyOutcome::success(r);
    }
    r.exists = true;
    r.remoteSize = st->size;
    r.sizeMatches = r.remoteSize == item.size;
    if (!r.sizeMatches) {
        r.detail = Tr::tr("size differs: %1 bytes there, %2 expected").arg(r.remoteSize).arg(item.size);
        return VerifyOutcome::success(r);
    }
    const auto sha = hashFile(path, item.size, control);
    if (control.isStopped())
        return VerifyOutcome::fail(RemoteError::make(K::Stopped, Tr::tr("stopped")));
    if (!sha)
        return VerifyOutcome::fail(RemoteError::make(K::LocalIo, Tr::tr("cannot read %1").arg(location)));
    r.remoteSha256 = *sha;
    r.checksumChecked = true;
    r.checksumMatches = *sha == item.sha256;
    r.detail = r.checksumMatches ? Tr::tr("size and SHA-256 match")
                                 : Tr::tr("SHA-256 differs: the stored file is not the document");
    return VerifyOutcome::success(r);
}

Result<QString> LocalRemote::test(UploadControl &control)
{
    Q_UNUSED(control);
    if (!QDir().mkpath(m_folder))
        return Result<QString>::failure(Tr::tr("cannot create the folder %1").arg(m_folder));
    // A new file of its own (O_CREAT | O_EXCL): whatever is already at a probe name, a symlink
    // to another file of the user's included, is neither followed, written nor removed.
    QString error;
    for (int n = 0; n < 100; ++n) {
        QFile probe(m_folder + QStringLiteral("/.quire-write-test")
                    + (n == 0 ? QString() : QStringLiteral("-%1-%2").arg(QCoreApplication::applicationPid()).arg(n)));
        if (!probe.open(QIODevice::WriteOnly | QIODevice::NewOnly, QFile::ReadOwner | QFile::WriteOwner)) {
            error = probe.errorString();
            if (!statPath(nativePath(probe.fileName()), false))
                break;   // not a name taken: the folder refuses new files
            continue;
        }
        const bool written = probe.write("x", 1) == 1 && probe.flush();
        error = probe.errorString();
        probe.close();
        probe.remove();
        if (!written)
            break;
        return Tr::tr("the folder %1 exists and is writable").arg(m_folder);
    }
    return Result<QString>::failure(Tr::tr("cannot write in %1: %2").arg(m_folder, error));
}

void LocalRemote::discardPartial(const UploadItem &item, UploadControl &)
{
    // A failed or stopped copy removes its own partial file already; this catches what a killed
    // process left.
    const QDir dir(collectionFolder(item.collection));
    for (const QString &name : dir.entryList({QStringLiteral(".quire-%1-*.partial").arg(QString::fromLatin1(item.sha256))},
                                             QDir::Files | QDir::Hidden))
        QFile::remove(dir.filePath(name));
}

} // namespace quire
