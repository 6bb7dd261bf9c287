#include "platform/durablefs.h"

#include "platform/nativefs.h"

#include <QFile>

#include <cerrno>
#include <cstdio>

#ifdef Q_OS_WIN
#  include <io.h>
#else
#  include <fcntl.h>
#  include <unistd.h>
#endif

namespace quire {

int renameNoReplace(const QByteArray &from, const QByteArray &to)
{
#ifdef Q_OS_WIN
    // MoveFileEx without MOVEFILE_REPLACE_EXISTING (what QFile::rename uses) never replaces.
    if (QFile::rename(qtPath(from), qtPath(to)))
        return 0;
    return QFile::exists(qtPath(to)) ? EEXIST : EIO;
#else
#  if defined(Q_OS_LINUX) && defined(RENAME_NOREPLACE)
    if (::renameat2(AT_FDCWD, from.constData(), AT_FDCWD, to.constData(), RENAME_NOREPLACE) == 0)
        return 0;
    if (errno == EEXIST)
        return EEXIST;
    // EINVAL/ENOSYS: the file system cannot do it atomically; fall through to link().
#  endif
    if (::link(from.constData(), to.constData()) == 0) {
        ::unlink(from.constData());
        return 0;
    }
    if (errno == EEXIST)
        return EEXIST;
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EXDEV)
        return errno;
    // No hard links (FAT, some network shares): check, then rename. Not atomic, but the best
    // such a file system allows.
    if (statPath(to, false))
        return EEXIST;
    return std::rename(from.constData(), to.constData()) == 0 ? 0 : errno;
#endif
}

int syncFile(QFile &file)
{
#if defined(Q_OS_WIN)
    return ::_commit(file.handle()) == 0 ? 0 : errno;   // FlushFileBuffers
#elif defined(Q_OS_DARWIN)
    // fsync() on macOS does not flush the drive's cache; F_FULLFSYNC does (not on every file
    // system: then fsync is the best there is).
    if (::fcntl(file.handle(), F_FULLFSYNC) == 0)
        return 0;
    return ::fsync(file.handle()) == 0 ? 0 : errno;
#else
    return ::fsync(file.handle()) == 0 ? 0 : errno;
#endif
}

void syncFolder(const QByteArray &dir)
{
#ifdef Q_OS_WIN
    Q_UNUSED(dir);
#else
    const int fd = ::open(dir.constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
#endif
}

} // namespace quire
