#include "cli.h"

#include "jobs/job.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QTimer>

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

ProgressLine::ProgressLine() : m_enabled(stderrIsTerminal())
{
}

void ProgressLine::show(const QString &text)
{
    if (!m_enabled)
        return;
    const QByteArray bytes = "\r\033[K" + text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
    m_shown = true;
}

void ProgressLine::clear()
{
    if (!m_shown)
        return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    m_shown = false;
}

void runJob(const Context &ctx, Job &job, ProgressLine &line, const DescribeProgress &describe)
{
    QEventLoop loop;
    QObject::connect(&job, &Job::ended, &loop, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    bool cancelRequested = false;
    // Ctrl+C is a flag set by a signal handler, which cannot wake an event loop: it is looked at
    // on this tick, as the progress is.
    QTimer tick;
    tick.setInterval(100);
    QObject::connect(&tick, &QTimer::timeout, &loop, [&] {
        if (ctx.cancelled && !cancelRequested) {
            cancelRequested = true;
            job.cancel();
        }
        line.show(describe(job.amounts(), clock.elapsed()));
    });
    tick.start();
    job.start();
    if (!job.isFinished())
        loop.exec();
    tick.stop();
    line.clear();
}

} // namespace quire::cli
