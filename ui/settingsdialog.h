#pragma once

#include <QDialog>

class QLabel;
class QLineEdit;
class QListWidget;
class QSpinBox;

namespace quire {

class Catalog;
class Pools;
class SessionStore;

// Settings backed by the session store (settings/... keys, persisted by the store's writer
// thread). Worker counts apply at once (the pools resize); the catalog location is shown, not
// edited (it is chosen with --catalog or $QUIRE_CATALOG at start-up).
class SettingsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)
public:
    static inline const QString kIoWorkersKey = QStringLiteral("settings/workers/io");
    static inline const QString kCpuWorkersKey = QStringLiteral("settings/workers/cpu");
    static inline const QString kRemotesPrefix = QStringLiteral("settings/remotes/");

    SettingsDialog(SessionStore &store, Pools &pools, const Catalog &catalog, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    // Writes the values to the store and resizes the pools. Also run by OK.
    void apply();

    QSpinBox *ioWorkers() const { return m_io; }
    QSpinBox *cpuWorkers() const { return m_cpu; }

private:
    void load();

    SessionStore &m_store;
    Pools &m_pools;
    QSpinBox *m_io = nullptr;
    QSpinBox *m_cpu = nullptr;
    QLineEdit *m_catalog = nullptr;
    QLineEdit *m_settingsFile = nullptr;
    QListWidget *m_remotes = nullptr;
    QLabel *m_status = nullptr;
};

} // namespace quire
