#pragma once

#include "jobs/result.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace quire {

// File system access by exact path bytes.
//
// On POSIX a file name is a sequence of bytes that need not be valid UTF-8. A QString (and so
// QFile, QDir, QFileInfo) decodes such names with U+FFFD and cannot reopen the file afterwards,
// so workers keep paths as the native bytes and go through this header to touch the disk.
// POSIX implementation: open/fstat/read/fdopendir/fstatat. Windows implementation: QFile/QDir on
// QString::fromUtf8(path) (Windows names are UTF-16, which the UTF-8 form carries losslessly),
// with '/' as the separator (nativePath() converts '\\'), which Qt accepts on Windows.
//
// Everything here is reentrant: any thread may call it; objects are owned by one thread at a time.

// Last path component ("/a/b.txt" -> "b.txt"; a trailing '/' is ignored), as bytes.
QByteArray fileName(const QByteArray &nativePath);
// The same, decoded for display (invalid UTF-8 becomes U+FFFD; never used to reopen the file).
QString displayName(const QByteArray &nativePath);
// The whole path decoded for display (lossy, as above).
QString displayPath(const QByteArray &nativePath);
// The native bytes of a path a person typed or a QUrl gave (the inverse of QFile::decodeName).
QByteArray nativePath(const QString &path);
// The QString form of path bytes, for Qt's file classes (QFile, QDir, QFileInfo): on POSIX
// QFile::decodeName (it round-trips through QFile's own encoding); on Windows the bytes are UTF-8.
QString qtPath(const QByteArray &nativePath);
// The path made absolute against the current folder ("docs/a.pdf" -> "/home/me/docs/a.pdf");
// "." components and doubled separators are dropped, ".." is kept (a symbolic link may lead
// elsewhere). Absolute paths only lose their "." components.
QByteArray absolutePath(const QByteArray &nativePath);
// dir + '/' + name, without doubling a '/' already at the end of dir.
QByteArray joinPath(const QByteArray &dir, const QByteArray &name);

// strerror() text for an errno value ("Permission denied"): the C library's wording (and its own
// translation, where it has one), not Quire's; thread-safe.
QString errnoMessage(int errorNumber);

enum class FileType { Regular, Directory, Symlink, Fifo, Socket, CharDevice, BlockDevice, Other };

// Why a file of this type is skipped or refused: "is a FIFO", "is a socket", "is a device"...
// Empty for Regular and Directory.
QString fileTypeReason(FileType type);

struct FileStat
{
    FileType type = FileType::Other;
    qint64 size = 0;
    qint64 mtimeNs = 0;   // since the epoch
    qint64 ctimeNs = 0;   // inode change time (POSIX); on Windows the creation time
    quint64 device = 0;   // with inode: the file's identity (0 on Windows when unknown)
    quint64 inode = 0;
    quint32 permissions = 0;   // POSIX permission bits (st_mode & 07777); 0 on Windows

    qint64 mtimeMs() const { return mtimeNs / 1'000'000; }
    // Same size, mtime and ctime: the content is taken to be unchanged.
    bool sameContentAs(const FileStat &other) const
    {
        return size == other.size && mtimeNs == other.mtimeNs && ctimeNs == other.ctimeNs
            && device == other.device && inode == other.inode;
    }
};

// stat() (followLinks) or lstat() on a path. On failure *errorCode (if given) gets the errno value.
Result<FileStat> statPath(const QByteArray &nativePath, bool followLinks = true, int *errorCode = nullptr);

// A file opened for reading. Move-only; closes itself.
class NativeFile final
{
public:
    enum class OpenMode {
        Blocking,      // like open(2): opening a FIFO waits for a writer
        // Opening a FIFO or device never waits. The descriptor stays O_NONBLOCK, which changes
        // nothing for regular files and folders; reopen Blocking to read anything else.
        NonBlocking,
    };

    NativeFile() = default;
    ~NativeFile();
    NativeFile(NativeFile &&other) noexcept;
    NativeFile &operator=(NativeFile &&other) noexcept;
    Q_DISABLE_COPY(NativeFile)

    // Opens nativePath read-only. The error is strerror text ("No such file or directory").
    static Result<NativeFile> open(const QByteArray &nativePath, OpenMode mode = OpenMode::Blocking);
    // Wraps an already open descriptor (e.g. 0 for stdin) without taking ownership.
    static NativeFile borrow(int fd);

    bool isOpen() const;
    // fstat() on the open file: the identity of what was opened, not of whatever the path names now.
    Result<FileStat> stat() const;
    // Reads up to maxSize bytes; 0 at end of file; -1 on error (see errorString()). Retries EINTR.
    qint64 read(char *data, qint64 maxSize);
    // Reads up to maxSize bytes at offset without moving a shared position (pread); 0 at end of
    // file; -1 on error. Retries EINTR.
    qint64 readAt(qint64 offset, char *data, qint64 maxSize);
    // Tells the kernel the file will be read once, front to back (bigger read-ahead).
    void adviseSequential();
    QString errorString() const { return m_error; }
    void close();

private:
#ifdef Q_OS_WIN
    struct Impl;
    Impl *m_impl = nullptr;
#else
    int m_fd = -1;
    bool m_owned = false;
#endif
    QString m_error;
};

// One directory's entries (without "." and ".."), for walking a tree.
class NativeDir final
{
public:
    NativeDir() = default;
    ~NativeDir();
    Q_DISABLE_COPY(NativeDir)

    // Opens a directory for listing; the error is strerror text.
    Status open(const QByteArray &nativePath);
    // Every entry name (bytes), in no particular order. Failure to read part way is an error.
    Result<QList<QByteArray>> entryNames();
    // stat() of an entry relative to this directory (fstatat: no path resolution from the root).
    // On failure *errorCode (if given) gets the errno value.
    Result<FileStat> statEntry(const QByteArray &name, bool followLinks, int *errorCode = nullptr) const;
    void close();

private:
#ifdef Q_OS_WIN
    QByteArray m_path;
#else
    void *m_dir = nullptr;   // DIR*
    int m_fd = -1;
#endif
};

} // namespace quire
