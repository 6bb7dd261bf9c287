#pragma once

#include <QDialog>
#include <QTimer>

class QTreeWidget;
class QTreeWidgetItem;

namespace quire {

class CatalogService;
class ResponsivenessMonitor;
class SessionStore;

// Help > Diagnostics: how responsive the UI thread has been, what the pools are doing, the
// session store's counters and the open catalog connections. Refreshes every second while
// shown; reads only counters and atomics (no SQL, no I/O).
class DiagnosticsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DiagnosticsDialog)
public:
    DiagnosticsDialog(CatalogService &service, SessionStore &store, ResponsivenessMonitor *monitor,
                      QWidget *parent = nullptr);
    ~DiagnosticsDialog() override;

    void refresh();
    // Everything shown, as "section / name: value" lines (Copy button, tests).
    QString text() const;

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    QTreeWidgetItem *section(const QString &title);
    void set(QTreeWidgetItem *section, int row, const QString &name, const QString &value);

    CatalogService &m_service;
    SessionStore &m_store;
    ResponsivenessMonitor *m_monitor;
    QTreeWidget *m_tree = nullptr;
    QTimer m_timer;
};

} // namespace quire
