#pragma once

#include "remotes/remote.h"
#include "remotes/remotetransport.h"

namespace quire {

// An HTTP "collections API". The contract Quire expects from the server:
//
//   POST {base}/collections/{collection}/documents       (or the profile's URL template)
//   Content-Type: multipart/form-data with the fields
//     name    the document's file name (UTF-8)
//     sha256  64 lowercase hex digits
//     size    the size in bytes
//     file    the content (filename="<name>", application/octet-stream), streamed
//   Idempotency-Key: <sha256>
//   -> 201 Created (or 200 OK when the collection already has a document with this SHA-256:
//      uploading the same content twice must not create a second document), with a JSON body
//      {"id": ..., "location": "..."} and/or a Location header. Quire records "location", else
//      the Location header, else "id".
//   Errors: any 4xx/5xx; the text of the body is shown to the person (JSON "error"/"message"
//   fields are preferred when present).
//
// {collection} is the collection name percent-encoded as one path segment: every byte outside
// the unreserved characters is escaped, so a name with '/', '?', '#' or '%' stays one segment;
// "", "." and ".." are refused (documentsUrl() gives an empty URL for them).
// Verification (quire verify): HEAD on the recorded location when it is a URL or an absolute
// path (size from Content-Length when sent); with deep, GET and hash it. Thread-safe.
class HttpRemote final : public Remote
{
public:
    HttpRemote(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits);

    UploadOutcome upload(const UploadItem &item, UploadControl &control) override;
    VerifyOutcome verify(const UploadItem &item, const QString &location, bool deep,
                         UploadControl &control) override;
    Result<QString> test(UploadControl &control) override;

    // Where documents of `collection` are POSTed; empty for "", "." and "..".
    QUrl documentsUrl(const QString &collection) const;

private:
    net::Client m_client;
};

// The parts of the API's answers Quire reads (pure functions: no I/O, any thread).
namespace httpapi {

// The text of an error body for a person: its JSON "error", "message" or "detail" (the first of
// them that is a string), else the body as it is.
QByteArray errorText(const QByteArray &body);

// Where a 2xx answer says the document is: the JSON body's "location" when it is a string, else
// the Location header, else the body's "id" as text (number or string); "" when none is given.
// A location starting with '/' is resolved against documentsUrl (RFC 9110 10.2.2) into a fully
// encoded URL.
QString storedLocation(const QByteArray &body, const QByteArray &locationHeader, const QUrl &documentsUrl);

} // namespace httpapi

} // namespace quire
