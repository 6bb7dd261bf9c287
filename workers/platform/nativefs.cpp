#include "platform/nativefs.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#ifdef Q_OS_WIN
#  include <QDateTime>
#  include <QFileInfo>
#  include <QHash>
#else
#  include <dirent.h>
#  include <fcntl.h>
#  include <sys/stat.h>
#  include <unistd.h>
#endif

namespace quire {

namespace {

// The translation context of the messages below.
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::NativeFile)
};

// strerror_r comes in two flavours (GNU returns the text, XSI fills the buffer); these overloads
// accept either, so the code builds with both C libraries.
[[maybe_unused]] const char *strerrorText(int rc, const char *buffer)
{
    return rc == 0 ? buffer : nullptr;
}
[[maybe_unused]] const char *strerrorText(const char *text, const char *)
{
    return text;
}

QByteArray lastComponent(const QByteArray &path)
{
    qsizetype end = path.size();
    while (end > 1 && path.at(end - 1) == '/')
        --end;
    const qsizetype slash = path.lastIndexOf('/', end - 1);
    if (slash < 0)
        return path.left(end);
    if (slash == 0 && end == 1)
        return path.left(1);   // "/" itself
    return path.mid(slash + 1, end - slash - 1);
}

} // namespace

QByteArray fileName(const QByteArray &nativePath)
{
    return lastComponent(nativePath);
}

QString displayName(const QByteArray &nativePath)
{
    return QString::fromUtf8(lastComponent(nativePath));
}

QString displayPath(const QByteArray &nativePath)
{
    return QString::fromUtf8(nativePath);
}

QByteArray nativePath(const QString &path)
{
#ifdef Q_OS_WIN
    return QDir::fromNativeSeparators(path).toUtf8();
#else
    return QFile::encodeName(path);
#endif
}

QString qtPath(const QByteArray &nativePath)
{
#ifdef Q_OS_WIN
    return QString::fromUtf8(nativePath);
#else
    return QFile::decodeName(nativePath);
#endif
}

QByteArray absolutePath(const QByteArray &path)
{
    QByteArray full;
#ifdef Q_OS_WIN
    // QFileInfo resolves "x", "C:x" (that drive's current folder) and "/x" (the current drive).
    full = nativePath(QFileInfo(qtPath(path)).absoluteFilePath());
#else
    if (path.startsWith('/')) {
        full = path;
    } else {
        // getcwd(): the current folder's exact bytes (QDir::currentPath() decodes them).
        QByteArray cwd(4096, Qt::Uninitialized);
        while (!::getcwd(cwd.data(), size_t(cwd.size()))) {
            if (errno != ERANGE)
                return path;   // no current folder (removed): leave the path relative
            cwd.resize(cwd.size() * 2);
        }
        full = joinPath(QByteArray(cwd.constData()), path);
    }
#endif
    // Drop "." and empty components; keep the leading "/" (or "//" of a UNC path) and "..".
    qsizetype lead = 0;
    while (lead < full.size() && full.at(lead) == '/')
        ++lead;
    const QByteArray prefix = full.left(std::min<qsizetype>(lead, 2));
    QByteArray out = prefix;
    const QList<QByteArray> parts = full.mid(lead).split('/');
    for (const QByteArray &part : parts) {
        if (part.isEmpty() || part == ".")
            continue;
        if (out.size() > prefix.size())
            out.append('/');
        out.append(part);
    }
    return out.isEmpty() ? QByteArray(".") : out;
}

QByteArray joinPath(const QByteArray &dir, const QByteArray &name)
{
    if (dir.isEmpty())
        return name;
    if (dir.endsWith('/'))
        return dir + name;
    QByteArray out;
    out.reserve(dir.size() + 1 + name.size());
    out.append(dir).append('/').append(name);
    return out;
}

QString errnoMessage(int errorNumber)
{
    char buffer[256] = {};
#ifdef Q_OS_WIN
    const char *text = strerror_s(buffer, sizeof buffer, errorNumber) == 0 ? buffer : nullptr;
#else
    const char *text = strerrorText(strerror_r(errorNumber, buffer, sizeof buffer), buffer);
#endif
    if (!text || !*text)
        return Tr::tr("error %1").arg(errorNumber);
    return QString::fromLocal8Bit(text);
}

QString fileTypeReason(FileType type)
{
    switch (type) {
    case FileType::Regular:
    case FileType::Directory:
        return {};
    case FileType::Symlink:
        return Tr::tr("is a symbolic link");
    case FileType::Fifo:
        return Tr::tr("is a FIFO");
    case FileType::Socket:
        return Tr::tr("is a socket");
    case FileType::CharDevice:
    case FileType::BlockDevice:
        return Tr::tr("is a device");
    case FileType::Other:
        break;
    }
    return Tr::tr("is not a regular file");
}

#ifndef Q_OS_WIN
// ---------------------------------------------------------------------------------------------
// POSIX
// ---------------------------------------------------------------------------------------------
namespace {

FileType typeOf(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return FileType::Regular;
    case S_IFDIR: return FileType::Directory;
    case S_IFLNK: return FileType::Symlink;
    case S_IFIFO: return FileType::Fifo;
    case S_IFSOCK: return FileType::Socket;
    case S_IFCHR: return FileType::CharDevice;
    case S_IFBLK: return FileType::BlockDevice;
    default: return FileType::Other;
    }
}

FileStat fromStat(const struct stat &st)
{
    FileStat s;
    s.type = typeOf(st.st_mode);
    s.size = st.st_size;
#  ifdef Q_OS_DARWIN
    // macOS names the nanosecond times st_mtimespec / st_ctimespec.
    s.mtimeNs = qint64(st.st_mtimespec.tv_sec) * 1'000'000'000 + st.st_mtimespec.tv_nsec;
    s.ctimeNs = qint64(st.st_ctimespec.tv_sec) * 1'000'000'000 + st.st_ctimespec.tv_nsec;
#  else
    s.mtimeNs = qint64(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    s.ctimeNs = qint64(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
#  endif
    s.device = quint64(st.st_dev);
    s.inode = quint64(st.st_ino);
    s.permissions = quint32(st.st_mode & 07777);
    return s;
}

} // namespace

Result<FileStat> statPath(const QByteArray &nativePath, bool followLinks, int *errorCode)
{
    struct stat st;
    // An empty path would be "" for the kernel too (ENOENT); constData() is never null.
    const int rc = followLinks ? ::stat(nativePath.constData(), &st) : ::lstat(nativePath.constData(), &st);
    if (rc != 0) {
        const int err = errno;
        if (errorCode)
            *errorCode = err;
        return Result<FileStat>::failure(errnoMessage(err));
    }
    return fromStat(st);
}

NativeFile::~NativeFile()
{
    close();
}

NativeFile::NativeFile(NativeFile &&other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_owned(std::exchange(other.m_owned, false)),
      m_error(std::move(other.m_error))
{
}

NativeFile &NativeFile::operator=(NativeFile &&other) noexcept
{
    if (this != &other) {
        close();
        m_fd = std::exchange(other.m_fd, -1);
        m_owned = std::exchange(other.m_owned, false);
        m_error = std::move(other.m_error);
    }
    return *this;
}

Result<NativeFile> NativeFile::open(const QByteArray &nativePath, OpenMode mode)
{
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    if (mode == OpenMode::NonBlocking)
        flags |= O_NONBLOCK;
    int fd;
    do {
        fd = ::open(nativePath.constData(), flags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return Result<NativeFile>::failure(errnoMessage(errno));
    NativeFile file;
    file.m_fd = fd;
    file.m_owned = true;
    return file;
}

NativeFile NativeFile::borrow(int fd)
{
    NativeFile file;
    file.m_fd = fd;
    file.m_owned = false;
    return file;
}

bool NativeFile::isOpen() const
{
    return m_fd >= 0;
}

Result<FileStat> NativeFile::stat() const
{
    struct stat st;
    if (::fstat(m_fd, &st) != 0)
        return Result<FileStat>::failure(errnoMessage(errno));
    return fromStat(st);
}

namespace {
// Runs a read(2)-like call again while a signal interrupts it; -1 (with *error set) on failure.
template <typename Call>
qint64 readRetryingEintr(Call call, QString *error)
{
    for (;;) {
        const ssize_t n = call();
        if (n >= 0)
            return n;
        if (errno != EINTR) {
            *error = errnoMessage(errno);
            return -1;
        }
    }
}
} // namespace

qint64 NativeFile::read(char *data, qint64 maxSize)
{
    return readRetryingEintr([&] { return ::read(m_fd, data, size_t(maxSize)); }, &m_error);
}

qint64 NativeFile::readAt(qint64 offset, char *data, qint64 maxSize)
{
    return readRetryingEintr([&] { return ::pread(m_fd, data, size_t(maxSize), off_t(offset)); }, &m_error);
}

void NativeFile::adviseSequential()
{
#if defined(POSIX_FADV_SEQUENTIAL)
    // Doubles the kernel's read-ahead window; harmless (EINVAL/ESPIPE) on pipes and devices.
    ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
}

void NativeFile::close()
{
    if (m_fd >= 0 && m_owned)
        ::close(m_fd);   // read-only: nothing to lose on a failed close
    m_fd = -1;
    m_owned = false;
}

NativeDir::~NativeDir()
{
    close();
}

Status NativeDir::open(const QByteArray &nativePath)
{
    close();
    int fd;
    do {
        fd = ::open(nativePath.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return Status::failure(errnoMessage(errno));
    DIR *dir = ::fdopendir(fd);
    if (!dir) {
        const int err = errno;
        ::close(fd);
        return Status::failure(errnoMessage(err));
    }
    m_dir = dir;
    m_fd = fd;
    return {};
}

Result<QList<QByteArray>> NativeDir::entryNames()
{
    QList<QByteArray> names;
    DIR *dir = static_cast<DIR *>(m_dir);
    for (;;) {
        errno = 0;
        const dirent *entry = ::readdir(dir);
        if (!entry) {
            if (errno != 0)
                return Result<QList<QByteArray>>::failure(errnoMessage(errno));
            break;
        }
        const char *name = entry->d_name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        names.append(QByteArray(name));
    }
    return names;
}

Result<FileStat> NativeDir::statEntry(const QByteArray &name, bool followLinks, int *errorCode) const
{
    struct stat st;
    if (::fstatat(m_fd, name.constData(), &st, followLinks ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
        const int err = errno;
        if (errorCode)
            *errorCode = err;
        return Result<FileStat>::failure(errnoMessage(err));
    }
    return fromStat(st);
}

void NativeDir::close()
{
    if (m_dir)
        ::closedir(static_cast<DIR *>(m_dir));   // also closes m_fd
    m_dir = nullptr;
    m_fd = -1;
}

#else
// ---------------------------------------------------------------------------------------------
// Windows: Qt file classes on the UTF-8 form of the path (not compiled on the Linux builds).
// ---------------------------------------------------------------------------------------------
namespace {

Result<FileStat> fromInfo(QFileInfo info, bool followLinks, int *errorCode)
{
    info.setCaching(false);
    if (!followLinks && info.isSymLink()) {
        FileStat s;
        s.type = FileType::Symlink;
        return s;
    }
    if (!info.exists()) {
        if (errorCode)
            *errorCode = ENOENT;
        return Result<FileStat>::failure(Tr::tr("No such file or directory"));
    }
    FileStat s;
    s.type = info.isDir() ? FileType::Directory : info.isFile() ? FileType::Regular : FileType::Other;
    s.size = info.isFile() ? info.size() : 0;
    s.mtimeNs = info.lastModified().toMSecsSinceEpoch() * 1'000'000;
    s.ctimeNs = info.birthTime().isValid() ? info.birthTime().toMSecsSinceEpoch() * 1'000'000 : 0;
    // Qt has no portable file identity; a hash of the canonical path stands in for the inode,
    // which is what the walker needs to recognise a folder it has seen.
    const QByteArray canonical = info.canonicalFilePath().toUtf8();
    s.inode = quint64(qHash(canonical));
    return s;
}

} // namespace

struct NativeFile::Impl
{
    QFile file;
    QString path;
};

Result<FileStat> statPath(const QByteArray &nativePath, bool followLinks, int *errorCode)
{
    return fromInfo(QFileInfo(QString::fromUtf8(nativePath)), followLinks, errorCode);
}

NativeFile::~NativeFile()
{
    close();
}

NativeFile::NativeFile(NativeFile &&other) noexcept
    : m_impl(std::exchange(other.m_impl, nullptr)), m_error(std::move(other.m_error))
{
}

NativeFile &NativeFile::operator=(NativeFile &&other) noexcept
{
    if (this != &other) {
        close();
        m_impl = std::exchange(other.m_impl, nullptr);
        m_error = std::move(other.m_error);
    }
    return *this;
}

Result<NativeFile> NativeFile::open(const QByteArray &nativePath, OpenMode)
{
    NativeFile file;
    file.m_impl = new Impl;
    file.m_impl->path = QString::fromUtf8(nativePath);
    file.m_impl->file.setFileName(file.m_impl->path);
    if (!file.m_impl->file.open(QIODevice::ReadOnly | QIODevice::Unbuffered))
        return Result<NativeFile>::failure(file.m_impl->file.errorString());
    return file;
}

NativeFile NativeFile::borrow(int fd)
{
    NativeFile file;
    file.m_impl = new Impl;
    if (!file.m_impl->file.open(fd, QIODevice::ReadOnly | QIODevice::Unbuffered, QFileDevice::DontCloseHandle))
        file.m_error = file.m_impl->file.errorString();
    return file;
}

bool NativeFile::isOpen() const
{
    return m_impl && m_impl->file.isOpen();
}

Result<FileStat> NativeFile::stat() const
{
    // Windows keeps an open file from being deleted or renamed (default share mode), so the
    // path still names what was opened.
    return fromInfo(QFileInfo(m_impl->path), true, nullptr);
}

qint64 NativeFile::read(char *data, qint64 maxSize)
{
    const qint64 n = m_impl->file.read(data, maxSize);
    if (n < 0)
        m_error = m_impl->file.errorString();
    return n;
}

qint64 NativeFile::readAt(qint64 offset, char *data, qint64 maxSize)
{
    // One NativeFile is used by one thread at a time, so seek-then-read is not racy here.
    if (!m_impl->file.seek(offset)) {
        m_error = m_impl->file.errorString();
        return -1;
    }
    return read(data, maxSize);
}

void NativeFile::adviseSequential()
{
}

void NativeFile::close()
{
    delete m_impl;
    m_impl = nullptr;
}

NativeDir::~NativeDir()
{
    close();
}

Status NativeDir::open(const QByteArray &nativePath)
{
    const QFileInfo info(QString::fromUtf8(nativePath));
    if (!info.exists())
        return Status::failure(Tr::tr("No such file or directory"));
    if (!info.isDir())
        return Status::failure(Tr::tr("Not a directory"));
    if (!info.isReadable())
        return Status::failure(Tr::tr("Permission denied"));
    m_path = nativePath;
    return {};
}

Result<QList<QByteArray>> NativeDir::entryNames()
{
    QList<QByteArray> names;
    const QDir dir(QString::fromUtf8(m_path));
    const auto entries = dir.entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    for (const QString &name : entries)
        names.append(name.toUtf8());
    return names;
}

Result<FileStat> NativeDir::statEntry(const QByteArray &name, bool followLinks, int *errorCode) const
{
    return statPath(joinPath(m_path, name), followLinks, errorCode);
}

void NativeDir::close()
{
    m_path.clear();
}
#endif

} // namespace quire
