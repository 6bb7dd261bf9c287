#pragma once

#include <QDialog>
#include <QStringList>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace quire {

// Asks for a collection name and checks it as it is typed (the catalog's naming rules, and not
// one of `taken`). Meant to be shown with open() (window-modal, no nested event loop); the
// caller reads name() (and remote()) when accepted() is emitted.
//
// For a new collection it can also offer where the collection uploads (setRemoteChoice()):
// "None (don't upload)" or one of the configured remotes. Names of collections that already
// exist and that the caller adds to instead of creating (setExistingNames(), drops) keep their
// own remote: the choice is disabled for them, with a note saying so.
class CollectionNameDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CollectionNameDialog)
public:
    CollectionNameDialog(const QString &title, const QString &prompt, const QString &suggestion,
                         const QStringList &taken, QWidget *parent = nullptr);
    ~CollectionNameDialog() override;

    QString name() const;
    void setName(const QString &name);
    // Why the current text cannot be used; empty when it can.
    QString problem() const;

    // Shows the "Upload to" choice: none, then `remotes` in order; `selected` ("" for none) is
    // chosen (a name not in `remotes` selects none). Not shown unless called.
    void setRemoteChoice(const QStringList &remotes, const QString &selected);
    // The remote chosen; empty: none (or no choice shown).
    QString remote() const;
    void setRemote(const QString &remote);
    // Collections that exist already; the caller adds to them and their remote stays theirs.
    void setExistingNames(const QStringList &names);
    // True when name() is one of the existing names (the remote choice does not apply).
    bool isExisting() const;
    QComboBox *remoteBox() const { return m_remote.box; }

private:
    void validate();

    // The "Upload to" choice and the note under it, shown and hidden together.
    struct RemoteChoice
    {
        QLabel *label = nullptr;
        QComboBox *box = nullptr;
        QLabel *note = nullptr;
        void setVisible(bool visible) const;
    };

    QStringList m_taken;
    QStringList m_existing;
    QLineEdit *m_edit = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    RemoteChoice m_remote;
};

} // namespace quire
