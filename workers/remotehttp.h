#pragma once

#include "remote.h"
#include "remotetransport.h"

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
// {collection} is the percent-encoded collection name. Verification (quire verify): HEAD on the
// recorded location when it is a URL or an absolute path (size from Content-Length when sent);
// with deep, GET and hash it. Thread-safe.
class HttpRemote final : public Remote
{
public:
    HttpRemote(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits);

    UploadOutcome upload(const UploadItem &item, UploadControl &control) override;
    VerifyOutcome verify(const UploadItem &item, const QString &location, bool deep,
                         UploadControl &control) override;
    Result<QString> test(UploadControl &control) override;

    QUrl documentsUrl(const QString &collection) const;

private:
    net::Client m_client;
};

} // namespace quire
