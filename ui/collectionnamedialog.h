#pragma once

#include <QDialog>
#include <QStringList>

class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace quire {

// Asks for a collection name and checks it as it is typed (the catalog's naming rules, and not
// one of `taken`). Meant to be shown with open() (window-modal, no nested event loop); the
// caller reads name() when accepted() is emitted.
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

private:
    void validate();

    QLineEdit *m_edit = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QStringList m_taken;
};

} // namespace quire
