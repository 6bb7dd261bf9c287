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
// The channel is a QLocalServer: a Unix socket that only this user may connect to
// (UserAccessOption), a named pipe on Windows. Its name is derived from `key` (the user's home
// and the catalog), so windows on other catalogs are independent. A lock file serialises
// "hand over, or become the one that listens" when several processes start at once.
// Used on the main thread; claim() blocks for at most about timeoutMs.
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
    // absolute: the receiving process has its own current folder.
    Role claim(const QString &collection, const QList<QByteArray> &paths, int timeoutMs = 5000);
    QString serverName() const { return m_name; }

Q_SIGNALS:
    // A later start's request (paths may be empty: it only asks to be shown).
    void filesReceived(const QString &collection, const QList<QByteArray> &paths);

private:
    void onNewConnection();

    QString m_name;
    QLocalServer m_server;
};

} // namespace quire
