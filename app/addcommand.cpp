#include "commands.h"

#include "catalog/catalog.h"
#include "ingest/ingestjob.h"
#include "platform/nativefs.h"
#include "remotes/remote.h"
#include "remotecommands.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QLocale>
#include <QThread>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>

namespace quire::cli {

namespace {

void drawProgress(const IngestProgress &p, qint64 elapsedMs)
{
    const double seconds = std::max<qint64>(elapsedMs, 1) / 1000.0;
    const int found = pluralCount(p.filesFound);
    const QString line = QStringLiteral("\r\033[K")
                         + (p.walking ? Tr::tr("Scanning and hashing %1/%n files, %2/%3, %4/s", nullptr, found)
                                      : Tr::tr("Hashing %1/%n files, %2/%3, %4/s", nullptr, found))
                               .arg(p.filesDone)
                               .arg(formatBytes(p.bytesDone), formatBytes(p.bytesFound),
                                    formatBytes(qint64(p.bytesDone / seconds)));
    const QByteArray bytes = line.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

void printIssue(const IngestIssue &issue)
{
    // The path as its bytes: a file name need not be valid UTF-8.
    const QByteArray line = QByteArray("quire: ") + (issue.skipped ? Tr::tr("skipped").toUtf8() + ' ' : QByteArray())
                            + issue.path + ": " + issue.reason.toUtf8() + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
}

} // namespace

int runAddCommand(Context &ctx)
{
    if (ctx.rawArgs.isEmpty())
        return usageError(Tr::tr("usage: quire add [--collection NAME] PATH..."));
    const QString name = ctx.parser.isSet(QStringLiteral("collection"))
                             ? ctx.parser.value(QStringLiteral("collection"))
                             : defaultCollectionName();
    if (auto why = Catalog::collectionNameError(name))
        return usageError(Tr::tr("invalid collection name '%1': %2").arg(name, *why));

    if (auto opened = ctx.catalog.open(); !opened) {
        printError(opened.error());
        return kExitFailure;
    }
    auto existing = ctx.catalog.collectionByName(name);
    if (!existing) {
        printError(existing.error());
        return kExitFailure;
    }
    qint64 collectionId = 0;
    if (existing->has_value()) {
        collectionId = existing->value().id;
    } else {
        auto created = ctx.catalog.createCollection(name, ctx.parser.value(QStringLiteral("remote")));
        if (!created) {
            printError(created.error());
            return kExitFailure;
        }
        collectionId = *created;
    }

    // The job reports through its thread's event loop: that is the main thread here, while this
    // command thread only watches the result and draws the progress line.
    auto *job = new IngestJob(ctx.catalog, ctx.pools, collectionId, ctx.rawArgs);
    job->moveToThread(QCoreApplication::instance()->thread());
    QFuture<IngestResult> future = job->result();
    // By name: a functor's slot object, made on this thread and read on the main one, passes
    // through Qt's event queue, whose lock ThreadSanitizer cannot see (docs/ARCHITECTURE.md).
    QMetaObject::invokeMethod(job, "start", Qt::QueuedConnection);

    const bool progressLine = stderrIsTerminal();
    QElapsedTimer clock;
    clock.start();
    // Woken the moment the job ends (not at the next poll), and every 20 ms for Ctrl+C and the
    // progress line. The state is shared with the continuation, which runs on the pool thread
    // that finishes the job and may still be returning when this function goes on.
    struct Ended
    {
        std::mutex mutex;
        std::condition_variable cv;
        bool ended = false;
    };
    auto ended = std::make_shared<Ended>();
    auto watch = future.then(QtFuture::Launch::Sync, [ended](const IngestResult &) {
        std::lock_guard lock(ended->mutex);
        ended->ended = true;
        ended->cv.notify_all();
    });
    bool cancelRequested = false;
    qint64 lastDraw = -1000;
    for (;;) {
        {
            std::unique_lock lock(ended->mutex);
            // A system_clock deadline: waited with pthread_cond_timedwait (see ARCHITECTURE.md).
            ended->cv.wait_until(lock, std::chrono::system_clock::now() + std::chrono::milliseconds(20),
                                 [&] { return ended->ended; });
            if (ended->ended)
                break;
        }
        if (future.isFinished())   // e.g. finished with an exception: no continuation result
            break;
        if (ctx.cancelled && !cancelRequested) {
            cancelRequested = true;
            job->cancel();
        }
        if (progressLine && clock.elapsed() - lastDraw >= 100) {
            lastDraw = clock.elapsed();
            drawProgress(job->progress(), lastDraw);
        }
    }
    job->deleteLater();
    if (progressLine)
        std::fputs("\r\033[K", stderr);

    const IngestResult result = future.result();
    for (const IngestIssue &issue : result.issues)
        printIssue(issue);

    const IngestProgress &t = result.totals;
    const double seconds = clock.elapsed() / 1000.0;
    const int found = pluralCount(t.filesFound);
    QString summary = (result.outcome == IngestResult::Outcome::Cancelled
                           ? Tr::tr("Cancelled adding to '%1': %n file(s), %2 new, %3 duplicate, %4 unchanged, "
                                    "%5 failed, %6 skipped (%7 in %8 s)\n", nullptr, found)
                           : Tr::tr("Added to '%1': %n file(s), %2 new, %3 duplicate, %4 unchanged, "
                                    "%5 failed, %6 skipped (%7 in %8 s)\n", nullptr, found))
                          .arg(name)
                          .arg(t.filesHashed)
                          .arg(t.filesDuplicate)
                          .arg(t.filesUnchanged)
                          .arg(t.filesFailed)
                          .arg(t.filesSkipped)
                          .arg(formatBytes(t.bytesDone))
                          .arg(seconds, 0, 'f', 2);
    printOut(summary);
    std::fflush(stdout);

    // Uploads follow when the collection has a remote (nothing happens when it has none); the
    // files that failed to hash are already named above and do not stop the others.
    int uploadStatus = kExitOk;
    if (!ctx.parser.isSet(QStringLiteral("no-upload"))
        && (result.outcome == IngestResult::Outcome::Succeeded
            || result.outcome == IngestResult::Outcome::SomeFailed)) {
        uploadStatus = pushCollection(ctx, collectionId);
        if (uploadStatus == kExitCancelled)
            return kExitCancelled;
    }

    switch (result.outcome) {
    case IngestResult::Outcome::Succeeded:
        return uploadStatus;
    case IngestResult::Outcome::SomeFailed:
        return kExitFailure;
    case IngestResult::Outcome::Cancelled:
        return ctx.cancelled ? kExitCancelled : kExitFailure;
    case IngestResult::Outcome::Error:
        printError(result.error);
        return kExitFailure;
    }
    return kExitFailure;
}

} // namespace quire::cli
