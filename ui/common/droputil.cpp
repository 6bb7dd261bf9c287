#include "common/droputil.h"

#include "platform/nativefs.h"

namespace quire {

QList<QByteArray> localPathsOf(const QList<QUrl> &urls)
{
    QList<QByteArray> paths;
    for (const QUrl &url : urls) {
        if (url.isLocalFile()) {
            const QString local = url.toLocalFile();
            if (!local.isEmpty())
                paths.append(nativePath(local));
        }
    }
    return paths;
}

QList<QByteArray> localPathsOf(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    return localPathsOf(mime->urls());
}

bool hasLocalPaths(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return false;
    const QList<QUrl> urls = mime->urls();
    return std::any_of(urls.cbegin(), urls.cend(), [](const QUrl &u) { return u.isLocalFile(); });
}

} // namespace quire
