#include "hashing/sha256sumformat.h"

namespace quire {

QByteArray sha256sumLine(const QByteArray &hex, const QByteArray &nativePath)
{
    bool escape = false;
    for (const char c : nativePath) {
        if (c == '\\' || c == '\n' || c == '\r') {
            escape = true;
            break;
        }
    }
    QByteArray line;
    line.reserve(hex.size() + nativePath.size() * (escape ? 2 : 1) + 4);
    if (escape)
        line.append('\\');
    line.append(hex).append("  ");
    if (!escape) {
        line.append(nativePath);
    } else {
        for (const char c : nativePath) {
            switch (c) {
            case '\\': line.append("\\\\"); break;
            case '\n': line.append("\\n"); break;
            case '\r': line.append("\\r"); break;
            default: line.append(c); break;
            }
        }
    }
    line.append('\n');
    return line;
}

} // namespace quire
