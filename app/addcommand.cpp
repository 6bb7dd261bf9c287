#include "commands.h"

#include "catalog/catalog.h"
#include "ingest/ingestjob.h"
#include "platform/nativefs.h"
#include "remotes/remote.h"
#include "remotecommands.h"

#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QLocale>

#include <cstdio>

namespace quire::cli {

namespace {

QString describeProgress(const JobAmounts &a, qint64 elapsedMs)
{
    const double seconds = std::max<qint64>(elapsedMs, 1) / 1000.0;
    const int found = pluralCount(a.filesTotal);
    return (a.totalsFinal ? Tr::tr("Hashing %1/%n files, %2/%3, %4/s", nullptr, found)
                          : Tr::tr("Scanning and hashing %1/%n files, %2/%3, %4/s", nullptr, found))
        .arg(a.filesDone)
        .arg(formatBytes(a.bytesDone), formatBytes(a.bytesTotal), formatBytes(qint64(a.bytesDone / seconds)));
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

    if (printIfFailed(ctx.catalog.open()))
        return kExitFailure;
    auto existing = ctx.catalog.collectionByName(name);
    if (printIfFailed(existing))
        return kExitFailure;
    qint64 collectionId = 0;
    if (existing->has_value()) {
        collectionId = existing->value().id;
    } else {
        auto created = ctx.catalog.createCollection(name, ctx.parser.value(QStringLiteral("remote")));
        if (printIfFailed(created))
            return kExitFailure;
        collectionId = *created;
    }

    IngestJob job(ctx.catalog, ctx.pools, collectionId, ctx.rawArgs);
    QElapsedTimer clock;
    clock.start();
    ProgressLine line;
    runJob(ctx, job, line, describeProgress);

    const IngestResult result = job.result().result();
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
