#pragma once

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;

namespace quire {

// Asks for the password of a catalog on a database server that refused the connection for want
// of one (or a wrong one). Shown with open() (window-modal, no nested event loop); the caller
// reads password() and remember() when accepted() is emitted. The location is shown as plain
// text (it comes from the command line or the settings, and may hold any character).
class CatalogPasswordDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CatalogPasswordDialog)
public:
    // `location`: the catalog as displayed (no password); `problem`: the server's refusal.
    CatalogPasswordDialog(const QString &location, const QString &problem, QWidget *parent = nullptr);
    ~CatalogPasswordDialog() override;

    QString password() const;
    // Keep it in the system keychain for the next start (default: yes).
    bool remember() const;

    QLineEdit *passwordEdit() const { return m_password; }
    QCheckBox *rememberBox() const { return m_remember; }

private:
    QLineEdit *m_password = nullptr;
    QCheckBox *m_remember = nullptr;
};

} // namespace quire
