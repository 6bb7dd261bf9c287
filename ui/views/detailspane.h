#pragma once

#include "catalog/catalog.h"

#include <QList>
#include <QWidget>

class QAction;
class QGridLayout;
class QLabel;
class QStackedLayout;
class QToolButton;

namespace quire {

// Everything about the selected document: all catalog fields, the full hash and the error text,
// with buttons that copy the hash and the source path. Shows a hint when nothing (or more than
// one document) is selected.
class DetailsPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetailsPane)
public:
    explicit DetailsPane(QWidget *parent = nullptr);
    ~DetailsPane() override;

    void setDocument(const Document &doc, const QString &collectionName, qint64 bytesDone = -1,
                     const QString &duplicateOfName = {});
    void setSelectionCount(int count);   // 0 or >1: the hint instead of a document
    qint64 documentId() const { return m_id; }
    // Buttons under the fields (open, show in folder, verify...).
    void setActions(const QList<QAction *> &actions);
    // A line under the fields, e.g. the outcome of a verification.
    void setNote(const QString &text);

private:
    QLabel *addField(const QString &label, bool monospace = false, QToolButton **copyButton = nullptr);

    QStackedLayout *m_stack = nullptr;
    QLabel *m_hint = nullptr;
    QWidget *m_form = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_error = nullptr;
    QLabel *m_size = nullptr;
    QLabel *m_modified = nullptr;
    QLabel *m_added = nullptr;
    QLabel *m_updated = nullptr;
    QLabel *m_hash = nullptr;
    QLabel *m_path = nullptr;
    QLabel *m_remote = nullptr;
    QLabel *m_collection = nullptr;
    QLabel *m_attempts = nullptr;
    QLabel *m_duplicate = nullptr;
    QLabel *m_idLabel = nullptr;
    QLabel *m_note = nullptr;
    QToolButton *m_copyHash = nullptr;
    QToolButton *m_copyPath = nullptr;
    QWidget *m_actionsRow = nullptr;
    QGridLayout *m_grid = nullptr;
    qint64 m_id = 0;
    QString m_hashText;
    QString m_pathText;
};

} // namespace quire
