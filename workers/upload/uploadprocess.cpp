// One document's upload on a worker of an UploadJob: its remote, the checks before it is sent,
// retries, re-hashing a changed source, stopping; and how its end is recorded and reported.

#include "upload/uploadjobshared.h"

#include "catalog/catalog.h"
#include "hashing/hasher.h"
#include "jobs/pools.h"
#include "remotes/remotetransport.h"
#include "settings/credentials.h"
#include "settings/sessionstore.h"

#include <algorithm>
#include <chrono>

namespace quire {

UploadItem uploadItemFor(const Document &doc, const QString &collectionName, const QByteArray &resumeState)
{
    return {.documentId = doc.id, .collection = collectionName, .fileName = doc.fileName, .sourcePath = doc.sourcePath,
            .size = doc.size, .mtimeMs = doc.mtimeMs, .sha256 = doc.sha256, .resumeState = resumeState};
}

using namespace uploadjob;

// The messages are UploadJob's (tr() context quire::UploadJob): Shared is its state.

namespace {

QString secondsText(std::chrono::milliseconds d)
{
    const double s = double(d.count()) / 1000.0;
    return UploadJob::tr("%1 s").arg(s < 10 ? QString::number(s, 'f', 1) : QString::number(qint64(s + 0.5)));
}

} // namespace

Target UploadJob::Shared::targetFor(qint64 collectionId)
{
    {
        std::lock_guard lock(mutex);
        const auto it = remotes.targets.constFind(collectionId);
        if (it != remotes.targets.cend())
            return *it;
    }
    // One Remote per collection and job: workers that start at once wait for the first one to
    // make it (a secret lookup, and per Remote a folder check and the If-None-Match probe)
    // instead of each making their own.
    std::lock_guard making(remotes.making);
    {
        std::lock_guard lock(mutex);
        const auto it = remotes.targets.constFind(collectionId);
        if (it != remotes.targets.cend())
            return *it;
    }
    Target t;
    const auto c = catalog.collection(collectionId);
    if (!c) {
        t.error = c.error();
    } else if (!*c) {
        t.error = UploadJob::tr("the collection no longer exists");
    } else {
        t.collectionName = (*c)->name;
        const QString remoteName = (*c)->remote;
        if (remoteName.isEmpty()) {
            t.error = UploadJob::tr("collection \"%1\" has no remote").arg(t.collectionName);
        } else {
            const auto profile = RemoteProfiles(store).find(remoteName);
            if (!profile) {
                t.error = profile.error();
            } else if (!*profile) {
                t.error = UploadJob::tr("collection \"%1\" uploads to remote \"%2\", which does not exist "
                                        "(see 'quire remote list')")
                              .arg(t.collectionName, remoteName);
            } else {
                const SecretProvider &secrets = config.secrets;
                const auto secret = (**profile).needsSecret() ? (secrets ? secrets(**profile) : Credentials::secretFor(**profile))
                                                             : Result<QString>(QString());
                if (!secret) {
                    // No password to be had (no keychain entry, a locked or absent keychain): a
                    // problem of the remote, not of each document.
                    t.error = secret.error();
                    t.remoteName = remoteName;
                } else {
                    auto remote = Remote::create(**profile, *secret, config.settings.limits);
                    if (remote)
                        t.remote = std::shared_ptr<Remote>(std::move(remote).value());
                    else
                        t.error = remote.error();
                }
            }
        }
    }
    std::lock_guard lock(mutex);
    return *remotes.targets.insert(collectionId, t);
}

void UploadJob::Shared::holdRemote(const Document &doc, const QString &name, const RemoteError &err)
{
    qCInfo(lcUpload, "remote %s: %s; its documents wait", qUtf8Printable(name), qUtf8Printable(err.message));
    const QString waiting = UploadJob::tr("waiting for remote \"%1\": %2").arg(name, err.message);
    const auto r = catalog.transitionStatus({doc.id}, {DocStatus::Uploading, DocStatus::Hashed}, DocStatus::Hashed, waiting);
    if (!r)
        noteCatalogError(doc, r.error());
    QList<std::shared_ptr<UploadControl>> others;
    {
        std::lock_guard lock(mutex);
        auto it = std::find_if(remotes.problems.begin(), remotes.problems.end(),
                               [&](const UploadRemoteProblem &p) { return p.remote == name; });
        if (it == remotes.problems.end()) {
            remotes.problems.append({name, err, {}});
            it = remotes.problems.end() - 1;
        }
        // Every collection of this job that uploads to the same remote waits too.
        QSet<qint64> &blocked = remotes.blockedCollections;
        for (auto t = remotes.targets.cbegin(); t != remotes.targets.cend(); ++t) {
            const QString remoteOfTarget = t->remote ? t->remote->profile().name : t->remoteName;
            if (remoteOfTarget == name && !blocked.contains(t.key())) {
                blocked.insert(t.key());
                it->collectionIds.append(t.key());
            }
        }
        if (!blocked.contains(doc.collectionId)) {
            blocked.insert(doc.collectionId);
            it->collectionIds.append(doc.collectionId);
        }
        // Uploads to that remote still in flight would only meet the same problem.
        for (auto a = lanes.active.cbegin(); a != lanes.active.cend(); ++a) {
            if (a.key() != doc.id && blocked.contains(a->collectionId))
                others.append(lanes.controls.value(a.key()));
        }
    }
    for (const auto &c : std::as_const(others)) {
        if (c)
            c->requestStop(UploadControl::Stop::Pause);
    }
    endDocument(doc, DocStatus::Hashed, waiting);
}

void UploadJob::Shared::noteProgress(qint64 id, qint64 done, qint64 total)
{
    std::lock_guard lock(mutex);
    auto it = lanes.active.find(id);
    if (it == lanes.active.end())
        return;
    report.bytesSentTotal += std::max<qint64>(0, done - it->done);
    it->done = done;
    if (total > 0)
        it->size = total;
    report.addEvent(lanes.eventFor(id));
}

void UploadJob::Shared::noteCatalogError(const Document &doc, const QString &error)
{
    std::lock_guard lock(mutex);
    report.failures.append({doc.id, remotes.collectionName(doc.collectionId), doc.fileName, error});
}

UploadDocumentEvent UploadJob::Shared::retireLocked(const Document &doc, DocStatus status, const QString &message,
                                                    const UploadReport *upload)
{
    UploadDocumentEvent e = lanes.eventFor(doc.id);
    e.id = doc.id;
    e.collectionId = doc.collectionId;
    e.fileName = doc.fileName;
    e.status = status;
    e.message = message;
    e.bytesPerSecond = 0;
    e.bytesTotal = lanes.active.value(doc.id).size > 0 ? lanes.active.value(doc.id).size : doc.size;
    if (upload) {
        e.location = upload->location;
        e.alreadyPresent = upload->alreadyPresent;
        e.resumedFrom = upload->resumedFrom;
    }
    lanes.controls.remove(doc.id);
    lanes.active.remove(doc.id);
    // Paused or stopped documents go back to the queue; the others are not taken again.
    if (status != DocStatus::Hashed)
        queue.finishedIds.insert(doc.id);
    return e;
}

void UploadJob::Shared::publishEndLocked(UploadDocumentEvent e)
{
    if (e.status == DocStatus::Hashed) {
        // Paused or stopped: not counted as done.
        e.bytesDone = 0;
        report.addEvent(e);
        return;
    }
    UploadProgress &counts = report.progress;
    ++counts.filesDone;
    report.bytesFinished += e.bytesTotal;
    switch (e.status) {
    case DocStatus::Uploaded:
        e.bytesDone = e.bytesTotal;
        ++counts.filesUploaded;
        if (e.alreadyPresent)
            ++counts.filesAlreadyPresent;
        if (e.resumedFrom > 0)
            ++counts.filesResumed;
        break;
    case DocStatus::Failed:
        ++counts.filesFailed;
        report.failures.append({e.id, remotes.collectionName(e.collectionId), e.fileName, e.message});
        break;
    case DocStatus::Cancelled:
        ++counts.filesCancelled;
        break;
    default:
        break;
    }
    report.addEvent(e);
}

void UploadJob::Shared::endDocument(const Document &doc, DocStatus status, const QString &message,
                                    const UploadReport *upload)
{
    std::lock_guard lock(mutex);
    publishEndLocked(retireLocked(doc, status, message, upload));
}

void UploadJob::Shared::markAndEnd(const Document &doc, const QList<DocStatus> &from, DocStatus to,
                                   const QString &message)
{
    const auto r = catalog.transitionStatus({doc.id}, from, to, to == DocStatus::Failed ? message : QString());
    if (!r)
        noteCatalogError(doc, r.error());
    endDocument(doc, to, message);
}

void UploadJob::Shared::uploaded(const Document &doc, const UploadReport &upload)
{
    bool write = false;
    {
        std::lock_guard lock(mutex);
        Finished f{retireLocked(doc, DocStatus::Uploaded, QString(), &upload)};
        unrecorded.bytes += f.event.bytesTotal;
        unrecorded.uploads.push_back(std::move(f));
        report.progressDirty = true;
        if (unrecorded.uploads.size() >= size_t(kResultBatch) && !unrecorded.writing)
            write = unrecorded.writing = true;
    }
    if (write)
        writeResults();
}

void UploadJob::Shared::startResultWriterLocked()
{
    if (unrecorded.uploads.empty() || unrecorded.writing)
        return;
    unrecorded.writing = true;
    startTaskLocked([](Shared &s) { s.writeResults(); });
}

void UploadJob::Shared::writeResults()
{
    std::unique_lock lock(mutex);
    for (;;) {
        std::vector<Finished> batch;
        batch.swap(unrecorded.uploads);
        lock.unlock();
        QList<UploadedDocument> rows;
        rows.reserve(qsizetype(batch.size()));
        for (const Finished &f : batch)
            rows.append({f.event.id, f.event.location});
        const auto missing = catalog.setUploaded(rows);
        lock.lock();
        const QSet<qint64> gone = missing ? QSet<qint64>(missing->cbegin(), missing->cend()) : QSet<qint64>();
        for (Finished &f : batch) {
            const UploadDocumentEvent &e = f.event;
            unrecorded.bytes -= e.bytesTotal;
            // Uploaded all the same (the remote has it); the failure says the catalog does not know.
            const QString collection = remotes.collectionName(e.collectionId);
            if (!missing) {
                report.failures.append({e.id, collection, e.fileName, missing.error()});
            } else if (gone.contains(e.id)) {
                report.failures.append({e.id, collection, e.fileName,
                                        UploadJob::tr("Could not mark document %1 as uploaded: there is no such document").arg(e.id)});
            }
            publishEndLocked(std::move(f.event));
        }
        if (unrecorded.uploads.size() < size_t(kResultBatch))
            break;   // the rest goes with the next flush tick or worker
    }
    unrecorded.writing = false;
}

std::optional<Document> UploadJob::Shared::rehash(Document doc, UploadControl &control, bool &stopped)
{
    stopped = false;
    const FileHash h = Hasher::hashFile(doc.sourcePath, control.stopFlag());
    if (control.isStopped()) {
        stopped = true;
        return std::nullopt;
    }
    HashUpdate u;
    u.id = doc.id;
    if (h.ok()) {
        u.sha256 = h.sha256;
        u.size = h.size;
        u.mtimeMs = h.mtimeMs;
    } else {
        u.error = UploadJob::tr("could not hash the changed file again: %1").arg(h.error);
    }
    const auto applied = catalog.applyHashes({u});
    if (!applied) {
        noteCatalogError(doc, applied.error());
        endDocument(doc, DocStatus::Failed, applied.error());
        return std::nullopt;
    }
    const HashApplied &a = applied->value(0);
    if (a.status == DocStatus::Hashed) {
        doc.sha256 = h.sha256;
        doc.size = h.size;
        doc.mtimeMs = h.mtimeMs;
        {
            std::lock_guard lock(mutex);
            if (auto it = lanes.active.find(doc.id); it != lanes.active.end())
                it->size = doc.size;
        }
        return doc;
    }
    if (a.status == DocStatus::Duplicate) {
        endDocument(doc, DocStatus::Duplicate, UploadJob::tr("changed since it was added, and now has the "
                                                             "same content as another document"));
    } else {
        endDocument(doc, DocStatus::Failed, u.error.isEmpty() ? UploadJob::tr("could not be hashed again") : u.error);
    }
    return std::nullopt;
}

void UploadJob::Shared::handleStop(const Document &doc, const UploadItem &item, Remote *remote,
                                   UploadControl &control)
{
    if (control.stopRequested() == UploadControl::Stop::Cancel) {
        if (remote)
            remote->discardPartial(item, control);
        if (!item.resumeState.isEmpty())
            (void)catalog.setUploadState(doc.id, QByteArray());
        markAndEnd(doc, {DocStatus::Hashed, DocStatus::Uploading}, DocStatus::Cancelled, UploadJob::tr("cancelled"));
        return;
    }
    // Paused, or the job stopped: back in the queue; a partial upload stays for resuming.
    markAndEnd(doc, {DocStatus::Uploading}, DocStatus::Hashed, UploadJob::tr("paused"));
}

void UploadJob::Shared::process(Work work)
{
    Document doc = std::move(work.doc);
    UploadControl &control = *work.control;
    control.progress = [this, id = doc.id](qint64 done, qint64 total) { noteProgress(id, done, total); };

    // A claimed document is `uploading` already; the others are still `hashed`.
    const DocStatus mine = work.claimed ? DocStatus::Uploading : DocStatus::Hashed;
    // Documents that wait (their remote or their machine): a claimed one goes back to `hashed`.
    auto backToWaiting = [&](const QString &message) {
        if (work.claimed)
            markAndEnd(doc, {DocStatus::Uploading}, DocStatus::Hashed, message);
        else
            endDocument(doc, DocStatus::Hashed, message);
    };
    // A row that cannot be trusted (a shared catalog is written by others) is reported by its
    // id and never used: nothing of it reaches the remote.
    if (!isThisMachines(doc)) {
        // Added on another machine: its source path names a file there. It waits for that one.
        backToWaiting(UploadJob::tr("added on another machine; it uploads it"));
        return;
    }
    if (const std::optional<QString> badRow = Catalog::documentRowError(doc)) {
        markAndEnd(doc, {mine}, DocStatus::Failed, UploadJob::tr("%1; not uploaded").arg(*badRow));
        return;
    }
    const Target target = targetFor(doc.collectionId);
    if (!target.remote && !target.remoteName.isEmpty()) {
        RemoteError e = RemoteError::make(RemoteError::Kind::Config, target.error);
        e.problem = RemoteError::Problem::Credentials;
        holdRemote(doc, target.remoteName, e);
        return;
    }
    if (!target.remote) {
        markAndEnd(doc, {mine}, DocStatus::Failed, target.error);
        return;
    }

    bool blocked = false;
    {
        std::lock_guard lock(mutex);
        blocked = remotes.blockedCollections.contains(doc.collectionId);
    }
    if (blocked) {
        // Its remote has a problem (found by another upload meanwhile): it waits, unsent.
        backToWaiting(UploadJob::tr("waiting for its remote"));
        return;
    }

    UploadItem item = uploadItemFor(doc, target.collectionName);
    auto refreshItem = [&] { item = uploadItemFor(doc, target.collectionName, item.resumeState); };
    // The source changed since it was hashed: hash it again (the catalog gets the new hash and
    // item the new values). False when the document is done with here (stopped, or failed).
    auto hashAgain = [&](Remote *remote) {
        bool stopped = false;
        auto updated = rehash(doc, control, stopped);
        if (stopped) {
            handleStop(doc, item, remote, control);
            return false;
        }
        if (!updated)
            return false;
        doc = *updated;
        refreshItem();
        return true;
    };

    int sourceChanges = 0;
    if (!work.claimed) {
        // Not claimed with others (claimNext()): its source cannot be read, or changed since it
        // was hashed. Fail it, or hash it again before anything is sent, and claim it alone.
        const net::SourceState st = net::statSource(doc.sourcePath);
        if (!st.ok()) {
            markAndEnd(doc, {DocStatus::Hashed}, DocStatus::Failed,
                       UploadJob::tr("cannot read the source file: %1").arg(st.error));
            return;
        }
        if (st.size != doc.size || st.mtimeMs != doc.mtimeMs) {
            ++sourceChanges;
            if (!hashAgain(nullptr))
                return;
        }
        if (!claimAlone(doc))
            return;
    }
    {
        std::lock_guard lock(mutex);
        report.addEvent(lanes.eventFor(doc.id));
    }

    // Large files: what an interrupted upload left on the remote, and the record of it kept
    // current as the remote reports progress that survives a crash.
    const RemoteLimits &limits = config.settings.limits;
    if (doc.size >= std::min(limits.resumeThreshold, limits.chunkThreshold)) {
        if (const auto state = catalog.uploadState(doc.id))
            item.resumeState = *state;
    }
    control.saveResumeState = [this, &item, &doc](const QByteArray &state) {
        if (state == item.resumeState)
            return;
        item.resumeState = state;
        if (const Status s = catalog.setUploadState(doc.id, state); !s)
            noteCatalogError(doc, s.error());
    };

    const RetryPolicy &policy = config.settings.retry;
    for (int attempt = 1;;) {
        const UploadOutcome out = target.remote->upload(item, control);
        if (out.ok()) {
            if (attempt > 1) {
                std::lock_guard lock(mutex);
                remotes.suspect.remove(target.remote->profile().name);
            }
            // Stored: no record of a partial upload may outlive it (e.g. when the remote found
            // the document already there and never looked at the partial file).
            if (!item.resumeState.isEmpty())
                control.reportResumeState(QByteArray());
            uploaded(doc, out.value);
            return;
        }
        const RemoteError &err = *out.error;
        if (err.kind == RemoteError::Kind::Stopped || control.isStopped()) {
            handleStop(doc, item, target.remote.get(), control);
            return;
        }
        if (err.kind == RemoteError::Kind::SourceChanged && ++sourceChanges <= kMaxSourceChanges) {
            if (!hashAgain(target.remote.get()) || !claimAlone(doc))
                return;
            continue;
        }
        // A problem of the remote itself: every document would meet it. Reported once; this
        // document and the others of the remote's collections wait as pending. An unreachable
        // server is given the benefit of the doubt once (a restart, a blip): the first document
        // to meet it retries, any other that meets it meanwhile holds the remote.
        if (err.problem != RemoteError::Problem::None) {
            bool hold = err.problem != RemoteError::Problem::Unreachable || attempt >= 2;
            if (!hold) {
                std::lock_guard lock(mutex);
                const QString name = target.remote->profile().name;
                hold = remotes.suspect.contains(name);
                remotes.suspect.insert(name);
            }
            if (hold) {
                holdRemote(doc, target.remote->profile().name, err);
                return;
            }
        }
        if (policy.shouldRetry(err, attempt)) {
            const auto delay = policy.delayAfter(attempt, err);
            qCInfo(lcUpload, "document %lld, attempt %d failed, retrying in %lld ms: %s", doc.id, attempt,
                   qlonglong(delay.count()), qUtf8Printable(err.message));
            {
                std::lock_guard lock(mutex);
                if (auto it = lanes.active.find(doc.id); it != lanes.active.end()) {
                    //: The window's status cell shows what comes before the first colon.
                    it->message = UploadJob::tr("retrying in %1: %2").arg(secondsText(delay), err.message);
                    it->speed = 0;
                }
                report.addEvent(lanes.eventFor(doc.id));
            }
            if (control.waitFor(delay)) {
                handleStop(doc, item, target.remote.get(), control);
                return;
            }
            ++attempt;
            // Counts the attempt and keeps the last error visible while it runs.
            if (const Status s = catalog.setStatus({doc.id}, DocStatus::Uploading,
                                                   UploadJob::tr("attempt %1; last error: %2")
                                                       .arg(QString::number(attempt), err.message));
                !s)
                noteCatalogError(doc, s.error());
            std::lock_guard lock(mutex);
            if (auto it = lanes.active.find(doc.id); it != lanes.active.end()) {
                it->attempt = attempt;
                it->message.clear();
            }
            continue;
        }
        const QString message = err.kind == RemoteError::Kind::SourceChanged
                                    ? UploadJob::tr("the file keeps changing; upload it once it is finished")
                                    : policy.finalMessage(err, attempt);
        qCInfo(lcUpload, "document %lld failed: %s", doc.id, qUtf8Printable(message));
        markAndEnd(doc, {DocStatus::Uploading, DocStatus::Hashed}, DocStatus::Failed, message);
        return;
    }
}

} // namespace quire
