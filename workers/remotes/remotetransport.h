#pragma once

#include "platform/nativefs.h"
#include "remotes/remote.h"
#include "net/http.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QIODevice>
#include <QList>
#include <QUrl>

#include <functional>
#include <memory>
#include <optional>
#include <utility>

// The source side of uploads: the file being sent and its checks. The HTTP client itself is
// net/http.h. Everything here runs on a worker thread.
namespace quire::net {

// The state of a source file (exact path bytes), or an error text.
struct SourceState
{
    qint64 size = -1;
    qint64 mtimeMs = 0;
    QString error;
    bool ok() const { return error.isEmpty(); }
};
SourceState statSource(const QByteArray &nativePath);

// The body of an upload: a read-only view of [offset, item.size) of the source file, read in
// 1 MiB blocks.
// Change detection: checkUnchanged() (run every 300 ms during a request, and after it) compares
// the open file's size, mtime and ctime with what they were when it was opened (any write
// changes the ctime, which cannot be set back), and the path's inode (replaced by another file)
// and size/mtime with the catalog's.
// With hashContent it also hashes what it hands out: when the last block has been read and the
// SHA-256 of the whole file (the prefix [0, offset) is hashed on open) differs from item.sha256,
// it withholds that block and reports changed(): the request must then be aborted, so the server
// never receives a complete body with other content. This costs ~0.5 s of CPU per GiB with
// SHA-NI (a quarter of the upload's CPU time), so network remotes do it only when the
// hashWhileSending setting is on; the local remote always does. Used on one thread.
class SourceDevice final : public QIODevice
{
public:
    SourceDevice(const UploadItem &item, bool hashContent);
    ~SourceDevice() override;

    // Opens the source for reading from offset (to the end, or `length` bytes). Fails with a
    // SourceChanged error when size or mtime differ from the item, LocalIo when it cannot be
    // read, Stopped when control stops it while the prefix is hashed. A length is only allowed
    // without hashContent.
    std::optional<RemoteError> openAt(qint64 offset, UploadControl *control = nullptr, qint64 length = -1);

    bool isSequential() const override { return false; }
    qint64 size() const override { return m_end - m_offset; }
    bool seek(qint64 pos) override;
    bool reset() override { return seek(0); }

    bool changed() const { return m_changed; }
    // The error for a source that changed (see above), or nullopt.
    std::optional<RemoteError> checkUnchanged() const;
    // With hashContent: true when every byte was handed out in order and matched item.sha256.
    // Without: always true (checkUnchanged() is the check then).
    bool contentVerified() const { return !m_hashContent || m_verified; }

protected:
    qint64 readData(char *data, qint64 maxSize) override;
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    static constexpr qint64 kBlockSize = 1 << 20;
    bool fill(qint64 fileOffset);   // reads (and hashes) the block at fileOffset

    struct Hash;
    UploadItem m_item;
    bool m_hashContent = false;
    NativeFile m_file;
    FileStat m_opened;            // the open file's identity and times when it was opened
    QByteArray m_buf;
    qint64 m_bufStart = 0;        // file offset of m_buf's first byte
    qint64 m_bufLen = 0;
    qint64 m_offset = 0;          // file offset of the device's position 0
    qint64 m_end = 0;
    std::unique_ptr<Hash> m_hash;
    qint64 m_hashedTo = 0;        // file offset the running hash has reached
    bool m_hashValid = true;
    bool m_changed = false;
    bool m_verified = false;
};

} // namespace quire::net
