#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace quire {

// The outcome of hashing one file.
struct FileHash
{
    QByteArray sha256;   // 64 lowercase hex digits; empty on error
    qint64 size = 0;     // bytes hashed
    qint64 mtimeMs = 0;  // the file's modification time when it was hashed (0 for streams)
    QString error;       // person-readable ("Permission denied", "cancelled"); empty on success

    bool ok() const { return error.isEmpty(); }
};

// SHA-256 of files, streams and bytes with OpenSSL's EVP interface (SHA-NI where the CPU has it:
// about 8x faster than QCryptographicHash).
//
// Files are read in kBlockSize blocks into one buffer per thread, never whole into memory.
// Each thread also keeps its own EVP_MD_CTX, so hashing many small files costs no allocation
// per file. All functions are reentrant and may run on any number of threads at once; they
// block, so they belong on a worker thread (the CPU pool), never on the GUI thread.
class Hasher final
{
public:
    static constexpr qint64 kBlockSize = 1 << 20;
    static constexpr int kMaxAttempts = 3;

    // progress(bytesDone, bytesTotal): called after each block read, on the hashing thread.
    // bytesTotal is -1 for streams of unknown length. If the file is hashed again because it
    // changed, bytesDone starts from 0 again. The caller coalesces (e.g. ~20 updates a second).
    using Progress = std::function<void(qint64 bytesDone, qint64 bytesTotal)>;

    // Hashes one regular file. A file that changes while it is read (size, mtime or ctime of the
    // open file differ before and after) is hashed again, up to kMaxAttempts times in all, then
    // fails with changedError(). A directory fails with "Is a directory"; FIFOs, sockets and
    // devices are refused with fileTypeReason() ("is a FIFO"...) without being opened for a
    // blocking read. cancel may be null; once it is set the call returns cancelledError().
    static FileHash hashFile(const QByteArray &nativePath, const std::atomic_bool *cancel = nullptr,
                             const Progress &progress = {});

    // As sha256sum does it: like hashFile(), but FIFOs and devices are read to their end (opening
    // a FIFO waits for a writer), without change detection. For the `quire hash` command.
    static FileHash hashAnyFile(const QByteArray &nativePath, const std::atomic_bool *cancel = nullptr,
                                const Progress &progress = {});

    // Hashes what can be read from an open descriptor (e.g. 0 for stdin) until end of file.
    // The descriptor is neither closed nor rewound. size is the byte count read.
    static FileHash hashDevice(int fd, const std::atomic_bool *cancel = nullptr,
                               const Progress &progress = {});

    // SHA-256 of bytes in memory, as 64 lowercase hex digits.
    static QByteArray hashBytes(QByteArrayView data);

    static QString cancelledError();   // "cancelled"
    static QString changedError();     // "changed while being read"
};

// The project's one SHA-256 (OpenSSL EVP, SHA-NI where the processor has it): incremental, for
// data that arrives in pieces (a body being sent, a download being verified); Hasher::hashBytes()
// for bytes in memory. Owned and used by one thread at a time.
class Sha256 final
{
public:
    Sha256();
    ~Sha256();
    Q_DISABLE_COPY(Sha256)

    void addData(QByteArrayView data);
    // 64 lowercase hex digits of everything added so far; the object starts over afterwards.
    QByteArray hexResult();
    // The same, leaving the object as it is (more may be added).
    QByteArray hexSoFar() const;
    // Takes over other's state: what it has seen, this has seen.
    void assign(const Sha256 &other);
    void reset();

private:
    struct Context;
    std::unique_ptr<Context> m_context;
};

} // namespace quire
