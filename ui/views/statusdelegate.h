#pragma once

#include <QStyledItemDelegate>

namespace quire {

// Paints the status cell: a progress bar for active documents (hashing; uploading, labelled with
// the upload's speed or when it retries), the error in
// the palette's warning colour for failed ones, dimmed text for duplicates and cancelled ones.
class StatusDelegate final : public QStyledItemDelegate
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StatusDelegate)
public:
    explicit StatusDelegate(QObject *parent = nullptr);
    ~StatusDelegate() override;

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace quire
