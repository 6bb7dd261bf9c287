#include "remotes/remotewebdav.h"
#include "remotes/pieces.h"

#include <QXmlStreamReader>

namespace quire {

namespace {

using K = RemoteError::Kind;
using net::Request;
using net::Response;

const QString kDav = QStringLiteral("DAV:");
const QString kOwnCloud = QStringLiteral("http://owncloud.org/ns");

const QByteArray kPropfindBody =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<d:propfind xmlns:d=\"DAV:\" xmlns:oc=\"http://owncloud.org/ns\"><d:prop>"
    "<d:resourcetype/><d:getcontentlength/><d:getetag/><oc:checksums/>"
    "</d:prop></d:propfind>\n";

QString fileNameOf(const UploadItem &item)
{
    return safeFileName(item.fileName);
}

} // namespace

WebDavRemote::WebDavRemote(const RemoteProfile &profile, const QString &secret,
                           const RemoteLimits &limits)
    : Remote(profile, limits), m_client(profile, secret, limits)
{
    m_base = QUrl(profile.url, QUrl::TolerantMode);
    QString path = m_base.path(QUrl::FullyDecoded);
    if (!path.endsWith(QLatin1Char('/')))
        m_base.setPath(path + QLatin1Char('/'), QUrl::DecodedMode);
}

QUrl WebDavRemote::fileUrl(const QString &collection, const QString &name) const
{
    return net::childUrl(m_base, {safeFileName(collection), name});
}

QUrl WebDavRemote::partialUrl(const UploadItem &item) const
{
    return net::childUrl(m_base, {safeFileName(item.collection),
                                  QStringLiteral(".quire-%1.upload").arg(QString::fromLatin1(item.sha256))});
}

QString WebDavRemote::actionText(const UploadItem &item) const
{
    return tr("uploading %1").arg(item.fileName);
}

QList<std::pair<QByteArray, QByteArray>> WebDavRemote::checksumHeaders(const UploadItem &item) const
{
    return {
        {"Digest", "SHA-256=" + QByteArray::fromHex(item.sha256).toBase64()},
        {"OC-Checksum", "SHA256:" + item.sha256},
    };
}

std::optional<WebDavRemote::Props> WebDavRemote::parseMultistatus(const QByteArray &xml)
{
    QXmlStreamReader r(xml);
    Props result;
    bool sawResponse = false;
    bool inPropstat = false;
    Props current;
    QString status;
    while (!r.atEnd()) {
        r.readNext();
        if (r.isStartElement()) {
            const auto ns = r.namespaceUri();
            const auto name = r.name();
            if (ns == kDav && name == QLatin1String("response")) {
                if (sawResponse)
                    break;   // Depth 0: the first response is the resource itself
                sawResponse = true;
            } else if (ns == kDav && name == QLatin1String("propstat")) {
                inPropstat = true;
                current = Props();
                status.clear();
            } else if (!inPropstat) {
                continue;
            } else if (ns == kDav && name == QLatin1String("collection")) {
                current.isCollection = true;
            } else if (ns == kDav && name == QLatin1String("getcontentlength")) {
                bool ok = false;
                const qint64 v = r.readElementText().trimmed().toLongLong(&ok);
                if (ok)
                    current.size = v;
            } else if (ns == kDav && name == QLatin1String("getetag")) {
                current.etag = r.readElementText().trimmed().toUtf8();
            } else if (ns == kDav && name == QLatin1String("status")) {
                status = r.readElementText().trimmed();
            } else if (ns == kOwnCloud && name == QLatin1String("checksum")) {
                // e.g. "SHA1:... MD5:... ADLER32:..." or "SHA256:<hex>"
                const QStringList parts = r.readElementText().split(QLatin1Char(' '), Qt::SkipEmptyParts);
                for (const QString &p : parts) {
                    if (p.startsWith(QLatin1String("SHA256:"), Qt::CaseInsensitive))
                        current.sha256 = p.mid(7).toLower().toLatin1();
                }
            }
        } else if (r.isEndElement()) {
            if (r.namespaceUri() == kDav && r.name() == QLatin1String("propstat")) {
                inPropstat = false;
                if (status.contains(QLatin1String(" 200"))) {
                    result.isCollection = result.isCollection || current.isCollection;
                    if (current.size >= 0)
                        result.size = current.size;
                    if (!current.etag.isEmpty())
                        result.etag = current.etag;
                    if (!current.sha256.isEmpty())
                        result.sha256 = current.sha256;
                }
            } else if (r.namespaceUri() == kDav && r.name() == QLatin1String("response")) {
                break;
            }
        }
    }
    if (!sawResponse || (r.hasError() && r.error() != QXmlStreamReader::PrematureEndOfDocumentError))
        return std::nullopt;
    result.status = 207;
    return result;
}

Response WebDavRemote::sendPropfind(const QUrl &url, const QByteArray &depth, const QByteArray &body,
                                    UploadControl &control) const
{
    Request rq;
    rq.verb = "PROPFIND";
    rq.url = url;
    rq.headers = {{"Depth", depth}, {"Content-Type", "application/xml; charset=utf-8"}};
    rq.bodyBytes = body;
    return m_client.send(rq, &control);
}

RemoteOutcome<WebDavRemote::Props> WebDavRemote::propfind(const QUrl &url, UploadControl &control) const
{
    using O = RemoteOutcome<Props>;
    const Response resp = sendPropfind(url, "0", kPropfindBody, control);
    if (resp.end == Response::End::Finished && resp.status == 404) {
        Props p;
        p.status = 404;
        return O::success(p);
    }
    if (!resp.isHttpSuccess())
        return O::fail(m_client.errorFor(resp, tr("looking up %1").arg(url.toDisplayString())));
    if (resp.status != 207) {
        // 200 with no multistatus: not a WebDAV server (or a proxy's login page).
        return O::fail(RemoteError::make(
            K::Protocol, tr("%1 did not answer as a WebDAV server does (HTTP %2 instead of "
                            "207 Multi-Status); check the remote's URL")
                             .arg(url.toDisplayString(), QString::number(resp.status))));
    }
    auto props = parseMultistatus(resp.body);
    if (!props) {
        return O::fail(RemoteError::make(
            K::Protocol, tr("the server's PROPFIND answer for %1 is not valid WebDAV XML")
                             .arg(url.toDisplayString())));
    }
    return O::success(*props);
}

std::optional<RemoteError> WebDavRemote::ensureCollection(const QString &collection, UploadControl &control)
{
    const QString folder = safeFileName(collection);
    {
        std::lock_guard lock(m_mutex);
        if (m_knownCollections.contains(folder))
            return std::nullopt;
    }
    // One MKCOL at a time per Remote: when two requests race to create the same folder, Apache
    // answers the loser with 403 instead of 405.
    std::lock_guard creating(m_mkcolMutex);
    {
        std::lock_guard lock(m_mutex);
        if (m_knownCollections.contains(folder))
            return std::nullopt;
    }
    Request rq;
    rq.verb = "MKCOL";
    rq.url = net::childUrl(m_base, {folder}, true);
    const Response resp = m_client.send(rq, &control);
    // 201: created; 405: it exists already (RFC 4918 9.3.1).
    bool exists = resp.end == Response::End::Finished && (resp.status == 201 || resp.status == 405);
    if (!exists && resp.end == Response::End::Finished && resp.status == 403) {
        // Another process may have created it at the same moment: look before failing.
        const auto props = propfind(rq.url, control);
        exists = props.ok() && props.value.status == 207 && props.value.isCollection;
    }
    if (exists) {
        if (m_ifNoneMatch.load() == int(Precondition::Unknown))
            probeIfNoneMatch(folder, control);
        std::lock_guard lock(m_mutex);
        m_knownCollections.insert(folder);
        return std::nullopt;
    }
    if (resp.end == Response::End::Finished && resp.status == 409) {
        RemoteError e = m_client.errorFor(resp, QString());
        e.message = tr("the remote folder %1 does not exist on the server: create it or "
                       "fix the URL of remote \"%2\" (%3)")
                        .arg(m_base.toDisplayString(), profile().name, e.message);
        return e;
    }
    return m_client.errorFor(resp, tr("creating the folder %1").arg(folder));
}

void WebDavRemote::probeIfNoneMatch(const QString &folder, UploadControl &control)
{
    // Writes a small file twice with "If-None-Match: *": a server that answers the second write
    // with 412 never replaces a file behind our back, so names need no lookup before a PUT.
    // Anything else (it replaced the file, or an error) keeps the lookups. Once per Remote.
    const QUrl probe = net::childUrl(m_base, {folder, scratchName(QStringLiteral("probe"))});
    const QByteArray text = "Quire checks that this server honours If-None-Match\n";
    const Response first = putNewText(probe, text, control);
    if (!first.isHttpSuccess())
        return;   // undecided: looked up every time, and asked again next time
    const Response second = putNewText(probe, text, control);
    const bool honoured = second.end == Response::End::Finished && second.status == 412;
    m_ifNoneMatch = int(honoured ? Precondition::Honoured : Precondition::Ignored);
    deleteQuietly(probe, control);
}

Response WebDavRemote::putNewText(const QUrl &url, const QByteArray &text, UploadControl &control) const
{
    Request put;
    put.verb = "PUT";
    put.url = url;
    put.bodyBytes = text;
    put.headers = {{"If-None-Match", "*"}, {"Content-Type", "text/plain"}};
    return m_client.send(put, &control);
}

RemoteOutcome<std::optional<StoredFile>> WebDavRemote::lookUp(const QUrl &url, UploadControl &control) const
{
    return foundByLookup(propfind(url, control),
                         [](const Props &p) { return StoredFile{p.isCollection, p.size, p.sha256}; });
}

RemoteOutcome<bool> WebDavRemote::readsAs(const QUrl &url, const StoredFile &stored, const UploadItem &item,
                                          UploadControl &control) const
{
    // The server keeps no checksum (Apache): read it back. Only happens when a file of the same
    // size already has the name, e.g. when the document was uploaded before a crash.
    const ReadBack back = readBack(item, [&](Request rq) {
        rq.url = url;
        return m_client.send(std::move(rq), &control);
    });
    return readBackVerdict(back, item, stored.size, url.toDisplayString(),
                           [this](const Response &r, const QString &action) { return m_client.errorFor(r, action); });
}

RemoteOutcome<WebDavRemote::SlotResult> WebDavRemote::findSlot(const UploadItem &item, int from,
                                                               UploadControl &control)
{
    const QString name = fileNameOf(item);
    auto urlOf = [&](int n) { return fileUrl(item.collection, collisionName(name, n)); };
    const auto found = findFreeName(
        item, from, tr("too many files named %1").arg(name),
        [&](int n) { return lookUp(urlOf(n), control); },
        [&](int n, const StoredFile &stored) { return readsAs(urlOf(n), stored, item, control); });
    if (!found.ok())
        return RemoteOutcome<SlotResult>::fail(*found.error);
    return RemoteOutcome<SlotResult>::success({found.value, urlOf(found.value.n)});
}

std::optional<RemoteError> WebDavRemote::confirmStored(const QUrl &url, const UploadItem &item,
                                                       UploadControl &control)
{
    const auto props = propfind(url, control);
    if (!props.ok())
        return props.error;
    const Props &p = props.value;
    if (p.status == 404) {
        return RemoteError::make(K::Protocol, tr("the server accepted %1 but does not "
                                                 "have it afterwards")
                                                  .arg(item.fileName));
    }
    if (p.size >= 0 && p.size != item.size) {
        return RemoteError::make(K::Protocol, tr("the server stored %1 bytes of %2 "
                                                 "instead of %3")
                                                  .arg(QString::number(p.size), item.fileName,
                                                       QString::number(item.size)));
    }
    if (!p.sha256.isEmpty() && p.sha256 != item.sha256) {
        return RemoteError::make(K::Protocol, tr("the server's SHA-256 of %1 differs "
                                                 "from the document's")
                                                  .arg(item.fileName));
    }
    return std::nullopt;
}

void WebDavRemote::deleteQuietly(const QUrl &url, UploadControl &)
{
    // Runs even when the upload was stopped (cleaning up is part of stopping), so it does not
    // take the caller's control; the request is bounded by the transfer and total timeouts.
    Request rq;
    rq.verb = "DELETE";
    rq.url = url;
    (void)m_client.send(rq);
}

UploadOutcome WebDavRemote::uploadDirect(const UploadItem &item, UploadControl &control)
{
    NameConflicts conflicts;
    // On a server that honours "If-None-Match: *" the PUT itself finds out whether the name is
    // taken (412): no lookup first. Elsewhere every name is looked up before it is written.
    const SlotResult first{{false, 1}, fileUrl(item.collection, collisionName(fileNameOf(item), 1))};
    return putUnderFreeName(
        first, m_ifNoneMatch.load() != int(Precondition::Honoured),
        [&](int from) { return findSlot(item, from, control); },
        [&](const SlotResult &slot) -> std::optional<UploadOutcome> {
            if (slot.same)
                return foundStored(item, slot, {});
            net::SourceDevice source(item, limits().hashWhileSending);
            if (auto e = source.openAt(0, &control))
                return UploadOutcome::fail(*e);
            Request rq;
            rq.verb = "PUT";
            rq.url = slot.url;
            rq.headers = {{"If-None-Match", "*"}, {"Content-Type", "application/octet-stream"}};
            rq.headers += checksumHeaders(item);
            rq.body = &source;
            rq.fileBody = true;
            rq.uploadBytes = item.size;
            const Response resp = m_client.send(rq, &control, [&] { return source.checkUnchanged(); });
            if (resp.end == Response::End::Finished && resp.status == 412) {
                // Taken (since the lookup, or we did not look): look at that name and go on.
                if (conflicts.tooMany(slot.n))
                    return UploadOutcome::fail(m_client.errorFor(resp, actionText(item)));
                return std::nullopt;
            }
            if (!resp.isHttpSuccess())
                return UploadOutcome::fail(m_client.errorFor(resp, actionText(item)));
            if (auto e = source.checkUnchanged(); e || !source.contentVerified()) {
                // The server has a body that is not the document: take it away again (it is ours,
                // If-None-Match made sure the name was free).
                deleteQuietly(slot.url, control);
                return UploadOutcome::fail(e ? *e : RemoteError::make(K::SourceChanged,
                                                                      tr("the file changed while it was being uploaded")));
            }
            // A server that honours "If-None-Match: *" created the file with the whole body when
            // it answered that conditional PUT with a 2xx (see RemoteLimits::confirmUploads);
            // others are asked what they stored.
            const bool trusted = m_ifNoneMatch.load() == int(Precondition::Honoured);
            if (limits().confirmUploads || !trusted) {
                if (auto e = confirmStored(slot.url, item, control)) {
                    if (e->kind == K::Protocol)
                        deleteQuietly(slot.url, control);
                    return UploadOutcome::fail(*e);
                }
            }
            return UploadOutcome::success({.location = slot.url.toString(QUrl::FullyEncoded),
                                           .storedName = collisionName(fileNameOf(item), slot.n),
                                           .bytesSent = resp.bytesSent > 0 ? resp.bytesSent : item.size});
        });
}

namespace {

// The resume state of a segmented upload: "quire-dav-1 <sha256> <size> <segment size> <done>",
// <done> a hex bitmap of the segments the server has for good (bit i of byte i / 8).
struct SegmentState
{
    qint64 segmentSize = 0;
    QByteArray done;   // bitmap (pieceDone)

    QByteArray encode(const UploadItem &item) const
    {
        return "quire-dav-1 " + item.sha256 + ' ' + QByteArray::number(item.size) + ' '
               + QByteArray::number(segmentSize) + ' ' + done.toHex();
    }
    // The state for this item and segment size, or an empty one when it is for something else.
    static SegmentState decode(const QByteArray &text, const UploadItem &item, qint64 segmentSize)
    {
        SegmentState s;
        s.segmentSize = segmentSize;
        const QList<QByteArray> f = text.split(' ');
        if (f.size() == 5 && f.at(0) == "quire-dav-1" && f.at(1) == item.sha256
            && f.at(2).toLongLong() == item.size && f.at(3).toLongLong() == segmentSize)
            s.done = QByteArray::fromHex(f.at(4));
        return s;
    }
};

bool refusesContentRange(const Response &r)
{
    return r.end == Response::End::Finished
           && (r.status == 400 || r.status == 405 || r.status == 411 || r.status == 416 || r.status == 501);
}

} // namespace

UploadOutcome WebDavRemote::uploadResumable(const UploadItem &item, UploadControl &control, bool &fallBack)
{
    fallBack = false;
    const QString action = actionText(item);
    auto slot = findSlot(item, 1, control);
    if (!slot.ok())
        return UploadOutcome::fail(*slot.error);
    if (slot.value.same)
        return foundStored(item, slot.value, {});

    // Segments of limits().segmentSize, smaller for files that would otherwise not keep every
    // lane busy (never under 8 MiB, so the per-request cost stays small).
    const int lanes = std::max(1, limits().lanes);
    const qint64 segmentSize = std::max<qint64>(
        8 << 20, std::min(limits().segmentSize, (item.size + lanes - 1) / lanes));
    const qint64 segments = (item.size + segmentSize - 1) / segmentSize;
    SegmentState state = SegmentState::decode(item.resumeState, item, segmentSize);
    const QUrl part = partialUrl(item);
    const auto partProps = propfind(part, control);
    if (!partProps.ok())
        return UploadOutcome::fail(*partProps.error);
    // The record must fit what the server has: a partial file that ends before a segment
    // recorded as complete was cut short or replaced since, and is not trusted either.
    qint64 recordedEnd = 0;
    for (qint64 i = 0; i < segments; ++i) {
        if (pieceDone(state.done, i))
            recordedEnd = std::min(item.size, (i + 1) * segmentSize);
    }
    bool usable = partProps.value.status == 207 && !partProps.value.isCollection
                  && partProps.value.size >= recordedEnd && partProps.value.size <= item.size;
    if (!usable || state.done.isEmpty()) {
        // Without a record of which segments the server has, a partial file (segments are sent
        // in parallel, so it may have holes) is of no use: start it again, empty. mod_dav_fs
        // writes a Content-Range PUT in place only into a file that exists.
        if (partProps.value.status != 404)
            deleteQuietly(part, control);
        state.done.clear();
        control.reportResumeState(QByteArray());
        Request create;
        create.verb = "PUT";
        create.url = part;
        create.headers = {{"Content-Type", "application/octet-stream"}};
        const Response resp = m_client.send(create, &control);
        if (!resp.isHttpSuccess())
            return UploadOutcome::fail(m_client.errorFor(resp, action));
    }

    Progress progress;
    QList<PieceSender::Piece> pending;
    for (qint64 i = 0; i < segments; ++i) {
        const qint64 length = std::min(segmentSize, item.size - i * segmentSize);
        if (pieceDone(state.done, i))
            progress.resumedFrom += length;
        else
            pending.append({i, i * segmentSize, length});
    }

    // Each segment is one Content-Range PUT, up to limits().lanes of them at once (one
    // connection cannot keep up with the disk or a fast server).
    bool refused = false;
    PieceSender sender(item, control, progress.resumedFrom);
    const auto failure = sender.send(
        m_client, lanes, pending,
        [&](Request &rq, const PieceSender::Piece &p) -> std::optional<RemoteError> {
            rq.verb = "PUT";
            rq.url = part;
            rq.headers = {{"Content-Type", "application/octet-stream"},
                          {"Content-Range", "bytes " + QByteArray::number(p.offset) + '-'
                                                + QByteArray::number(p.offset + p.length - 1) + '/'
                                                + QByteArray::number(item.size)}};
            return std::nullopt;
        },
        [&](const PieceSender::Piece &p, const Response &resp) -> std::optional<RemoteError> {
            if (resp.isHttpSuccess()) {
                setPieceDone(state.done, p.number);
                control.reportResumeState(state.encode(item));
                return std::nullopt;
            }
            if (refusesContentRange(resp))
                refused = true;
            return m_client.errorFor(resp, action);
        });
    progress.sent = sender.sent();

    if (refused) {
        // The server does not take Content-Range on PUT (sabre/dav: 400): plain PUTs from now on.
        m_rangeUnsupported = true;
        deleteQuietly(part, control);
        control.reportResumeState(QByteArray());
        fallBack = true;
        return {};
    }
    if (failure) {
        if (failure->kind == K::SourceChanged) {
            // The partial file may hold bytes of the changed file.
            deleteQuietly(part, control);
            control.reportResumeState(QByteArray());
        }
        return UploadOutcome::fail(*failure);   // otherwise the segments sent stay for the retry
    }

    // Everything is there: the source must still be what was hashed (with hashWhileSending the
    // whole file is read and hashed once more here; the segments were sent without).
    if (limits().hashWhileSending) {
        net::SourceDevice whole(item, /*hashContent=*/true);
        const auto e = whole.openAt(item.size, &control);   // hashes [0, size) and compares
        if (e) {
            if (e->kind == K::SourceChanged) {
                deleteQuietly(part, control);
                control.reportResumeState(QByteArray());
            }
            return UploadOutcome::fail(*e);
        }
    }
    const auto after = propfind(part, control);
    if (!after.ok())
        return UploadOutcome::fail(*after.error);
    if (after.value.size != item.size) {
        deleteQuietly(part, control);
        control.reportResumeState(QByteArray());
        if (after.value.size >= 0 && after.value.size < item.size && segments > 1) {
            // The server ignored Content-Range and stored a segment as the whole file.
            m_rangeUnsupported = true;
            fallBack = true;
            return {};
        }
        return UploadOutcome::fail(RemoteError::make(
            K::Protocol, tr("the server has %1 bytes of %2 after the upload, expected %3")
                             .arg(QString::number(after.value.size), item.fileName, QString::number(item.size))));
    }

    return moveIntoPlace(
        item, slot.value.n, part, progress,
        [&](int n) {
            Request move;
            move.verb = "MOVE";
            move.url = part;
            move.headers = {{"Destination", fileUrl(item.collection, collisionName(fileNameOf(item), n)).toEncoded()},
                            {"Overwrite", "F"}};
            return move;
        },
        [&](const Response &resp) { return m_client.errorFor(resp, action); }, control);
}

UploadOutcome WebDavRemote::moveIntoPlace(const UploadItem &item, int n, const QUrl &upload, Progress progress,
                                          const std::function<Request(int n)> &move,
                                          const std::function<RemoteError(const Response &)> &failed,
                                          UploadControl &control)
{
    NameConflicts conflicts;
    for (;;) {
        const Response resp = m_client.send(move(n), &control);
        if (resp.end == Response::End::Finished && resp.status == 412) {
            // The name was taken meanwhile: the next free one (or the same content found there).
            if (conflicts.tooMany(n))
                return UploadOutcome::fail(m_client.errorFor(resp, actionText(item)));
            const auto again = findSlot(item, n, control);
            if (!again.ok())
                return UploadOutcome::fail(*again.error);
            if (again.value.same) {
                deleteQuietly(upload, control);
                control.reportResumeState(QByteArray());
                return foundStored(item, again.value, progress);
            }
            n = again.value.n;
            continue;
        }
        if (!resp.isHttpSuccess())
            return UploadOutcome::fail(failed(resp));
        control.reportResumeState(QByteArray());
        const QString storedName = collisionName(fileNameOf(item), n);
        const QUrl target = fileUrl(item.collection, storedName);
        if (auto e = confirmStored(target, item, control))
            return UploadOutcome::fail(*e);
        return UploadOutcome::success({.location = target.toString(QUrl::FullyEncoded), .storedName = storedName,
                                       .resumedFrom = progress.resumedFrom, .bytesSent = progress.sent});
    }
}

UploadOutcome WebDavRemote::foundStored(const UploadItem &item, const SlotResult &slot, Progress progress) const
{
    return UploadOutcome::success({.location = slot.url.toString(QUrl::FullyEncoded),
                                   .storedName = collisionName(fileNameOf(item), slot.n),
                                   .alreadyPresent = true,
                                   .resumedFrom = progress.resumedFrom,
                                   .bytesSent = progress.sent});
}

UploadOutcome WebDavRemote::upload(const UploadItem &item, UploadControl &control)
{
    if (auto e = ensureCollection(item.collection, control))
        return UploadOutcome::fail(*e);
    if (profile().resumeEnabled() && item.size > 0 && item.size >= limits().chunkThreshold && !m_chunkingUnsupported) {
        if (const auto ep = nextcloudEndpoint(&control)) {
            bool fallBack = false;
            UploadOutcome o = uploadChunked(item, control, *ep, fallBack);
            if (!fallBack)
                return o;
        } else if (control.isStopped()) {
            return UploadOutcome::fail(RemoteError::make(K::Stopped, tr("stopped")));
        }
    }
    if (profile().resumeEnabled() && item.size >= limits().resumeThreshold && !m_rangeUnsupported) {
        bool fallBack = false;
        UploadOutcome o = uploadResumable(item, control, fallBack);
        if (!fallBack)
            return o;
    }
    return uploadDirect(item, control);
}

VerifyOutcome WebDavRemote::verify(const UploadItem &item, const QString &location, bool deep,
                                   UploadControl &control)
{
    const QUrl url = QUrl::fromEncoded(location.toUtf8(), QUrl::StrictMode);
    const auto found = lookUp(url, control);
    if (!found.ok())
        return VerifyOutcome::fail(*found.error);
    VerifyReport r = lookedUp(found.value, item, url);
    if (!r.exists)
        return VerifyOutcome::success(r);
    if (!r.remoteSha256.isEmpty()) {
        r.checksumChecked = true;
        r.checksumMatches = r.remoteSha256 == item.sha256;
    } else if (deep && r.sizeMatches) {
        const auto same = isSameContent(*found.value, item, [&] { return readsAs(url, *found.value, item, control); });
        if (!same.ok())
            return VerifyOutcome::fail(*same.error);
        r.checksumChecked = true;
        r.checksumMatches = same.value;
        if (same.value)
            r.remoteSha256 = item.sha256;
    }
    if (!r.sizeMatches)
        r.detail = tr("size differs: %1 bytes on the server, %2 expected").arg(r.remoteSize).arg(item.size);
    else if (r.checksumChecked && !r.checksumMatches)
        r.detail = tr("SHA-256 differs: the server's file is not the document");
    else if (r.checksumChecked)
        r.detail = tr("size and SHA-256 match");
    else
        r.detail = tr("size matches (the server reports no checksum)");
    return VerifyOutcome::success(r);
}

Result<QString> WebDavRemote::test(UploadControl &control)
{
    using R = Result<QString>;
    const auto props = propfind(m_base, control);
    if (!props.ok())
        return R::failure(props.error->message);
    if (props.value.status == 404)
        return R::failure(tr("the folder %1 does not exist on the server").arg(m_base.toDisplayString()));
    if (!props.value.isCollection)
        return R::failure(tr("%1 is a file, not a folder").arg(m_base.toDisplayString()));
    const QUrl probe = net::childUrl(m_base, {scratchName(QStringLiteral("connection-test"))});
    const Response resp = putNewText(probe, "Quire connection test\n", control);
    if (!resp.isHttpSuccess())
        return R::failure(m_client.errorFor(resp, tr("writing a test file")).message);
    deleteQuietly(probe, control);
    return tr("WebDAV folder %1: reachable, credentials accepted, writable")
        .arg(m_base.toDisplayString());
}

void WebDavRemote::discardPartial(const UploadItem &item, UploadControl &control)
{
    // Runs after a Cancel, so nothing here may wait on the (stopped) control.
    std::optional<nextcloud::Endpoint> ep;
    if (item.resumeState.startsWith("quire-nc-1 ") || item.size >= limits().chunkThreshold)
        ep = nextcloudEndpoint(nullptr);
    if (ep)
        deleteQuietly(uploadFolderUrl(*ep, item), control);
    if (!ep || m_chunkingUnsupported || item.resumeState.startsWith("quire-dav-1 "))
        deleteQuietly(partialUrl(item), control);
}

} // namespace quire
