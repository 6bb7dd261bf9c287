#include "remotes/freename.h"

#include "hashing/hasher.h"

#include <QCoreApplication>
#include <QRandomGenerator>

#include <algorithm>

namespace quire {

namespace {

// The translation context of the messages below (the remotes' helpers are no QObject).
struct Tr
{
    Q_DECLARE_TR_FUNCTIONS(quire::Remote)
};

} // namespace

RemoteOutcome<bool> isSameContent(const StoredFile &stored, const UploadItem &item,
                                  const std::function<RemoteOutcome<bool>()> &readBack)
{
    using O = RemoteOutcome<bool>;
    if (stored.isFolder || (stored.size >= 0 && stored.size != item.size))
        return O::success(false);
    if (!stored.sha256.isEmpty())
        return O::success(stored.sha256 == item.sha256);
    return readBack();
}

ReadBack readBack(const UploadItem &item, const std::function<net::Response(net::Request)> &send)
{
    ReadBack out;
    Sha256 sha;
    net::Request rq;
    rq.verb = "GET";
    rq.downloadBytes = item.size;
    rq.onBodyData = [&](QByteArrayView chunk) {
        sha.addData(chunk);
        out.bytes += chunk.size();
        return out.bytes <= item.size;
    };
    out.response = send(std::move(rq));
    out.sha256 = sha.hexResult();
    return out;
}

RemoteOutcome<bool> readBackVerdict(const ReadBack &back, const UploadItem &item, qint64 storedSize,
                                    const QString &name,
                                    const std::function<RemoteError(const net::Response &, const QString &action)> &errorFor)
{
    using O = RemoteOutcome<bool>;
    if (back.longer())
        return O::success(false);
    if (!back.response.isHttpSuccess())
        return O::fail(errorFor(back.response, Tr::tr("reading back %1").arg(name)));
    if (back.response.failure != net::Response::Failure::None || (storedSize >= 0 && back.bytes != storedSize)) {
        return O::fail(RemoteError::make(RemoteError::Kind::Network,
                                         Tr::tr("reading back %1: the connection broke off after %2 bytes")
                                             .arg(name, QString::number(back.bytes))));
    }
    return O::success(back.matches(item));
}

RemoteOutcome<FreeName> findFreeName(const UploadItem &item, int from, const QString &tooMany,
                                     const std::function<RemoteOutcome<std::optional<StoredFile>>(int n)> &look,
                                     const std::function<RemoteOutcome<bool>(int n, const StoredFile &stored)> &readBack)
{
    using O = RemoteOutcome<FreeName>;
    for (int n = std::max(1, from); n < from + 10'000; ++n) {
        const auto stored = look(n);
        if (!stored.ok())
            return O::fail(*stored.error);
        if (!stored.value)
            return O::success({false, n});
        const auto same = isSameContent(*stored.value, item, [&] { return readBack(n, *stored.value); });
        if (!same.ok())
            return O::fail(*same.error);
        if (same.value)
            return O::success({true, n});
    }
    return O::fail(RemoteError::make(RemoteError::Kind::Config, tooMany));
}

VerifyReport lookedUp(const std::optional<StoredFile> &stored, const UploadItem &item, const QUrl &url)
{
    VerifyReport r;
    if (!stored) {
        r.detail = Tr::tr("missing on the server: %1").arg(url.toDisplayString());
        return r;
    }
    r.exists = true;
    r.remoteSize = stored->size;
    r.sizeMatches = r.remoteSize < 0 || r.remoteSize == item.size;
    r.remoteSha256 = stored->sha256;
    return r;
}

QString scratchName(const QString &what)
{
    return QStringLiteral(".quire-%1-%2").arg(what).arg(QRandomGenerator::global()->generate64(), 0, 16);
}

bool NameConflicts::tooMany(int n)
{
    m_times = m_last == n ? m_times + 1 : 1;
    m_last = n;
    return m_times >= 3;
}

} // namespace quire
