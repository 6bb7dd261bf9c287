#pragma once

#include "jobs/result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QList>
#include <QMap>
#include <QString>

#include <optional>

// The XML documents of S3's multipart upload API and its errors: parsers for the answers and a
// builder for the CompleteMultipartUpload request body. Pure functions: no I/O, no shared
// state; callable from any thread.
//
// The parsers match elements by local name whatever their namespace (AWS sends
// xmlns="http://s3.amazonaws.com/doc/2006-03-01/", some S3-compatible servers none), skip
// elements they do not know (Initiator, Owner, StorageClass, LastModified...), and are bounded:
// a body over kMaxDocumentBytes, a list over kMaxListEntries entries, malformed or truncated XML
// and any DOCTYPE (S3 never sends one; refusing it leaves no entity to expand) are failures,
// never a crash or a partial result. White space before the document is skipped: S3 sends
// some while it assembles a CompleteMultipartUpload before the XML itself.
namespace quire::net::s3 {

inline constexpr qsizetype kMaxDocumentBytes = 4 * 1024 * 1024;
inline constexpr int kMaxListEntries = 10000;
// An Error's other child elements kept in Error::fields, and the length each value is cut to.
inline constexpr int kMaxErrorFields = 32;
inline constexpr int kMaxErrorFieldChars = 2048;

// An <Error> document: what S3 answers to a failed request (any status, and sometimes 200 to
// CompleteMultipartUpload). Text as sent; describeError() makes it fit for a person.
struct Error
{
    QString code;            // "NoSuchBucket", "SlowDown", "RequestTimeTooSkewed"...
    QString message;
    QString requestId;
    QString resource;
    QString bucketName;
    QString key;
    // RequestTimeTooSkewed: the request's time as S3 read it ("20150604T232559Z" or an HTTP
    // date), the server's ("2015-06-04T22:26:16Z"), and the skew it tolerates (-1: not sent).
    QString requestTime;
    QString serverTime;
    qint64 maxAllowedSkewMs = -1;
    // Every other child element with its text (HostId, Region, Endpoint, CanonicalRequest...):
    // at most kMaxErrorFields, each value cut to kMaxErrorFieldChars.
    QMap<QString, QString> fields;
};

struct InitiateMultipartUploadResult
{
    QString bucket;
    QString key;
    QString uploadId;        // never empty in a parsed result
};

struct Part
{
    int partNumber = 0;      // 1..10000
    QString etag;            // as sent, quotes included: "\"7778aef83f66abc1fa1e8477f296d394\""
    qint64 size = -1;
    QString checksumSha256;  // base64, "" when not sent
};

struct ListPartsResult
{
    QList<Part> parts;                 // in document order
    bool isTruncated = false;
    int nextPartNumberMarker = 0;      // the part-number-marker of the next page; > 0 when truncated
    QString uploadId;
};

struct MultipartUpload
{
    QString key;
    QString uploadId;
    QDateTime initiated;     // UTC; invalid when absent or unreadable
};

struct ListMultipartUploadsResult
{
    QList<MultipartUpload> uploads;
    bool isTruncated = false;
    QString nextKeyMarker;             // non-empty when truncated
    QString nextUploadIdMarker;
};

struct CompleteMultipartUploadResult
{
    QString location;
    QString bucket;
    QString key;
    QString etag;            // as sent, quotes included ("...-9" for 9 parts)
};

// What a parser read: the expected document (value), or an <Error> document instead (error),
// or neither (failure says why, for a developer: "not XML: ...", "larger than 4 MiB"...).
// Exactly one of the three is set.
template <typename T>
struct Parsed
{
    std::optional<T> value;
    std::optional<Error> error;
    QString failure;

    bool ok() const { return value.has_value(); }
};

// An <Error> body (any HTTP status). Fails when the body is not an S3 error document (an HTML
// page from a proxy, empty, malformed...): then the caller falls back on the HTTP status.
Result<Error> parseError(QByteArrayView body);

// The answers to CreateMultipartUpload (POST ?uploads), ListParts (GET ?uploadId=),
// ListMultipartUploads (GET ?uploads) and CompleteMultipartUpload (POST ?uploadId=).
// A 200 whose body is an <Error> gives Parsed::error: for CompleteMultipartUpload that is how S3
// reports a failure it met after it had sent the status line (e.g. InternalError: retry).
// Checked: an UploadId in InitiateMultipartUploadResult; every Part has a PartNumber in
// 1..10000, an ETag and a Size >= 0; every Upload a Key and an UploadId; IsTruncated is true or
// false; a truncated list says where the next page starts (NextPartNumberMarker > 0,
// NextKeyMarker) - otherwise a caller would page forever.
Parsed<InitiateMultipartUploadResult> parseInitiateMultipartUpload(QByteArrayView body);
Parsed<ListPartsResult> parseListParts(QByteArrayView body);
Parsed<ListMultipartUploadsResult> parseListMultipartUploads(QByteArrayView body);
Parsed<CompleteMultipartUploadResult> parseCompleteMultipartUpload(QByteArrayView body);

struct CompletedPart
{
    int partNumber = 0;      // 1..10000
    QString etag;            // as UploadPart answered it, quotes included
    QString checksumSha256;  // base64; "" to leave out
};

// The CompleteMultipartUpload request body (UTF-8, no XML declaration):
//   <CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part>
//   <PartNumber>1</PartNumber><ETag>"..."</ETag>[<ChecksumSHA256>...</ChecksumSHA256>]</Part>...
//   </CompleteMultipartUpload>
// Parts are written in ascending part number order (S3 requires it) whatever the order given;
// & < > are escaped. Fails on no parts, more than 10,000, a part number outside 1..10000 or
// given twice, an empty ETag, or a character XML 1.0 cannot carry (control characters).
Result<QByteArray> completeMultipartUploadBody(const QList<CompletedPart> &parts);

// How far this computer's clock is from S3's, in seconds, from a RequestTimeTooSkewed error's
// RequestTime and ServerTime (positive: this computer is ahead). nullopt when either is missing
// or unreadable.
std::optional<qint64> clockSkewSeconds(const Error &error);

// A message for a person, one line of plain text:
//   "S3 NoSuchBucket: The specified bucket does not exist (bucket photos)"
//   "S3 RequestTimeTooSkewed: this computer's clock is off by 943 s (behind the server; at most 900 s allowed)"
// The server's words are stripped of control and formatting characters and cut (message at 300
// characters, names at 200). Without a Code: "S3 error (HTTP <status>)" and the message if any.
QString describeError(const Error &error, int httpStatus);

} // namespace quire::net::s3
