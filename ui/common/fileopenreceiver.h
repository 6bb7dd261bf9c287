#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>

namespace quire {

class BrowserWindow;

// Files the operating system hands to the running program as QFileOpenEvent: on macOS, files
// dropped on the Dock icon and Finder's "Open With" (Qt sends no such event on Linux or
// Windows, where the files arrive as arguments: `quire gui PATH...`; runGui() makes one on
// macOS only). Installed as an event filter on the application, so it sees every event of the
// program; events that arrive together (one per file of a multi-file drop) become one
// BrowserWindow::openFiles() call into `collection`.
class FileOpenReceiver final : public QObject
{
public:
    FileOpenReceiver(BrowserWindow &window, QString collection, QObject *parent = nullptr);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void flush();

    BrowserWindow &m_window;
    const QString m_collection;
    QList<QByteArray> m_pending;
    QTimer m_batch;
};

} // namespace quire
