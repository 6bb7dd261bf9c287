#include "dialogs/catalogpassworddialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace quire {

CatalogPasswordDialog::CatalogPasswordDialog(const QString &location, const QString &problem, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Catalog Password"));
    setObjectName(QStringLiteral("catalogPasswordDialog"));
    auto *layout = new QVBoxLayout(this);

    auto *intro = new QLabel(tr("The catalog server needs a password:"), this);
    intro->setTextFormat(Qt::PlainText);
    layout->addWidget(intro);
    auto *where = new QLabel(location, this);
    where->setTextFormat(Qt::PlainText);   // a location is data, never markup
    where->setTextInteractionFlags(Qt::TextSelectableByMouse);
    where->setWordWrap(true);
    QFont bold = where->font();
    bold.setBold(true);
    where->setFont(bold);
    layout->addWidget(where);
    if (!problem.isEmpty()) {
        auto *why = new QLabel(problem, this);
        why->setTextFormat(Qt::PlainText);
        why->setWordWrap(true);
        why->setObjectName(QStringLiteral("catalogPasswordProblem"));
        layout->addWidget(why);
    }

    auto *form = new QFormLayout;
    m_password = new QLineEdit(this);
    m_password->setEchoMode(QLineEdit::Password);
    m_password->setObjectName(QStringLiteral("catalogPassword"));
    form->addRow(tr("&Password:"), m_password);
    layout->addLayout(form);
    m_remember = new QCheckBox(tr("&Remember it in the system keychain"), this);
    m_remember->setChecked(true);
    layout->addWidget(m_remember);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Connect"));
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
    connect(m_password, &QLineEdit::textChanged, this,
            [buttons](const QString &text) { buttons->button(QDialogButtonBox::Ok)->setEnabled(!text.isEmpty()); });
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    m_password->setFocus();
}

CatalogPasswordDialog::~CatalogPasswordDialog() = default;

QString CatalogPasswordDialog::password() const
{
    return m_password->text();
}

bool CatalogPasswordDialog::remember() const
{
    return m_remember->isChecked();
}

} // namespace quire
