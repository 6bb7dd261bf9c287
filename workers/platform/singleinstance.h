#pragma once

#include <QByteArray>
#include <QList>
#include <QLocalServer>
#include <QObject>
#include <QString>

namespace quire {

// One window per user and catalog. A second `quire gui PATH...` (a file manager's "Open with
// Quire" while Quire is open; Explorer starts one process per selected file) hands its PATHs
// to the window that is open, which adds them and comes to the front, and ends.
//
// The channel is a QLocalServer: on Unix a socket in the user's private runtime folder
// (XDG_RUNTIME_DIR, mode 0700, through QStandardPaths), on Windows a named pipe that only this
// user may open (UserAccessOption). Its name is derived from `key` (the user's home and the
// catalog), so windows on other catalogs are independent. A lock file beside it serialises
// "hand over, or become the one that listens" when several processes start at once.
// Used on the main thread; claim() blocks for at most timeoutMs in all.
class SingleInstance final : public QObject
{
    Q_OBJECT
public:
    enum class Role {
        Primary,     // listening: requests from later starts arrive as filesReceived()
        HandedOver,  // the running instance took the request: this process should end
        Alone,       // neither worked (no lock, a hung peer, listen failed): run on its own
    };

    explicit SingleInstance(const QString &key, QObject *parent = nullptr);
    ~SingleInstance() override;

    // Hands {collection, paths} to the running instance, or becomes it. paths must be
    // absolute: the receiving process has its own current folder. The running instance may be
    // busy starting (it listens before its window is built): it gets most of the time to answer.
    // Sending the same paths twice (no answer in time, then a window of its own) is harmless:
    // adding known paths again changes nothing.
    Role claim(const QString &collection, const QList<QByteArray> &paths, int timeoutMs = 30'000);
    // Stops taking requests (the window is closing: what is handed over now would be lost);
    // the next start becomes the listening one.
    void stopListening();
    // The QLocalServer name: a full socket path on Unix, a pipe name on Windows. Empty when no
    // private folder could be had (privateFolder()): then claim() says Alone at once.
    QString serverName() const { return m_name; }
    // Unix: where the socket and its lock live: $XDG_RUNTIME_DIR when it is a folder of this
    // user's that nobody else may enter, else `quire-run` in the user's cache folder, made (or
    // made again) 0700 here. Never a shared folder such as /tmp, where another local user could
    // take the name first. Empty when neither can be had.
    static QString privateFolder();

Q_SIGNALS:
    // A later start's request (paths may be empty: it only asks to be shown).
    void filesReceived(const QString &collection, const QList<QByteArray> &paths);

private:
    void onNewConnection();

    QString m_name;
    QString m_lockPath;
    QLocalServer m_server;
};

} // namespace quire
