#include "remotes/remotehttp.h"

#include "hashing/hasher.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>

#include <algorithm>
#include <cstring>

namespace quire {

namespace {

// The translation context of the messages below (HttpRemote is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::HttpRemote)
};

using K = RemoteError::Kind;
using net::Request;
using net::Response;

const QString kMarker = QStringLiteral("QUIRECOLLECTIONMARKER");

// A multipart/form-data body (RFC 7578) streamed from its parts: text before the file, the file
// itself (a device read as it is sent), text after it. Seekable, so a request can be sent again.
class MultipartBody final : public QIODevice
{
public:
    MultipartBody(QByteArray head, QIODevice *file, QByteArray tail)
        : m_head(std::move(head)), m_file(file), m_tail(std::move(tail))
    {
        QIODevice::open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    }
    bool isSequential() const override { return false; }
    qint64 size() const override { return m_head.size() + m_file->size() + m_tail.size(); }
    bool seek(qint64 pos) override
    {
        if (pos < 0 || pos > size())
            return false;
        const qint64 inFile = std::clamp<qint64>(pos - m_head.size(), 0, m_file->size());
        if (!m_file->seek(inFile))
            return false;
        return QIODevice::seek(pos);
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 at = pos();
        const qint64 fileEnd = m_head.size() + m_file->size();
        if (at < m_head.size()) {
            const qint64 n = std::min<qint64>(maxSize, m_head.size() - at);
            std::memcpy(data, m_head.constData() + at, size_t(n));
            return n;
        }
        if (at < fileEnd)
            return m_file->read(data, std::min(maxSize, fileEnd - at));   // 0: withheld
        const qint64 n = std::min<qint64>(maxSize, size() - at);
        std::memcpy(data, m_tail.constData() + (at - fileEnd), size_t(std::max<qint64>(0, n)));
        return std::max<qint64>(0, n);
    }
    qint64 writeData(const char *, qint64) override { return -1; }

private:
    QByteArray m_head;
    QIODevice *m_file;
    QByteArray m_tail;
};

QByteArray textPart(const QByteArray &boundary, const QByteArray &name, const QByteArray &value)
{
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
}

QByteArray quotedFileName(const QString &name)
{
    // RFC 7578 4.2: the filename parameter is quoted UTF-8; quotes and backslashes escaped,
    // line breaks (impossible in a safe name anyway) percent-encoded.
    QByteArray utf8 = name.toUtf8();
    utf8.replace('\\', "\\\\").replace('"', "\\\"").replace('\r', "%0D").replace('\n', "%0A");
    return '"' + utf8 + '"';
}

} // namespace

namespace httpapi {

QByteArray errorText(const QByteArray &body)
{
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject()) {
        const QJsonObject o = doc.object();
        for (const char *key : {"error", "message", "detail"}) {
            const QJsonValue v = o.value(QLatin1String(key));
            if (v.isString())
                return v.toString().toUtf8();
        }
    }
    return body;
}

QString storedLocation(const QByteArray &body, const QByteArray &locationHeader, const QUrl &documentsUrl)
{
    QString location;
    const QJsonObject o = QJsonDocument::fromJson(body).object();
    if (o.value(QLatin1String("location")).isString())
        location = o.value(QLatin1String("location")).toString();
    else if (!locationHeader.isEmpty())
        location = QString::fromUtf8(locationHeader);
    else if (o.contains(QLatin1String("id")))
        location = o.value(QLatin1String("id")).toVariant().toString();
    if (!location.isEmpty()) {
        // A relative location is relative to the documents URL (RFC 9110 10.2.2). One that
        // resolves to no URL ("//host with spaces/") is kept as sent rather than lost.
        const QUrl loc(location);
        if (loc.isRelative() && location.startsWith(QLatin1Char('/'))) {
            if (const QUrl resolved = documentsUrl.resolved(loc); resolved.isValid() && !resolved.isEmpty())
                location = resolved.toString(QUrl::FullyEncoded);
        }
    }
    return location;
}

} // namespace httpapi

HttpRemote::HttpRemote(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits)
    : Remote(profile, limits), m_client(profile, secret, limits)
{
}

QUrl HttpRemote::documentsUrl(const QString &collection) const
{
    QString base = profile().url;
    QString tmpl;
    if (base.contains(QLatin1String("{collection}"))) {
        tmpl = base;
    } else {
        while (base.endsWith(QLatin1Char('/')))
            base.chop(1);
        tmpl = base + QStringLiteral("/collections/{collection}/documents");
    }
    // "." and ".." cannot be one segment: QUrl decodes "%2E" back to '.', and curl (like
    // servers) removes dot segments (RFC 3986 5.2.4), so the upload would go to the folder above.
    // "" would leave an empty segment, which servers collapse. The catalog refuses such names;
    // there is no URL for them here either.
    if (collection.isEmpty() || collection == QLatin1String(".") || collection == QLatin1String(".."))
        return {};
    tmpl.replace(QLatin1String("{collection}"), kMarker);
    // Parse the rest tolerantly (it may hold non-ASCII), then put the strictly encoded
    // collection segment in.
    QByteArray encoded = QUrl(tmpl, QUrl::TolerantMode).toEncoded();
    encoded.replace(kMarker.toLatin1(), net::encodeSegment(collection));
    return QUrl::fromEncoded(encoded, QUrl::StrictMode);
}

UploadOutcome HttpRemote::upload(const UploadItem &item, UploadControl &control)
{
    const QString name = safeFileName(item.fileName);
    const QUrl url = documentsUrl(item.collection);
    if (url.isEmpty()) {
        return UploadOutcome::fail(RemoteError::make(
            K::Config, Tr::tr("the collection name \"%1\" cannot be a segment of the API's URL").arg(item.collection)));
    }
    net::SourceDevice source(item, limits().hashWhileSending);
    if (auto e = source.openAt(0, &control))
        return UploadOutcome::fail(*e);

    const QByteArray boundary = "quire-" + QByteArray::number(QRandomGenerator::global()->generate64(), 16)
                                + QByteArray::number(QRandomGenerator::global()->generate64(), 16);
    const QByteArray head = textPart(boundary, "name", name.toUtf8()) + textPart(boundary, "sha256", item.sha256)
                            + textPart(boundary, "size", QByteArray::number(item.size)) + "--" + boundary
                            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=" + quotedFileName(name)
                            + "\r\nContent-Type: application/octet-stream\r\n\r\n";
    MultipartBody body(head, &source, "\r\n--" + boundary + "--\r\n");

    Request rq;
    rq.verb = "POST";
    rq.url = url;
    rq.body = &body;
    rq.uploadBytes = item.size;
    rq.progressTotal = item.size;
    rq.fileBody = true;
    rq.headers = {{"Idempotency-Key", item.sha256},
                  {"Accept", "application/json"},
                  {"Content-Type", "multipart/form-data; boundary=" + boundary}};
    const Response resp = m_client.send(rq, &control, [&] { return source.checkUnchanged(); });
    const QString action = Tr::tr("uploading %1").arg(item.fileName);
    if (!resp.isHttpSuccess()) {
        Response shown = resp;
        shown.body = httpapi::errorText(resp.body);
        return UploadOutcome::fail(m_client.errorFor(shown, action));
    }
    if (auto e = source.checkUnchanged(); e || !source.contentVerified()) {
        // The server got a body that is not the document; the API has no standard way to take it
        // back, so say so plainly.
        RemoteError err = e ? *e : RemoteError::make(K::SourceChanged, QString());
        err.message = Tr::tr("the file changed while it was being uploaded; the server may "
                             "have kept that version (%1)")
                          .arg(rq.url.toDisplayString());
        return UploadOutcome::fail(err);
    }

    UploadReport report;
    report.storedName = name;
    report.bytesSent = item.size;
    report.alreadyPresent = resp.status == 200;
    report.location = httpapi::storedLocation(resp.body, resp.header("Location"), rq.url);
    return UploadOutcome::success(report);
}

VerifyOutcome HttpRemote::verify(const UploadItem &item, const QString &location, bool deep,
                                 UploadControl &control)
{
    VerifyReport r;
    const QUrl url(location);
    if (!url.isValid() || url.isRelative()) {
        r.detail = Tr::tr("the API gave an id (%1), not an address to check").arg(location);
        r.exists = true;
        r.sizeMatches = true;
        return VerifyOutcome::success(r);
    }
    Sha256 sha;
    qint64 got = 0;
    Request rq;
    rq.verb = deep ? "GET" : "HEAD";
    rq.url = url;
    if (deep) {
        rq.downloadBytes = item.size;
        rq.onBodyData = [&](QByteArrayView chunk) {
            sha.addData(chunk);
            got += chunk.size();
            return true;
        };
    }
    const Response resp = m_client.send(rq, &control);
    if (resp.end == Response::End::Finished && (resp.status == 404 || resp.status == 410)) {
        r.detail = Tr::tr("missing on the server: %1").arg(url.toDisplayString());
        return VerifyOutcome::success(r);
    }
    if (!resp.isHttpSuccess())
        return VerifyOutcome::fail(m_client.errorFor(resp, Tr::tr("checking %1").arg(item.fileName)));
    r.exists = true;
    bool ok = false;
    const qint64 length = resp.header("Content-Length").toLongLong(&ok);
    r.remoteSize = deep ? got : (ok ? length : -1);
    r.sizeMatches = r.remoteSize < 0 || r.remoteSize == item.size;
    if (deep) {
        r.checksumChecked = true;
        r.remoteSha256 = sha.hexResult();
        r.checksumMatches = r.remoteSha256 == item.sha256;
    }
    r.detail = !r.sizeMatches ? Tr::tr("size differs: %1 bytes on the server, %2 expected").arg(r.remoteSize).arg(item.size)
               : r.checksumChecked ? (r.checksumMatches ? Tr::tr("size and SHA-256 match") : Tr::tr("SHA-256 differs"))
                                   : Tr::tr("present");
    return VerifyOutcome::success(r);
}

Result<QString> HttpRemote::test(UploadControl &control)
{
    Request rq;
    rq.verb = "GET";
    QString base = profile().url;
    if (base.contains(QLatin1String("{collection}")))
        base = base.left(base.indexOf(QLatin1String("{collection}")));
    rq.url = QUrl(base, QUrl::TolerantMode);
    const Response resp = m_client.send(rq, &control);
    if (resp.end != Response::End::Finished || resp.status == 0 || resp.status == 401
        || resp.status == 403 || resp.status >= 500) {
        return Result<QString>::failure(m_client.errorFor(resp, Tr::tr("contacting %1").arg(rq.url.toDisplayString())).message);
    }
    return Tr::tr("API %1: reachable (HTTP %2), credentials accepted")
        .arg(rq.url.toDisplayString(), QString::number(resp.status));
}

} // namespace quire
