#pragma once

#include "net/http.h"
#include "remotes/remote.h"
#include "remotes/remotetransport.h"

#include <QList>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace quire {

// One file sent in pieces over up to `lanes` connections at once: WebDAV's Content-Range
// segments, Nextcloud's chunks, S3's multipart parts. Each piece goes in a request of its own,
// with its own view of the source file (net::SourceDevice). The sender reports the progress of
// the pieces in flight, checks the source every 300 ms while they go, and hands out no new piece
// after the first failure (the pieces in flight may still finish, and need not be sent again).
// Used on one thread, for one file.
class PieceSender final
{
public:
    struct Piece
    {
        qint64 number = 0;   // the protocol's: segment or chunk index, part number (Request::tag)
        qint64 offset = 0;   // in the file
        qint64 length = 0;
    };
    // Addresses a piece's request (verb, URL, headers; its body is set), or says why it cannot go.
    using Address = std::function<std::optional<RemoteError>(net::Request &rq, const Piece &piece)>;
    // Judges the answer for a piece (an abandoned one never comes here): nullopt when the server
    // has the piece for good (the caller records it), otherwise the error.
    using Judge = std::function<std::optional<RemoteError>(const Piece &piece, const net::Response &resp)>;

    // doneBytes: what the server has already (a resumed upload), for the progress.
    PieceSender(const UploadItem &item, UploadControl &control, qint64 doneBytes);
    ~PieceSender();
    Q_DISABLE_COPY_MOVE(PieceSender)

    // Also check a piece's source when its answer comes, before the piece counts as sent: the
    // periodic check runs only every 300 ms, so the server may have bytes of a file that changed
    // since the last one.
    bool checkEachPiece = false;

    // Sends the pieces in this order. Returns the first failure, a Stopped error when the control
    // stopped it, nullopt when the server has every piece.
    std::optional<RemoteError> send(const net::Client &client, int lanes, QList<Piece> pieces,
                                    const Address &address, const Judge &judge);

    // Whether a failure is known already (a Judge's error is kept only when it is the first).
    bool failed() const { return m_failure.has_value(); }
    // Body bytes of the pieces the server confirmed.
    qint64 sent() const { return m_sent; }

private:
    struct Lane
    {
        Piece piece;
        std::unique_ptr<net::SourceDevice> device;
        qint64 bytes = 0;    // sent so far
    };
    void reportProgress() const;

    const UploadItem &m_item;
    UploadControl &m_control;
    qint64 m_doneBytes = 0;
    qint64 m_sent = 0;
    std::optional<RemoteError> m_failure;
    std::map<qint64, Lane> m_lanes;   // the pieces in flight, by number
    // A finished piece's device lives until its request is gone (the next piece handed out).
    std::vector<std::unique_ptr<net::SourceDevice>> m_retired;
};

// The pieces a resume record lists as stored: a bitmap, bit i % 8 of byte i / 8 for piece i.
bool pieceDone(const QByteArray &bitmap, qint64 i);
void setPieceDone(QByteArray &bitmap, qint64 i);

} // namespace quire
