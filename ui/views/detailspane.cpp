#include "views/detailspane.h"

#include "common/format.h"
#include "common/icons.h"
#include "platform/nativefs.h"

#include <QAction>
#include <QClipboard>
#include <QDateTime>
#include <QFontDatabase>
#include <QGridLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QScrollArea>
#include <QStackedLayout>
#include <QToolButton>
#include <QVBoxLayout>

namespace quire {

DetailsPane::DetailsPane(QWidget *parent)
    : QWidget(parent)
{
    m_stack = new QStackedLayout(this);

    m_hint = new QLabel(this);
    m_hint->setAlignment(Qt::AlignCenter);
    m_hint->setWordWrap(true);
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    m_stack->addWidget(m_hint);

    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_form = new QWidget(scroll);
    auto *outer = new QVBoxLayout(m_form);
    m_title = new QLabel(m_form);
    m_title->setTextFormat(Qt::PlainText);   // a file name, never markup
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    m_title->setFont(titleFont);
    m_title->setWordWrap(true);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(m_title);

    m_grid = new QGridLayout;
    m_grid->setColumnStretch(1, 1);
    m_grid->setHorizontalSpacing(12);
    outer->addLayout(m_grid);
    m_status = addField(tr("Status"));
    m_error = addField(tr("Error"));
    m_duplicate = addField(tr("Duplicate of"));
    m_size = addField(tr("Size"));
    m_hash = addField(tr("SHA-256"), true, &m_copyHash);
    m_path = addField(tr("Source"), false, &m_copyPath);
    m_modified = addField(tr("Modified"));
    m_added = addField(tr("Added"));
    m_updated = addField(tr("Updated"));
    m_remote = addField(tr("Remote location"));
    m_collection = addField(tr("Collection"));
    m_attempts = addField(tr("Attempts"));
    m_idLabel = addField(tr("Catalog id"));

    m_copyHash->setToolTip(tr("Copy the SHA-256"));
    m_copyPath->setToolTip(tr("Copy the source path"));
    connect(m_copyHash, &QToolButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_hashText);
    });
    connect(m_copyPath, &QToolButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_pathText);
    });

    m_note = new QLabel(m_form);
    m_note->setTextFormat(Qt::PlainText);   // names the file, may quote an error
    m_note->setWordWrap(true);
    m_note->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_note->hide();
    outer->addWidget(m_note);

    m_actionsRow = new QWidget(m_form);
    auto *row = new QHBoxLayout(m_actionsRow);
    row->setContentsMargins(0, 6, 0, 0);
    row->addStretch();
    outer->addWidget(m_actionsRow);
    outer->addStretch();
    scroll->setWidget(m_form);
    m_stack->addWidget(scroll);

    setSelectionCount(0);
}

DetailsPane::~DetailsPane() = default;

QLabel *DetailsPane::addField(const QString &label, bool monospace, QToolButton **copyButton)
{
    const int row = m_grid->rowCount();
    auto *name = new QLabel(label, m_form);
    name->setForegroundRole(QPalette::PlaceholderText);
    name->setAlignment(Qt::AlignRight | Qt::AlignTop);
    auto *value = new QLabel(m_form);
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setWordWrap(true);
    value->setTextFormat(Qt::PlainText);
    value->setMinimumWidth(80);
    if (monospace)
        value->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_grid->addWidget(name, row, 0);
    m_grid->addWidget(value, row, 1);
    if (copyButton) {
        auto *button = new QToolButton(m_form);
        button->setIcon(Icons::glyph(QStringLiteral("copy")));
        button->setAutoRaise(true);
        m_grid->addWidget(button, row, 2, Qt::AlignTop);
        *copyButton = button;
    }
    // Keep the pair so empty fields can hide their label too.
    value->setProperty("quireFieldLabel", QVariant::fromValue<QObject *>(name));
    return value;
}

static void setField(QLabel *value, const QString &text)
{
    value->setText(text);
    const bool visible = !text.isEmpty();
    value->setVisible(visible);
    if (auto *label = qobject_cast<QLabel *>(value->property("quireFieldLabel").value<QObject *>()))
        label->setVisible(visible);
}

void DetailsPane::setSelectionCount(int count)
{
    if (count == 1)
        return;
    m_id = 0;
    m_hint->setText(count == 0 ? tr("Select a document to see its details.")
                               : tr("%1 documents selected.").arg(Format::count(count)));
    m_stack->setCurrentIndex(0);
}

void DetailsPane::setDocument(const Document &doc, const QString &collectionName, qint64 bytesDone,
                              const QString &duplicateOfName)
{
    if (m_id != doc.id)
        setNote({});
    m_id = doc.id;
    const QLocale locale;
    m_title->setText(doc.fileName);
    QString status = Format::status(doc.status);
    if (isActive(doc.status) && bytesDone >= 0 && doc.size > 0)
        status = tr("%1 (%2 of %3)").arg(status, Format::bytes(bytesDone), Format::bytes(doc.size));
    setField(m_status, status);
    setField(m_error, doc.error);
    setField(m_duplicate, doc.duplicateOf <= 0   ? QString()
                          : duplicateOfName.isEmpty() ? tr("#%1").arg(doc.duplicateOf)
                                                      : tr("“%1” (#%2)").arg(duplicateOfName).arg(doc.duplicateOf));
    setField(m_size, tr("%1 (%2 bytes)").arg(Format::bytes(doc.size), Format::count(doc.size)));
    m_hashText = QString::fromLatin1(doc.sha256);
    // Groups of 16 digits, so the label can wrap to the pane's width (64 digits in one word
    // would be cut off); the copy button copies the hash without the spaces.
    QStringList groups;
    for (qsizetype i = 0; i < m_hashText.size(); i += 16)
        groups << m_hashText.mid(i, 16);
    setField(m_hash, doc.sha256.isEmpty() ? tr("not hashed yet") : groups.join(QLatin1Char(' ')));
    m_copyHash->setEnabled(!doc.sha256.isEmpty());
    m_pathText = qtPath(doc.sourcePath);
    setField(m_path, m_pathText);
    setField(m_modified, doc.mtimeMs > 0
                             ? locale.toString(QDateTime::fromMSecsSinceEpoch(doc.mtimeMs), QLocale::LongFormat)
                             : QString());
    setField(m_added, locale.toString(doc.added.toLocalTime(), QLocale::LongFormat));
    setField(m_updated, doc.updated.isValid() ? locale.toString(doc.updated.toLocalTime(), QLocale::LongFormat)
                                              : QString());
    setField(m_remote, doc.remoteLocation);
    setField(m_collection, collectionName);
    setField(m_attempts, doc.attempts > 0 ? Format::count(doc.attempts) : QString());
    setField(m_idLabel, QString::number(doc.id));
    m_stack->setCurrentIndex(1);
}

void DetailsPane::setActions(const QList<QAction *> &actions)
{
    auto *row = static_cast<QHBoxLayout *>(m_actionsRow->layout());
    for (QAction *a : actions) {
        auto *button = new QToolButton(m_actionsRow);
        button->setDefaultAction(a);
        button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        row->insertWidget(row->count() - 1, button);
    }
}

void DetailsPane::setNote(const QString &text)
{
    m_note->setText(text);
    m_note->setVisible(!text.isEmpty());
}

} // namespace quire
