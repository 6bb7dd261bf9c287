#pragma once

#include "common/formwidgets.h"
#include "remotes/remoteprofile.h"

#include <QDialog>

#include <optional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace quire {

class CatalogService;
class CatalogSettings;
class Pools;
class RemoteTester;
class SessionStore;
struct Collection;

// Settings backed by the session store (settings/... keys, persisted by the store's writer
// thread). Worker counts apply at once (the pools resize); the catalog (CatalogSettings) is
// chosen for the next start.
//
// Remotes (settings/remotes/<name>, RemoteProfiles) are added, edited, removed and tested here
// with the rules and checks of `quire remote add|remove|test`; each change is saved at once.
// Passwords go to the system keychain (Credentials) on the I/O pool, never to the settings.
// Removing a remote a collection uses is refused, naming the collections (the catalog is asked
// through CatalogService, on the I/O pool). Test Connection runs Remote::test on the I/O pool
// (RemoteTester) and can be stopped. One remote operation runs at a time; the dialog shows
// it as busy (buttons disabled, a busy bar) and then its outcome in remoteMessage().
//
// GUI thread only; never blocks. Closing the dialog stops a running test; a password being
// stored is still stored. Store and service outlive the dialog.
class RemoteEditDialog;

class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)
public:
    static inline const QString kIoWorkersKey = QStringLiteral("settings/workers/io");
    static inline const QString kCpuWorkersKey = QStringLiteral("settings/workers/cpu");
    static inline const QString kRemotesPrefix = QStringLiteral("settings/remotes/");

    SettingsDialog(SessionStore &store, CatalogService &service, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    // Writes the worker counts and the catalog to the store and resizes the pools. Also run by
    // OK, which closes the dialog only when it succeeded. false: remoteMessage() says why.
    bool apply();

    QSpinBox *ioWorkers() const { return m_io; }
    QSpinBox *cpuWorkers() const { return m_cpu; }
    QTreeWidget *remotesList() const { return m_remotes; }
    QPushButton *addRemoteButton() const { return m_remoteButtons.add; }
    QPushButton *editRemoteButton() const { return m_remoteButtons.edit; }
    QLineEdit *uploadLimitEdit() const { return m_limitRate; }
    QPushButton *removeRemoteButton() const { return m_remoteButtons.remove; }
    QPushButton *testRemoteButton() const { return m_remoteButtons.test; }
    QPushButton *stopTestButton() const { return m_stopTest; }
    CatalogSettings *catalogSettings() const { return m_catalog; }

    // Selects the remote in the list; false when it is not listed.
    bool selectRemote(const QString &name);
    // Opens the editor of the selected remote (as Edit… does) and returns it; nullptr when none
    // is selected.
    RemoteEditDialog *editSelectedRemote();
    QString selectedRemote() const;
    // A remote operation (test, removal check, keychain write) is running.
    bool isBusy() const { return m_busy; }
    // The last word about remotes: an operation's progress or outcome, or a hint.
    QString remoteMessage() const;

Q_SIGNALS:
    // A remote operation ended; remoteMessage() says how.
    void remoteOperationFinished(bool ok);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void load();
    void loadRemotes(const QString &select = {});
    void updateRemoteButtons();
    void addRemote();
    void editRemote();
    void removeRemote();
    void testRemote();
    void stopTest();
    RemoteEditDialog *openEditor(const std::optional<RemoteProfile> &existing);
    void saveRemote(const RemoteProfile &profile, const QString &password,
                    const std::optional<RemoteProfile> &before);
    void refuseRemoval(const QString &name, const QStringList &collections);
    void confirmRemoval(const RemoteProfile &profile);
    void removeConfirmed(const RemoteProfile &profile);
    void setBusy(const QString &text, bool stoppable = false);
    void finish(Tone tone, const QString &text);
    void setMessage(Tone tone, const QString &text);
    std::optional<RemoteProfile> selectedProfile();

    // The buttons beside the list of remotes.
    struct RemoteButtons
    {
        QPushButton *add = nullptr;
        QPushButton *edit = nullptr;
        QPushButton *remove = nullptr;
        QPushButton *test = nullptr;
    };

    SessionStore &m_store;
    CatalogService &m_service;
    Pools &m_pools;
    RemoteButtons m_remoteButtons;
    bool m_busy = false;          // a remote operation runs
    bool m_testStopped = false;   // Stop was pressed during the running test
    QSpinBox *m_io = nullptr;
    QSpinBox *m_cpu = nullptr;
    QLineEdit *m_limitRate = nullptr;
    CatalogSettings *m_catalog = nullptr;
    QLineEdit *m_settingsFile = nullptr;
    QTreeWidget *m_remotes = nullptr;
    QPushButton *m_stopTest = nullptr;
    QProgressBar *m_busyBar = nullptr;
    QLabel *m_message = nullptr;
    RemoteTester *m_tester = nullptr;
};

} // namespace quire
