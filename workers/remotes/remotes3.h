#pragma once

#include "remotes/freename.h"
#include "remotes/remote.h"
#include "remotes/remotetransport.h"
#include "net/s3xml.h"
#include "net/sigv4.h"

#include <QUrl>

#include <atomic>
#include <map>
#include <mutex>

namespace quire {

// An S3-compatible bucket (Amazon S3, MinIO, Ceph RGW, Backblaze B2, Wasabi...).
//
// Objects: <prefix><collection>/<name>, collection and name made safe as for WebDAV
// (safeFileName; "name (2).ext" when the name holds other content). Requests are signed with
// Signature Version 4 in the Authorization header (net/sigv4.h); the profile's user is the
// access key id, the secret the secret access key. The bucket is addressed as
// <bucket>.<endpoint> (virtual host) unless the profile asks for path style, the endpoint is an
// IP address or localhost, or the bucket name has a '.' over https (no certificate covers it)
// or is not a DNS name: then <endpoint>/<bucket>/.
//
// Small files (below RemoteLimits::resumeThreshold): one PUT, with
//   x-amz-content-sha256  the document's SHA-256: the server refuses a body that is not it;
//   x-amz-checksum-sha256 the same in base64 (stored with the object where supported);
//   x-amz-meta-sha256     the document's SHA-256 as user metadata (read back by verify);
//   If-None-Match: *      where the server honours it (probed once per Remote by writing a
//                         small object twice), so no name is ever replaced; elsewhere each name
//                         is looked up (HEAD) first.
// Large files: a multipart upload. Parts of RemoteLimits::segmentSize (smaller for files that
// would not keep every lane busy; never under 8 MiB; enough to stay within 10,000 parts) go over
// up to RemoteLimits::lanes connections at once. The upload's id, key and the parts the server
// confirmed are reported through UploadControl::saveResumeState (the upload job keeps them in the
// catalog: "quire-s3-1 <sha256> <size> <part size> <upload id> <key> <parts>"), so after a
// crash or kill -9 the next attempt checks the record against ListParts and sends only the
// missing parts; a record that does not match what the server lists starts the upload again
// (the old one aborted). A cancelled upload, or one that failed for good, is aborted
// (AbortMultipartUpload). CompleteMultipartUpload carries If-None-Match where honoured; the
// object is looked up (HEAD: size) afterwards.
//
// Errors are shown by their S3 Code and Message; SlowDown and other 5xx are retried by the
// upload job; RequestTimeTooSkewed says how far off this computer's clock is.
// location: the object's URL. Thread-safe.
class S3Remote final : public Remote
{
public:
    S3Remote(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits);

    UploadOutcome upload(const UploadItem &item, UploadControl &control) override;
    VerifyOutcome verify(const UploadItem &item, const QString &location, bool deep,
                         UploadControl &control) override;
    Result<QString> test(UploadControl &control) override;
    void discardPartial(const UploadItem &item, UploadControl &control) override;

    // The object key for a document stored under name (UTF-8, not encoded).
    QByteArray objectKey(const QString &collection, const QString &name) const;
    // The URL of an object (or of the bucket for an empty key), with a query.
    QUrl objectUrl(const QByteArray &key, const net::aws::QueryList &query = {}) const;
    bool pathStyle() const { return m_pathStyle; }
    // The multipart part size for a file of this size.
    qint64 partSizeFor(qint64 size) const;

private:
    enum class Precondition { Unknown, Honoured, Ignored };
    struct SlotResult : FreeName
    {
        QByteArray key;
    };
    // sha256: x-amz-meta-sha256, "" when absent.
    struct Head : StoredFile
    {
        int status = 0;          // 200, 404
    };
    struct Multipart;

    // A request for key (an empty key: the bucket itself), signed: Host and the signature
    // headers are added to rq.headers. Fails (Config) when it cannot be signed.
    std::optional<RemoteError> prepare(net::Request &rq, const QByteArray &key, const net::aws::QueryList &query,
                                       const QByteArray &payloadHash) const;
    net::Response call(net::Request rq, const QByteArray &key, const net::aws::QueryList &query,
                       const QByteArray &payloadHash, UploadControl *control,
                       const std::function<std::optional<RemoteError>()> &check = {}) const;
    // The error for an answer that is not a success, from its S3 error document where it has one.
    RemoteError errorFor(const net::Response &resp, const QString &action) const;
    RemoteError errorFromS3(const net::s3::Error &e, int status, const QString &action) const;
    // The error for an answer that is not the document expected: its <Error> document's, or a
    // Protocol error that says why it could not be read (notReadable: "%1: the server's list of
    // parts is not readable (%2)", %1 the action, %2 why).
    RemoteError unreadable(const std::optional<net::s3::Error> &error, const QString &failure, int status,
                           const QString &action, const QString &notReadable) const;

    RemoteOutcome<Head> head(const QByteArray &key, UploadControl &control) const;
    // After an upload (HEAD): nullopt when key holds item's size (where HEAD tells one); else
    // HEAD's own error, or notAll(the size HEAD told, -1 when none) for what it found.
    std::optional<RemoteError> confirmStored(const QByteArray &key, const UploadItem &item, UploadControl &control,
                                             const std::function<QString(qint64 size)> &notAll) const;
    // What key holds (HEAD), nullopt when nothing.
    RemoteOutcome<std::optional<StoredFile>> lookUp(const QByteArray &key, UploadControl &control) const;
    RemoteOutcome<bool> sameContent(const QByteArray &key, const StoredFile &stored, const UploadItem &item,
                                    UploadControl &control) const;
    // Reads key back: whether it is item's content (stored: what HEAD said of it).
    RemoteOutcome<bool> readsAs(const QByteArray &key, const StoredFile &stored, const UploadItem &item,
                                UploadControl &control) const;
    RemoteOutcome<SlotResult> findSlot(const UploadItem &item, int from, UploadControl &control) const;
    // PUT of a small text object (with If-None-Match: must not replace anything).
    net::Response putText(const QByteArray &key, const QByteArray &text, bool ifNoneMatch, UploadControl &control) const;
    void probeIfNoneMatch(UploadControl &control);
    UploadOutcome uploadSingle(const UploadItem &item, UploadControl &control);
    UploadOutcome uploadMultipart(const UploadItem &item, UploadControl &control);
    std::optional<RemoteError> resumeOrStart(Multipart &mp, const UploadItem &item, UploadControl &control);
    std::optional<RemoteError> sendParts(Multipart &mp, const UploadItem &item, UploadControl &control);
    UploadOutcome complete(Multipart &mp, const UploadItem &item, UploadControl &control);
    // Where an upload to the n-th name (key) stores item: location and stored name.
    UploadReport reportFor(const QByteArray &key, int n, const UploadItem &item) const;
    // The report of a multipart upload that is done, or found the document stored already.
    UploadOutcome stored(const Multipart &mp, const UploadItem &item, bool alreadyPresent) const;
    void abort(const QByteArray &key, const QByteArray &uploadId) const;
    void deleteQuietly(const QByteArray &key) const;

    net::Client m_client;
    net::aws::Credentials m_credentials;
    QUrl m_endpoint;
    QByteArray m_bucket;
    QByteArray m_region;
    bool m_pathStyle = true;
    std::atomic<int> m_ifNoneMatch{int(Precondition::Unknown)};
    std::mutex m_probeMutex;
};

} // namespace quire
