// Nextcloud's chunked upload v2 for the WebDAV remote: the helpers of nextcloudchunks.h, and the
// WebDavRemote members that detect Nextcloud and upload in chunks (kept apart from
// remotewebdav.cpp, which has the plain and the Content-Range paths).

#include "remotes/nextcloudchunks.h"
#include "hashing/hasher.h"
#include "remotes/pieces.h"
#include "remotes/remotewebdav.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QXmlStreamReader>

#include <algorithm>
#include <bit>
#include <cctype>
#include <map>
#include <vector>

namespace quire {

namespace nextcloud {

namespace {

const QString kDav = QStringLiteral("DAV:");

QByteArray originOf(const QUrl &url)
{
    return url.toEncoded(QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment);
}

bool usableUser(const QString &user)
{
    if (user.isEmpty() || user.size() > 256)
        return false;
    return std::none_of(user.begin(), user.end(), [](QChar c) {
        return c.unicode() < 0x20 || c == QLatin1Char('/') || c == QLatin1Char('\\') || c.unicode() == 0x7f;
    });
}

// An href (a path or a whole URL) as a decoded path without trailing slashes.
QString hrefPath(const QString &href)
{
    QByteArray encoded = href.trimmed().toUtf8();
    if (encoded.startsWith("http://") || encoded.startsWith("https://"))
        encoded = QUrl::fromEncoded(encoded).path(QUrl::FullyEncoded).toUtf8();
    QString path = QUrl::fromPercentEncoding(encoded);
    while (path.size() > 1 && path.endsWith(QLatin1Char('/')))
        path.chop(1);
    return path;
}

} // namespace

std::optional<Endpoint> endpointFor(const QUrl &base, const QString &profileUser)
{
    if (!base.isValid() || base.host().isEmpty())
        return std::nullopt;
    QByteArray path = base.path(QUrl::FullyEncoded).toUtf8();
    if (!path.endsWith('/'))
        path += '/';
    static const QByteArray marker = "/remote.php/";
    const qsizetype at = path.indexOf(marker);
    if (at < 0)
        return std::nullopt;
    const QByteArray prefix = originOf(base) + path.left(at + 1) + "remote.php/";
    const QByteArray rest = path.mid(at + marker.size());
    Endpoint ep;
    QByteArray userSegment;
    if (rest.startsWith("dav/files/")) {
        const QByteArray after = rest.mid(10);
        const qsizetype slash = after.indexOf('/');
        if (slash <= 0)
            return std::nullopt;
        userSegment = after.left(slash);
        ep.user = QUrl::fromPercentEncoding(userSegment);
        ep.filesBase = QUrl::fromEncoded(prefix + rest, QUrl::StrictMode);
        ep.needsProbe = false;
    } else if (rest.startsWith("webdav/")) {
        ep.user = profileUser;
        if (!usableUser(ep.user))
            return std::nullopt;
        userSegment = net::encodeSegment(ep.user);
        ep.filesBase = QUrl::fromEncoded(prefix + "dav/files/" + userSegment + '/' + rest.mid(7), QUrl::StrictMode);
        ep.needsProbe = true;
    } else {
        return std::nullopt;
    }
    if (!usableUser(ep.user))
        return std::nullopt;
    ep.uploadsRoot = QUrl::fromEncoded(prefix + "dav/uploads/" + userSegment + '/', QUrl::StrictMode);
    ep.statusUrl = QUrl::fromEncoded(originOf(base) + path.left(at + 1) + "status.php", QUrl::StrictMode);
    if (!ep.filesBase.isValid() || !ep.uploadsRoot.isValid() || !ep.statusUrl.isValid())
        return std::nullopt;
    return ep;
}

bool isNextcloudStatus(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json.left(64 * 1024), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return false;
    const QJsonObject o = doc.object();
    if (!o.value(QLatin1String("installed")).toBool(false))
        return false;
    if (o.value(QLatin1String("version")).toString().isEmpty())
        return false;
    const QString product = o.value(QLatin1String("productname")).toString();
    return !product.contains(QLatin1String("ownCloud"), Qt::CaseInsensitive)
           && !product.contains(QLatin1String("Infinite Scale"), Qt::CaseInsensitive);
}

QByteArray chunkName(int number)
{
    return QByteArray::number(number).rightJustified(5, '0');
}

qint64 chunkSizeFor(qint64 fileSize, qint64 configured, int lanes)
{
    const qint64 l = std::max(1, lanes);
    qint64 c = std::clamp(configured, kMinChunkSize, kMaxConfiguredChunkSize);
    c = std::min(c, (fileSize + l - 1) / l);
    c = std::max(c, kMinChunkSize);
    c = std::max(c, (fileSize + kMaxChunks - 1) / kMaxChunks);
    return std::min(c, kMaxChunkSize);
}

QString transferId(const UploadItem &item)
{
    const QByteArray folder = Hasher::hashBytes(safeFileName(item.collection).toUtf8());
    return QStringLiteral("quire-%1-%2").arg(QString::fromLatin1(item.sha256.left(40)),
                                             QString::fromLatin1(folder.left(8)));
}

bool ChunkRecord::isDone(int index) const
{
    return pieceDone(done, index);
}

void ChunkRecord::setDone(int index)
{
    setPieceDone(done, index);
}

int ChunkRecord::doneCount() const
{
    int n = 0;
    for (char c : done)
        n += std::popcount(quint8(c));
    return n;
}

QByteArray ChunkRecord::encode() const
{
    return "quire-nc-1 " + sha256 + ' ' + QByteArray::number(size) + ' ' + QByteArray::number(chunkSize) + ' '
           + transferId.toLatin1() + ' ' + QByteArray::number(slot) + ' '
           + (done.isEmpty() ? QByteArray("-") : done.toHex());
}

std::optional<ChunkRecord> ChunkRecord::decode(const QByteArray &text, const UploadItem &item)
{
    const QList<QByteArray> f = text.split(' ');
    if (f.size() != 7 || f.at(0) != "quire-nc-1" || f.at(1) != item.sha256)
        return std::nullopt;
    ChunkRecord r;
    bool ok = false;
    r.sha256 = f.at(1);
    r.size = f.at(2).toLongLong(&ok);
    if (!ok || r.size != item.size)
        return std::nullopt;
    r.chunkSize = f.at(3).toLongLong(&ok);
    if (!ok || r.chunkSize < kMinChunkSize || r.chunkSize > kMaxChunkSize
        || chunkCount(r.size, r.chunkSize) > kMaxChunks)
        return std::nullopt;
    r.transferId = QString::fromLatin1(f.at(4));
    if (r.transferId != nextcloud::transferId(item))
        return std::nullopt;
    r.slot = f.at(5).toInt(&ok);
    if (!ok || r.slot < 1 || r.slot > 1'000'000)
        return std::nullopt;
    if (f.at(6) != "-") {
        const QByteArray hex = f.at(6);
        const int count = chunkCount(r.size, r.chunkSize);
        if (hex.size() % 2 != 0 || hex.size() / 2 > (count + 7) / 8
            || !std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(quint8(c)); }))
            return std::nullopt;
        r.done = QByteArray::fromHex(hex);
        for (int i = count; i < r.done.size() * 8; ++i) {
            if (r.isDone(i))
                return std::nullopt;   // a chunk the file does not have
        }
    }
    return r;
}

std::optional<Listing> parseListing(const QByteArray &xml, const QByteArray &folderPath)
{
    const QString folder = hrefPath(QString::fromUtf8(folderPath));
    Listing out;
    QXmlStreamReader r(xml);
    QString href;
    bool inResponse = false;
    bool inPropstat = false;
    QString status;
    qint64 size = -1, propSize = -1;
    bool isCollection = false, propCollection = false;
    bool sizeBad = false;
    std::map<int, qint64> seen;
    while (!r.atEnd()) {
        r.readNext();
        if (r.isStartElement()) {
            if (r.namespaceUri() != kDav)
                continue;
            const auto name = r.name();
            if (name == QLatin1String("response")) {
                inResponse = true;
                href.clear();
                size = -1;
                isCollection = false;
            } else if (!inResponse) {
                continue;
            } else if (name == QLatin1String("href")) {
                href = r.readElementText();
            } else if (name == QLatin1String("propstat")) {
                inPropstat = true;
                status.clear();
                propSize = -1;
                propCollection = false;
                sizeBad = false;
            } else if (inPropstat && name == QLatin1String("collection")) {
                propCollection = true;
            } else if (inPropstat && name == QLatin1String("getcontentlength")) {
                bool ok = false;
                const QString text = r.readElementText().trimmed();
                propSize = text.toLongLong(&ok);
                if (!ok || propSize < 0)
                    sizeBad = !text.isEmpty();
                if (!ok)
                    propSize = -1;
            } else if (inPropstat && name == QLatin1String("status")) {
                status = r.readElementText().trimmed();
            }
        } else if (r.isEndElement() && r.namespaceUri() == kDav) {
            if (r.name() == QLatin1String("propstat")) {
                inPropstat = false;
                if (status.contains(QLatin1String(" 200"))) {
                    if (sizeBad)
                        return std::nullopt;
                    if (propSize >= 0)
                        size = propSize;
                    isCollection = isCollection || propCollection;
                }
            } else if (r.name() == QLatin1String("response")) {
                inResponse = false;
                const QString path = hrefPath(href);
                if (path == folder) {
                    out.folderFound = true;
                    continue;
                }
                const QString name = path.startsWith(folder + QLatin1Char('/')) ? path.mid(folder.size() + 1) : QString();
                bool ok = !name.isEmpty() && name.size() <= 10 && !isCollection
                          && std::all_of(name.begin(), name.end(), [](QChar c) { return c >= QLatin1Char('0') && c <= QLatin1Char('9'); });
                const int number = ok ? name.toInt(&ok) : 0;
                if (!ok || number < 1 || number > kMaxChunks) {
                    ++out.ignored;
                    continue;
                }
                if (!seen.emplace(number, size).second)
                    return std::nullopt;   // "1" and "00001": which one would be assembled?
            }
        }
    }
    if (r.hasError())
        return std::nullopt;
    for (const auto &[number, bytes] : seen)
        out.chunks.append({number, bytes});
    return out;
}

} // namespace nextcloud

// --- WebDavRemote: detection and the chunked upload ---------------------------------------------

namespace {

using K = RemoteError::Kind;
using net::Request;
using net::Response;

const QByteArray kListingBody =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<d:propfind xmlns:d=\"DAV:\"><d:prop><d:resourcetype/><d:getcontentlength/></d:prop></d:propfind>\n";

// Answers to the first MKCOL of an upload folder that mean "no chunked upload here": the uploads
// folder does not exist (404, 409), may not be written (403), or the method is refused (400,
// 405 twice, 501). The remote then uploads as to any WebDAV server.
bool meansNoChunking(const Response &r)
{
    return r.end == Response::End::Finished
           && (r.status == 400 || r.status == 403 || r.status == 404 || r.status == 405 || r.status == 409
               || r.status == 501);
}

} // namespace

std::optional<nextcloud::Endpoint> WebDavRemote::nextcloudEndpoint(UploadControl *control)
{
    auto ep = nextcloud::endpointFor(m_base, profile().user);
    if (!ep || !ep->needsProbe)
        return ep;
    auto known = [&]() -> std::optional<bool> {
        const int v = m_nextcloud.load();
        if (v == int(Detected::Unknown))
            return std::nullopt;
        return v == int(Detected::Nextcloud);
    };
    if (auto k = known())
        return *k ? ep : std::nullopt;
    // One probe per Remote: the first large file asks, the others wait for its answer.
    std::lock_guard lock(m_probeMutex);
    if (auto k = known())
        return *k ? ep : std::nullopt;
    Request rq;
    rq.verb = "GET";
    rq.url = ep->statusUrl;
    rq.headers = {{"Accept", "application/json"}};
    rq.maxBufferedBody = 64 * 1024;
    const Response resp = m_client.send(rq, control);
    if (resp.end != Response::End::Finished || resp.status == 0 || resp.status >= 500 || resp.status == 429
        || resp.status == 401 || resp.status == 408)
        return std::nullopt;   // no answer to judge: not now, and asked again next time
    const bool isNextcloud = resp.status == 200 && nextcloud::isNextcloudStatus(resp.body);
    m_nextcloud = int(isNextcloud ? Detected::Nextcloud : Detected::Other);
    return isNextcloud ? ep : std::nullopt;
}

QUrl WebDavRemote::uploadFolderUrl(const nextcloud::Endpoint &ep, const UploadItem &item) const
{
    return net::childUrl(ep.uploadsRoot, {nextcloud::transferId(item)}, true);
}

UploadOutcome WebDavRemote::uploadChunked(const UploadItem &item, UploadControl &control,
                                          const nextcloud::Endpoint &ep, bool &fallBack)
{
    using nextcloud::ChunkRecord;
    fallBack = false;
    const QString action = actionText(item);
    const QString folderName = safeFileName(item.collection);
    const QUrl folder = uploadFolderUrl(ep, item);
    std::optional<ChunkRecord> record = ChunkRecord::decode(item.resumeState, item);
    auto forget = [&] {
        record.reset();
        control.reportResumeState(QByteArray());
    };

    auto slot = findSlot(item, 1, control);
    if (!slot.ok())
        return UploadOutcome::fail(*slot.error);
    if (slot.value.same) {
        if (record)
            deleteQuietly(folder, control);
        if (!item.resumeState.isEmpty())
            forget();
        return foundStored(item, slot.value, {});
    }
    const int n = slot.value.n;
    auto destination = [&](int at) {
        return net::childUrl(ep.filesBase, {folderName, collisionName(safeFileName(item.fileName), at)});
    };

    // A record of this document: the folder it names is used if the server still has it and it
    // was made for the name chosen now (v2 ties the upload to the Destination given to MKCOL).
    const qint64 chunkSize = record ? record->chunkSize
                                    : nextcloud::chunkSizeFor(item.size, limits().chunkSize, limits().lanes);
    const int count = nextcloud::chunkCount(item.size, chunkSize);
    if (count > nextcloud::kMaxChunks) {
        return UploadOutcome::fail(RemoteError::make(
            K::Config, tr("%1 is too large for Nextcloud's chunked upload").arg(item.fileName)));
    }
    auto lengthOf = [&](int i) { return std::min(chunkSize, item.size - qint64(i) * chunkSize); };
    std::vector<bool> have(size_t(count), false);
    bool folderReady = false;
    if (record && record->slot == n) {
        const Response resp = sendPropfind(folder, "1", kListingBody, control);
        if (resp.end == Response::End::Finished && resp.status == 207) {
            const auto listing = nextcloud::parseListing(resp.body, folder.path(QUrl::FullyEncoded).toUtf8());
            bool usable = listing && listing->folderFound;
            for (const nextcloud::ListedChunk &c : usable ? listing->chunks : QList<nextcloud::ListedChunk>()) {
                // A chunk past the end, or longer than it should be, would be assembled into
                // the file: the folder is not this upload's any more.
                if (c.number > count || c.size > lengthOf(c.number - 1))
                    usable = false;
                else if (record->isDone(c.number - 1) && c.size == lengthOf(c.number - 1))
                    have[size_t(c.number - 1)] = true;
            }
            folderReady = usable;
            if (!usable)
                deleteQuietly(folder, control);
        } else if (!(resp.end == Response::End::Finished && resp.status == 404)) {
            return UploadOutcome::fail(m_client.errorFor(resp, tr("looking at the chunks of %1 on the server")
                                                                    .arg(item.fileName)));
        }
    } else if (record) {
        deleteQuietly(folder, control);   // made for another name, or another chunk size
    }
    if (!folderReady) {
        std::fill(have.begin(), have.end(), false);
        if (record)
            forget();
        Request mkcol;
        mkcol.verb = "MKCOL";
        mkcol.url = folder;
        mkcol.headers = {{"Destination", destination(n).toEncoded()}};
        Response resp = m_client.send(mkcol, &control);
        if (resp.end == Response::End::Finished && resp.status == 405) {
            // There already (an attempt that ended before its record was kept): not trusted.
            deleteQuietly(folder, control);
            resp = m_client.send(mkcol, &control);
        }
        if (!resp.isHttpSuccess()) {
            if (meansNoChunking(resp)) {
                m_chunkingUnsupported = true;
                fallBack = true;
                return {};
            }
            return UploadOutcome::fail(m_client.errorFor(resp, action));
        }
        record = ChunkRecord{item.sha256, item.size, chunkSize, nextcloud::transferId(item), n, {}};
        control.reportResumeState(record->encode());
    }

    Progress progress;
    QList<PieceSender::Piece> pending;
    for (int i = 0; i < count; ++i) {
        if (have[size_t(i)])
            progress.resumedFrom += lengthOf(i);
        else
            pending.append({i, qint64(i) * chunkSize, lengthOf(i)});
    }
    // Only what the server has counts as done: a recorded chunk it does not list is sent again.
    {
        ChunkRecord kept = *record;
        kept.done.clear();
        for (int i = 0; i < count; ++i) {
            if (have[size_t(i)])
                kept.setDone(i);
        }
        if (kept.done != record->done) {
            record = kept;
            control.reportResumeState(record->encode());
        }
    }
    control.reportProgress(progress.resumedFrom, item.size);

    // Every chunk is one PUT, up to limits().lanes at once.
    const QByteArray dest = destination(n).toEncoded();
    const QByteArray total = QByteArray::number(item.size);
    bool folderGone = false;
    PieceSender sender(item, control, progress.resumedFrom);
    const auto failure = sender.send(
        m_client, limits().lanes, pending,
        [&](Request &rq, const PieceSender::Piece &p) -> std::optional<RemoteError> {
            rq.verb = "PUT";
            rq.url = net::childUrl(folder, {QString::fromLatin1(nextcloud::chunkName(int(p.number) + 1))});
            rq.headers = {{"Content-Type", "application/octet-stream"}, {"Destination", dest}, {"OC-Total-Length", total}};
            return std::nullopt;
        },
        [&](const PieceSender::Piece &p, const Response &resp) -> std::optional<RemoteError> {
            if (resp.isHttpSuccess()) {
                record->setDone(int(p.number));
                control.reportResumeState(record->encode());
                return std::nullopt;
            }
            RemoteError e = m_client.errorFor(resp, tr("%1 (chunk %2 of %3)").arg(action, QString::number(p.number + 1), QString::number(count)));
            if (!sender.failed() && resp.end == Response::End::Finished && resp.status == 404) {
                // The upload folder is gone (expired, or deleted by another program): retried,
                // from the first chunk.
                folderGone = true;
                e.kind = K::Protocol;
            }
            return e;
        });
    progress.sent = sender.sent();

    auto discard = [&] {
        deleteQuietly(folder, control);
        forget();
    };
    if (failure) {
        if (failure->kind == K::SourceChanged || folderGone)
            discard();   // the chunks may hold bytes of the changed file, or are gone
        return UploadOutcome::fail(*failure);   // otherwise the chunks sent stay for the retry
    }
    if (limits().hashWhileSending) {
        net::SourceDevice whole(item, /*hashContent=*/true);
        if (const auto e = whole.openAt(item.size, &control)) {   // hashes [0, size) and compares
            if (e->kind == K::SourceChanged)
                discard();
            return UploadOutcome::fail(*e);
        }
    }

    // MOVE of ".file" assembles the chunks at the destination. Assembling a large file takes the
    // server a while before it answers: 3 minutes per GB are allowed, as Nextcloud's own client does.
    const QUrl assembled = net::childUrl(folder, {QStringLiteral(".file")});
    const auto patience = std::chrono::milliseconds(std::min<qint64>(item.size / 1'000'000 * 180, 24LL * 3600 * 1000));
    return moveIntoPlace(
        item, n, folder, progress,
        [&](int at) {
            Request move;
            move.verb = "MOVE";
            move.url = assembled;
            move.headers = {{"Destination", destination(at).toEncoded()},
                            {"OC-Total-Length", total},
                            {"OC-Checksum", "SHA256:" + item.sha256},
                            {"Overwrite", "F"}};
            move.idleTimeout = patience;
            move.downloadBytes = item.size;   // a budget that grows with the file, as for its upload
            return move;
        },
        [&](const Response &resp) {
            RemoteError e = m_client.errorFor(resp, tr("assembling %1 from its chunks").arg(item.fileName));
            if (resp.end == Response::End::Finished && (resp.status == 400 || resp.status == 404)) {
                // 400: what the server assembled is not the document (its length or SHA-256 differs);
                // 404: the upload folder is gone (Nextcloud expires it after 24 h). Either way the
                // chunks are of no more use: the next attempt starts over.
                discard();
                if (resp.status == 404) {
                    e.kind = K::Protocol;   // retried: from the first chunk
                    e.message = tr("%1 (the server no longer has the upload folder; the next attempt starts over)").arg(e.message);
                }
            }
            return e;
        },
        control);
}

} // namespace quire
