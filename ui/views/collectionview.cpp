#include "views/collectionview.h"

#include "models/collectionmodel.h"
#include "common/droputil.h"
#include "common/responsivenessmonitor.h"

#include <QDragEnterEvent>
#include <QDragLeaveEvent>
#include <QDragMoveEvent>
#include <QDropEvent>
#include <QHeaderView>
#include <QPainter>

namespace quire {

CollectionView::CollectionView(QWidget *parent)
    : QTreeView(parent)
{
    setRootIsDecorated(false);
    setUniformRowHeights(true);
    setAllColumnsShowFocus(true);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    // Drops are handled here, not by the model: the view knows what is under the cursor.
    setAcceptDrops(true);
    viewport()->setAcceptDrops(true);
    setDragDropMode(QAbstractItemView::NoDragDrop);
    setAcceptDrops(true);
    header()->setStretchLastSection(false);
}

CollectionView::~CollectionView() = default;

qint64 CollectionView::currentCollectionId() const
{
    const QModelIndex i = currentIndex();
    return i.isValid() ? i.data(CollectionModel::IdRole).toLongLong() : 0;
}

bool CollectionView::selectCollection(qint64 id)
{
    if (!model())
        return false;
    for (int row = 0; row < model()->rowCount(); ++row) {
        const QModelIndex i = model()->index(row, 0);
        if (i.data(CollectionModel::IdRole).toLongLong() == id) {
            setCurrentIndex(i);
            scrollTo(i);
            return true;
        }
    }
    return false;
}

void CollectionView::currentChanged(const QModelIndex &current, const QModelIndex &previous)
{
    QTreeView::currentChanged(current, previous);
    const qint64 id = current.isValid() ? current.data(CollectionModel::IdRole).toLongLong() : 0;
    // Layout changes re-set the current index to the same collection: not a change.
    if (id != m_lastEmitted) {
        m_lastEmitted = id;
        Q_EMIT currentCollectionChanged(id);
    }
}

void CollectionView::setDropTarget(const QModelIndex &index, bool active)
{
    const QPersistentModelIndex target(index.isValid() ? index.siblingAtColumn(0) : QModelIndex());
    if (target != m_dropTarget || active != m_dragActive) {
        m_dropTarget = target;
        m_dragActive = active;
        viewport()->update();
    }
}

void CollectionView::dragEnterEvent(QDragEnterEvent *event)
{
    dragMoveEvent(event);   // the same test and drop target on entering as on every move
}

void CollectionView::dragMoveEvent(QDragMoveEvent *event)
{
    if (!hasLocalPaths(event->mimeData())) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::CopyAction);
    event->accept();
    setDropTarget(indexAt(event->position().toPoint()), true);
}

void CollectionView::dragLeaveEvent(QDragLeaveEvent *event)
{
    setDropTarget({}, false);
    event->accept();
}

void CollectionView::dropEvent(QDropEvent *event)
{
    const QList<QByteArray> paths = localPathsOf(event->mimeData());
    const QModelIndex at = indexAt(event->position().toPoint());
    setDropTarget({}, false);
    if (paths.isEmpty()) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::CopyAction);
    event->accept();
    const qint64 id = at.isValid() ? at.data(CollectionModel::IdRole).toLongLong() : 0;
    Q_EMIT pathsDropped(id, paths);
}

void CollectionView::paintEvent(QPaintEvent *event)
{
    ResponsivenessMonitor::Activity activity("CollectionView::paint");
    QTreeView::paintEvent(event);
    QPainter p(viewport());
    p.setRenderHint(QPainter::Antialiasing);
    const QColor accent = palette().color(QPalette::Highlight);
    if (m_dragActive) {
        QPen pen(accent, 2);
        if (m_dropTarget.isValid()) {
            QRect r = visualRect(m_dropTarget);
            r.setLeft(0);
            r.setRight(viewport()->width() - 1);
            p.setPen(pen);
            p.drawRoundedRect(QRectF(r).adjusted(1, 1, -1, -1), 4, 4);
        } else {
            pen.setStyle(Qt::DashLine);
            p.setPen(pen);
            p.drawRoundedRect(QRectF(viewport()->rect()).adjusted(2, 2, -2, -2), 6, 6);
            p.setPen(palette().color(QPalette::Text));
            const int bottom = model() && model()->rowCount() > 0
                ? visualRect(model()->index(model()->rowCount() - 1, 0)).bottom() + 8 : 8;
            QRect textRect = viewport()->rect().adjusted(12, bottom, -12, -12);
            p.drawText(textRect, Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap,
                       tr("Drop here to make a new collection"));
        }
    } else if (model() && model()->rowCount() == 0) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(viewport()->rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
                   tr("No collections yet.\nDrop files or folders here to start one."));
    }
}

} // namespace quire
