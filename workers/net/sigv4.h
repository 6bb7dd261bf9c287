#pragma once

#include "jobs/result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QList>

#include <utility>

// AWS Signature Version 4, header-based (the Authorization header), for S3 and S3-compatible
// servers. Pure functions: no I/O, no shared state; callable from any thread.
//
// What is signed: the method, the canonical URI, the canonical query string, the headers the
// caller passes (all of them: pass exactly the headers that will be sent, Host included, and
// nothing that will not be sent) plus the ones sign() adds (X-Amz-Date; for S3
// x-amz-content-sha256; with a session token X-Amz-Security-Token), and the payload hash.
// This is what the AWS SDKs and curl's --aws-sigv4 do for S3.
//
// Checked against AWS's published SigV4 test suite and the S3 API reference examples
// (tests/workers/net/tst_s3sign.cpp).
namespace quire::net::aws {

using HeaderList = QList<std::pair<QByteArray, QByteArray>>;
using QueryList = QList<std::pair<QByteArray, QByteArray>>;

// The payload hash for a body that is not hashed (S3 only; the body then travels unsigned,
// which is fine over TLS).
inline constexpr char kUnsignedPayload[] = "UNSIGNED-PAYLOAD";
// Hasher::hashBytes("") - the payload hash of a request without a body.
inline constexpr char kEmptyPayloadHash[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// How the request's path becomes the canonical URI.
enum class PathStyle {
    // Amazon S3 and S3-compatible servers: SigningRequest::path is the decoded path
    // ("/bucket/my file$.txt", UTF-8); every byte outside A-Z a-z 0-9 - . _ ~ is
    // percent-encoded once, '/' kept; no normalization ("a//b/./c" stays as it is: those are
    // distinct keys). The URL sent must carry exactly canonicalUri(path, S3).
    S3,
    // Every other AWS service (and AWS's generic SigV4 test suite): SigningRequest::path is the
    // path as it appears in the request line (for a real request, already percent-encoded
    // once). It is normalized (RFC 3986 dot segments removed, repeated '/' merged, a trailing
    // '/' kept) and then percent-encoded again - AWS's "double encoding": a decoded "a b" sent as
    // "a%20b" is signed as "a%2520b".
    Generic,
};

struct Credentials
{
    QByteArray accessKeyId;       // AKIA...; no '/', ',', white space or control characters
    QByteArray secretAccessKey;   // never leaves this process; not in any result
    QByteArray sessionToken;      // temporary credentials (STS): sent as X-Amz-Security-Token; "" when none
};

struct SigningRequest
{
    QByteArray method = "GET";   // as sent, e.g. "PUT"
    QByteArray path = "/";       // starts with '/'; see PathStyle
    // Decoded query parameters (UTF-8 bytes), in any order; a parameter without value ("?uploads")
    // has an empty value and is signed as "uploads=". Send them as canonicalQuery(query).
    QueryList query;
    // Every header that is sent and signed: names in any case, values as sent (they are trimmed
    // and inner runs of spaces collapsed for signing). "Host" is required: host[:port] exactly
    // as sent, without a default port. A name given more than once is signed as one header with
    // the values joined by ',' in the order given. Not allowed here (sign() sets them):
    // Authorization, X-Amz-Date, X-Amz-Security-Token, and for S3 x-amz-content-sha256.
    HeaderList headers;
    // Lower-case hex SHA-256 of the body (Hasher::hashBytes(body); kEmptyPayloadHash without a body),
    // or kUnsignedPayload.
    QByteArray payloadHash = kEmptyPayloadHash;
    QDateTime time;              // when the request is signed; converted to UTC
    QByteArray region;           // "us-east-1"; S3-compatible servers often accept any
    QByteArray service = "s3";
    PathStyle pathStyle = PathStyle::S3;
};

// What sign() gives: the headers to add to the request, in this order: X-Amz-Date,
// x-amz-content-sha256 (S3 only), X-Amz-Security-Token (with a session token), Authorization.
struct Signature
{
    HeaderList headers;
    QByteArray signedHeaders;    // "host;range;x-amz-content-sha256;x-amz-date"
    QByteArray signature;        // 64 lower-case hex digits
};

// Percent-encodes per AWS's UriEncode(): A-Z a-z 0-9 - . _ ~ are kept, every other byte becomes
// %XX with upper-case hex; '/' is kept when encodeSlash is false.
QByteArray uriEncode(QByteArrayView bytes, bool encodeSlash);

// The canonical URI of a path (see PathStyle). "" becomes "/".
QByteArray canonicalUri(QByteArrayView path, PathStyle style);

// The canonical query string: names and values uriEncode()d ('/' encoded too), sorted by
// encoded name then encoded value, "name=value" joined by '&'. Also the query string to send.
QByteArray canonicalQuery(const QueryList &query);

// "20150830T123600Z" (ISO 8601 basic format, UTC).
QByteArray amzDate(const QDateTime &time);

// Raw HMAC-SHA256 (32 bytes). (A plain SHA-256: Hasher::hashBytes().)
QByteArray hmacSha256(QByteArrayView key, QByteArrayView data);

// The signing key: HMAC chain over "AWS4" + secret, the date (yyyymmdd), region, service and
// "aws4_request". Raw 32 bytes.
QByteArray signingKey(QByteArrayView secretAccessKey, QByteArrayView yyyymmdd, QByteArrayView region,
                      QByteArrayView service);

// The canonical request, with the headers sign() adds already in it. Fails (a message for a
// developer, nothing sent) on: a header name that is not an HTTP token, a header value with CR,
// LF or another control character but tab, a missing or repeated Host, a header sign() sets, an
// empty or non-token method, a path not starting with '/', a payload hash that is neither 64
// lower-case hex digits nor UNSIGNED-PAYLOAD, an invalid time, an empty or malformed region or
// service, or a session token with control characters.
Result<QByteArray> canonicalRequest(const SigningRequest &request, const Credentials &credentials);

// "AWS4-HMAC-SHA256\n<amzDate>\n<yyyymmdd>/<region>/<service>/aws4_request\n<SHA-256 of canonical, hex>".
QByteArray stringToSign(QByteArrayView canonicalRequest, const QDateTime &time, QByteArrayView region,
                        QByteArrayView service);

// Signs the request: the headers to add (see Signature). Fails as canonicalRequest() does, and on
// an empty or malformed access key id or an empty secret.
Result<Signature> sign(const SigningRequest &request, const Credentials &credentials);

} // namespace quire::net::aws
