#pragma once

#include <QByteArray>
#include <QList>

#include <atomic>

namespace quire {

class Pools;

// `quire hash [--] [PATH...]`: prints exactly what `sha256sum PATH...` (GNU coreutils 9.1)
// prints on standard output, byte for byte, and returns its exit status: 0, or 1 if any file
// could not be hashed. Errors go to standard error as "quire: <path>: <reason>".
//
// paths are the file operands after option parsing (main() has already removed a "--"), as
// the raw bytes of argv: not decoded through QString, which would lose names that are not valid
// UTF-8. Each is taken as a file name as it is, even if it starts with '-'; no path, or "-",
// means standard input (read in its turn on the calling thread, as often as "-" is given).
//
// Files are hashed in parallel on pools.cpu(); lines are written in argument order as soon as a
// line and all lines before it are ready, so memory stays bounded whatever the number of paths.
// Blocks until done: call it on a command thread, never on the GUI thread.
// If interrupted (may be null) becomes true, hashing stops within a block and the command
// returns 130 (the shell's status for SIGINT) after the lines already finished are written.
int runHashCommand(const QList<QByteArray> &paths, Pools &pools,
                   const std::atomic_bool *interrupted = nullptr);

} // namespace quire
