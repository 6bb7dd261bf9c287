#include "models/documentmodel.h"

#include "catalog/catalogservice.h"
#include "common/format.h"
#include "common/icons.h"
#include "catalog/machine.h"
#include "platform/nativefs.h"
#include "common/plaintext.h"
#include "common/responsivenessmonitor.h"

#include <QFontDatabase>
#include <QLocale>
#include <QMimeData>
#include <QSet>
#include <QUrl>

#include <algorithm>

namespace quire {

namespace {

// Added on another machine of a shared catalog: waiting there, not here.
bool isOtherMachines(const Document &d)
{
    return !d.machineId.isEmpty() && d.machineId != thisMachine().id
           && (d.status == DocStatus::Hashed || d.status == DocStatus::Queued || d.status == DocStatus::Hashing);
}

// A refresh re-queries everything loaded so far; past this many rows a change hint only
// fetches the tail (new documents sort last by the default order), to keep hints cheap.
constexpr int kRefreshLimit = 2000;
constexpr int kEventFlushMs = 50;
constexpr int kHintThrottleMs = 700;

bool sameForDisplay(const Document &a, const Document &b)
{
    return a.id == b.id && a.status == b.status && a.sha256 == b.sha256 && a.error == b.error
        && a.remoteLocation == b.remoteLocation && a.size == b.size && a.fileName == b.fileName
        && a.duplicateOf == b.duplicateOf && a.attempts == b.attempts && a.updated == b.updated;
}

} // namespace

DocumentModel::DocumentModel(CatalogService &service, QObject *parent)
    : QAbstractTableModel(parent)
    , m_service(service)
    , m_fileIcon(Icons::glyph(QStringLiteral("document")))
{
    m_query.collectionId = -1;   // nothing selected yet
    m_eventTimer.setSingleShot(true);
    m_eventTimer.setInterval(kEventFlushMs);
    connect(&m_eventTimer, &QTimer::timeout, this, &DocumentModel::flushEvents);
    m_hintTimer.setSingleShot(true);
    m_hintTimer.setInterval(kHintThrottleMs);
    connect(&m_hintTimer, &QTimer::timeout, this, &DocumentModel::onHintTimer);

    connect(&m_service, &CatalogService::documentEvents, this, &DocumentModel::applyEvents);
    connect(&m_service, &CatalogService::documentsChanged, this, &DocumentModel::onHint);
}

DocumentModel::~DocumentModel() = default;

DocumentQuery DocumentModel::query() const
{
    DocumentQuery q = m_query;
    q.offset = 0;
    q.limit = -1;
    return q;
}

void DocumentModel::setCollection(qint64 collectionId)
{
    if (m_query.collectionId == collectionId)
        return;
    m_query.collectionId = collectionId;
    m_progress.clear();
    m_pendingEvents.clear();
    m_uploads.clear();
    m_pendingUploads.clear();
    startQuery();
}

void DocumentModel::setFilterText(const QString &text)
{
    if (m_query.text == text)
        return;
    m_query.text = text;
    startQuery();
}

void DocumentModel::setStatusFilter(const QList<DocStatus> &statuses)
{
    if (m_query.statuses == statuses)
        return;
    m_query.statuses = statuses;
    startQuery();
}

void DocumentModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= ColumnCount)
        return;
    const DocColumn c = docColumn(column);
    if (c == m_query.sortColumn && order == m_query.order)
        return;
    m_query.sortColumn = c;
    m_query.order = order;
    startQuery();
}

void DocumentModel::reload()
{
    startQuery();
}

DocColumn DocumentModel::docColumn(int column)
{
    switch (column) {
    case NameColumn: return DocColumn::Name;
    case SizeColumn: return DocColumn::Size;
    case StatusColumn: return DocColumn::Status;
    case HashColumn: return DocColumn::Sha256;
    case RemoteColumn: return DocColumn::Remote;
    default: return DocColumn::Added;
    }
}

int DocumentModel::columnOf(DocColumn column)
{
    switch (column) {
    case DocColumn::Name: return NameColumn;
    case DocColumn::Size: return SizeColumn;
    case DocColumn::Status: return StatusColumn;
    case DocColumn::Added: return AddedColumn;
    case DocColumn::Sha256: return HashColumn;
    case DocColumn::Remote: return RemoteColumn;
    }
    return AddedColumn;
}

void DocumentModel::setLoading(bool loading)
{
    if (m_loading == loading)
        return;
    m_loading = loading;
    Q_EMIT loadingChanged(loading);
}

void DocumentModel::startQuery()
{
    const quint64 generation = ++m_generation;
    m_refreshWanted = false;
    m_tailWanted = false;
    m_fetching = true;
    setLoading(true);
    requestCount();

    if (m_query.collectionId < 0) {
        // No collection selected: empty, without asking the catalog.
        beginResetModel();
        m_rows.clear();
        m_rowOf.clear();
        m_atEnd = true;
        endResetModel();
        m_fetching = false;
        setLoading(false);
        Q_EMIT loaded();
        return;
    }

    DocumentQuery q = m_query;
    q.offset = 0;
    q.limit = m_batchSize;
    const int limit = m_batchSize;
    onFinished(m_service.documents(q), this, [this, generation, limit](Result<QList<Document>> r) {
        if (generation != m_generation)
            return;   // a newer query replaced this one
        ResponsivenessMonitor::Activity activity("DocumentModel::firstBatch");
        beginResetModel();
        if (r) {
            m_rows = std::move(r).value();
            m_atEnd = m_rows.size() < limit;
        } else {
            m_rows.clear();
            m_atEnd = true;
        }
        rebuildIndex();
        endResetModel();
        m_fetching = false;
        setLoading(false);
        if (!r)
            Q_EMIT errorOccurred(r.error());
        Q_EMIT loaded();
        runPending();
    });
}

void DocumentModel::requestCount()
{
    const quint64 generation = ++m_countGeneration;
    if (m_query.collectionId < 0) {
        m_total = 0;
        Q_EMIT totalCountChanged(m_total);
        return;
    }
    onFinished(m_service.countDocuments(query()), this, [this, generation](Result<qint64> r) {
        if (generation != m_countGeneration || !r)
            return;
        if (m_total != *r) {
            m_total = *r;
            Q_EMIT totalCountChanged(m_total);
        }
    });
}

void DocumentModel::rebuildIndex(int from)
{
    if (from == 0)
        m_rowOf.clear();
    m_rowOf.reserve(m_rows.size());
    for (int i = from; i < m_rows.size(); ++i)
        m_rowOf.insert(m_rows.at(i).id, i);
}

bool DocumentModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && !m_atEnd && !m_loading;
}

void DocumentModel::fetchMore(const QModelIndex &parent)
{
    if (parent.isValid() || m_atEnd || m_loading)
        return;
    if (m_fetching) {
        m_tailWanted = true;
        return;
    }
    DocumentQuery q = m_query;
    q.offset = m_rows.size();
    q.limit = m_batchSize;
    const int limit = m_batchSize;
    fetchRows(q, [this, limit](Result<QList<Document>> r) {
        if (!r) {
            m_atEnd = true;
            Q_EMIT errorOccurred(r.error());
            return;
        }
        ResponsivenessMonitor::Activity activity("DocumentModel::fetchMore");
        // Rows may have shifted since the offset was computed (documents added or removed):
        // never show a document twice.
        QList<Document> fresh;
        fresh.reserve(r->size());
        for (Document &d : *r) {
            if (!m_rowOf.contains(d.id))
                fresh.append(std::move(d));
        }
        m_atEnd = r->size() < limit;
        if (!fresh.isEmpty()) {
            const int first = int(m_rows.size());
            beginInsertRows({}, first, first + int(fresh.size()) - 1);
            m_rows.append(std::move(fresh));
            rebuildIndex(first);
            endInsertRows();
        }
        Q_EMIT batchFetched(int(r->size()));
        runPending();
    });
}

void DocumentModel::fetchRows(const DocumentQuery &q, std::function<void(Result<QList<Document>>)> apply)
{
    m_fetching = true;
    const quint64 generation = m_generation;
    onFinished(m_service.documents(q), this, [this, generation, apply = std::move(apply)](Result<QList<Document>> r) {
        if (generation != m_generation)
            return;
        m_fetching = false;
        apply(std::move(r));
    });
}

void DocumentModel::refresh()
{
    // While the first batch loads, its query may already have read the catalog before the
    // change this refresh is for: refresh again once it is in.
    if (m_loading || m_fetching) {
        m_refreshWanted = true;
        return;
    }
    DocumentQuery q = m_query;
    q.offset = 0;
    q.limit = std::max<qint64>(m_rows.size(), m_batchSize);
    const qint64 limit = q.limit;
    fetchRows(q, [this, limit](Result<QList<Document>> r) {
        if (!r) {
            Q_EMIT errorOccurred(r.error());
            return;
        }
        applyRefresh(std::move(r).value(), limit);
        Q_EMIT refreshed();
        runPending();
    });
}

void DocumentModel::applyRefresh(QList<Document> rows, qint64 limit)
{
    ResponsivenessMonitor::Activity activity("DocumentModel::applyRefresh");
    const int n = int(rows.size());
    if (n < m_rows.size()) {
        beginRemoveRows({}, n, int(m_rows.size()) - 1);
        m_rows.resize(n);
        rebuildIndex();
        endRemoveRows();
    }
    const int common = int(m_rows.size());
    bool sameOrder = true;
    for (int i = 0; i < common && sameOrder; ++i)
        sameOrder = m_rows.at(i).id == rows.at(i).id;

    if (sameOrder) {
        int firstChanged = -1;
        int lastChanged = -1;
        for (int i = 0; i < common; ++i) {
            if (!sameForDisplay(m_rows.at(i), rows.at(i))) {
                // Live progress (events) may be newer than this query for active rows.
                m_rows[i] = rows.at(i);
                if (firstChanged < 0)
                    firstChanged = i;
                lastChanged = i;
            }
        }
        if (firstChanged >= 0)
            Q_EMIT dataChanged(index(firstChanged, 0), index(lastChanged, ColumnCount - 1));
    } else {
        Q_EMIT layoutAboutToBeChanged();
        const QModelIndexList before = persistentIndexList();
        QList<qint64> ids;
        ids.reserve(before.size());
        for (const QModelIndex &i : before)
            ids.append(i.row() < m_rows.size() ? m_rows.at(i.row()).id : -1);
        for (int i = 0; i < common; ++i)
            m_rows[i] = rows.at(i);
        rebuildIndex();
        QModelIndexList after;
        after.reserve(before.size());
        for (int k = 0; k < before.size(); ++k) {
            const int row = m_rowOf.value(ids.at(k), -1);
            after.append(row >= 0 ? index(row, before.at(k).column()) : QModelIndex());
        }
        changePersistentIndexList(before, after);
        Q_EMIT layoutChanged();
    }

    if (n > common) {
        beginInsertRows({}, common, n - 1);
        for (int i = common; i < n; ++i)
            m_rows.append(std::move(rows[i]));
        rebuildIndex(common);
        endInsertRows();
    }
    m_atEnd = n < limit;
}

void DocumentModel::runPending()
{
    if (m_fetching || m_loading)
        return;
    if (m_refreshWanted) {
        m_refreshWanted = false;
        m_tailWanted = false;
        refresh();
    } else if (m_tailWanted) {
        m_tailWanted = false;
        fetchMore({});
    }
}

void DocumentModel::onHint(qint64 collectionId)
{
    if (collectionId != 0 && m_query.collectionId > 0 && collectionId != m_query.collectionId)
        return;
    if (m_query.collectionId < 0)
        return;
    // Throttle, not debounce: under a continuous stream of hints still refresh regularly.
    if (!m_hintTimer.isActive())
        m_hintTimer.start();
}

void DocumentModel::onHintTimer()
{
    requestCount();
    if (m_loading) {
        m_refreshWanted = true;   // see refresh()
        return;
    }
    if (m_rows.size() <= kRefreshLimit) {
        refresh();
    } else if (m_atEnd) {
        // New documents sort last by default: fetch whatever follows the loaded rows.
        m_atEnd = false;
        fetchMore({});
    }
}

void DocumentModel::applyEvents(const QList<DocumentEvent> &events)
{
    bool any = false;
    for (const DocumentEvent &e : events) {
        if (!showsCollection(e.collectionId))
            continue;
        auto it = m_pendingEvents.find(e.id);
        if (it == m_pendingEvents.end()) {
            m_pendingEvents.insert(e.id, e);
        } else {
            // Later events win, but keep what an earlier one knew and this one does not.
            DocumentEvent merged = e;
            if (merged.sha256.isEmpty())
                merged.sha256 = it->sha256;
            *it = std::move(merged);
        }
        any = true;
    }
    if (any && !m_eventTimer.isActive())
        m_eventTimer.start();
}

void DocumentModel::applyUploadEvents(const QList<UploadDocumentEvent> &events)
{
    bool any = false;
    for (const UploadDocumentEvent &e : events) {
        if (!showsCollection(e.collectionId))
            continue;
        m_pendingUploads.insert(e.id, e);   // the latest state of a document wins
        any = true;
    }
    if (any && !m_eventTimer.isActive())
        m_eventTimer.start();
}

bool DocumentModel::showsCollection(qint64 collectionId) const
{
    // -1: nothing selected; 0: the documents of all collections.
    return m_query.collectionId == 0 || (m_query.collectionId > 0 && collectionId == m_query.collectionId);
}

QString DocumentModel::uploadText(const QModelIndex &index)
{
    const double progress = index.data(ProgressRole).toDouble();
    QStringList parts;
    parts << (progress >= 0 ? tr("Uploading %1%").arg(int(progress * 100)) : Format::status(DocStatus::Uploading));
    const QString note = index.data(NoteRole).toString();
    const double speed = index.data(SpeedRole).toDouble();
    if (!note.isEmpty()) {
        // "retrying in 4 s: <why>": the cell says when, the tooltip why.
        const QString when = note.section(QLatin1Char(':'), 0, 0).trimmed();
        parts << (when.size() <= 32 ? when : tr("waiting to retry"));
    } else if (speed > 0) {
        parts << Format::speed(speed);
    }
    const int attempt = index.data(AttemptRole).toInt();
    if (attempt > 1 && note.isEmpty())
        parts << tr("attempt %1").arg(attempt);
    return parts.join(QStringLiteral(" · "));
}

double DocumentModel::uploadSpeed(qint64 id) const
{
    const auto it = m_uploads.constFind(id);
    return it == m_uploads.cend() ? -1.0 : it->bytesPerSecond;
}

// Returns false when the document is not loaded.
bool DocumentModel::flushUploadEvent(const UploadDocumentEvent &e, int *first, int *last)
{
    if (e.status == DocStatus::Uploading) {
        m_progress.insert(e.id, e.bytesDone);
        m_uploads.insert(e.id, UploadState{e.bytesTotal, e.bytesPerSecond, e.attempt, e.message});
    } else {
        m_uploads.remove(e.id);
        if (!isActive(e.status))
            m_progress.remove(e.id);
    }
    const int row = m_rowOf.value(e.id, -1);
    if (row < 0)
        return false;
    Document &d = m_rows[row];
    d.status = e.status;
    switch (e.status) {
    case DocStatus::Uploaded:
        if (!e.location.isEmpty())
            d.remoteLocation = e.location;
        d.error.clear();
        break;
    case DocStatus::Failed:
        d.error = e.message;
        break;
    case DocStatus::Uploading:
    case DocStatus::Hashed:
        d.error.clear();
        break;
    default:
        break;
    }
    if (e.attempt > 0)
        d.attempts = std::max(d.attempts, e.attempt);
    *first = *first < 0 ? row : std::min(*first, row);
    *last = std::max(*last, row);
    return true;
}

void DocumentModel::flushEvents()
{
    if (m_pendingEvents.isEmpty() && m_pendingUploads.isEmpty())
        return;
    ResponsivenessMonitor::Activity activity("DocumentModel::flushEvents");
    int first = -1;
    int last = -1;
    bool unknown = false;
    for (auto it = m_pendingEvents.cbegin(); it != m_pendingEvents.cend(); ++it) {
        const DocumentEvent &e = it.value();
        if (isActive(e.status))
            m_progress.insert(e.id, e.bytesDone);
        else
            m_progress.remove(e.id);
        const int row = m_rowOf.value(e.id, -1);
        if (row < 0) {
            unknown = true;
            continue;
        }
        Document &d = m_rows[row];
        d.status = e.status;
        if (!e.sha256.isEmpty())
            d.sha256 = e.sha256;
        d.error = e.error;
        d.duplicateOf = e.duplicateOf;
        if (e.size > 0)
            d.size = e.size;
        first = first < 0 ? row : std::min(first, row);
        last = std::max(last, row);
    }
    m_pendingEvents.clear();
    // After the ingest events: an upload only ever follows hashing.
    for (auto it = m_pendingUploads.cbegin(); it != m_pendingUploads.cend(); ++it) {
        if (!flushUploadEvent(it.value(), &first, &last))
            unknown = true;
    }
    m_pendingUploads.clear();
    if (first >= 0)
        Q_EMIT dataChanged(index(first, 0), index(last, ColumnCount - 1));
    // Documents not loaded yet: new ones, or ones beyond the loaded range. Only worth a query
    // if the view could show them now.
    if (unknown && m_atEnd)
        onHint(m_query.collectionId);
}

QList<qint64> DocumentModel::idsOf(const QModelIndexList &indexes) const
{
    QList<qint64> ids;
    QSet<int> rows;
    for (const QModelIndex &i : indexes) {
        if (i.isValid() && i.model() == this && !rows.contains(i.row())) {
            rows.insert(i.row());
            ids.append(m_rows.at(i.row()).id);
        }
    }
    return ids;
}

QVariant DocumentModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Document &d = m_rows.at(index.row());
    switch (role) {
    case IdRole: return d.id;
    case StatusRole: return int(d.status);
    case ErrorRole: return d.error;
    case SourcePathRole: return d.sourcePath;
    case DuplicateOfRole: return d.duplicateOf;
    case Sha256Role: return QString::fromLatin1(d.sha256);
    case ProgressRole: {
        if (!isActive(d.status))
            return -1.0;
        const qint64 done = m_progress.value(d.id, 0);
        qint64 total = d.size;
        if (d.status == DocStatus::Uploading) {
            const auto up = m_uploads.constFind(d.id);
            if (up != m_uploads.cend() && up->bytesTotal > 0)
                total = up->bytesTotal;
        }
        return total > 0 ? std::clamp(double(done) / double(total), 0.0, 1.0) : 0.0;
    }
    case SpeedRole:
        return d.status == DocStatus::Uploading ? uploadSpeed(d.id) : -1.0;
    case NoteRole:
        return d.status == DocStatus::Uploading ? m_uploads.value(d.id).note : QString();
    case AttemptRole:
        return d.status == DocStatus::Uploading ? m_uploads.value(d.id).attempt : 0;
    default:
        break;
    }

    switch (index.column()) {
    case NameColumn:
        if (role == Qt::DisplayRole || role == Qt::EditRole)
            return d.fileName;
        if (role == Qt::ToolTipRole)
            return plainToolTip(qtPath(d.sourcePath));
        if (role == Qt::DecorationRole)
            return m_fileIcon;
        break;
    case SizeColumn:
        if (role == Qt::DisplayRole)
            return Format::bytes(d.size);
        if (role == Qt::ToolTipRole)
            return tr("%1 bytes").arg(Format::count(d.size));
        if (role == Qt::TextAlignmentRole)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        break;
    case StatusColumn:
        if (role == Qt::DisplayRole) {
            if (d.status == DocStatus::Duplicate && d.duplicateOf > 0) {
                // Name the original when it is loaded; its id otherwise (no query for a label).
                const int original = m_rowOf.value(d.duplicateOf, -1);
                return original >= 0 ? tr("Duplicate of “%1”").arg(m_rows.at(original).fileName)
                                     : tr("Duplicate of #%1").arg(d.duplicateOf);
            }
            if (d.status == DocStatus::Failed && !d.error.isEmpty())
                return tr("Failed: %1").arg(d.error);
            if (d.status == DocStatus::Uploading)
                return uploadText(index);
            if (isOtherMachines(d))
                return tr("On another machine");
            return Format::status(d.status);
        }
        if (role == Qt::ToolTipRole) {
            if (isOtherMachines(d))
                return tr("Added on another machine: its source file is there, and that machine uploads it");
            if (d.status == DocStatus::Uploading) {
                const UploadState up = m_uploads.value(d.id);
                QString tip = uploadText(index);
                if (up.bytesTotal > 0)
                    tip += QLatin1Char('\n') + tr("%1 of %2 sent").arg(Format::bytes(m_progress.value(d.id, 0)), Format::bytes(up.bytesTotal));
                if (!up.note.isEmpty())
                    tip += QLatin1Char('\n') + up.note;
                return plainToolTip(tip);
            }
            if (!d.error.isEmpty())
                return plainToolTip(d.error);   // may quote a server's error page
            if (d.status == DocStatus::Duplicate)
                return tr("Same content as document #%1 in this collection").arg(d.duplicateOf);
            return Format::status(d.status);
        }
        break;
    case AddedColumn:
        if (role == Qt::DisplayRole)
            return QLocale().toString(d.added.toLocalTime(), QLocale::ShortFormat);
        if (role == Qt::ToolTipRole)
            return QLocale().toString(d.added.toLocalTime(), QLocale::LongFormat);
        break;
    case HashColumn:
        if (role == Qt::DisplayRole)
            return Format::shortHash(d.sha256);
        if (role == Qt::ToolTipRole)
            return d.sha256.isEmpty() ? tr("Not hashed yet") : QString::fromLatin1(d.sha256);
        if (role == Qt::FontRole)
            return QFontDatabase::systemFont(QFontDatabase::FixedFont);
        break;
    case RemoteColumn:
        if (role == Qt::DisplayRole)
            return d.remoteLocation;
        if (role == Qt::ToolTipRole)
            return plainToolTip(d.remoteLocation);
        break;
    default:
        break;
    }
    return {};
}

QVariant DocumentModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NameColumn: return tr("Name");
    case SizeColumn: return tr("Size");
    case StatusColumn: return tr("Status");
    case AddedColumn: return tr("Added");
    case HashColumn: return tr("SHA-256");
    case RemoteColumn: return tr("Remote location");
    default: return {};
    }
}

Qt::ItemFlags DocumentModel::flags(const QModelIndex &index) const
{
    if (!index.isValid())
        return Qt::NoItemFlags;
    return Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled | Qt::ItemNeverHasChildren;
}

QStringList DocumentModel::mimeTypes() const
{
    return {QStringLiteral("text/uri-list")};
}

QMimeData *DocumentModel::mimeData(const QModelIndexList &indexes) const
{
    QList<QUrl> urls;
    QSet<int> rows;
    for (const QModelIndex &i : indexes) {
        if (!i.isValid() || rows.contains(i.row()))
            continue;
        rows.insert(i.row());
        urls.append(QUrl::fromLocalFile(qtPath(m_rows.at(i.row()).sourcePath)));
    }
    if (urls.isEmpty())
        return nullptr;
    auto *mime = new QMimeData;
    mime->setUrls(urls);
    return mime;
}

Qt::DropActions DocumentModel::supportedDragActions() const
{
    return Qt::CopyAction;
}

} // namespace quire
