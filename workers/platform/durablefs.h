#pragma once

#include <QByteArray>

class QFile;

namespace quire {

// The file-system steps that store a file for good, by exact path bytes (platform/nativefs.h):
// a rename that never replaces what is there, and flushing a file's data and a folder's names to
// the disk. Reentrant: any thread may call them.

// Moves from -> to unless `to` exists. 0 on success, else an errno value (EEXIST: taken).
int renameNoReplace(const QByteArray &from, const QByteArray &to);

// Makes what was written to the open file durable. 0 or an errno value.
int syncFile(QFile &file);

// Makes a new name in dir durable (POSIX: fsync the folder). Windows (NTFS) journals the
// rename itself and cannot open a folder as a file: nothing to do there.
void syncFolder(const QByteArray &dir);

} // namespace quire
