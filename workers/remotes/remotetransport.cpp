#include "remotes/remotetransport.h"

#include "hashing/hasher.h"

#include <QCoreApplication>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace quire::net {

namespace {

// The translation context of the messages below (SourceDevice has no Q_OBJECT).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::SourceDevice)
};

} // namespace

// --- source files ------------------------------------------------------------------------------

SourceState statSource(const QByteArray &nativePath)
{
    SourceState s;
    int error = 0;
    const Result<FileStat> st = statPath(nativePath, true, &error);
    if (!st) {
        s.error = error == ENOENT ? Tr::tr("the source file is gone") : st.error();
        return s;
    }
    s.size = st->size;
    s.mtimeMs = st->mtimeMs();
    return s;
}

struct SourceDevice::Hash
{
    Sha256 running;
    Sha256 prefix;   // the state after [0, offset): reset() starts here
};

SourceDevice::SourceDevice(const UploadItem &item, bool hashContent)
    : m_item(item), m_hashContent(hashContent), m_hash(std::make_unique<Hash>())
{
}

SourceDevice::~SourceDevice() = default;

std::optional<RemoteError> SourceDevice::openAt(qint64 offset, UploadControl *control, qint64 length)
{
    Q_ASSERT(length < 0 || !m_hashContent);
    using K = RemoteError::Kind;
    const SourceState st = statSource(m_item.sourcePath);
    if (!st.ok())
        return RemoteError::make(K::LocalIo, Tr::tr("cannot read %1: %2").arg(qtPath(m_item.sourcePath), st.error));
    if (st.size != m_item.size || st.mtimeMs != m_item.mtimeMs)
        return RemoteError::make(K::SourceChanged, Tr::tr("the file changed since it was hashed"));
    Result<NativeFile> file = NativeFile::open(m_item.sourcePath);
    if (!file)
        return RemoteError::make(K::LocalIo, Tr::tr("cannot open %1: %2").arg(displayPath(m_item.sourcePath), file.error()));
    m_file = std::move(*file);
    m_file.adviseSequential();
    const Result<FileStat> opened = m_file.stat();
    if (!opened || opened->size != m_item.size)
        return RemoteError::make(K::SourceChanged, Tr::tr("the file changed since it was hashed"));
    m_opened = *opened;
    m_offset = offset;
    m_end = length >= 0 ? std::min(m_item.size, offset + length) : m_item.size;
    if (!m_hashContent) {
        QIODevice::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
        return std::nullopt;
    }
    // Hash the part the server already has, so the whole file's SHA-256 is checked at the end.
    QByteArray buf(1 << 20, Qt::Uninitialized);
    qint64 done = 0;
    while (done < offset) {
        if (control && control->isStopped())
            return RemoteError::make(K::Stopped, Tr::tr("stopped"));
        const qint64 want = std::min<qint64>(buf.size(), offset - done);
        const qint64 n = m_file.readAt(done, buf.data(), want);
        if (n < 0)
            return RemoteError::make(K::LocalIo, Tr::tr("cannot read %1: %2")
                                                     .arg(displayPath(m_item.sourcePath), m_file.errorString()));
        if (n == 0)
            return RemoteError::make(K::SourceChanged, Tr::tr("the file became shorter"));
        m_hash->running.addData(QByteArrayView(buf.constData(), n));
        done += n;
    }
    m_hash->prefix.assign(m_hash->running);
    m_hashedTo = offset;
    if (m_hashedTo == m_end) {
        // Nothing left to send (an empty file, or a resumed upload that had everything):
        // compare now, as readData() never will.
        if (m_hash->running.hexSoFar() != m_item.sha256)
            return RemoteError::make(K::SourceChanged, Tr::tr("the file changed since it was hashed"));
        m_verified = true;
    }
    QIODevice::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    return std::nullopt;
}

bool SourceDevice::seek(qint64 pos)
{
    if (pos < 0 || pos > size())
        return false;
    QIODevice::seek(pos);
    if (!m_hashContent)
        return true;
    if (pos == 0) {
        // A fresh send of the body (e.g. Qt re-sending on a new connection): hash it again.
        m_hash->running.assign(m_hash->prefix);
        m_hashedTo = m_offset;
        m_hashValid = true;
        m_verified = false;
    } else if (m_offset + pos != m_hashedTo) {
        m_hashValid = false;
    }
    return true;
}

qint64 SourceDevice::readData(char *data, qint64 maxSize)
{
    if (m_changed)
        return 0;   // withheld: the request is being aborted
    const qint64 at = m_offset + pos();
    if (at >= m_end || maxSize <= 0)
        return 0;
    if (at < m_bufStart || at >= m_bufStart + m_bufLen) {
        if (!fill(at))
            return m_changed ? 0 : -1;
    }
    const qint64 n = std::min(maxSize, m_bufStart + m_bufLen - at);
    std::memcpy(data, m_buf.constData() + (at - m_bufStart), size_t(n));
    return n;
}

bool SourceDevice::fill(qint64 at)
{
    // Qt asks for 16 KiB at a time; reading and hashing 1 MiB blocks keeps the system calls and
    // the per-call cost of the hash low, and lets a mismatch be found before any byte of the
    // last block is handed out.
    if (m_buf.size() != kBlockSize)
        m_buf.resize(kBlockSize);
    const qint64 want = std::min<qint64>(kBlockSize, m_end - at);
    qint64 got = 0;
    while (got < want) {
        const qint64 n = m_file.readAt(at + got, m_buf.data() + got, want - got);
        if (n < 0) {
            setErrorString(m_file.errorString());
            m_bufLen = 0;
            return false;
        }
        if (n == 0) {
            // Shorter than when it was hashed: the file changed. Never send a short body.
            m_changed = true;
            m_bufLen = 0;
            return false;
        }
        got += n;
    }
    m_bufStart = at;
    m_bufLen = got;
    if (!m_hashContent)
        return true;
    if (m_hashValid && at == m_hashedTo) {
        m_hash->running.addData(QByteArrayView(m_buf.constData(), got));
        m_hashedTo += got;
        if (m_hashedTo == m_end) {
            if (m_hash->running.hexSoFar() != m_item.sha256) {
                // The server must not get a complete body with other content.
                m_changed = true;
                m_bufLen = 0;
                return false;
            }
            m_verified = true;
        }
    } else if (at > m_hashedTo || !m_hashValid) {
        m_hashValid = false;   // not read in order: only size and mtime can tell
    }
    return true;
}

std::optional<RemoteError> SourceDevice::checkUnchanged() const
{
    using K = RemoteError::Kind;
    const auto changed = [] {
        return RemoteError::make(K::SourceChanged, Tr::tr("the file changed while it was being uploaded"));
    };
    if (m_changed)
        return changed();
    // The open file: any write changes its ctime, which nobody can set back (unlike the mtime).
    // (On Windows ctime is the creation time: there size and mtime tell.)
    if (m_file.isOpen()) {
        const Result<FileStat> now = m_file.stat();
        if (!now || !now->sameContentAs(m_opened))
            return changed();
    }
    // The path: replaced by another file (e.g. an editor saving by rename) is a change too.
    const Result<FileStat> atPath = statPath(m_item.sourcePath);
    if (!atPath || atPath->device != m_opened.device || atPath->inode != m_opened.inode)
        return changed();
    const SourceState st = statSource(m_item.sourcePath);
    if (!st.ok() || st.size != m_item.size || st.mtimeMs != m_item.mtimeMs)
        return changed();
    return std::nullopt;
}

} // namespace quire::net

