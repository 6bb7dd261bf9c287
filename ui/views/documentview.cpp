#include "views/documentview.h"

#include "common/icons.h"
#include "common/responsivenessmonitor.h"

#include <QDrag>
#include <QHeaderView>
#include <QPainter>

namespace quire {

DocumentView::DocumentView(QWidget *parent)
    : QTableView(parent)
{
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::ExtendedSelection);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setDragDropMode(QAbstractItemView::DragOnly);
    setDefaultDropAction(Qt::CopyAction);
    setSortingEnabled(true);
    setWordWrap(false);
    setTextElideMode(Qt::ElideMiddle);
    setShowGrid(false);
    setAlternatingRowColors(true);
    setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    setContextMenuPolicy(Qt::CustomContextMenu);
    verticalHeader()->hide();
    // Fixed row heights: the view never measures rows it does not show.
    verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
    horizontalHeader()->setHighlightSections(false);
    horizontalHeader()->setSectionsMovable(true);
    horizontalHeader()->setStretchLastSection(true);
}

DocumentView::~DocumentView() = default;

void DocumentView::setEmptyText(const QString &title, const QString &detail)
{
    if (title == m_emptyTitle && detail == m_emptyDetail)
        return;
    m_emptyTitle = title;
    m_emptyDetail = detail;
    viewport()->update();
}

void DocumentView::paintEvent(QPaintEvent *event)
{
    ResponsivenessMonitor::Activity activity("DocumentView::paint");
    QTableView::paintEvent(event);
    const bool hasRows = model() && model()->rowCount() > 0;
    if (hasRows) {
        if (!m_rowsPainted) {
            m_rowsPainted = true;
            Q_EMIT rowsPainted();
        }
        return;
    }
    if (m_emptyTitle.isEmpty())
        return;

    QPainter p(viewport());
    p.setRenderHint(QPainter::Antialiasing);
    const QRect area = viewport()->rect();
    const int iconSize = 64;
    const QPixmap pm = Icons::glyph(QStringLiteral("drop")).pixmap(QSize(iconSize, iconSize), devicePixelRatioF(),
                                                                    QIcon::Disabled);
    QFont titleFont = font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.4);
    const QFontMetrics tm(titleFont);
    const QFontMetrics dm(font());
    const int width = std::min(area.width() - 40, 460);
    const QRect detailBounds = dm.boundingRect(QRect(0, 0, width, 1000), Qt::AlignHCenter | Qt::TextWordWrap, m_emptyDetail);
    const int total = iconSize + 16 + tm.height() + 8 + detailBounds.height();
    int y = area.center().y() - total / 2;
    p.drawPixmap(QRect(area.center().x() - iconSize / 2, y, iconSize, iconSize), pm);
    y += iconSize + 16;
    p.setFont(titleFont);
    p.setPen(palette().color(QPalette::Text));
    p.drawText(QRect(area.left(), y, area.width(), tm.height()), Qt::AlignHCenter, m_emptyTitle);
    y += tm.height() + 8;
    p.setFont(font());
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(QRect(area.center().x() - width / 2, y, width, detailBounds.height()),
               Qt::AlignHCenter | Qt::TextWordWrap, m_emptyDetail);
}

void DocumentView::startDrag(Qt::DropActions supportedActions)
{
    // Dragging out only ever copies (the source files stay where they are).
    QTableView::startDrag(supportedActions & Qt::CopyAction);
}

} // namespace quire
