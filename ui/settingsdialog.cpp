#include "settingsdialog.h"

#include "catalog.h"
#include "pools.h"
#include "sessionstore.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSet>
#include <QSpinBox>
#include <QVBoxLayout>

namespace quire {

namespace {

int storedInt(SessionStore &store, const QString &key, int fallback)
{
    bool ok = false;
    const int v = store.value(key).valueOr({}).toInt(&ok);
    return ok && v > 0 ? v : fallback;
}

} // namespace

SettingsDialog::SettingsDialog(SessionStore &store, Pools &pools, const Catalog &catalog, QWidget *parent)
    : QDialog(parent)
    , m_store(store)
    , m_pools(pools)
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    auto *layout = new QVBoxLayout(this);

    auto *workers = new QGroupBox(tr("Workers"), this);
    auto *wf = new QFormLayout(workers);
    m_io = new QSpinBox(workers);
    m_io->setRange(1, 64);
    m_io->setToolTip(tr("Threads for catalog work, folder walks and uploads."));
    wf->addRow(tr("&I/O threads:"), m_io);
    m_cpu = new QSpinBox(workers);
    m_cpu->setRange(1, 256);
    m_cpu->setToolTip(tr("Threads that compute SHA-256 hashes. %1 by default (one per core).")
                          .arg(Pools::defaultCpuThreads()));
    wf->addRow(tr("&Hashing threads:"), m_cpu);
    auto *note = new QLabel(tr("Changes apply at once, also to work that is running."), workers);
    note->setForegroundRole(QPalette::PlaceholderText);
    note->setWordWrap(true);
    wf->addRow(note);
    layout->addWidget(workers);

    auto *storage = new QGroupBox(tr("Storage"), this);
    auto *sf = new QFormLayout(storage);
    m_catalog = new QLineEdit(catalog.config().displayLocation(), storage);
    m_catalog->setReadOnly(true);
    m_catalog->setToolTip(tr("Chosen at start-up with --catalog or $QUIRE_CATALOG."));
    sf->addRow(tr("Catalog:"), m_catalog);
    m_settingsFile = new QLineEdit(store.settingsFilePath().isEmpty() ? tr("(in memory only)")
                                                                      : store.settingsFilePath(), storage);
    m_settingsFile->setReadOnly(true);
    sf->addRow(tr("Settings file:"), m_settingsFile);
    layout->addWidget(storage);

    auto *remotes = new QGroupBox(tr("Remotes"), this);
    auto *rl = new QVBoxLayout(remotes);
    m_remotes = new QListWidget(remotes);
    m_remotes->setObjectName(QStringLiteral("remotesList"));
    m_remotes->setMaximumHeight(110);
    rl->addWidget(m_remotes);
    m_status = new QLabel(remotes);
    m_status->setWordWrap(true);
    m_status->setForegroundRole(QPalette::PlaceholderText);
    rl->addWidget(m_status);
    layout->addWidget(remotes);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::Apply, this);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        apply();
        accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this, &SettingsDialog::apply);

    load();
    setMinimumWidth(440);
}

SettingsDialog::~SettingsDialog() = default;

void SettingsDialog::load()
{
    m_io->setValue(storedInt(m_store, kIoWorkersKey, Pools::defaultIoThreads()));
    m_cpu->setValue(storedInt(m_store, kCpuWorkersKey, Pools::defaultCpuThreads()));

    // settings/remotes/<name>/<field>: list each name once.
    m_remotes->clear();
    QStringList names;
    const QStringList keys = m_store.keys(kRemotesPrefix).valueOr({});
    for (const QString &key : keys) {
        const QString name = key.mid(kRemotesPrefix.size()).section(QLatin1Char('/'), 0, 0);
        if (!name.isEmpty() && !names.contains(name))
            names.append(name);
    }
    for (const QString &name : std::as_const(names)) {
        const QString type = m_store.value(kRemotesPrefix + name + QStringLiteral("/type")).valueOr({}).toString();
        m_remotes->addItem(type.isEmpty() ? name : tr("%1 (%2)").arg(name, type));
    }
    m_status->setText(names.isEmpty()
                          ? tr("No remotes configured yet. Documents are hashed and cataloged; uploads start once a remote is set up.")
                          : tr("Remotes are edited with the quire command line; passwords live in the system keychain."));
}

void SettingsDialog::apply()
{
    const QVariantMap changes{
        {kIoWorkersKey, m_io->value()},
        {kCpuWorkersKey, m_cpu->value()},
    };
    if (auto s = m_store.setValues(changes); !s)
        m_status->setText(s.error());
    m_pools.setIoThreads(m_io->value());
    m_pools.setCpuThreads(m_cpu->value());
}

} // namespace quire
