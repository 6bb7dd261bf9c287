#pragma once

#include "catalog/catalog.h"
#include "common/icons.h"

#include <QAbstractTableModel>
#include <QList>
#include <QSet>
#include <QTimer>

namespace quire {

class CatalogService;

// The collections, ordered by name, with their document counts and a badge while ingest runs
// for them or when some of their documents failed.
//
// Re-queries the catalog (on the I/O pool) on CatalogService::collectionsChanged, throttled, and
// applies the differences in place (rows inserted, removed, moved, changed) so that selection
// and scroll position survive. GUI thread only.
class CollectionModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CollectionModel)
public:
    enum Column { NameColumn, CountColumn, ColumnCount };
    enum Role {
        IdRole = Qt::UserRole + 1,
        BusyRole,          // bool: ingest is running for it
        FailedCountRole,
        PendingCountRole,
        DocumentCountRole,
    };

    explicit CollectionModel(CatalogService &service, QObject *parent = nullptr);
    ~CollectionModel() override;

    // Re-queries now (coalesced with one already in flight).
    void refresh();
    bool hasLoaded() const { return m_loaded; }
    bool isRefreshing() const { return m_inFlight; }

    int rowOfId(qint64 id) const;
    int rowOfName(const QString &name) const;
    const Collection &collectionAt(int row) const { return m_rows.at(row); }
    const QList<Collection> &collections() const { return m_rows; }

    int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : int(m_rows.size()); }
    int columnCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : ColumnCount; }
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

Q_SIGNALS:
    void refreshed();
    void errorOccurred(const QString &message);

private:
    void scheduleRefresh();
    void apply(QList<Collection> rows);
    void updateBusy();

    CatalogService &m_service;
    QList<Collection> m_rows;
    QSet<qint64> m_busy;
    QTimer m_throttle;
    bool m_inFlight = false;
    bool m_again = false;
    bool m_loaded = false;
    const QIcon m_icon = Icons::glyph(QStringLiteral("collection"));
    const QIcon m_busyIcon = Icons::colored(QStringLiteral("badge-busy"));
    const QIcon m_failedIcon = Icons::colored(QStringLiteral("badge-failed"));
};

} // namespace quire
