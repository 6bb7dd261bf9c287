#include "remotes/remotes3.h"
#include "hashing/hasher.h"
#include "remotes/pieces.h"

#include <QCoreApplication>
#include <QHostAddress>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

namespace quire {

namespace {

// The translation context of the messages below (S3Remote is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::S3Remote)
};

using K = RemoteError::Kind;
using net::Request;
using net::Response;
namespace aws = net::aws;
namespace s3 = net::s3;

constexpr qint64 kMinPartSize = 8LL << 20;     // the floor; S3's own is 5 MiB
constexpr qint64 kMaxParts = 10'000;
constexpr qint64 kMaxPartSize = 5LL << 30;     // S3's limit for a part, and for a single PUT
constexpr qint64 kMaxObjectSize = 5LL << 40;
const QByteArray kRecordTag = "quire-s3-1";

QByteArray b64(const QByteArray &v)
{
    return v.isEmpty() ? QByteArray("-") : v.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray unb64(const QByteArray &v)
{
    if (v == "-")
        return {};
    return QByteArray::fromBase64(v, QByteArray::Base64UrlEncoding);
}

QString unquotedEtag(QString etag)
{
    etag = etag.trimmed();
    if (etag.startsWith(QLatin1String("W/")))
        etag.remove(0, 2);
    if (etag.size() >= 2 && etag.startsWith(QLatin1Char('"')) && etag.endsWith(QLatin1Char('"')))
        etag = etag.mid(1, etag.size() - 2);
    return etag;
}

// NoSuchUpload: the multipart upload was aborted, or expired (a lifecycle rule), meanwhile.
RemoteError uploadGone(const QString &action)
{
    return RemoteError::make(K::Network, action + QLatin1String(": ")
                                             + Tr::tr("the server no longer has the multipart upload "
                                                      "(expired or aborted); starting again"));
}

bool isIpOrLocal(const QString &host)
{
    QHostAddress a;
    return a.setAddress(host) || host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0;
}

// A bucket name that can be a DNS label sequence (virtual-host addressing).
bool dnsCompatible(const QByteArray &bucket)
{
    for (char c : bucket) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return false;
    }
    return !bucket.contains("..") && !bucket.contains(".-") && !bucket.contains("-.");
}

} // namespace

// The state of one multipart upload, and its record in the catalog.
struct S3Remote::Multipart
{
    qint64 partSize = 0;
    QByteArray uploadId;
    QByteArray key;
    int n = 1;                                 // the collision number of key
    std::map<int, QString> etags;              // parts the server confirmed
    qint64 resumedFrom = 0;
    qint64 sent = 0;

    qint64 parts(qint64 size) const { return std::max<qint64>(1, (size + partSize - 1) / partSize); }
    qint64 partLength(int number, qint64 size) const
    {
        return std::min(partSize, size - qint64(number - 1) * partSize);
    }

    QByteArray encode(const UploadItem &item) const
    {
        QByteArray parts;
        for (const auto &[number, etag] : etags) {
            if (!parts.isEmpty())
                parts += ',';
            parts += QByteArray::number(number) + ':' + b64(etag.toUtf8());
        }
        return kRecordTag + ' ' + item.sha256 + ' ' + QByteArray::number(item.size) + ' '
               + QByteArray::number(partSize) + ' ' + b64(uploadId) + ' ' + b64(key) + ' '
               + QByteArray::number(n) + ' ' + (parts.isEmpty() ? QByteArray("-") : parts);
    }

    enum class Record {
        None,      // no record, or not one of ours
        Stale,     // an upload of other content (the file changed, another part size): uploadId
                   // and key are set, so that it can be aborted
        Usable,    // an upload of this document: uploadId, key, n, partSize and etags are set
    };
    // The record of an earlier attempt (see the class comment of S3Remote for its format).
    Record decode(const QByteArray &text, const UploadItem &item)
    {
        const QList<QByteArray> f = text.split(' ');
        if (f.size() != 8 || f.at(0) != kRecordTag)
            return Record::None;
        uploadId = unb64(f.at(4));
        key = unb64(f.at(5));
        if (uploadId.isEmpty() || key.isEmpty() || uploadId.size() > 1024 || key.size() > 2048)
            return Record::None;
        bool ok = false;
        const qint64 recordedPartSize = f.at(3).toLongLong(&ok);
        if (!ok || f.at(1) != item.sha256 || f.at(2).toLongLong() != item.size || recordedPartSize < kMinPartSize
            || recordedPartSize > kMaxPartSize || (item.size + recordedPartSize - 1) / recordedPartSize > kMaxParts)
            return Record::Stale;
        partSize = recordedPartSize;   // the parts sent so far keep their size whatever the settings now say
        n = f.at(6).toInt(&ok);
        if (!ok || n < 1)
            return Record::Stale;
        etags.clear();
        if (f.at(7) != "-") {
            for (const QByteArray &p : f.at(7).split(',')) {
                const qsizetype colon = p.indexOf(':');
                const int number = p.left(colon).toInt(&ok);
                if (colon <= 0 || !ok || number < 1 || number > kMaxParts || number > parts(item.size))
                    return Record::Stale;
                etags[number] = QString::fromUtf8(unb64(p.mid(colon + 1)));
            }
        }
        return Record::Usable;
    }
};

S3Remote::S3Remote(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits)
    : Remote(profile, limits),
      // The client sends no Authorization of its own: every request carries its signature.
      m_client([&] {
          RemoteProfile p = profile;
          p.user.clear();
          p.options.remove(QStringLiteral("bearer"));
          return p;
      }(), QString(), limits)
{
    m_credentials.accessKeyId = profile.user.toUtf8();
    m_credentials.secretAccessKey = secret.toUtf8();
    m_endpoint = QUrl(profile.url, QUrl::TolerantMode);
    m_bucket = profile.bucket().toUtf8();
    m_region = profile.region().toUtf8();
    const bool https = m_endpoint.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    m_pathStyle = profile.pathStyle() || isIpOrLocal(m_endpoint.host()) || !dnsCompatible(m_bucket)
                  || (https && m_bucket.contains('.'));
}

QByteArray S3Remote::objectKey(const QString &collection, const QString &name) const
{
    return (profile().keyPrefix() + safeFileName(collection) + QLatin1Char('/') + name).toUtf8();
}

QUrl S3Remote::objectUrl(const QByteArray &key, const aws::QueryList &query) const
{
    const QByteArray path = m_pathStyle ? "/" + m_bucket + "/" + key : "/" + key;
    QByteArray host = m_endpoint.host(QUrl::FullyEncoded).toUtf8();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (!m_pathStyle)
        host = m_bucket + '.' + host;
    QByteArray url = m_endpoint.scheme().toLower().toLatin1() + "://" + host;
    if (m_endpoint.port() > 0 && m_endpoint.port() != (m_endpoint.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0 ? 443 : 80))
        url += ':' + QByteArray::number(m_endpoint.port());   // a default port is never sent (nor signed)
    url += aws::canonicalUri(path, aws::PathStyle::S3);
    if (!query.isEmpty())
        url += '?' + aws::canonicalQuery(query);
    return QUrl::fromEncoded(url, QUrl::StrictMode);
}

qint64 S3Remote::partSizeFor(qint64 size) const
{
    const int lanes = std::max(1, limits().lanes);
    qint64 part = std::max(kMinPartSize, std::min(limits().segmentSize, (size + lanes - 1) / lanes));
    part = std::max(part, (size + kMaxParts - 1) / kMaxParts);
    const qint64 mib = 1 << 20;
    return (part + mib - 1) / mib * mib;
}

std::optional<RemoteError> S3Remote::prepare(Request &rq, const QByteArray &key, const aws::QueryList &query,
                                             const QByteArray &payloadHash) const
{
    rq.url = objectUrl(key, query);
    // Host exactly as libcurl would send it: the default port left out.
    QByteArray host = rq.url.host(QUrl::FullyEncoded).toUtf8();
    if (host.contains(':'))
        host = '[' + host + ']';
    if (rq.url.port() > 0)
        host += ':' + QByteArray::number(rq.url.port());
    aws::SigningRequest s;
    s.method = rq.verb;
    s.path = m_pathStyle ? "/" + m_bucket + "/" + key : "/" + key;
    s.query = query;
    s.headers = rq.headers;
    s.headers.prepend({"Host", host});
    s.payloadHash = payloadHash;
    s.time = QDateTime::currentDateTimeUtc();
    s.region = m_region;
    s.service = "s3";
    const auto signature = aws::sign(s, m_credentials);
    if (!signature) {
        return RemoteError::make(K::Config, Tr::tr("remote \"%1\": cannot sign the request for %2: %3")
                                                .arg(profile().name, QString::fromUtf8(key), signature.error()));
    }
    rq.headers = s.headers + signature->headers;
    return std::nullopt;
}

Response S3Remote::call(Request rq, const QByteArray &key, const aws::QueryList &query,
                        const QByteArray &payloadHash, UploadControl *control,
                        const std::function<std::optional<RemoteError>()> &check) const
{
    if (auto e = prepare(rq, key, query, payloadHash)) {
        Response r;
        r.url = rq.url;
        r.failure = Response::Failure::BadRequest;
        r.errorString = e->message;
        return r;
    }
    return m_client.send(std::move(rq), control, check);
}

RemoteError S3Remote::errorFromS3(const s3::Error &e, int status, const QString &action) const
{
    RemoteError err = RemoteError::make(K::Http, QString());
    err.httpStatus = status;
    QString text = s3::describeError(e, status);
    const QString code = e.code;
    // AccessDenied is not among them: a key may be allowed to write and not to read a name, or a
    // bucket policy may refuse one request; that fails the document, not the remote.
    if (code == QLatin1String("InvalidAccessKeyId") || code == QLatin1String("SignatureDoesNotMatch")
        || code == QLatin1String("InvalidToken") || code == QLatin1String("ExpiredToken")
        || code == QLatin1String("InvalidSecurity")) {
        err.problem = RemoteError::Problem::Credentials;
        text = Tr::tr("%1. Check the access key id and secret of remote \"%2\"").arg(text, profile().name);
    } else if (code == QLatin1String("NoSuchBucket")) {
        err.problem = RemoteError::Problem::Unreachable;
        text = Tr::tr("%1. Create the bucket %2 or fix the remote's --bucket").arg(text, QString::fromUtf8(m_bucket));
    } else if (code == QLatin1String("RequestTimeTooSkewed")) {
        err.problem = RemoteError::Problem::Unreachable;
        text = Tr::tr("%1. Set this computer's clock right (automatic time)").arg(text);
    } else if (code == QLatin1String("AuthorizationHeaderMalformed") || code == QLatin1String("PermanentRedirect")
               || code == QLatin1String("IllegalLocationConstraintException")) {
        err.problem = RemoteError::Problem::Unreachable;
        const QString region = e.fields.value(QStringLiteral("Region"));
        if (!region.isEmpty() && region.size() < 40)
            text = Tr::tr("%1. The bucket is in region %2: set it with --region").arg(text, region);
    } else if (code == QLatin1String("SlowDown") || code == QLatin1String("InternalError")
               || code == QLatin1String("ServiceUnavailable") || code == QLatin1String("RequestTimeout")
               || code == QLatin1String("IncompleteBody") || code == QLatin1String("OperationAborted")
               || code == QLatin1String("ConditionalRequestConflict") || status < 300) {
        // Retried with backoff whatever the status said: S3 asks for a retry of these, and an
        // error document under a 2xx status (CompleteMultipartUpload) is a failure met after
        // the answer had begun.
        err.httpStatus = 503;
    }
    err.message = action.isEmpty() ? text : action + QStringLiteral(": ") + text;
    return err;
}

RemoteError S3Remote::unreadable(const std::optional<s3::Error> &error, const QString &failure, int status,
                                 const QString &action, const QString &notReadable) const
{
    if (error)
        return errorFromS3(*error, status, action);
    return RemoteError::make(K::Protocol, notReadable.arg(action, failure));
}

RemoteError S3Remote::errorFor(const Response &resp, const QString &action) const
{
    if (resp.end == Response::End::Finished && resp.status >= 300) {
        const auto parsed = s3::parseError(resp.body);
        if (parsed) {
            RemoteError e = errorFromS3(*parsed, resp.status, action);
            e.retryAfter = m_client.errorFor(resp, action).retryAfter;
            return e;
        }
    }
    if (resp.failure == Response::Failure::BadRequest && !resp.errorString.isEmpty())
        return RemoteError::make(K::Config, action + QStringLiteral(": ") + resp.errorString);
    return m_client.errorFor(resp, action);
}

RemoteOutcome<S3Remote::Head> S3Remote::head(const QByteArray &key, UploadControl &control) const
{
    using O = RemoteOutcome<Head>;
    Request rq;
    rq.verb = "HEAD";
    const Response resp = call(rq, key, {}, aws::kEmptyPayloadHash, &control);
    Head h;
    if (resp.end == Response::End::Finished && resp.status == 404) {
        h.status = 404;
        return O::success(h);
    }
    if (!resp.isHttpSuccess()) {
        const QString action = Tr::tr("looking up %1").arg(QString::fromUtf8(key));
        if (resp.end == Response::End::Finished && resp.status >= 300 && resp.status < 500 && resp.status != 404) {
            // A HEAD answer has no body to say why (a wrong key? no such bucket?): the same as a
            // GET of its first byte brings the error document.
            Request get;
            get.verb = "GET";
            get.headers = {{"Range", "bytes=0-0"}};
            get.downloadBytes = 1;
            const Response why = call(get, key, {}, aws::kEmptyPayloadHash, &control);
            if (why.end == Response::End::Finished && why.status == resp.status) {
                if (const auto e = s3::parseError(why.body))
                    return O::fail(errorFromS3(*e, resp.status, action));
            }
        }
        return O::fail(errorFor(resp, action));
    }
    h.status = resp.status;
    bool ok = false;
    const qint64 length = resp.header("Content-Length").toLongLong(&ok);
    h.size = ok ? length : -1;
    const QByteArray sha = resp.header("x-amz-meta-sha256").trimmed().toLower();
    if (sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char c) { return std::isxdigit(uchar(c)); }))
        h.sha256 = sha;
    return O::success(h);
}

std::optional<RemoteError> S3Remote::confirmStored(const QByteArray &key, const UploadItem &item, UploadControl &control,
                                                   const std::function<QString(qint64 size)> &notAll) const
{
    const auto h = head(key, control);
    if (!h.ok())
        return *h.error;
    if (h.value.status != 200 || (h.value.size >= 0 && h.value.size != item.size))
        return RemoteError::make(K::Protocol, notAll(h.value.size));
    return std::nullopt;
}

RemoteOutcome<std::optional<StoredFile>> S3Remote::lookUp(const QByteArray &key, UploadControl &control) const
{
    return foundByLookup(head(key, control), [](const Head &h) -> StoredFile { return h; });
}

RemoteOutcome<bool> S3Remote::readsAs(const QByteArray &key, const StoredFile &stored, const UploadItem &item,
                                      UploadControl &control) const
{
    // Stored by someone else, without our metadata: read it back.
    const ReadBack back = readBack(item, [&](Request rq) { return call(std::move(rq), key, {}, aws::kEmptyPayloadHash, &control); });
    return readBackVerdict(back, item, stored.size, QString::fromUtf8(key),
                           [this](const Response &r, const QString &action) { return errorFor(r, action); });
}

RemoteOutcome<bool> S3Remote::sameContent(const QByteArray &key, const StoredFile &stored, const UploadItem &item,
                                          UploadControl &control) const
{
    return isSameContent(stored, item, [&] { return readsAs(key, stored, item, control); });
}

RemoteOutcome<S3Remote::SlotResult> S3Remote::findSlot(const UploadItem &item, int from,
                                                       UploadControl &control) const
{
    const QString name = safeFileName(item.fileName);
    auto keyOf = [&](int n) { return objectKey(item.collection, collisionName(name, n)); };
    const auto found = findFreeName(
        item, from, Tr::tr("too many objects named %1").arg(name),
        [&](int n) { return lookUp(keyOf(n), control); },
        [&](int n, const StoredFile &stored) { return readsAs(keyOf(n), stored, item, control); });
    if (!found.ok())
        return RemoteOutcome<SlotResult>::fail(*found.error);
    return RemoteOutcome<SlotResult>::success({found.value, keyOf(found.value.n)});
}

void S3Remote::deleteQuietly(const QByteArray &key) const
{
    Request rq;
    rq.verb = "DELETE";
    (void)call(rq, key, {}, aws::kEmptyPayloadHash, nullptr);
}

Response S3Remote::putText(const QByteArray &key, const QByteArray &text, bool ifNoneMatch, UploadControl &control) const
{
    Request put;
    put.verb = "PUT";
    put.bodyBytes = text;
    put.headers = {{"Content-Type", "text/plain"}};
    if (ifNoneMatch)
        put.headers.append(std::pair<QByteArray, QByteArray>("If-None-Match", "*"));
    return call(put, key, {}, Hasher::hashBytes(text), &control);
}

void S3Remote::probeIfNoneMatch(UploadControl &control)
{
    // A small object written twice with "If-None-Match: *": a server that answers the second
    // write with 412 never replaces an object behind our back (AWS since 2024, MinIO, Ceph...).
    std::lock_guard lock(m_probeMutex);
    if (m_ifNoneMatch.load() != int(Precondition::Unknown))
        return;
    const QByteArray key = (profile().keyPrefix() + scratchName(QStringLiteral("probe"))).toUtf8();
    const QByteArray body = "Quire checks that this server honours If-None-Match\n";
    const Response first = putText(key, body, true, control);
    if (!first.isHttpSuccess())
        return;   // undecided: names are looked up, and the next upload asks again
    const Response second = putText(key, body, true, control);
    // 412: honoured; the object replaced: ignored; anything else (stopped, a timeout, a 503)
    // says nothing, and the next upload asks again.
    if (second.end == Response::End::Finished && second.status == 412)
        m_ifNoneMatch = int(Precondition::Honoured);
    else if (second.isHttpSuccess())
        m_ifNoneMatch = int(Precondition::Ignored);
    deleteQuietly(key);
}

UploadOutcome S3Remote::upload(const UploadItem &item, UploadControl &control)
{
    if (m_ifNoneMatch.load() == int(Precondition::Unknown))
        probeIfNoneMatch(control);
    if (control.isStopped())
        return UploadOutcome::fail(RemoteError::make(K::Stopped, Tr::tr("stopped")));
    if (item.size > kMaxObjectSize) {
        return UploadOutcome::fail(RemoteError::make(K::Config, Tr::tr("%1 is larger than an S3 object can be (5 TiB)")
                                                                    .arg(item.fileName)));
    }
    // S3 takes at most 5 GiB in one PUT, whatever the threshold says.
    if ((item.size >= limits().resumeThreshold || item.size > kMaxPartSize) && item.size > kMinPartSize)
        return uploadMultipart(item, control);
    return uploadSingle(item, control);
}

UploadOutcome S3Remote::uploadSingle(const UploadItem &item, UploadControl &control)
{
    const QString action = Tr::tr("uploading %1").arg(item.fileName);
    NameConflicts conflicts;
    const bool conditional = m_ifNoneMatch.load() == int(Precondition::Honoured);
    const SlotResult first{{false, 1}, objectKey(item.collection, collisionName(safeFileName(item.fileName), 1))};
    return putUnderFreeName(
        first, !conditional, [&](int from) { return findSlot(item, from, control); },
        [&](const SlotResult &slot) -> std::optional<UploadOutcome> {
            UploadReport report = reportFor(slot.key, slot.n, item);
            if (slot.same) {
                report.alreadyPresent = true;
                return UploadOutcome::success(report);
            }
            net::SourceDevice source(item, limits().hashWhileSending);
            if (auto e = source.openAt(0, &control))
                return UploadOutcome::fail(*e);
            Request rq;
            rq.verb = "PUT";
            rq.headers = {{"Content-Type", "application/octet-stream"},
                          {"x-amz-checksum-sha256", QByteArray::fromHex(item.sha256).toBase64()},
                          {"x-amz-meta-sha256", item.sha256}};
            if (conditional)
                rq.headers.append(std::pair<QByteArray, QByteArray>("If-None-Match", "*"));
            rq.body = &source;
            rq.fileBody = true;
            rq.uploadBytes = item.size;
            // The payload hash is the document's SHA-256: a body that is not the document (the
            // file changed on the way) is refused by the server (XAmzContentSHA256Mismatch).
            const Response resp = call(rq, slot.key, {}, item.sha256, &control, [&] { return source.checkUnchanged(); });
            if (resp.end == Response::End::Finished && resp.status == 412) {
                if (conflicts.tooMany(slot.n))
                    return UploadOutcome::fail(errorFor(resp, action));
                return std::nullopt;
            }
            if (!resp.isHttpSuccess()) {
                RemoteError e = errorFor(resp, action);
                if (auto changed = source.checkUnchanged())
                    e = *changed;
                return UploadOutcome::fail(e);
            }
            if (auto e = source.checkUnchanged(); e || !source.contentVerified()) {
                deleteQuietly(slot.key);
                return UploadOutcome::fail(e ? *e : RemoteError::make(K::SourceChanged,
                                                                      Tr::tr("the file changed while it was being uploaded")));
            }
            if (limits().confirmUploads) {
                if (auto e = confirmStored(slot.key, item, control, [&](qint64) {
                        return Tr::tr("the server accepted %1 but does not have all of it afterwards").arg(item.fileName);
                    }))
                    return UploadOutcome::fail(*e);
            }
            report.bytesSent = item.size;
            return UploadOutcome::success(report);
        });
}

void S3Remote::abort(const QByteArray &key, const QByteArray &uploadId) const
{
    // Runs while stopping too (cleaning up is part of cancelling): no control. The upload's parts
    // are stored (and billed) until it is gone, so an answer that may be different next time (a
    // network error, SlowDown, 5xx) is tried again, three times in all; NoSuchUpload: gone.
    Request rq;
    rq.verb = "DELETE";
    for (int attempt = 1;; ++attempt) {
        const Response resp = call(rq, key, {{"uploadId", uploadId}}, aws::kEmptyPayloadHash, nullptr);
        const bool gone = resp.isHttpSuccess() || (resp.end == Response::End::Finished && resp.status == 404);
        if (gone || attempt == 3 || !errorFor(resp, QString()).retryable())
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
}

std::optional<RemoteError> S3Remote::resumeOrStart(Multipart &mp, const UploadItem &item, UploadControl &control)
{
    const QString action = Tr::tr("uploading %1").arg(item.fileName);
    const Multipart::Record record = mp.decode(item.resumeState, item);
    if (record == Multipart::Record::Stale) {
        // An upload of what the file was before (or with other part sizes): of no use, but its
        // parts are stored (and billed) until it is aborted.
        abort(mp.key, mp.uploadId);
        control.reportResumeState(QByteArray());
    } else if (record == Multipart::Record::Usable) {
        // The record must be for the name the document has now (the collection may have been
        // renamed, the file added again under another name, the prefix changed), and match what
        // the server lists: every part recorded, with its ETag and size.
        const bool sameKey = mp.key == objectKey(item.collection, collisionName(safeFileName(item.fileName), mp.n));
        std::map<int, s3::Part> listed;
        int marker = 0;
        bool usable = sameKey;
        for (int page = 0; page < 100 && usable; ++page) {
            aws::QueryList q = {{"uploadId", mp.uploadId}};
            if (marker > 0)
                q.append(std::pair<QByteArray, QByteArray>("part-number-marker", QByteArray::number(marker)));
            Request rq;
            rq.verb = "GET";
            const Response resp = call(rq, mp.key, q, aws::kEmptyPayloadHash, &control);
            if (resp.end == Response::End::Finished && resp.status == 404) {
                usable = false;   // NoSuchUpload: completed, aborted or expired
                break;
            }
            if (!resp.isHttpSuccess())
                return errorFor(resp, action);
            const auto parsed = s3::parseListParts(resp.body);
            if (!parsed.ok())
                return unreadable(parsed.error, parsed.failure, resp.status, action,
                                  Tr::tr("%1: the server's list of parts is not readable (%2)"));
            for (const s3::Part &p : parsed.value->parts)
                listed[p.partNumber] = p;
            if (!parsed.value->isTruncated)
                break;
            marker = parsed.value->nextPartNumberMarker;
        }
        for (auto it = mp.etags.begin(); usable && it != mp.etags.end(); ++it) {
            const auto l = listed.find(it->first);
            usable = l != listed.end() && unquotedEtag(l->second.etag) == unquotedEtag(it->second)
                     && (l->second.size < 0 || l->second.size == mp.partLength(it->first, item.size));
        }
        if (usable) {
            for (const auto &[number, etag] : mp.etags)
                mp.resumedFrom += mp.partLength(number, item.size);
            return std::nullopt;
        }
        abort(mp.key, mp.uploadId);
        control.reportResumeState(QByteArray());
    }
    mp.uploadId.clear();
    mp.etags.clear();
    mp.resumedFrom = 0;

    const auto slot = findSlot(item, 1, control);
    if (!slot.ok())
        return slot.error;
    mp.key = slot.value.key;
    mp.n = slot.value.n;
    if (slot.value.same)
        return std::nullopt;   // nothing to send; the caller sees no upload id

    Request create;
    create.verb = "POST";
    create.headers = {{"Content-Type", "application/octet-stream"}, {"x-amz-meta-sha256", item.sha256}};
    const Response resp = call(create, mp.key, {{"uploads", {}}}, aws::kEmptyPayloadHash, &control);
    if (!resp.isHttpSuccess())
        return errorFor(resp, action);
    const auto parsed = s3::parseInitiateMultipartUpload(resp.body);
    if (!parsed.ok()) {
        return unreadable(parsed.error, parsed.failure, resp.status, action,
                          Tr::tr("%1: the server's answer to starting a multipart upload is not readable (%2)"));
    }
    mp.uploadId = parsed.value->uploadId.toUtf8();
    // Recorded before any part is sent, so that a crash leaves nothing the next attempt cannot
    // find (and abort).
    control.reportResumeState(mp.encode(item));
    return std::nullopt;
}

std::optional<RemoteError> S3Remote::sendParts(Multipart &mp, const UploadItem &item, UploadControl &control)
{
    const QString action = Tr::tr("uploading %1").arg(item.fileName);
    QList<PieceSender::Piece> pending;
    for (int i = 1; i <= mp.parts(item.size); ++i) {
        if (!mp.etags.count(i))
            pending.append({i, qint64(i - 1) * mp.partSize, mp.partLength(i, item.size)});
    }
    PieceSender sender(item, control, mp.resumedFrom);
    // A part's bytes must still be the document's when the server has them (the periodic check
    // runs only every 300 ms).
    sender.checkEachPiece = true;
    const auto failure = sender.send(
        m_client, limits().lanes, pending,
        [&](Request &rq, const PieceSender::Piece &p) {
            rq.verb = "PUT";
            return prepare(rq, mp.key, {{"partNumber", QByteArray::number(p.number)}, {"uploadId", mp.uploadId}},
                           aws::kUnsignedPayload);
        },
        [&](const PieceSender::Piece &p, const Response &resp) -> std::optional<RemoteError> {
            const int number = int(p.number);
            const QByteArray etag = resp.header("ETag").trimmed();
            if (resp.isHttpSuccess() && !etag.isEmpty() && etag.size() < 200) {
                mp.etags[number] = QString::fromLatin1(etag);
                control.reportResumeState(mp.encode(item));
                return std::nullopt;
            }
            if (resp.end == Response::End::Finished && resp.status == 404 && !sender.failed()) {
                // Aborted or expired meanwhile: start again.
                control.reportResumeState(QByteArray());
                mp.etags.clear();
                return uploadGone(action);
            }
            return resp.isHttpSuccess()
                       ? RemoteError::make(K::Protocol, Tr::tr("%1: the server accepted part %2 without an ETag")
                                                            .arg(action, QString::number(number)))
                       : errorFor(resp, action);
        });
    mp.sent += sender.sent();
    return failure;
}

UploadOutcome S3Remote::complete(Multipart &mp, const UploadItem &item, UploadControl &control)
{
    const QString action = Tr::tr("uploading %1").arg(item.fileName);
    QList<s3::CompletedPart> parts;
    for (const auto &[number, etag] : mp.etags)
        parts.append({number, etag, QString()});
    const auto body = s3::completeMultipartUploadBody(parts);
    if (!body)
        return UploadOutcome::fail(RemoteError::make(K::Protocol, action + QStringLiteral(": ") + body.error()));
    auto taken = [&] {
        return RemoteError::make(K::Network, action + QLatin1String(": ")
                                                 + Tr::tr("the name %1 was taken by another upload meanwhile; starting again")
                                                       .arg(collisionName(safeFileName(item.fileName), mp.n)));
    };
    if (m_ifNoneMatch.load() != int(Precondition::Honoured)) {
        // Nothing stops Complete from replacing an object that took the name while the parts
        // went up (or while the upload was paused): look just before.
        const auto h = head(mp.key, control);
        if (!h.ok())
            return UploadOutcome::fail(*h.error);
        if (h.value.status == 200) {
            const auto same = sameContent(mp.key, h.value, item, control);
            if (!same.ok())
                return UploadOutcome::fail(*same.error);
            abort(mp.key, mp.uploadId);
            control.reportResumeState(QByteArray());
            if (same.value)
                return stored(mp, item, true);
            return UploadOutcome::fail(taken());
        }
    }
    Request rq;
    rq.verb = "POST";
    rq.bodyBytes = *body;
    // Assembling a large object can take the server a while: the request's time budget grows
    // with the object's size, as if it were read back.
    rq.downloadBytes = item.size;
    rq.headers = {{"Content-Type", "application/xml"}};
    if (m_ifNoneMatch.load() == int(Precondition::Honoured))
        rq.headers.append(std::pair<QByteArray, QByteArray>("If-None-Match", "*"));
    // Assembling a large object can take the server a while before it answers.
    rq.idleTimeout = std::chrono::minutes(5);
    const Response resp = call(rq, mp.key, {{"uploadId", mp.uploadId}}, Hasher::hashBytes(*body), &control);
    auto finished = [&](bool alreadyPresent) {
        control.reportResumeState(QByteArray());
        return stored(mp, item, alreadyPresent);
    };
    if (resp.end == Response::End::Finished && resp.status == 412) {
        // The name was taken while the parts went up. An upload's key cannot change: if the
        // object there is the document, this one is not needed; otherwise start again under the
        // next free name.
        const auto h = head(mp.key, control);
        abort(mp.key, mp.uploadId);
        control.reportResumeState(QByteArray());
        if (h.ok() && h.value.status == 200) {
            const auto same = sameContent(mp.key, h.value, item, control);
            if (same.ok() && same.value)
                return finished(true);
        }
        return UploadOutcome::fail(taken());
    }
    if (!resp.isHttpSuccess()) {
        if (resp.end == Response::End::Finished && resp.status == 404) {
            // NoSuchUpload: an earlier attempt may have completed it and lost the answer.
            const auto h = head(mp.key, control);
            if (h.ok() && h.value.status == 200 && h.value.size == item.size && h.value.sha256 == item.sha256)
                return finished(false);
            control.reportResumeState(QByteArray());
            return UploadOutcome::fail(uploadGone(action));
        }
        return UploadOutcome::fail(errorFor(resp, action));
    }
    const auto parsed = s3::parseCompleteMultipartUpload(resp.body);
    if (!parsed.ok())
        return UploadOutcome::fail(unreadable(parsed.error, parsed.failure, resp.status, action,
                                              Tr::tr("%1: the server's answer to completing the upload is not readable (%2)")));
    if (auto e = confirmStored(mp.key, item, control, [&](qint64 size) {
            return Tr::tr("%1: the server has %2 bytes after the upload, expected %3")
                .arg(action, QString::number(size), QString::number(item.size));
        }))
        return UploadOutcome::fail(*e);
    return finished(false);
}

UploadReport S3Remote::reportFor(const QByteArray &key, int n, const UploadItem &item) const
{
    UploadReport report;
    report.location = objectUrl(key).toString(QUrl::FullyEncoded);
    report.storedName = collisionName(safeFileName(item.fileName), n);
    return report;
}

UploadOutcome S3Remote::stored(const Multipart &mp, const UploadItem &item, bool alreadyPresent) const
{
    UploadReport report = reportFor(mp.key, mp.n, item);
    report.alreadyPresent = alreadyPresent;
    report.resumedFrom = mp.resumedFrom;
    report.bytesSent = mp.sent;
    return UploadOutcome::success(report);
}

UploadOutcome S3Remote::uploadMultipart(const UploadItem &item, UploadControl &control)
{
    Multipart mp;
    mp.partSize = partSizeFor(item.size);
    if (auto e = resumeOrStart(mp, item, control))
        return UploadOutcome::fail(*e);
    if (mp.uploadId.isEmpty())   // the same content is there already
        return stored(mp, item, true);
    auto giveUp = [&](const RemoteError &e) {
        // Cancelled, or failed for good (the source changed, the server refuses): nothing of it
        // may stay on the server. Paused or a failure the next attempt may get past: kept.
        const bool cancelled = control.stopRequested() == UploadControl::Stop::Cancel;
        if (cancelled || (e.kind != K::Stopped && !e.retryable() && e.problem == RemoteError::Problem::None)) {
            abort(mp.key, mp.uploadId);
            control.reportResumeState(QByteArray());
        }
        return UploadOutcome::fail(e);
    };
    if (auto e = sendParts(mp, item, control))
        return giveUp(*e);
    {
        // Every part is there: the source must still be what was hashed (size, times, inode; with
        // hashWhileSending its content too) before the parts become the object.
        net::SourceDevice whole(item, limits().hashWhileSending);
        if (auto e = whole.openAt(limits().hashWhileSending ? item.size : 0, &control))
            return giveUp(*e);
        if (auto e = whole.checkUnchanged())
            return giveUp(*e);
    }
    UploadOutcome out = complete(mp, item, control);
    if (!out.ok() && out.error->kind != K::Network)
        return giveUp(*out.error);
    return out;
}

VerifyOutcome S3Remote::verify(const UploadItem &item, const QString &location, bool deep, UploadControl &control)
{
    const QUrl url = QUrl::fromEncoded(location.toUtf8(), QUrl::StrictMode);
    // Only an object of this remote's bucket is asked for (the location comes from the catalog,
    // which may be shared): the signature goes nowhere else.
    const QUrl base = objectUrl(QByteArray());
    QByteArray path = QByteArray::fromPercentEncoding(url.path(QUrl::FullyEncoded).toLatin1());
    const QByteArray bucketPath = m_pathStyle ? "/" + m_bucket + "/" : QByteArray("/");
    if (!url.isValid() || url.scheme() != base.scheme() || url.host() != base.host() || url.port() != base.port()
        || !path.startsWith(bucketPath) || path.size() == bucketPath.size() || url.hasQuery()) {
        return VerifyOutcome::fail(RemoteError::make(
            K::Config, Tr::tr("%1 is not an object of remote \"%2\" (bucket %3)")
                           .arg(url.toDisplayString(), profile().name, QString::fromUtf8(m_bucket))));
    }
    const QByteArray key = path.mid(bucketPath.size());
    const auto found = lookUp(key, control);
    if (!found.ok())
        return VerifyOutcome::fail(*found.error);
    VerifyReport r = lookedUp(found.value, item, url);
    if (!r.exists)
        return VerifyOutcome::success(r);
    if (deep && r.sizeMatches) {
        StoredFile unknown = *found.value;
        unknown.sha256.clear();   // read it back whatever the metadata says
        const auto same = sameContent(key, unknown, item, control);
        if (!same.ok())
            return VerifyOutcome::fail(*same.error);
        r.checksumChecked = true;
        r.checksumMatches = same.value;
        r.remoteSha256 = same.value ? item.sha256 : QByteArray();
    } else if (!r.remoteSha256.isEmpty()) {
        r.checksumChecked = true;
        r.checksumMatches = r.remoteSha256 == item.sha256;
    }
    if (!r.sizeMatches)
        r.detail = Tr::tr("size differs: %1 bytes on the server, %2 expected").arg(r.remoteSize).arg(item.size);
    else if (r.checksumChecked && !r.checksumMatches)
        r.detail = deep ? Tr::tr("SHA-256 differs: the object's content is not the document")
                        : Tr::tr("SHA-256 differs: the object's recorded SHA-256 is not the document's");
    else if (r.checksumChecked)
        r.detail = deep ? Tr::tr("size and SHA-256 match (read back)") : Tr::tr("size and recorded SHA-256 match");
    else
        r.detail = Tr::tr("size matches (the object has no recorded SHA-256)");
    return VerifyOutcome::success(r);
}

Result<QString> S3Remote::test(UploadControl &control)
{
    using R = Result<QString>;
    const QString bucketName = QString::fromUtf8(m_bucket), endpoint = m_endpoint.toDisplayString();
    Request bucket;
    bucket.verb = "HEAD";
    const Response b = call(bucket, QByteArray(), {}, aws::kEmptyPayloadHash, &control);
    if (b.end == Response::End::Finished && b.status == 404)
        return R::failure(Tr::tr("S3 NoSuchBucket: the bucket %1 at %2 does not exist").arg(bucketName, endpoint));
    if (!b.isHttpSuccess() && !(b.end == Response::End::Finished && b.status == 403))
        return R::failure(errorFor(b, Tr::tr("contacting the bucket %1 at %2").arg(bucketName, endpoint)).message);
    // 403 on the bucket may only mean the key may not list it: writing tells.
    const QByteArray key = (profile().keyPrefix() + scratchName(QStringLiteral("connection-test"))).toUtf8();
    const Response p = putText(key, "Quire connection test\n", false, control);
    if (!p.isHttpSuccess())
        return R::failure(errorFor(p, Tr::tr("writing a test object to the bucket %1 at %2").arg(bucketName, endpoint)).message);
    Request del;
    del.verb = "DELETE";
    const Response d = call(del, key, {}, aws::kEmptyPayloadHash, &control);
    if (!d.isHttpSuccess())
        return R::failure(errorFor(d, Tr::tr("deleting the test object %1").arg(QString::fromUtf8(key))).message);
    return Tr::tr("S3 bucket %1 at %2: reachable, credentials accepted, a test object written and deleted")
        .arg(bucketName, endpoint);
}

void S3Remote::discardPartial(const UploadItem &item, UploadControl &)
{
    Multipart mp;
    mp.partSize = partSizeFor(item.size);
    if (mp.decode(item.resumeState, item) != Multipart::Record::None)
        abort(mp.key, mp.uploadId);
}

} // namespace quire
