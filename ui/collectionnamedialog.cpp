#include "collectionnamedialog.h"

#include "catalog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace quire {

CollectionNameDialog::CollectionNameDialog(const QString &title, const QString &prompt,
                                           const QString &suggestion, const QStringList &taken,
                                           QWidget *parent)
    : QDialog(parent)
    , m_taken(taken)
{
    setObjectName(QStringLiteral("collectionNameDialog"));
    setWindowTitle(title);
    auto *layout = new QVBoxLayout(this);
    auto *label = new QLabel(prompt, this);
    label->setWordWrap(true);
    layout->addWidget(label);
    m_edit = new QLineEdit(suggestion, this);
    m_edit->selectAll();
    layout->addWidget(m_edit);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    m_problem->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_problem);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_edit, &QLineEdit::textChanged, this, &CollectionNameDialog::validate);
    setMinimumWidth(360);
    validate();
}

CollectionNameDialog::~CollectionNameDialog() = default;

QString CollectionNameDialog::name() const
{
    return m_edit->text();
}

void CollectionNameDialog::setName(const QString &name)
{
    m_edit->setText(name);
}

QString CollectionNameDialog::problem() const
{
    const QString name = m_edit->text();
    if (name.trimmed().isEmpty())
        return tr("Type a name.");
    // Pure validation (no SQL): safe on the GUI thread.
    if (auto why = Catalog::collectionNameError(name))
        return *why;
    if (m_taken.contains(name))
        return tr("There already is a collection with this name.");
    return {};
}

void CollectionNameDialog::validate()
{
    const QString why = problem();
    m_problem->setText(why);
    m_problem->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());
}

} // namespace quire
