#include "common/format.h"

#include "remotes/remote.h"

#include <QLocale>

namespace quire {

QString Format::count(qint64 n)
{
    return QLocale().toString(n);
}

QString Format::bytes(qint64 n)
{
    return formatBytes(n, QLocale());
}

QString Format::speed(double bytesPerSecond)
{
    return tr("%1/s").arg(bytes(qint64(bytesPerSecond)));
}

QString Format::duration(qint64 ms)
{
    if (ms < 1000)
        return tr("under a second");
    const qint64 s = (ms + 500) / 1000;
    if (s < 60)
        return tr("%n s", nullptr, int(s));
    if (s < 3600)
        return tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString Format::status(DocStatus status)
{
    switch (status) {
    case DocStatus::Queued: return tr("Queued");
    case DocStatus::Hashing: return tr("Hashing");
    case DocStatus::Hashed: return tr("Hashed");
    case DocStatus::Uploading: return tr("Uploading");
    case DocStatus::Uploaded: return tr("Uploaded");
    case DocStatus::Duplicate: return tr("Duplicate");
    case DocStatus::Failed: return tr("Failed");
    case DocStatus::Cancelled: return tr("Cancelled");
    }
    return {};
}

QString Format::shortHash(const QByteArray &sha256)
{
    if (sha256.size() <= 12)
        return QString::fromLatin1(sha256);
    return QString::fromLatin1(sha256.left(12)) + QChar(0x2026);
}

QString Format::documents(qint64 n)
{
    return n == 1 ? tr("1 document") : tr("%1 documents").arg(count(n));
}

} // namespace quire
