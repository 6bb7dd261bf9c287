#pragma once

#include "remotes/remote.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QUrl>

#include <optional>

// Nextcloud's chunked upload v2 (Nextcloud developer manual, "Chunked file upload"), as the WebDAV
// remote uses it (remotewebdav.h; the upload itself is WebDavRemote::uploadChunked in
// nextcloudchunks.cpp). These are the parts that need no network, tested on their own.
namespace quire::nextcloud {

// Where a WebDAV remote's files and its chunked uploads live on a Nextcloud server.
struct Endpoint
{
    QUrl filesBase;      // the remote's folder as <root>remote.php/dav/files/<user>/..., ending in '/'
    QUrl uploadsRoot;    // <root>remote.php/dav/uploads/<user>/
    QUrl statusUrl;      // <root>status.php
    QString user;        // the Nextcloud user id the two paths name
    // False when the URL alone says Nextcloud (remote.php/dav/files/<user>); true when only
    // status.php can tell (remote.php/webdav, which Nextcloud, ownCloud and others all serve).
    bool needsProbe = false;
};

// The Nextcloud endpoint a remote URL (ending in '/') would have:
//   <root>remote.php/dav/files/<user>/<sub>  -> that user, no probe needed;
//   <root>remote.php/webdav/<sub>            -> profileUser (empty: none), confirmed by status.php;
//   anything else                            -> none (where its uploads folder is cannot be told).
std::optional<Endpoint> endpointFor(const QUrl &base, const QString &profileUser);

// Whether a status.php answer (JSON: installed, version, productname...) is a Nextcloud that is
// installed. Branded Nextclouds change productname, so anything with "installed": true and a
// version counts, except the two other servers that answer status.php: ownCloud (whose uploads
// folder does not follow v2) and ownCloud Infinite Scale (which has none).
bool isNextcloudStatus(const QByteArray &json);

// Chunk names: 1..10000, five digits with leading zeros ("00001"), so they sort as numbers even
// where a server sorts them as text.
constexpr int kMaxChunks = 10'000;
constexpr qint64 kMinChunkSize = 5LL * 1024 * 1024;         // the protocol's minimum (but the last)
constexpr qint64 kMaxChunkSize = 5LL * 1024 * 1024 * 1024;  // the protocol's maximum
constexpr qint64 kMaxConfiguredChunkSize = 100LL * 1024 * 1024;
QByteArray chunkName(int number);

// The chunk size for a file: `configured` clamped to 5-100 MiB, smaller for a file that would
// otherwise not keep `lanes` connections busy (never under 5 MiB), larger when the file would
// need more than 10,000 chunks.
qint64 chunkSizeFor(qint64 fileSize, qint64 configured, int lanes);
inline int chunkCount(qint64 fileSize, qint64 chunkSize)
{
    return chunkSize > 0 ? int((fileSize + chunkSize - 1) / chunkSize) : 0;
}

// The upload folder's name: "quire-" + the first 40 hex digits of the document's SHA-256 + '-' +
// 8 hex digits of the collection folder's: the same on every attempt and in every process, so a
// later attempt finds the folder an interrupted one left; different for the same content bound
// for two collections.
QString transferId(const UploadItem &item);

// The resume record of a chunked upload, kept by the catalog between attempts:
//   "quire-nc-1 <sha256> <size> <chunk size> <transfer id> <slot> <bitmap>"
// <slot> is the collision number of the name the upload folder was made for ("name (2).ext"
// is 2), <bitmap> the chunks the server confirmed (bit i of byte i / 8 for chunk i + 1, hex;
// "-" for none).
struct ChunkRecord
{
    QByteArray sha256;
    qint64 size = 0;
    qint64 chunkSize = 0;
    QString transferId;
    int slot = 1;
    QByteArray done;   // bitmap

    bool isDone(int index) const;   // index: 0-based (chunk index + 1)
    void setDone(int index);
    int doneCount() const;
    QByteArray encode() const;
    // The record in text if it is one for item (same SHA-256, size and transfer id, a chunk size
    // the protocol allows); nullopt otherwise.
    static std::optional<ChunkRecord> decode(const QByteArray &text, const UploadItem &item);
};

// One entry of the upload folder's PROPFIND (Depth 1) listing.
struct ListedChunk
{
    int number = 0;      // 1..10000
    qint64 size = -1;    // getcontentlength; -1 when not reported
};
struct Listing
{
    bool folderFound = false;      // the folder itself was among the responses
    QList<ListedChunk> chunks;     // numeric names only, each once
    int ignored = 0;               // other entries (".file", ".target", names out of range)
};
// Parses a Depth 1 multistatus of the folder at folderPath (the URL's path, percent-encoded,
// ending in '/'). Entries whose href is not the folder or a direct child of it, or whose name
// is not a number of 1..10000 written with digits only, are ignored (counted); a chunk listed
// twice or with a negative size makes the whole listing unusable (nullopt), as does XML that
// does not parse.
std::optional<Listing> parseListing(const QByteArray &xml, const QByteArray &folderPath);

} // namespace quire::nextcloud
