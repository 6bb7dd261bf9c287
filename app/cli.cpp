#include "cli.h"

#include <QFile>

#include <cstdio>

#ifdef Q_OS_WIN
#  include <io.h>
#  define QUIRE_ISATTY _isatty
#  define QUIRE_FILENO _fileno
#else
#  include <unistd.h>
#  define QUIRE_ISATTY isatty
#  define QUIRE_FILENO fileno
#endif

namespace quire::cli {

int usageError(const QString &message)
{
    printError(Tr::tr("%1 (see 'quire --help')").arg(message));
    return kExitUsage;
}

void printError(const QString &message)
{
    const QByteArray line = "quire: " + message.toUtf8() + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

void printOut(const QString &text)
{
    printOutBytes(text.toUtf8());
}

void printOutBytes(const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
}

bool stderrIsTerminal()
{
    return QUIRE_ISATTY(QUIRE_FILENO(stderr)) != 0;
}

} // namespace quire::cli
