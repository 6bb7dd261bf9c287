#include "net/sigv4.h"

#include "hashing/hasher.h"

#include <QCoreApplication>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace quire::net::aws {

namespace {

// The translation context of the messages below (the signer is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::SigV4)
};

constexpr char kAlgorithm[] = "AWS4-HMAC-SHA256";

// A pointer OpenSSL accepts for an empty input (QByteArrayView() has a null data()).
const unsigned char *bytesOf(QByteArrayView v)
{
    static const unsigned char empty = 0;
    return v.isEmpty() ? &empty : reinterpret_cast<const unsigned char *>(v.data());
}

bool isUnreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
           || c == '_' || c == '~';
}

// RFC 9110 token characters (method and header names).
bool isTokenChar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return QByteArrayView("!#$%&'*+-.^_`|~").contains(char(c));
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTokenChar(static_cast<unsigned char>(c)))
            return false;
    }
    return true;
}

bool hasControl(QByteArrayView s, bool allowTab)
{
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c < 0x20 && !(allowTab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

// Access key ids, regions and services go into the Credential: visible ASCII but '/' and ','.
bool isScopePart(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == ',')
            return false;
    }
    return true;
}

bool isPayloadHash(QByteArrayView h)
{
    if (h == QByteArrayView(kUnsignedPayload))
        return true;
    if (h.size() != 64)
        return false;
    for (char c : h) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

// Leading and trailing spaces and tabs removed, inner runs of them made one space.
QByteArray canonicalValue(QByteArrayView value)
{
    QByteArray out;
    out.reserve(value.size());
    bool pendingSpace = false;
    for (char c : value) {
        if (c == ' ' || c == '\t') {
            pendingSpace = !out.isEmpty();
            continue;
        }
        if (pendingSpace)
            out.append(' ');
        pendingSpace = false;
        out.append(c);
    }
    return out;
}

// RFC 3986 5.2.4 remove_dot_segments, with empty segments ("//") dropped too; keeps a trailing '/'.
QByteArray normalizedPath(QByteArrayView path)
{
    QList<QByteArrayView> kept;
    bool trailingSlash = false;
    qsizetype start = 0;
    while (start <= path.size()) {
        qsizetype end = path.indexOf('/', start);
        if (end < 0)
            end = path.size();
        const QByteArrayView segment = path.sliced(start, end - start);
        const bool last = end == path.size();
        if (segment == "..") {
            if (!kept.isEmpty())
                kept.removeLast();
            trailingSlash = last;
        } else if (segment == ".") {
            trailingSlash = last;
        } else if (segment.isEmpty()) {
            trailingSlash = last;
        } else {
            kept.append(segment);
            trailingSlash = false;
        }
        start = end + 1;
    }
    QByteArray out;
    for (const QByteArrayView &segment : kept) {
        out.append('/');
        out.append(segment);
    }
    if (out.isEmpty() || trailingSlash)
        out.append('/');
    return out;
}

QByteArray yyyymmdd(const QDateTime &utc)
{
    const QDate d = utc.date();
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", d.year(), d.month(), d.day());
    return QByteArray(buf);
}

QByteArray credentialScope(const QDateTime &time, QByteArrayView region, QByteArrayView service)
{
    QByteArray scope = yyyymmdd(time.toUTC());
    scope.append('/').append(region).append('/').append(service).append("/aws4_request");
    return scope;
}

struct Canonical
{
    QByteArray request;
    QByteArray signedHeaders;
};

Result<Canonical> buildCanonical(const SigningRequest &rq, const Credentials &credentials)
{
    using R = Result<Canonical>;
    if (!isToken(rq.method))
        return R::failure(Tr::tr("SigV4: the method is empty or not an HTTP token"));
    if (!rq.path.startsWith('/'))
        return R::failure(Tr::tr("SigV4: the path does not start with '/'"));
    if (!isPayloadHash(rq.payloadHash))
        return R::failure(Tr::tr("SigV4: the payload hash is neither lower-case hex SHA-256 nor UNSIGNED-PAYLOAD"));
    if (!rq.time.isValid() || rq.time.toUTC().date().year() < 1 || rq.time.toUTC().date().year() > 9999)
        return R::failure(Tr::tr("SigV4: no valid signing time"));
    if (!isScopePart(rq.region) || !isScopePart(rq.service))
        return R::failure(Tr::tr("SigV4: the region or service is empty or contains '/', ',', white space or control characters"));
    if (hasControl(credentials.sessionToken, false))
        return R::failure(Tr::tr("SigV4: the session token contains control characters"));

    const bool s3 = rq.pathStyle == PathStyle::S3;
    // Lower-case name -> values in the order given; std::map sorts by name, byte by byte.
    std::map<QByteArray, QList<QByteArray>> headers;
    int hosts = 0;
    for (const auto &[name, value] : rq.headers) {
        if (!isToken(name))
            return R::failure(Tr::tr("SigV4: header name \"%1\" is not an HTTP token")
                                  .arg(QString::fromLatin1(name.left(64).toPercentEncoding())));
        if (hasControl(value, true))
            return R::failure(Tr::tr("SigV4: the value of header %1 contains CR, LF or another control character")
                                  .arg(QString::fromLatin1(name)));
        const QByteArray lower = name.toLower();
        if (lower == "authorization" || lower == "x-amz-date" || lower == "x-amz-security-token"
            || (s3 && lower == "x-amz-content-sha256"))
            return R::failure(Tr::tr("SigV4: header %1 is set by the signer").arg(QString::fromLatin1(name)));
        if (lower == "host")
            ++hosts;
        headers[lower].append(canonicalValue(value));
    }
    if (hosts != 1)
        return R::failure(hosts == 0 ? Tr::tr("SigV4: no Host header")
                                     : Tr::tr("SigV4: more than one Host header"));
    headers["x-amz-date"].append(amzDate(rq.time));
    if (s3)
        headers["x-amz-content-sha256"].append(rq.payloadHash);
    if (!credentials.sessionToken.isEmpty())
        headers["x-amz-security-token"].append(canonicalValue(credentials.sessionToken));

    Canonical c;
    c.request.reserve(512);
    c.request.append(rq.method).append('\n');
    c.request.append(canonicalUri(rq.path, rq.pathStyle)).append('\n');
    c.request.append(canonicalQuery(rq.query)).append('\n');
    for (const auto &[name, values] : headers) {
        c.request.append(name).append(':').append(values.join(',')).append('\n');
        if (!c.signedHeaders.isEmpty())
            c.signedHeaders.append(';');
        c.signedHeaders.append(name);
    }
    c.request.append('\n').append(c.signedHeaders).append('\n').append(rq.payloadHash);
    return c;
}

} // namespace

QByteArray uriEncode(QByteArrayView bytes, bool encodeSlash)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    QByteArray out;
    out.reserve(bytes.size() * 3);
    for (char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        if (isUnreserved(c) || (c == '/' && !encodeSlash)) {
            out.append(ch);
        } else {
            out.append('%');
            out.append(kHex[c >> 4]);
            out.append(kHex[c & 0xf]);
        }
    }
    return out;
}

QByteArray canonicalUri(QByteArrayView path, PathStyle style)
{
    if (path.isEmpty())
        return QByteArrayLiteral("/");
    if (style == PathStyle::S3)
        return uriEncode(path, false);
    return uriEncode(normalizedPath(path), false);
}

QByteArray canonicalQuery(const QueryList &query)
{
    QList<std::pair<QByteArray, QByteArray>> encoded;
    encoded.reserve(query.size());
    for (const auto &[name, value] : query)
        encoded.append({uriEncode(name, true), uriEncode(value, true)});
    std::sort(encoded.begin(), encoded.end());
    QByteArray out;
    for (const auto &[name, value] : encoded) {
        if (!out.isEmpty())
            out.append('&');
        out.append(name).append('=').append(value);
    }
    return out;
}

QByteArray amzDate(const QDateTime &time)
{
    const QDateTime utc = time.toUTC();
    const QTime t = utc.time();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%sT%02d%02d%02dZ", yyyymmdd(utc).constData(), t.hour(), t.minute(),
                  t.second());
    return QByteArray(buf);
}

QByteArray hmacSha256(QByteArrayView key, QByteArrayView data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), bytesOf(key), int(key.size()), bytesOf(data), size_t(data.size()), md, &len))
        return {};
    return QByteArray(reinterpret_cast<const char *>(md), int(len));
}

QByteArray signingKey(QByteArrayView secretAccessKey, QByteArrayView yyyymmddDate, QByteArrayView region,
                      QByteArrayView service)
{
    const QByteArray kSecret = QByteArrayLiteral("AWS4").append(secretAccessKey);
    const QByteArray kDate = hmacSha256(kSecret, yyyymmddDate);
    const QByteArray kRegion = hmacSha256(kDate, region);
    const QByteArray kService = hmacSha256(kRegion, service);
    return hmacSha256(kService, "aws4_request");
}

Result<QByteArray> canonicalRequest(const SigningRequest &request, const Credentials &credentials)
{
    Result<Canonical> c = buildCanonical(request, credentials);
    if (!c)
        return Result<QByteArray>::failure(c.error());
    return std::move(c->request);
}

QByteArray stringToSign(QByteArrayView canonicalRequest, const QDateTime &time, QByteArrayView region,
                        QByteArrayView service)
{
    QByteArray sts = kAlgorithm;
    sts.append('\n').append(amzDate(time)).append('\n');
    sts.append(credentialScope(time, region, service)).append('\n');
    sts.append(Hasher::hashBytes(canonicalRequest));
    return sts;
}

Result<Signature> sign(const SigningRequest &request, const Credentials &credentials)
{
    using R = Result<Signature>;
    if (!isScopePart(credentials.accessKeyId))
        return R::failure(Tr::tr("SigV4: the access key id is empty or contains '/', ',', white space or control characters"));
    if (credentials.secretAccessKey.isEmpty())
        return R::failure(Tr::tr("SigV4: no secret access key"));
    const Result<Canonical> c = buildCanonical(request, credentials);
    if (!c)
        return R::failure(c.error());

    const QByteArray date = amzDate(request.time);
    const QByteArray sts = stringToSign(c->request, request.time, request.region, request.service);
    const QByteArray key =
        signingKey(credentials.secretAccessKey, date.left(8), request.region, request.service);
    Signature s;
    s.signedHeaders = c->signedHeaders;
    s.signature = hmacSha256(key, sts).toHex();
    if (s.signature.size() != 64)
        return R::failure(Tr::tr("SigV4: HMAC-SHA256 failed"));

    QByteArray authorization = kAlgorithm;
    authorization.append(" Credential=").append(credentials.accessKeyId).append('/');
    authorization.append(credentialScope(request.time, request.region, request.service));
    authorization.append(", SignedHeaders=").append(s.signedHeaders);
    authorization.append(", Signature=").append(s.signature);

    s.headers.append({QByteArrayLiteral("X-Amz-Date"), date});
    if (request.pathStyle == PathStyle::S3)
        s.headers.append({QByteArrayLiteral("x-amz-content-sha256"), request.payloadHash});
    if (!credentials.sessionToken.isEmpty())
        s.headers.append({QByteArrayLiteral("X-Amz-Security-Token"), credentials.sessionToken});
    s.headers.append({QByteArrayLiteral("Authorization"), authorization});
    return s;
}

} // namespace quire::net::aws
