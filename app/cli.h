#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QList>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <atomic>
#include <functional>
#include <limits>

class QCommandLineParser;

namespace quire {
class Catalog;
class Job;
class Pools;
class SessionStore;
struct JobAmounts;
}

namespace quire::cli {

// The translation context of the command line's messages: Tr::tr("...") (where a count is
// shown, Tr::tr("%n file(s)", nullptr, count)); texts in tables, such as --help's, are marked with
// QT_TRANSLATE_NOOP("quire::cli", "...") and translated where they are used.
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::cli)
};

// Everything a headless command needs. Commands run on a dedicated worker thread (never the
// main thread), so they may block, run catalog queries and wait for futures. They print results
// to stdout, errors to stderr, and return the process exit status.
struct Context
{
    SessionStore &store;
    Catalog &catalog;
    Pools &pools;
    QCommandLineParser &parser;        // all options, global and per command, already parsed
    QString command;                   // e.g. "add"
    QStringList args;                  // positional arguments after the command, decoded
    QList<QByteArray> rawArgs;         // the same arguments as the exact bytes given (paths)
    const std::atomic_bool &cancelled; // set on SIGINT/SIGTERM: stop cleanly, return 130
};

// A count as the n of a %n message (tr() takes an int; no count shown comes near its limit).
inline int pluralCount(qint64 n)
{
    return int(std::min<qint64>(n, std::numeric_limits<int>::max()));
}

// Exit statuses shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;     // something failed (each failure named on stderr)
inline constexpr int kExitUsage = 2;       // bad command line
inline constexpr int kExitCancelled = 130; // interrupted by Ctrl+C

// Prints one line, "quire: <message> (see 'quire --help')", to stderr; returns kExitUsage.
int usageError(const QString &message);
// Prints "quire: <message>" to stderr.
void printError(const QString &message);
// True when r (a Status or a Result) failed, its error then printed as printError() does:
// `if (printIfFailed(ctx.catalog.open())) return kExitFailure;`.
template <typename R>
bool printIfFailed(const R &r)
{
    if (r)
        return false;
    printError(r.error());
    return true;
}
// Writes to stdout (UTF-8 for text).
void printOut(const QString &text);
void printOutBytes(const QByteArray &bytes);
// True when stderr is a terminal (progress lines are only drawn then).
bool stderrIsTerminal();

// The one line of progress a command redraws on a terminal's stderr (nothing when stderr is not
// a terminal). clear() it before printing anything else.
class ProgressLine
{
public:
    ProgressLine();
    ~ProgressLine() { clear(); }
    void show(const QString &text);
    void clear();

private:
    bool m_enabled = false;
    bool m_shown = false;
};

// What a progress line says about a job: its amounts, and the milliseconds since it started.
using DescribeProgress = std::function<QString(const JobAmounts &amounts, qint64 elapsedMs)>;

// Runs a job (ingest, upload: anything built on jobs/job.h) to its end on this command thread's
// own event loop, the same way for every command: starts it, cancels it once when Ctrl+C or
// SIGTERM sets ctx.cancelled, and redraws `line` from describe() every 100 ms. The job's own
// signals are delivered here meanwhile. Returns once the job emitted ended(); `line` is cleared.
void runJob(const Context &ctx, Job &job, ProgressLine &line, const DescribeProgress &describe);

} // namespace quire::cli
