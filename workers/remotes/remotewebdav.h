#pragma once

#include "remotes/freename.h"
#include "remotes/nextcloudchunks.h"
#include "remotes/remote.h"
#include "remotes/remotetransport.h"

#include <QCoreApplication>
#include <QSet>
#include <QUrl>

#include <atomic>
#include <mutex>

namespace quire {

// A WebDAV folder (Apache mod_dav, nginx + dav-ext, Nextcloud, ownCloud, ...).
//
// Layout: <url>/<collection>/<name>, every path segment percent-encoded (spaces, '#', '%', '?',
// non-ASCII and emoji are safe). The collection folder is created with MKCOL (once per Remote).
//
// Small files (below RemoteLimits::resumeThreshold, or with the "resume" option "off"):
//   1. PROPFIND the name: free, or the same content (size, then SHA-256 from the server's
//      oc:checksums, else read back and hashed) -> done, or other content -> next name
//      "name (2).ext"...
//      This lookup is skipped while the server is known to honour "If-None-Match: *" (probed
//      once per Remote when the first folder is made: a small file written twice must get
//      412 the second time): then the PUT itself tells, and a 412 leads to the lookup.
//   2. streaming PUT with "If-None-Match: *" (never replaces anything: a 412 means the name is
//      taken, and step 1 continues with it), "Digest: SHA-256=<base64>" and
//      "OC-Checksum: SHA256:<hex>" (Nextcloud/ownCloud check it and store it);
//   3. PROPFIND to confirm the stored size (and checksum where the server reports one), unless
//      the server honours "If-None-Match: *" (then its 2xx to the conditional PUT says the file
//      was created with the whole body; RemoteLimits::confirmUploads asks for it anyway).
// Large files (resumable):
//   1. as above, to find the final name (or find it already there);
//   2. the body goes to "<collection>/.quire-<sha256>.upload": created empty, then written in
//      segments (RemoteLimits::segmentSize, 64 MiB by default), one
//      "Content-Range: bytes <from>-<last>/<size>" PUT each, up to RemoteLimits::lanes (4) at
//      once on separate connections. Over http:// without a proxy each segment goes on a
//      connection of its own written from this thread (net::Request::direct; one such
//      connection keeps up with Apache on loopback); over https:// they go through Qt's
//      network access manager, which hands a body to its HTTP thread 16 KiB per thread round
//      trip, so there the lanes are what keeps a fast server busy. Whole-file PUTs from 8 MiB
//      on are sent directly too.
//      Each segment the server confirms is reported through
//      UploadControl::saveResumeState ("quire-dav-1 <sha256> <size> <segment size> <bitmap>";
//      the upload job keeps it in the catalog), so after a crash, kill -9 or a lost connection
//      the next attempt sends only the segments missing (a segment cut short is sent again
//      whole). A partial file without such a record is not trusted (parallel segments leave
//      holes): it is deleted and the upload starts over.
//   3. PROPFIND confirms the size, then MOVE to the final name with "Overwrite: F" (a 412
//      means the name was taken meanwhile: step 1 again from there).
//   Which servers resume: Apache 2.4 mod_dav_fs writes a Content-Range PUT into the existing
//   file in place (tested against Debian 12's Apache 2.4.71; an interrupted request even keeps
//   the bytes that arrived, though Quire resends the whole segment). Servers that refuse
//   Content-Range on PUT (sabre/dav in Nextcloud and ownCloud answer 400, others 501) are
//   detected, remembered for this Remote, and get a plain PUT (a restart from zero after an
//   interruption). A server that would silently ignore the header is caught by the size check
//   and also falls back. Nextcloud gets its own chunked upload instead (below).
// Large files on Nextcloud (at least RemoteLimits::chunkThreshold; chunked upload v2 of the
// Nextcloud developer manual; code in nextcloudchunks.cpp):
//   Nextcloud is recognised by the URL: <root>remote.php/dav/files/<user>/... is, and
//   <root>remote.php/webdav/... is when <root>status.php says so (asked once per Remote, when the
//   first large file is uploaded; the user is the profile's). Other URLs and servers keep the
//   Content-Range segments above.
//   1. the final name is found as for every file (or the same content found already there);
//   2. MKCOL <root>remote.php/dav/uploads/<user>/<transfer id>/ with "Destination: <final URL>"
//      (the id is "quire-" + the document's SHA-256 and its collection's, so every attempt finds
//      the same folder). An answer that says the server has no such thing (400, 403, 404, 405,
//      409, 501) is remembered for this Remote, and the file goes as to any WebDAV server;
//   3. the chunks, 00001..10000, of RemoteLimits::chunkSize (5-100 MiB; smaller to keep the
//      lanes busy, never under 5 MiB), one PUT each with "Destination" and "OC-Total-Length",
//      up to RemoteLimits::lanes at once. Each chunk the server confirms is reported through
//      UploadControl::saveResumeState ("quire-nc-1 <sha256> <size> <chunk size> <transfer id>
//      <slot> <bitmap>", nextcloud::ChunkRecord). After a crash, kill -9 or a failed attempt the
//      next one lists the folder (PROPFIND, Depth 1) and sends only the chunks that are not both
//      recorded and listed with their full size; a folder made for another name, with chunks
//      that do not fit, or gone, is deleted and the upload starts over;
//   4. MOVE <folder>/.file to the final URL with "OC-Total-Length", "OC-Checksum: SHA256:<hex>"
//      and "Overwrite: F": the server assembles the chunks there (201/204) and removes the
//      folder. A 412 means the name was taken meanwhile (the next free one is used); a 400 (the
//      assembled file's length or SHA-256 is wrong) or 404 (the folder expired) discards the
//      chunks; other errors keep them for the retry. Then the stored file is looked up.
//   Cancelling (discardPartial) deletes the upload folder.
//
// location: the full, encoded URL of the stored file. Thread-safe.
class WebDavRemote final : public Remote
{
public:
    WebDavRemote(const RemoteProfile &profile, const QString &secret, const RemoteLimits &limits);

    UploadOutcome upload(const UploadItem &item, UploadControl &control) override;
    VerifyOutcome verify(const UploadItem &item, const QString &location, bool deep,
                         UploadControl &control) override;
    Result<QString> test(UploadControl &control) override;
    void discardPartial(const UploadItem &item, UploadControl &control) override;

    // The URL an upload of (collection, name) goes to first (tests, messages).
    QUrl fileUrl(const QString &collection, const QString &name) const;
    QUrl partialUrl(const UploadItem &item) const;
    // False once a server refused or ignored Content-Range on PUT.
    bool resumeSupported() const { return !m_rangeUnsupported.load(); }
    // False once a Nextcloud URL's server refused to make an upload folder.
    bool chunkingSupported() const { return !m_chunkingUnsupported.load(); }

    struct Props
    {
        int status = 0;            // 207 (found), 404 (missing), or the error status
        bool isCollection = false;
        qint64 size = -1;
        QByteArray etag;
        QByteArray sha256;         // hex, from oc:checksums "SHA256:..." when present
    };
    // PROPFIND Depth 0. A 404 is a success with status 404.
    RemoteOutcome<Props> propfind(const QUrl &url, UploadControl &control) const;
    // Parses a multistatus body (the first response's 200 propstat).
    static std::optional<Props> parseMultistatus(const QByteArray &xml);

private:
    // Its messages' translation context (remotewebdav.cpp and nextcloudchunks.cpp): tr().
    Q_DECLARE_TR_FUNCTIONS(quire::WebDavRemote)

    struct SlotResult : FreeName
    {
        QUrl url;
    };
    // What a resumed upload reports: bytes the server had before, bytes this attempt sent.
    struct Progress
    {
        qint64 resumedFrom = 0;
        qint64 sent = 0;
    };
    RemoteOutcome<SlotResult> findSlot(const UploadItem &item, int from, UploadControl &control);
    // PROPFIND with this Depth header and body, as it is answered.
    net::Response sendPropfind(const QUrl &url, const QByteArray &depth, const QByteArray &body,
                               UploadControl &control) const;
    // What url holds (PROPFIND), nullopt when nothing.
    RemoteOutcome<std::optional<StoredFile>> lookUp(const QUrl &url, UploadControl &control) const;
    // PUT of a small text file that must not replace anything (If-None-Match).
    net::Response putNewText(const QUrl &url, const QByteArray &text, UploadControl &control) const;
    // Reads url back: whether it is item's content (stored: what PROPFIND said of it).
    RemoteOutcome<bool> readsAs(const QUrl &url, const StoredFile &stored, const UploadItem &item,
                                UploadControl &control) const;
    // The report of an upload that found the document stored already, under slot's name.
    UploadOutcome foundStored(const UploadItem &item, const SlotResult &slot, Progress progress) const;
    std::optional<RemoteError> ensureCollection(const QString &collection, UploadControl &control);
    UploadOutcome uploadDirect(const UploadItem &item, UploadControl &control);
    UploadOutcome uploadResumable(const UploadItem &item, UploadControl &control, bool &fallBack);
    // Nextcloud (nextcloudchunks.cpp): the endpoint when the remote is on Nextcloud, probing
    // status.php once where the URL alone does not tell (control may be null: not stoppable).
    std::optional<nextcloud::Endpoint> nextcloudEndpoint(UploadControl *control);
    QUrl uploadFolderUrl(const nextcloud::Endpoint &ep, const UploadItem &item) const;
    UploadOutcome uploadChunked(const UploadItem &item, UploadControl &control, const nextcloud::Endpoint &ep,
                                bool &fallBack);
    // The last step of a resumable upload (upload: the partial file, or Nextcloud's upload
    // folder): move(n) is the request that puts it under the n-th name without replacing
    // anything. A 412 means the name was taken meanwhile: the next free name is tried, or, when it
    // holds the document already, the upload is deleted. failed() gives the error for any other
    // answer that is not a success. Then the stored file is looked up (confirmStored).
    UploadOutcome moveIntoPlace(const UploadItem &item, int n, const QUrl &upload, Progress progress,
                                const std::function<net::Request(int n)> &move,
                                const std::function<RemoteError(const net::Response &)> &failed,
                                UploadControl &control);
    std::optional<RemoteError> confirmStored(const QUrl &url, const UploadItem &item,
                                             UploadControl &control);
    void deleteQuietly(const QUrl &url, UploadControl &control);
    QList<std::pair<QByteArray, QByteArray>> checksumHeaders(const UploadItem &item) const;
    QString actionText(const UploadItem &item) const;   // "uploading NAME", what upload errors start with

    net::Client m_client;
    QUrl m_base;
    enum class Precondition { Unknown, Honoured, Ignored };
    void probeIfNoneMatch(const QString &folder, UploadControl &control);

    std::atomic<int> m_ifNoneMatch{int(Precondition::Unknown)};
    std::mutex m_mkcolMutex;              // serialises folder creation (see ensureCollection)
    std::mutex m_mutex;
    QSet<QString> m_knownCollections;     // guarded by m_mutex
    std::atomic<bool> m_rangeUnsupported{false};
    enum class Detected { Unknown, Nextcloud, Other };
    std::atomic<int> m_nextcloud{int(Detected::Unknown)};   // what status.php said
    std::mutex m_probeMutex;                                 // one status.php probe at a time
    std::atomic<bool> m_chunkingUnsupported{false};
};

} // namespace quire
