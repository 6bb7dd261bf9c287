#pragma once

#include "catalog/catalog.h"
#include "ingest/ingestjob.h"
#include "upload/uploadjob.h"

#include <QAbstractTableModel>
#include <QHash>
#include <QIcon>
#include <QList>
#include <QTimer>

#include <functional>

namespace quire {

class CatalogService;

// The documents of one collection (or of all), sorted and filtered by the catalog, loaded lazily.
//
// Nothing is loaded up front: the first batch arrives from a query on the I/O pool, further
// batches when a view asks (canFetchMore/fetchMore), so a collection of 100,000 documents opens
// as fast as one of 200. Sorting and filtering re-query in SQL; the model never holds more rows
// than the views scrolled through.
//
// Live updates: DocumentEvent batches (from CatalogService::documentEvents) and
// UploadDocumentEvent batches (from the session's UploadController: status, bytes sent, speed, retry
// notes, where the remote keeps it) update the loaded rows in place by id, coalesced into one
// dataChanged() per ~50 ms; change hints re-query the loaded range (throttled) so added and
// removed documents show up.
//
// Every reply carries the query generation it was made for; replies for an older query are
// dropped, and replies arriving after the model is destroyed are never delivered (the model is
// the continuation's context). GUI thread only.
class DocumentModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DocumentModel)
public:
    enum Column { NameColumn, SizeColumn, StatusColumn, AddedColumn, HashColumn, RemoteColumn, ColumnCount };
    enum Role {
        IdRole = Qt::UserRole + 1,
        StatusRole,        // DocStatus as int
        ProgressRole,      // 0..1 for active documents with known progress, else -1 (double)
        ErrorRole,
        SourcePathRole,    // QByteArray, native bytes
        DuplicateOfRole,
        Sha256Role,        // full hex
        SpeedRole,         // bytes per second of an upload in flight, else -1 (double)
        NoteRole,          // an upload in flight's note ("retrying in 4 s: ..."), else empty
        AttemptRole,       // an upload in flight's attempt (1 = first), else 0
    };

    explicit DocumentModel(CatalogService &service, QObject *parent = nullptr);
    ~DocumentModel() override;

    // Changing the query re-queries; the old rows stay until the new ones arrive.
    void setCollection(qint64 collectionId);
    qint64 collectionId() const { return m_query.collectionId; }
    void setFilterText(const QString &text);
    QString filterText() const { return m_query.text; }
    void setStatusFilter(const QList<DocStatus> &statuses);
    QList<DocStatus> statusFilter() const { return m_query.statuses; }
    DocColumn sortColumn() const { return m_query.sortColumn; }
    Qt::SortOrder sortOrder() const { return m_query.order; }
    // The current query, without offset and limit.
    DocumentQuery query() const;

    // Starts over with the current query.
    void reload();
    // Re-queries the rows loaded so far and applies the differences in place.
    void refresh();

    int batchSize() const { return m_batchSize; }
    void setBatchSize(int rows) { m_batchSize = qMax(1, rows); }

    qint64 totalCount() const { return m_total; }      // -1 while unknown
    bool isLoading() const { return m_loading; }       // the current query's first rows are pending
    bool isBusy() const { return m_loading || m_fetching; }
    // Nothing loading, fetching or waiting to be re-queried (a change hint's throttle running, a
    // refresh wanted once the current query is in): the rows say what the catalog held.
    bool isSettled() const { return !isBusy() && !m_hintTimer.isActive() && !m_refreshWanted && !m_tailWanted; }
    bool atEnd() const { return m_atEnd; }
    int rowOfId(qint64 id) const { return m_rowOf.value(id, -1); }
    const Document &documentAt(int row) const { return m_rows.at(row); }
    QList<qint64> idsOf(const QModelIndexList &indexes) const;
    // Bytes hashed or sent so far of an active document, -1 when unknown.
    qint64 bytesDone(qint64 id) const { return m_progress.value(id, -1); }
    // Recent speed of the document's upload in flight; -1 when it is not uploading.
    double uploadSpeed(qint64 id) const;

    // "Uploading 42% · 1.2 MB/s", "Uploading 10% · retrying in 4 s": an uploading row's status
    // (the status cell's text and its progress bar's label).
    static QString uploadText(const QModelIndex &index);

    static DocColumn docColumn(int column);
    static int columnOf(DocColumn column);

    // QAbstractItemModel
    int rowCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : int(m_rows.size()); }
    int columnCount(const QModelIndex &parent = {}) const override { return parent.isValid() ? 0 : ColumnCount; }
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    QStringList mimeTypes() const override;
    QMimeData *mimeData(const QModelIndexList &indexes) const override;
    Qt::DropActions supportedDragActions() const override;
    // Drops are the window's business (they add files); the table itself takes none.
    Qt::DropActions supportedDropActions() const override { return Qt::IgnoreAction; }
    bool canDropMimeData(const QMimeData *, Qt::DropAction, int, int, const QModelIndex &) const override
    {
        return false;
    }

    // Applies a batch of document events (normally connected to CatalogService::documentEvents).
    void applyEvents(const QList<quire::DocumentEvent> &events);
    // Applies a batch of upload events (normally connected to UploadController::documentsChanged).
    void applyUploadEvents(const QList<quire::UploadDocumentEvent> &events);

Q_SIGNALS:
    void loadingChanged(bool loading);
    void totalCountChanged(qint64 total);
    // The first rows of the current query are in (the model was reset).
    void loaded();
    void batchFetched(int rows);
    void refreshed();
    void errorOccurred(const QString &message);

private:
    void startQuery();
    void requestCount();
    void onHint(qint64 collectionId);
    void onHintTimer();
    // Events about documents of this collection concern the rows shown.
    bool showsCollection(qint64 collectionId) const;
    // Runs q (fetchMore(), refresh()); apply gets the rows unless the query changed meanwhile.
    void fetchRows(const DocumentQuery &q, std::function<void(Result<QList<Document>>)> apply);
    void flushEvents();
    bool flushUploadEvent(const UploadDocumentEvent &e, int *first, int *last);
    void runPending();
    void applyRefresh(QList<Document> rows, qint64 limit);
    void rebuildIndex(int from = 0);
    void setLoading(bool loading);

    CatalogService &m_service;
    DocumentQuery m_query;
    QList<Document> m_rows;
    QHash<qint64, int> m_rowOf;
    QHash<qint64, qint64> m_progress;
    QHash<qint64, DocumentEvent> m_pendingEvents;
    // Uploads in flight: what the rows show beyond status and bytes done.
    struct UploadState
    {
        qint64 bytesTotal = 0;
        double bytesPerSecond = 0;
        int attempt = 0;
        QString note;
    };
    QHash<qint64, UploadState> m_uploads;
    QHash<qint64, UploadDocumentEvent> m_pendingUploads;

    quint64 m_generation = 0;
    quint64 m_countGeneration = 0;
    bool m_loading = false;
    bool m_fetching = false;
    bool m_atEnd = true;
    bool m_refreshWanted = false;
    bool m_tailWanted = false;
    qint64 m_total = -1;
    int m_batchSize = 200;

    QTimer m_eventTimer;
    QTimer m_hintTimer;
    QIcon m_fileIcon;
};

} // namespace quire
