#pragma once

#include <QByteArray>
#include <QList>
#include <QMimeData>
#include <QUrl>

namespace quire {

// The local files and folders a drag or the clipboard carries, as native path bytes (the form
// IngestJob takes). Remote URLs are ignored. Touches no file.
QList<QByteArray> localPathsOf(const QList<QUrl> &urls);
QList<QByteArray> localPathsOf(const QMimeData *mime);
bool hasLocalPaths(const QMimeData *mime);

} // namespace quire
