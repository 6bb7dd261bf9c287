#include "ingest/filewalker.h"

#include "platform/nativefs.h"

#include <QCoreApplication>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

namespace quire {

namespace {

// The translation context of the reasons below (FileWalker is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::FileWalker)
};

struct FileKey
{
    quint64 device = 0;
    quint64 inode = 0;
    bool operator==(const FileKey &) const = default;
};

struct FileKeyHash
{
    std::size_t operator()(const FileKey &key) const noexcept
    {
        return std::hash<quint64>()(key.inode) ^ (std::hash<quint64>()(key.device) * 0x9e3779b97f4a7c15ULL);
    }
};

FileKey keyOf(const FileStat &st)
{
    return {st.device, st.inode};
}

// A folder whose entries have been read; its subfolders wait here until it is their turn.
struct Frame
{
    FileKey key;
    std::vector<std::pair<QByteArray, FileKey>> subdirs;   // path and identity, in walk order
    std::size_t next = 0;
};

class Walk final
{
public:
    Walk(const std::function<void(QList<WalkEntry>)> &onFiles,
         const std::function<void(const WalkSkip &)> &onSkip, const std::atomic_bool *cancel, int batchSize)
        : m_onFiles(onFiles), m_onSkip(onSkip), m_cancel(cancel), m_batchSize(std::max(1, batchSize))
    {
        m_batch.reserve(m_batchSize);
    }

    void run(const QList<QByteArray> &roots)
    {
        for (const QByteArray &root : roots) {
            if (cancelled())
                return;
            walkRoot(root);
            if (cancelled())
                return;
        }
        flush();
    }

private:
    bool cancelled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }

    void skip(const QByteArray &path, const QString &reason)
    {
        if (m_onSkip)
            m_onSkip(WalkSkip{path, reason});
    }

    void addFile(const QByteArray &path, const FileStat &st)
    {
        m_batch.append(WalkEntry{path, st.size, st.mtimeMs()});
        if (m_batch.size() >= m_batchSize)
            flush();
    }

    void flush()
    {
        if (m_batch.isEmpty())
            return;
        QList<WalkEntry> out;
        out.reserve(m_batchSize);
        std::swap(out, m_batch);
        if (m_onFiles)
            m_onFiles(std::move(out));
    }

    // Why stat() failed, in the walker's words where it has them.
    template <typename LStat>
    static QString failureReason(int err, const QString &message, LStat &&lstatIsSymlink)
    {
        if (err == ELOOP)
            return FileWalker::loopReason();
        if (err == ENOENT && lstatIsSymlink())
            return FileWalker::brokenLinkReason();
        return message;
    }

    void walkRoot(const QByteArray &root)
    {
        int err = 0;
        const auto st = statPath(root, true, &err);
        if (!st) {
            skip(root, failureReason(err, st.error(), [&] {
                     const auto l = statPath(root, false);
                     return l && l->type == FileType::Symlink;
                 }));
            return;
        }
        const FileKey key = keyOf(*st);
        if (st->type == FileType::Regular) {
            if (m_rootFiles.insert(key).second)
                addFile(root, *st);
            return;
        }
        if (st->type != FileType::Directory) {
            skip(root, fileTypeReason(st->type));
            return;
        }
        if (!m_visited.insert(key).second)
            return;   // the same folder given twice, or inside a root already walked
        walkTree(root, key);
    }

    // Depth first with an explicit stack (no recursion limit, no open descriptor per level).
    void walkTree(const QByteArray &root, FileKey rootKey)
    {
        std::vector<Frame> stack;
        if (auto frame = readFolder(root, rootKey, stack))
            stack.push_back(std::move(*frame));
        while (!stack.empty()) {
            if (cancelled())
                return;
            Frame &top = stack.back();
            if (top.next >= top.subdirs.size()) {
                stack.pop_back();
                continue;
            }
            auto [path, key] = std::move(top.subdirs[top.next]);
            ++top.next;
            if (auto frame = readFolder(path, key, stack))
                stack.push_back(std::move(*frame));   // invalidates top; not used after this
        }
    }

    // Lists one folder: files go to the batch, subfolders into the returned frame.
    std::optional<Frame> readFolder(const QByteArray &path, FileKey key, const std::vector<Frame> &ancestors)
    {
        NativeDir dir;
        if (const Status opened = dir.open(path); !opened) {
            skip(path, opened.error());
            return std::nullopt;
        }
        auto listed = dir.entryNames();
        if (!listed) {
            skip(path, listed.error());
            return std::nullopt;
        }
        QList<QByteArray> names = std::move(listed).value();
        std::sort(names.begin(), names.end());

        Frame frame;
        frame.key = key;
        // Folders reached through a symbolic link are considered after the real ones, so a real
        // folder is listed under its own name and the link is the one reported "already listed".
        std::vector<std::pair<QByteArray, FileKey>> linkedFolders;
        for (const QByteArray &name : std::as_const(names)) {
            if (cancelled())
                return std::nullopt;
            const QByteArray child = joinPath(path, name);
            int err = 0;
            auto st = dir.statEntry(name, false, &err);
            const bool isLink = st && st->type == FileType::Symlink;
            if (isLink)
                st = dir.statEntry(name, true, &err);
            if (!st) {
                skip(child, failureReason(err, st.error(), [&] { return isLink; }));
                continue;
            }
            switch (st->type) {
            case FileType::Regular:
                addFile(child, *st);
                break;
            case FileType::Directory:
                if (isLink)
                    linkedFolders.emplace_back(child, keyOf(*st));
                else
                    queueFolder(frame, ancestors, child, keyOf(*st));
                break;
            default:
                skip(child, fileTypeReason(st->type));
                break;
            }
        }
        for (auto &[child, childKey] : linkedFolders) {
            if (cancelled())
                return std::nullopt;
            queueFolder(frame, ancestors, std::move(child), childKey);
        }
        return frame;
    }

    void queueFolder(Frame &frame, const std::vector<Frame> &ancestors, QByteArray child, FileKey childKey)
    {
        const bool isAncestor = childKey == frame.key
            || std::any_of(ancestors.begin(), ancestors.end(), [&](const Frame &f) { return f.key == childKey; });
        if (isAncestor)
            skip(child, FileWalker::loopReason());
        else if (!m_visited.insert(childKey).second)
            skip(child, FileWalker::alreadyListedReason());
        else
            frame.subdirs.emplace_back(std::move(child), childKey);
    }

    const std::function<void(QList<WalkEntry>)> &m_onFiles;
    const std::function<void(const WalkSkip &)> &m_onSkip;
    const std::atomic_bool *m_cancel;
    const int m_batchSize;
    QList<WalkEntry> m_batch;
    std::unordered_set<FileKey, FileKeyHash> m_visited;     // folders walked or queued
    std::unordered_set<FileKey, FileKeyHash> m_rootFiles;   // files given as roots
};

} // namespace

void FileWalker::walk(const QList<QByteArray> &roots, const std::function<void(QList<WalkEntry>)> &onFiles,
                      const std::function<void(const WalkSkip &)> &onSkip, const std::atomic_bool *cancel,
                      int batchSize)
{
    Walk(onFiles, onSkip, cancel, batchSize).run(roots);
}

QString FileWalker::fifoReason()
{
    return fileTypeReason(FileType::Fifo);
}

QString FileWalker::socketReason()
{
    return fileTypeReason(FileType::Socket);
}

QString FileWalker::deviceReason()
{
    return fileTypeReason(FileType::CharDevice);
}

QString FileWalker::loopReason()
{
    return Tr::tr("symbolic link loop");
}

QString FileWalker::brokenLinkReason()
{
    return Tr::tr("broken symbolic link");
}

QString FileWalker::alreadyListedReason()
{
    return Tr::tr("already listed");
}

} // namespace quire
