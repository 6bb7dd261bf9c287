#include "common/fileopenreceiver.h"

#include "views/browserwindow.h"
#include "platform/nativefs.h"

#include <QCoreApplication>
#include <QFileOpenEvent>

#include <utility>

namespace quire {

FileOpenReceiver::FileOpenReceiver(BrowserWindow &window, QString collection, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_collection(std::move(collection))
{
    // Finder sends one event per file, back to back.
    m_batch.setSingleShot(true);
    m_batch.setInterval(100);
    connect(&m_batch, &QTimer::timeout, this, &FileOpenReceiver::flush);
    QCoreApplication::instance()->installEventFilter(this);
}

bool FileOpenReceiver::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() != QEvent::FileOpen || watched != QCoreApplication::instance())
        return QObject::eventFilter(watched, event);
    const auto *open = static_cast<QFileOpenEvent *>(event);
    const QString file = open->file().isEmpty() ? open->url().toLocalFile() : open->file();
    if (file.isEmpty())
        return false;   // not a local file (a URL scheme): not for Quire
    m_pending.append(nativePath(file));
    m_batch.start();
    return true;
}

void FileOpenReceiver::flush()
{
    m_window.openFiles(m_collection, std::exchange(m_pending, {}));
}

} // namespace quire
