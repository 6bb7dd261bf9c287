#pragma once

#include <QString>
#include <QTableView>

namespace quire {

// The document table: drag documents out (their source files), and an empty state that tells
// a new user what to do. Drops are not taken here: they fall through to the window, which adds
// them to the selected collection.
class DocumentView final : public QTableView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DocumentView)
public:
    explicit DocumentView(QWidget *parent = nullptr);
    ~DocumentView() override;

    // Shown centred while the model has no rows (empty collection, nothing matches...).
    void setEmptyText(const QString &title, const QString &detail = {});
    QString emptyTitle() const { return m_emptyTitle; }

Q_SIGNALS:
    // Emitted once after the viewport was painted with at least one row.
    void rowsPainted();

protected:
    void paintEvent(QPaintEvent *event) override;
    void startDrag(Qt::DropActions supportedActions) override;

private:
    QString m_emptyTitle;
    QString m_emptyDetail;
    bool m_rowsPainted = false;
};

} // namespace quire
