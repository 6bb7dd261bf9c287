#include "models/collectionmodel.h"

#include "catalog/catalogservice.h"
#include "common/format.h"
#include "common/plaintext.h"
#include "common/responsivenessmonitor.h"

#include <QHash>

namespace quire {

namespace {
constexpr int kThrottleMs = 700;

bool sameForDisplay(const Collection &a, const Collection &b)
{
    return a.id == b.id && a.name == b.name && a.documentCount == b.documentCount && a.bytes == b.bytes
        && a.failedCount == b.failedCount && a.pendingCount == b.pendingCount && a.remote == b.remote;
}
} // namespace

CollectionModel::CollectionModel(CatalogService &service, QObject *parent)
    : QAbstractTableModel(parent)
    , m_service(service)
{
    m_throttle.setSingleShot(true);
    m_throttle.setInterval(kThrottleMs);
    connect(&m_throttle, &QTimer::timeout, this, &CollectionModel::refresh);
    connect(&m_service, &CatalogService::collectionsChanged, this, &CollectionModel::scheduleRefresh);
    connect(&m_service, &CatalogService::jobStarted, this, &CollectionModel::updateBusy);
    connect(&m_service, &CatalogService::jobFinished, this, &CollectionModel::updateBusy);
}

CollectionModel::~CollectionModel() = default;

void CollectionModel::scheduleRefresh()
{
    if (!m_throttle.isActive())
        m_throttle.start();
}

void CollectionModel::refresh()
{
    if (m_inFlight) {
        m_again = true;
        return;
    }
    m_inFlight = true;
    onFinished(m_service.collections(), this, [this](Result<QList<Collection>> r) {
        m_inFlight = false;
        if (r) {
            apply(std::move(r).value());
        } else {
            Q_EMIT errorOccurred(r.error());
        }
        m_loaded = true;
        Q_EMIT refreshed();
        if (std::exchange(m_again, false))
            refresh();
    });
}

void CollectionModel::apply(QList<Collection> rows)
{
    ResponsivenessMonitor::Activity activity("CollectionModel::apply");
    QHash<qint64, int> wanted;
    for (int i = 0; i < rows.size(); ++i)
        wanted.insert(rows.at(i).id, i);

    // 1. Rows that are gone.
    for (int i = int(m_rows.size()) - 1; i >= 0; --i) {
        if (!wanted.contains(m_rows.at(i).id)) {
            beginRemoveRows({}, i, i);
            m_rows.removeAt(i);
            endRemoveRows();
        }
    }
    // 2. New rows, at their place in the new order as far as the existing ones allow.
    QSet<qint64> have;
    for (const Collection &c : std::as_const(m_rows))
        have.insert(c.id);
    for (int i = 0; i < rows.size(); ++i) {
        if (have.contains(rows.at(i).id))
            continue;
        const int at = std::min<int>(i, int(m_rows.size()));
        beginInsertRows({}, at, at);
        m_rows.insert(at, rows.at(i));
        endInsertRows();
    }
    // 3. A rename can change the order: move rows as a layout change (keeps the selection).
    bool sameOrder = true;
    for (int i = 0; i < rows.size() && sameOrder; ++i)
        sameOrder = m_rows.at(i).id == rows.at(i).id;
    if (!sameOrder) {
        Q_EMIT layoutAboutToBeChanged();
        const QModelIndexList before = persistentIndexList();
        QModelIndexList after;
        for (const QModelIndex &i : before) {
            const int row = wanted.value(m_rows.at(i.row()).id, -1);
            after.append(row >= 0 ? index(row, i.column()) : QModelIndex());
        }
        m_rows = rows;
        changePersistentIndexList(before, after);
        Q_EMIT layoutChanged();
    } else {
        for (int i = 0; i < rows.size(); ++i) {
            if (!sameForDisplay(m_rows.at(i), rows.at(i))) {
                m_rows[i] = rows.at(i);
                Q_EMIT dataChanged(index(i, 0), index(i, ColumnCount - 1));
            }
        }
    }
}

void CollectionModel::updateBusy()
{
    const QList<qint64> busy = m_service.busyCollections();
    const QSet<qint64> now(busy.cbegin(), busy.cend());
    if (now == m_busy)
        return;
    m_busy = now;
    if (!m_rows.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(int(m_rows.size()) - 1, ColumnCount - 1));
}

int CollectionModel::rowOfId(qint64 id) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).id == id)
            return i;
    }
    return -1;
}

int CollectionModel::rowOfName(const QString &name) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).name == name)
            return i;
    }
    return -1;
}

QVariant CollectionModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Collection &c = m_rows.at(index.row());
    const bool busy = m_busy.contains(c.id);
    switch (role) {
    case IdRole: return c.id;
    case BusyRole: return busy;
    case FailedCountRole: return c.failedCount;
    case PendingCountRole: return c.pendingCount;
    case DocumentCountRole: return c.documentCount;
    case Qt::ToolTipRole: {
        QString tip = tr("%1\n%2, %3").arg(c.name, Format::documents(c.documentCount), Format::bytes(c.bytes));
        if (c.pendingCount > 0)
            tip += QLatin1Char('\n') + tr("%1 in progress").arg(Format::count(c.pendingCount));
        if (c.failedCount > 0)
            tip += QLatin1Char('\n') + tr("%1 failed").arg(Format::count(c.failedCount));
        tip += QLatin1Char('\n') + (c.remote.isEmpty() ? tr("Not uploaded (no remote)")
                                                        : tr("Uploads to: %1").arg(c.remote));
        return plainToolTip(tip);   // names from the catalog, shown as they are
    }
    default:
        break;
    }
    if (index.column() == NameColumn) {
        if (role == Qt::DisplayRole || role == Qt::EditRole)
            return c.name;
        if (role == Qt::DecorationRole)
            return busy ? m_busyIcon : c.failedCount > 0 ? m_failedIcon : m_icon;
    } else if (index.column() == CountColumn) {
        if (role == Qt::DisplayRole)
            return Format::count(c.documentCount);
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant CollectionModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    return section == NameColumn ? tr("Collection") : tr("Documents");
}

Qt::ItemFlags CollectionModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
}

} // namespace quire
