#include "hashing/hasher.h"

#include "platform/nativefs.h"

#include <QCoreApplication>
#include <QThreadStorage>

#include <openssl/evp.h>

#include <cerrno>
#include <cstdlib>
#include <new>

namespace quire {

namespace {

// The translation context of the messages below (Hasher is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Hasher)
};

constexpr int kDigestSize = 32;
constexpr std::size_t kBufferAlignment = 4096;   // page-aligned: the kernel copies whole pages

// Fetched once: with OpenSSL 3, EVP_sha256() in EVP_DigestInit_ex() does an implicit fetch (a
// locked provider lookup) on every call, which is measurable when hashing thousands of small
// files. The fetched method is shared by all threads and intentionally never freed.
const EVP_MD *sha256Method()
{
    static const EVP_MD *method = [] {
        const EVP_MD *fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return fetched ? fetched : EVP_sha256();
    }();
    return method;
}

// Fetch at program start, on the main thread: OpenSSL initialises itself (reads its config) on
// the first call and keeps per-thread error state for the thread that did it. Done on a pool
// thread, that state is freed only as the thread exits, which can race with process exit and
// shows up as a leak under LeakSanitizer; the main thread's is freed by OpenSSL's atexit handler.
[[maybe_unused]] const EVP_MD *const g_sha256AtStartup = sha256Method();

// What one thread reuses from file to file: the digest context and the read buffer.
struct ThreadState
{
    EVP_MD_CTX *ctx = nullptr;
    char *buffer = nullptr;
    bool busy = false;   // guards against reentrancy (a progress callback that hashes, too)

    ThreadState() : ctx(EVP_MD_CTX_new()) {}
    ~ThreadState()
    {
        EVP_MD_CTX_free(ctx);
        if (buffer)
            ::operator delete[](buffer, std::align_val_t(kBufferAlignment));
    }
    Q_DISABLE_COPY(ThreadState)

    char *readBuffer()
    {
        // Allocated on first file, not for hashBytes(): threads that never read files stay small.
        if (!buffer)
            buffer = static_cast<char *>(::operator new[](std::size_t(Hasher::kBlockSize),
                                                          std::align_val_t(kBufferAlignment)));
        return buffer;
    }
};

// Borrows this thread's state, or a private one if the thread's is already in use further up
// the stack.
class StateLease final
{
public:
    StateLease()
    {
        // QThreadStorage rather than thread_local: Qt deletes a QThread's storage as the thread
        // finishes, before QThread::wait() (and so QThreadPool::waitForDone()) returns, and the
        // main thread's when QCoreApplication goes. A thread_local destructor runs later, after
        // the thread has been waited for, and can then race with exit() tearing OpenSSL down
        // (OPENSSL_cleanup is an atexit handler): a crash at exit once in a while.
        // Never destroyed itself, so no thread outlives it.
        static auto *const storage = new QThreadStorage<ThreadState *>;
        ThreadState *state = storage->localData();
        if (!state) {
            state = new ThreadState;
            storage->setLocalData(state);
        }
        if (!state->busy) {
            m_state = state;
        } else {
            m_own = std::make_unique<ThreadState>();
            m_state = m_own.get();
        }
        m_state->busy = true;
    }
    ~StateLease() { m_state->busy = false; }
    Q_DISABLE_COPY(StateLease)

    ThreadState *operator->() const { return m_state; }

private:
    std::unique_ptr<ThreadState> m_own;
    ThreadState *m_state = nullptr;
};

QString opensslError()
{
    return Tr::tr("SHA-256 is unavailable (OpenSSL)");
}

bool isCancelled(const std::atomic_bool *cancel)
{
    return cancel && cancel->load(std::memory_order_relaxed);
}

QByteArray finishHex(EVP_MD_CTX *ctx)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx, digest, &length) != 1 || length != kDigestSize)
        return {};
    return QByteArray(reinterpret_cast<const char *>(digest), kDigestSize).toHex();
}

// Reads file to its end into ctx (already initialised). Returns the byte count or -1 with
// error set ("cancelled" or the read error).
qint64 digestStream(NativeFile &file, ThreadState *state, qint64 expectedTotal,
                    const std::atomic_bool *cancel, const Hasher::Progress &progress, QString *error)
{
    char *buffer = state->readBuffer();
    qint64 done = 0;
    for (;;) {
        if (isCancelled(cancel)) {
            *error = Hasher::cancelledError();
            return -1;
        }
        const qint64 n = file.read(buffer, Hasher::kBlockSize);
        if (n < 0) {
            *error = file.errorString();
            return -1;
        }
        if (n == 0)
            return done;
        if (EVP_DigestUpdate(state->ctx, buffer, std::size_t(n)) != 1) {
            *error = opensslError();
            return -1;
        }
        done += n;
        if (progress)
            progress(done, expectedTotal < 0 ? -1 : std::max(expectedTotal, done));
    }
}

// All that is left to read of a stream (a FIFO, standard input): no size known beforehand and
// no modification time.
FileHash hashStream(NativeFile &file, ThreadState *state, const std::atomic_bool *cancel,
                    const Hasher::Progress &progress)
{
    FileHash result;
    if (EVP_DigestInit_ex2(state->ctx, sha256Method(), nullptr) != 1) {
        result.error = opensslError();
        return result;
    }
    const qint64 done = digestStream(file, state, -1, cancel, progress, &result.error);
    if (done < 0)
        return result;
    result.sha256 = finishHex(state->ctx);
    result.size = done;
    if (result.sha256.isEmpty())
        result.error = opensslError();
    return result;
}

enum class NonRegular { Refuse, Stream };

FileHash hashPath(const QByteArray &nativePath, const std::atomic_bool *cancel,
                  const Hasher::Progress &progress, NonRegular nonRegular)
{
    FileHash result;
    if (isCancelled(cancel)) {
        result.error = Hasher::cancelledError();
        return result;
    }
    StateLease state;
    for (int attempt = 0; attempt < Hasher::kMaxAttempts; ++attempt) {
        // Non-blocking open first: a FIFO must not hang a pool thread before its type is known.
        auto opened = NativeFile::open(nativePath, NativeFile::OpenMode::NonBlocking);
        if (!opened) {
            result.error = opened.error();
            return result;
        }
        NativeFile file = std::move(opened).value();
        auto before = file.stat();
        if (!before) {
            result.error = before.error();
            return result;
        }
        if (before->type == FileType::Directory) {
            result.error = errnoMessage(EISDIR);
            return result;
        }
        if (before->type != FileType::Regular) {
            if (nonRegular == NonRegular::Refuse) {
                result.error = fileTypeReason(before->type);
                return result;
            }
            // sha256sum semantics: reopen blocking (a FIFO then waits for its writer) and read
            // to the end. Such files have no meaningful size or mtime to compare.
            file.close();
            auto blocking = NativeFile::open(nativePath, NativeFile::OpenMode::Blocking);
            if (!blocking) {
                result.error = blocking.error();
                return result;
            }
            file = std::move(blocking).value();
            return hashStream(file, state.operator->(), cancel, progress);
        }

        if (before->size > Hasher::kBlockSize)
            file.adviseSequential();   // not worth a system call for a file read in one go
        if (EVP_DigestInit_ex2(state->ctx, sha256Method(), nullptr) != 1) {
            result.error = opensslError();
            return result;
        }
        // Read to end of file rather than to st_size: some files (procfs, sysfs) report a size
        // that is not their length. A change is detected by comparing fstat before and after.
        const qint64 done = digestStream(file, state.operator->(), before->size, cancel, progress,
                                         &result.error);
        if (done < 0)
            return result;
        auto after = file.stat();
        if (!after) {
            result.error = after.error();
            return result;
        }
        if (!before->sameContentAs(*after))
            continue;   // written to while we read: what we hashed may be a mix; read it again
        result.sha256 = finishHex(state->ctx);
        if (result.sha256.isEmpty()) {
            result.error = opensslError();
            return result;
        }
        result.size = done;
        result.mtimeMs = after->mtimeMs();
        return result;
    }
    result.error = Hasher::changedError();
    return result;
}

} // namespace

FileHash Hasher::hashFile(const QByteArray &nativePath, const std::atomic_bool *cancel,
                          const Progress &progress)
{
    return hashPath(nativePath, cancel, progress, NonRegular::Refuse);
}

FileHash Hasher::hashAnyFile(const QByteArray &nativePath, const std::atomic_bool *cancel,
                             const Progress &progress)
{
    return hashPath(nativePath, cancel, progress, NonRegular::Stream);
}

FileHash Hasher::hashDevice(int fd, const std::atomic_bool *cancel, const Progress &progress)
{
    StateLease state;
    NativeFile file = NativeFile::borrow(fd);
    return hashStream(file, state.operator->(), cancel, progress);
}

QByteArray Hasher::hashBytes(QByteArrayView data)
{
    StateLease state;
    if (EVP_DigestInit_ex2(state->ctx, sha256Method(), nullptr) != 1
        || EVP_DigestUpdate(state->ctx, data.data(), std::size_t(data.size())) != 1)
        return {};
    return finishHex(state->ctx);
}

QString Hasher::cancelledError()
{
    return Tr::tr("cancelled");
}

QString Hasher::changedError()
{
    return Tr::tr("changed while being read");
}

struct Sha256::Context
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ~Context() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : m_context(std::make_unique<Context>())
{
    reset();
}

Sha256::~Sha256() = default;

void Sha256::addData(QByteArrayView data)
{
    EVP_DigestUpdate(m_context->ctx, data.data(), std::size_t(data.size()));
}

QByteArray Sha256::hexResult()
{
    QByteArray hex = finishHex(m_context->ctx);
    reset();
    return hex;
}

QByteArray Sha256::hexSoFar() const
{
    Sha256 probe;
    probe.assign(*this);
    return probe.hexResult();
}

void Sha256::assign(const Sha256 &other)
{
    if (&other != this)
        EVP_MD_CTX_copy_ex(m_context->ctx, other.m_context->ctx);
}

void Sha256::reset()
{
    EVP_DigestInit_ex2(m_context->ctx, sha256Method(), nullptr);
}

} // namespace quire
