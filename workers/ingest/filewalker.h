#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <atomic>
#include <functional>

namespace quire {

// A regular file found by the walker. path is the exact native bytes (through any symbolic
// links that led to it); size and mtime are the file's at the time it was found.
struct WalkEntry
{
    QByteArray path;
    qint64 size = 0;
    qint64 mtimeMs = 0;
};

// Something the walker did not list, and why (person-readable).
struct WalkSkip
{
    QByteArray path;
    QString reason;
};

// Expands dropped files and folders into the regular files they contain.
class FileWalker final
{
public:
    // Walks roots in order; each folder is walked recursively, its entries in byte order of their
    // names, depth first.
    //  - Regular files are reported through onFiles in batches of at most batchSize (the last
    //    batch may be smaller; an empty batch is never sent).
    //  - Everything else is reported through onSkip with a reason: fifoReason() etc. for FIFOs,
    //    sockets and devices, loopReason() for a symbolic link to a folder that contains it,
    //    brokenLinkReason(), alreadyListedReason() for a second path to a folder already walked,
    //    or the system's error text ("Permission denied", "No such file or directory"). Then the
    //    walk goes on with the next entry.
    //  - Symbolic links are followed; folders are recognised by (device, inode), so no folder
    //    is walked twice and links never loop. A root given twice (or two roots naming the same
    //    file or folder) is listed once, silently.
    // Runs synchronously on the calling thread (a worker thread: it does file I/O). cancel may
    // be null; it is checked between entries, and once set the walk returns without reporting
    // anything more. The callbacks run on the calling thread.
    static void walk(const QList<QByteArray> &roots,
                     const std::function<void(QList<WalkEntry>)> &onFiles,
                     const std::function<void(const WalkSkip &)> &onSkip,
                     const std::atomic_bool *cancel = nullptr, int batchSize = 256);

    static QString fifoReason();           // "is a FIFO"
    static QString socketReason();         // "is a socket"
    static QString deviceReason();         // "is a device"
    static QString loopReason();           // "symbolic link loop"
    static QString brokenLinkReason();     // "broken symbolic link"
    static QString alreadyListedReason();  // "already listed"
};

} // namespace quire
