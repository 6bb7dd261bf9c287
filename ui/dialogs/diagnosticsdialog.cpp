#include "dialogs/diagnosticsdialog.h"

#include "catalog/catalogservice.h"
#include "common/format.h"
#include "common/plaintext.h"
#include "jobs/pools.h"
#include "common/responsivenessmonitor.h"
#include "settings/sessionstore.h"

#include <QClipboard>
#include <QDialogButtonBox>
#include <QGuiApplication>
#include <QHeaderView>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace quire {

namespace {

QString figures(const ResponsivenessMonitor::Figures &f)
{
    return DiagnosticsDialog::tr("max %1 ms · p50 %2 ms · p99 %3 ms (%4 samples)")
        .arg(f.maxMs, 0, 'f', 1)
        .arg(f.p50Ms, 0, 'f', 1)
        .arg(f.p99Ms, 0, 'f', 1)
        .arg(Format::count(f.samples));
}

QString pool(const PoolLoad &l)
{
    return DiagnosticsDialog::tr("%1 active of %2 · %3 queued")
        .arg(l.active)
        .arg(l.maxThreads)
        .arg(Format::count(l.queued));
}

} // namespace

DiagnosticsDialog::DiagnosticsDialog(CatalogService &service, SessionStore &store, ResponsivenessMonitor *monitor,
                                     QWidget *parent)
    : QDialog(parent)
    , m_service(service)
    , m_store(store)
    , m_monitor(monitor)
{
    setObjectName(QStringLiteral("diagnosticsDialog"));
    setWindowTitle(tr("Diagnostics"));
    auto *layout = new QVBoxLayout(this);
    m_tree = new QTreeWidget(this);
    m_tree->setColumnCount(2);
    m_tree->setHeaderLabels({tr("Measure"), tr("Value")});
    m_tree->setRootIsDecorated(false);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    layout->addWidget(m_tree);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *copy = buttons->addButton(tr("&Copy"), QDialogButtonBox::ActionRole);
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(text()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &DiagnosticsDialog::refresh);
    resize(620, 520);
    refresh();
    m_tree->expandAll();
}

DiagnosticsDialog::~DiagnosticsDialog() = default;

void DiagnosticsDialog::showEvent(QShowEvent *event)
{
    QDialog::showEvent(event);
    refresh();
    m_timer.start();
}

void DiagnosticsDialog::hideEvent(QHideEvent *event)
{
    m_timer.stop();
    QDialog::hideEvent(event);
}

QTreeWidgetItem *DiagnosticsDialog::section(const QString &title)
{
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        if (m_tree->topLevelItem(i)->text(0) == title)
            return m_tree->topLevelItem(i);
    }
    auto *item = new QTreeWidgetItem(m_tree, {title});
    QFont f = item->font(0);
    f.setBold(true);
    item->setFont(0, f);
    item->setFirstColumnSpanned(true);
    return item;
}

void DiagnosticsDialog::set(QTreeWidgetItem *section, int row, const QString &name, const QString &value)
{
    while (section->childCount() <= row)
        new QTreeWidgetItem(section);
    QTreeWidgetItem *item = section->child(row);
    item->setText(0, name);
    item->setText(1, value);
    item->setToolTip(1, plainToolTip(value));   // values such as the catalog's location are data
}

void DiagnosticsDialog::refresh()
{
    QTreeWidgetItem *ui = section(tr("UI thread responsiveness"));
    if (m_monitor) {
        set(ui, 0, tr("Lateness, whole session"), figures(m_monitor->session()));
        set(ui, 1, tr("Lateness, last minute"), figures(m_monitor->lastMinute()));
        set(ui, 2, tr("Stalls over %1 ms").arg(m_monitor->stallThreshold()), Format::count(m_monitor->stalls()));
        set(ui, 3, tr("Last stall"), m_monitor->lastStall().isEmpty() ? tr("none") : m_monitor->lastStall());
        set(ui, 4, tr("Heartbeat"), tr("every %1 ms").arg(m_monitor->interval()));
    } else {
        set(ui, 0, tr("Monitor"), tr("not running"));
    }

    QTreeWidgetItem *work = section(tr("Workers"));
    Pools &pools = m_service.pools();
    set(work, 0, tr("Hashing pool (CPU)"), pool(pools.load(pools.cpu())));
    set(work, 1, tr("I/O pool"), pool(pools.load(pools.io())));
    for (int row : {0, 1}) {
        work->child(row)->setToolTip(1, tr("Threads running a task, the pool's size, and the tasks "
                                           "handed to the pool that wait for a thread."));
    }
    const WorkSummary s = m_service.summary();
    set(work, 2, tr("Ingest jobs running"), Format::count(s.runningJobs));
    set(work, 3, tr("Files waiting"), Format::count(std::max<qint64>(0, s.filesFound - s.filesDone)));
    set(work, 4, tr("Paused"), s.paused ? tr("yes") : tr("no"));

    QTreeWidgetItem *store = section(tr("Session store"));
    const SessionStoreStats st = m_store.stats();
    set(store, 0, tr("Keys"), Format::count(st.keyCount));
    set(store, 1, tr("Lock acquisitions"), Format::count(qint64(st.acquisitions)));
    set(store, 2, tr("Failed acquisitions (timeouts)"), Format::count(qint64(st.failedAcquisitions)));
    set(store, 3, tr("Lock timeout"), tr("%1 ms").arg(st.lockTimeout.count()));
    set(store, 4, tr("Settings file writes"),
        tr("%1 (%2 failed)").arg(Format::count(qint64(st.fileWrites)), Format::count(qint64(st.fileWriteFailures))));
    set(store, 5, tr("Healthy"), m_store.isHealthy() ? tr("yes") : tr("no"));

    QTreeWidgetItem *catalog = section(tr("Catalog"));
    const ConnectionStats cs = m_service.connectionStats();
    set(catalog, 0, tr("Location"), m_service.catalog().config().displayLocation());
    set(catalog, 1, tr("Open connections"), Format::count(cs.open));
    set(catalog, 2, tr("Connections opened"), Format::count(cs.opened));
    set(catalog, 3, tr("Queries in flight"), Format::count(cs.queriesInFlight));
}

QString DiagnosticsDialog::text() const
{
    QStringList lines;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        const QTreeWidgetItem *sec = m_tree->topLevelItem(i);
        lines << sec->text(0);
        for (int j = 0; j < sec->childCount(); ++j)
            lines << QStringLiteral("  %1: %2").arg(sec->child(j)->text(0), sec->child(j)->text(1));
    }
    return lines.join(QLatin1Char('\n'));
}

} // namespace quire
