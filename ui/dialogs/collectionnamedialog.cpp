#include "dialogs/collectionnamedialog.h"

#include "catalog/catalog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
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
    label->setTextFormat(Qt::PlainText);   // may name a collection
    label->setWordWrap(true);
    layout->addWidget(label);
    m_edit = new QLineEdit(suggestion, this);
    m_edit->setObjectName(QStringLiteral("collectionName"));
    m_edit->selectAll();
    label->setBuddy(m_edit);
    layout->addWidget(m_edit);
    m_problem = new QLabel(this);
    m_problem->setTextFormat(Qt::PlainText);
    m_problem->setWordWrap(true);
    m_problem->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_problem);

    // The remote choice, hidden until setRemoteChoice().
    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    m_remote.box = new QComboBox(this);
    m_remote.box->setObjectName(QStringLiteral("collectionRemote"));
    m_remote.box->setToolTip(tr("Where the collection’s documents are uploaded once hashed. "
                            "Change it later with Collection › Upload To."));
    m_remote.label = new QLabel(tr("&Upload to:"), this);
    m_remote.label->setBuddy(m_remote.box);
    form->addRow(m_remote.label, m_remote.box);
    layout->addLayout(form);
    m_remote.note = new QLabel(this);
    m_remote.note->setObjectName(QStringLiteral("collectionRemoteNote"));
    m_remote.note->setTextFormat(Qt::PlainText);   // names the collection and the remote
    m_remote.note->setWordWrap(true);
    m_remote.note->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_remote.note);
    m_remote.setVisible(false);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (problem().isEmpty())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_edit, &QLineEdit::textChanged, this, &CollectionNameDialog::validate);
    connect(m_remote.box, &QComboBox::currentIndexChanged, this, &CollectionNameDialog::validate);
    setMinimumWidth(360);
    validate();
}

CollectionNameDialog::~CollectionNameDialog() = default;

void CollectionNameDialog::RemoteChoice::setVisible(bool visible) const
{
    for (QWidget *w : std::initializer_list<QWidget *>{label, box, note})
        w->setVisible(visible);
}

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

void CollectionNameDialog::setRemoteChoice(const QStringList &remotes, const QString &selected)
{
    m_remote.box->clear();
    m_remote.box->addItem(tr("None (don’t upload)"), QString());
    for (const QString &r : remotes)
        m_remote.box->addItem(r, r);
    setRemote(selected);
    m_remote.setVisible(true);
    validate();
}

QString CollectionNameDialog::remote() const
{
    if (m_remote.box->count() == 0 || isExisting())
        return {};
    return m_remote.box->currentData().toString();
}

void CollectionNameDialog::setRemote(const QString &remote)
{
    const int i = m_remote.box->findData(remote);
    m_remote.box->setCurrentIndex(i >= 0 ? i : 0);
}

void CollectionNameDialog::setExistingNames(const QStringList &names)
{
    m_existing = names;
    validate();
}

bool CollectionNameDialog::isExisting() const
{
    return m_existing.contains(m_edit->text());
}

void CollectionNameDialog::validate()
{
    const QString why = problem();
    m_problem->setText(why);
    m_problem->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(why.isEmpty());

    if (m_remote.box->count() == 0)
        return;
    const bool existing = isExisting();
    m_remote.box->setEnabled(!existing);
    m_remote.label->setEnabled(!existing);
    const QString chosen = m_remote.box->currentData().toString();
    if (existing) {
        m_remote.note->setText(tr("“%1” already exists: the documents are added to it, and it keeps "
                                 "the remote it has.").arg(m_edit->text()));
    } else if (chosen.isEmpty()) {
        m_remote.note->setText(tr("The documents are only cataloged. You can choose a remote later with "
                                 "Collection › Upload To."));
    } else {
        m_remote.note->setText(tr("The documents are uploaded to “%1” once they are hashed.").arg(chosen));
    }
}

} // namespace quire
