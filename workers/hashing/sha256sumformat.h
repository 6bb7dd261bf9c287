#pragma once

#include <QByteArray>

namespace quire {

// One line of `sha256sum` output exactly as GNU coreutils 9.1 prints it (text mode, no --tag):
//   "<hex>  <name>\n"
// The name is the path bytes as given on the command line. When it contains '\\', '\n' or '\r'
// the line starts with '\\' and those characters are written as "\\\\", "\\n" and "\\r", so the
// line stays one line and `sha256sum -c` can read it back. Other bytes, including invalid UTF-8,
// are written unchanged.
QByteArray sha256sumLine(const QByteArray &hex, const QByteArray &nativePath);

} // namespace quire
