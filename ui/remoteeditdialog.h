#pragma once

#include "remoteprofile.h"

#include <QDialog>
#include <QStringList>

#include <optional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace quire {

// Adds or edits one remote profile: name, kind (local folder, WebDAV server, HTTP collections
// API), folder or URL, user, password, and whether a password may cross plain http://.
//
// Checks the values as they are typed (the rules of `quire remote add`, plus the one Quire
// applies before sending a password: never over plain http:// to another host unless allowed)
// and says what is wrong; OK is enabled only when the profile can be saved. Pure string checks:
// nothing here touches the disk, the network or the keychain.
//
// Meant to be shown with open() (window-modal, no nested event loop); the caller reads profile()
// and password() when accepted() is emitted and saves them (SettingsDialog: the profile in the
// session store, the password in the system keychain). GUI thread only.
class RemoteEditDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteEditDialog)
public:
    // existing: the profile to edit (its name is fixed), nullopt to add a new one.
    // taken: names already in use, refused for a new remote.
    RemoteEditDialog(const std::optional<RemoteProfile> &existing, const QStringList &taken,
                     QWidget *parent = nullptr);
    ~RemoteEditDialog() override;

    bool isNew() const { return !m_existing.has_value(); }
    // The profile as typed (options of the edited profile that the dialog does not show are
    // kept). Only meaningful while problem() is empty.
    RemoteProfile profile() const;
    // The password typed; empty: none typed (an edited remote keeps the stored one).
    QString password() const;
    // Why the values cannot be saved; empty when they can.
    QString problem() const;

    QLineEdit *nameEdit() const { return m_name; }
    QComboBox *kindBox() const { return m_kind; }
    QLineEdit *urlEdit() const { return m_url; }
    QLineEdit *userEdit() const { return m_user; }
    QLineEdit *passwordEdit() const { return m_password; }
    QCheckBox *insecureBox() const { return m_insecure; }
    QPushButton *okButton() const;

    // Selects kind in the Kind box.
    void setKind(RemoteKind kind);

private:
    RemoteKind kind() const;
    QString normalizedUrl() const;
    void kindChanged();
    void validate();
    void browse();

    std::optional<RemoteProfile> m_existing;
    QStringList m_taken;
    QLineEdit *m_name = nullptr;
    QComboBox *m_kind = nullptr;
    QLabel *m_urlLabel = nullptr;
    QLineEdit *m_url = nullptr;
    QPushButton *m_browse = nullptr;
    QLabel *m_userLabel = nullptr;
    QLineEdit *m_user = nullptr;
    QLabel *m_passwordLabel = nullptr;
    QLineEdit *m_password = nullptr;
    QCheckBox *m_insecure = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace quire
