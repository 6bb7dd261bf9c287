#include "remotes/pieces.h"

#include <QCoreApplication>

#include <algorithm>

namespace quire {

namespace {

// The translation context of the messages below (PieceSender is no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Remote)
};

} // namespace

PieceSender::PieceSender(const UploadItem &item, UploadControl &control, qint64 doneBytes)
    : m_item(item), m_control(control), m_doneBytes(doneBytes)
{
}

PieceSender::~PieceSender() = default;

void PieceSender::reportProgress() const
{
    qint64 flying = 0;
    for (const auto &lane : m_lanes)
        flying += lane.second.bytes;
    m_control.reportProgress(m_doneBytes + flying, m_item.size);
}

std::optional<RemoteError> PieceSender::send(const net::Client &client, int lanes, QList<Piece> pieces,
                                             const Address &address, const Judge &judge)
{
    auto next = [&]() -> std::optional<net::Request> {
        m_retired.clear();
        if (pieces.isEmpty() || m_failure)
            return std::nullopt;
        const Piece piece = pieces.takeFirst();
        auto device = std::make_unique<net::SourceDevice>(m_item, /*hashContent=*/false);
        if (auto e = device->openAt(piece.offset, &m_control, piece.length)) {
            m_failure = *e;
            return std::nullopt;
        }
        net::Request rq;
        rq.tag = piece.number;
        rq.body = device.get();
        rq.fileBody = true;
        rq.uploadBytes = piece.length;
        rq.onUploadProgress = [this, number = piece.number](qint64 bytes) {
            if (const auto it = m_lanes.find(number); it != m_lanes.end())
                it->second.bytes = bytes;
            reportProgress();
        };
        if (auto e = address(rq, piece)) {
            m_failure = *e;
            return std::nullopt;
        }
        m_lanes[piece.number] = Lane{piece, std::move(device), 0};
        return rq;
    };
    auto done = [&](const net::Response &resp) {
        const auto it = m_lanes.find(resp.tag);
        if (it == m_lanes.end())
            return true;   // not a piece of this file
        const Piece piece = it->second.piece;
        std::optional<RemoteError> changed;
        if (checkEachPiece)
            changed = it->second.device->checkUnchanged();
        m_retired.push_back(std::move(it->second.device));
        m_lanes.erase(it);
        if (changed) {
            if (!m_failure)
                m_failure = changed;
            return true;
        }
        if (resp.end == net::Response::End::Abandoned)
            return false;
        if (auto e = judge(piece, resp)) {
            if (!m_failure)
                m_failure = std::move(e);
            return true;   // no new pieces; those in flight may still finish
        }
        m_doneBytes += piece.length;
        m_sent += piece.length;
        reportProgress();
        return true;
    };
    auto check = [&]() -> std::optional<RemoteError> {
        for (const auto &lane : m_lanes) {
            if (auto e = lane.second.device->checkUnchanged())
                return e;
        }
        return std::nullopt;
    };
    client.sendParallel(std::max(1, lanes), next, done, &m_control, check);
    if (m_failure)
        return m_failure;
    if (m_control.isStopped())
        return RemoteError::make(RemoteError::Kind::Stopped, Tr::tr("stopped"));
    return std::nullopt;
}

bool pieceDone(const QByteArray &bitmap, qint64 i)
{
    return i >= 0 && i / 8 < bitmap.size() && (quint8(bitmap.at(i / 8)) >> (i % 8)) & 1;
}

void setPieceDone(QByteArray &bitmap, qint64 i)
{
    if (i < 0)
        return;
    if (bitmap.size() <= i / 8)
        bitmap.resize(i / 8 + 1, '\0');
    bitmap[i / 8] = char(quint8(bitmap.at(i / 8)) | (1u << (i % 8)));
}

} // namespace quire
