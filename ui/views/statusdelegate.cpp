#include "views/statusdelegate.h"

#include "common/formwidgets.h"
#include "models/documentmodel.h"
#include "catalog/documentstatus.h"

#include <QApplication>
#include <QPainter>
#include <QStyleOptionProgressBar>

namespace quire {

StatusDelegate::StatusDelegate(QObject *parent)
    : QStyledItemDelegate(parent)
{
}

StatusDelegate::~StatusDelegate() = default;

void StatusDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const auto status = static_cast<DocStatus>(index.data(DocumentModel::StatusRole).toInt());
    const double progress = index.data(DocumentModel::ProgressRole).toDouble();

    if (isActive(status) && progress >= 0) {
        // Background (selection, alternating rows) first, then the bar inside the cell.
        QStyleOptionViewItem bg = option;
        initStyleOption(&bg, index);
        bg.text.clear();
        const QWidget *widget = option.widget;
        QStyle *style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &bg, painter, widget);

        QStyleOptionProgressBar bar;
        bar.initFrom(widget);
        bar.state = option.state | QStyle::State_Horizontal;
        bar.rect = option.rect.adjusted(3, 3, -3, -3);
        bar.minimum = 0;
        bar.maximum = 1000;
        bar.progress = int(progress * 1000);
        bar.textVisible = true;
        bar.textAlignment = Qt::AlignCenter;
        bar.text = status == DocStatus::Hashing
            ? tr("Hashing %1%").arg(int(progress * 100))
            : DocumentModel::uploadText(index);   // with the speed, or when it retries
        bar.palette = option.palette;
        style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
        return;
    }

    QStyleOptionViewItem opt = option;
    opt.textElideMode = Qt::ElideRight;   // "Failed: <why>" reads from the left
    if (status == DocStatus::Failed && !(option.state & QStyle::State_Selected)) {
        opt.palette.setColor(QPalette::Text, toneColor(option.palette, true));   // the red of error messages
    } else if ((status == DocStatus::Duplicate || status == DocStatus::Cancelled)
               && !(option.state & QStyle::State_Selected)) {
        opt.palette.setColor(QPalette::Text, option.palette.color(QPalette::PlaceholderText));
    }
    QStyledItemDelegate::paint(painter, opt, index);
}

} // namespace quire
