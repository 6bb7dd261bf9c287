#pragma once

#include "net/http.h"
#include "remotes/remote.h"

#include <functional>
#include <optional>

// How the network remotes find the name a document goes under without ever replacing a file
// (see Remote): look the name up, and when it is taken, compare what is there with the document
// (the size, the SHA-256 the server records, else the content read back). WebDAV looks with
// PROPFIND, S3 with HEAD; both read back with GET.
namespace quire {

// What is stored under one name, as a lookup tells.
struct StoredFile
{
    bool isFolder = false;
    qint64 size = -1;        // -1: the lookup did not say
    QByteArray sha256;       // hex, where the server records one; "" otherwise
};

// What a lookup (HEAD, PROPFIND) found from its answer: its error, nullopt for a 404 (the name
// is free), else stored(answer).
template <typename Answer, typename ToStored>
RemoteOutcome<std::optional<StoredFile>> foundByLookup(const RemoteOutcome<Answer> &answer, const ToStored &stored)
{
    using O = RemoteOutcome<std::optional<StoredFile>>;
    if (!answer.ok())
        return O::fail(*answer.error);
    if (answer.value.status == 404)
        return O::success(std::nullopt);
    return O::success(stored(answer.value));
}

// Whether stored is item's content: not a folder, the same size where the lookup says, and the
// same SHA-256: the one the server records, else what readBack() finds.
RemoteOutcome<bool> isSameContent(const StoredFile &stored, const UploadItem &item,
                                  const std::function<RemoteOutcome<bool>()> &readBack);

// A stored file read back with GET and hashed as it came. The transfer stops (End::CheckFailed)
// once more bytes came than the document has: then it is not the document.
struct ReadBack
{
    net::Response response;
    qint64 bytes = 0;
    QByteArray sha256;       // hex, of the bytes that came

    bool longer() const { return response.end == net::Response::End::CheckFailed; }
    bool matches(const UploadItem &item) const { return bytes == item.size && sha256 == item.sha256; }
};
// send addresses the GET it is given and sends it.
ReadBack readBack(const UploadItem &item, const std::function<net::Response(net::Request)> &send);

// What back says of the stored file `name`: whether it holds item (longer than the document: it
// does not). The request failing is errorFor's error (its action "reading back <name>"). A
// read-back cut short is a network error, since nothing can be said about the content then (and
// another name must not be taken for the document): the connection broke off after the headers
// (a body shorter than its Content-Length comes as such a failure), or fewer bytes came than
// storedSize, the size the lookup gave (-1: it did not say).
RemoteOutcome<bool> readBackVerdict(const ReadBack &back, const UploadItem &item, qint64 storedSize,
                                    const QString &name,
                                    const std::function<RemoteError(const net::Response &, const QString &action)> &errorFor);

// The name a document goes under: the n-th (collisionName: "name", "name (2).ext"...), free or
// already holding the document.
struct FreeName
{
    bool same = false;       // it holds the document already: nothing to send
    int n = 1;
};

// The first of the names from the from-th on (10,000 of them at the most) that is free or holds
// item. look(n) tells what the n-th holds (nullopt: it is free); readBack(n, stored) reads it back
// where the lookup cannot tell. tooMany: the message when every one of them holds other content.
RemoteOutcome<FreeName> findFreeName(const UploadItem &item, int from, const QString &tooMany,
                                     const std::function<RemoteOutcome<std::optional<StoredFile>>(int n)> &look,
                                     const std::function<RemoteOutcome<bool>(int n, const StoredFile &stored)> &readBack);

// Stores a document in one request that never replaces anything (If-None-Match) under the first
// of its names that is free, or finds it stored already. With lookFirst the names are looked up
// before one is written: find(from) gives the first from the from-th on that is free or holds the
// document (a Slot: FreeName and where it is); without, the server is known to answer 412 for a
// taken name, and slot (the first name) is tried at once. put(slot) stores the document there,
// or reports it found (slot.same): nullopt when the server answered 412, and the names are
// looked up from that one on.
template <typename Slot, typename Find, typename Put>
UploadOutcome putUnderFreeName(Slot slot, bool lookFirst, const Find &find, const Put &put)
{
    for (;;) {
        if (lookFirst) {
            auto found = find(slot.n);
            if (!found.ok())
                return UploadOutcome::fail(*found.error);
            slot = found.value;
        }
        if (std::optional<UploadOutcome> outcome = put(slot))
            return *outcome;
        lookFirst = true;
    }
}

// What verify() reports from a lookup alone (nullopt: nothing is stored at url): whether it is
// there, its size, and the SHA-256 the server records. Comparing the content is the caller's.
VerifyReport lookedUp(const std::optional<StoredFile> &stored, const UploadItem &item, const QUrl &url);

// A name for a small file Quire writes to try a server, and deletes again:
// ".quire-<what>-<random hex>".
QString scratchName(const QString &what);

// The 412 answers met on one name in a row, when a request that must not replace anything
// (If-None-Match, "Overwrite: F") finds the name taken: a server that answers 412 for another
// reason must not keep an upload going round.
class NameConflicts
{
public:
    // Counts a 412 on the n-th name; true when that was one too many (the third in a row).
    bool tooMany(int n);

private:
    int m_last = 0;
    int m_times = 0;
};

} // namespace quire
