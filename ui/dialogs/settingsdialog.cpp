#include "dialogs/settingsdialog.h"

#include "catalog/catalogservice.h"
#include "dialogs/catalogsettings.h"
#include "common/formwidgets.h"
#include "settings/credentials.h"
#include "common/plaintext.h"
#include "jobs/pools.h"
#include "dialogs/remoteeditdialog.h"
#include "dialogs/remotetester.h"
#include "settings/sessionstore.h"
#include "upload/uploadpolicy.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QSpinBox>

#include "net/ratelimit.h"
#include <QTreeWidget>
#include <QVBoxLayout>

namespace quire {

namespace {

int storedInt(SessionStore &store, const QString &key, int fallback)
{
    bool ok = false;
    const int v = store.value(key).valueOr({}).toInt(&ok);
    return ok && v > 0 ? v : fallback;
}

QString kindText(RemoteKind kind)
{
    switch (kind) {
    case RemoteKind::Local: return SettingsDialog::tr("Local folder");
    case RemoteKind::WebDav: return SettingsDialog::tr("WebDAV");
    case RemoteKind::Http: return SettingsDialog::tr("HTTP API");
    case RemoteKind::S3: return SettingsDialog::tr("S3");
    }
    return {};
}

enum RemoteColumn { NameColumn, KindColumn, LocationColumn, UserColumn };
constexpr int kBuiltInRole = Qt::UserRole + 1;

} // namespace

SettingsDialog::SettingsDialog(SessionStore &store, CatalogService &service, QWidget *parent)
    : QDialog(parent)
    , m_store(store)
    , m_service(service)
    , m_pools(service.pools())
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
    m_limitRate = new QLineEdit(workers);
    m_limitRate->setObjectName(QStringLiteral("uploadLimit"));
    m_limitRate->setPlaceholderText(tr("unlimited"));
    m_limitRate->setToolTip(tr("Upload speed limit of all uploads together, in bytes per second with k, M or G "
                               "(e.g. 2M), so that uploads leave room on a home connection. Empty: no limit."));
    wf->addRow(tr("&Upload limit:"), m_limitRate);
    auto *note = new QLabel(tr("Changes apply at once, also to work that is running."), workers);
    note->setForegroundRole(QPalette::PlaceholderText);
    note->setWordWrap(true);
    wf->addRow(note);
    layout->addWidget(workers);

    auto *storage = new QGroupBox(tr("Storage"), this);
    auto *sf = new QFormLayout(storage);
    m_settingsFile = new QLineEdit(store.settingsFilePath().isEmpty() ? tr("(in memory only)")
                                                                      : store.settingsFilePath(), storage);
    m_settingsFile->setReadOnly(true);
    sf->addRow(tr("Settings file:"), m_settingsFile);
    layout->addWidget(storage);

    auto *catalog = new QGroupBox(tr("Catalog"), this);
    auto *cl = new QVBoxLayout(catalog);
    m_catalog = new CatalogSettings(store, service, catalog);
    cl->addWidget(m_catalog);
    layout->addWidget(catalog);

    auto *remotes = new QGroupBox(tr("Remotes"), this);
    auto *rl = new QVBoxLayout(remotes);
    auto *listRow = new QHBoxLayout;
    m_remotes = new QTreeWidget(remotes);
    m_remotes->setObjectName(QStringLiteral("remotesList"));
    m_remotes->setColumnCount(4);
    m_remotes->setHeaderLabels({tr("Name"), tr("Kind"), tr("Folder or URL"), tr("User")});
    m_remotes->setRootIsDecorated(false);
    m_remotes->setUniformRowHeights(true);
    m_remotes->setAllColumnsShowFocus(true);
    m_remotes->setSelectionMode(QAbstractItemView::SingleSelection);
    m_remotes->header()->setStretchLastSection(false);
    m_remotes->header()->setSectionResizeMode(NameColumn, QHeaderView::ResizeToContents);
    m_remotes->header()->setSectionResizeMode(KindColumn, QHeaderView::ResizeToContents);
    m_remotes->header()->setSectionResizeMode(LocationColumn, QHeaderView::Stretch);
    m_remotes->header()->setSectionResizeMode(UserColumn, QHeaderView::ResizeToContents);
    m_remotes->setTextElideMode(Qt::ElideMiddle);
    m_remotes->setMinimumHeight(120);
    listRow->addWidget(m_remotes, 1);

    auto *actions = new QVBoxLayout;
    auto makeButton = [&](const QString &text, const char *name, const QString &tip) {
        auto *b = newFormButton(text, name, tip, remotes);
        actions->addWidget(b);
        return b;
    };
    m_remoteButtons.add = makeButton(tr("A&dd…"), "addRemoteButton", tr("Add a remote documents can be uploaded to"));
    m_remoteButtons.edit = makeButton(tr("&Edit…"), "editRemoteButton", tr("Change the selected remote"));
    m_remoteButtons.remove = makeButton(tr("&Remove"), "removeRemoteButton", tr("Remove the selected remote"));
    m_remoteButtons.test = makeButton(tr("&Test Connection"), "testRemoteButton",
                              tr("Check that the selected remote can be reached and written to"));
    actions->addStretch(1);
    listRow->addLayout(actions);
    rl->addLayout(listRow);

    auto *messageRow = new QHBoxLayout;
    m_busyBar = newBusyBar(remotes, "remoteBusy", fontMetrics().height());
    messageRow->addWidget(m_busyBar, 0, Qt::AlignTop);
    m_message = newMessageLabel(remotes, "remoteMessage");
    messageRow->addWidget(m_message, 1);
    m_stopTest = newFormButton(tr("St&op"), "stopTestButton", tr("Stop the connection test"), remotes);
    m_stopTest->setVisible(false);
    messageRow->addWidget(m_stopTest, 0, Qt::AlignTop);
    rl->addLayout(messageRow);
    layout->addWidget(remotes, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::Apply, this);
    buttons->button(QDialogButtonBox::Ok)->setDefault(true);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (apply())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this, &SettingsDialog::apply);

    m_tester = new RemoteTester(m_pools, this);
    connect(m_tester, &RemoteTester::finished, this, [this](bool ok, const QString &message) {
        const QString name = m_tester->remoteName();
        if (!ok && m_testStopped) {
            finish(Tone::Hint, tr("The test of “%1” was stopped.").arg(name));
            return;
        }
        finish(ok ? Tone::Success : Tone::Error,
               ok ? tr("Remote “%1” works: %2.").arg(name, message)
                  : tr("Remote “%1” failed the test: %2.").arg(name, message));
    });
    connect(m_remoteButtons.add, &QPushButton::clicked, this, &SettingsDialog::addRemote);
    connect(m_remoteButtons.edit, &QPushButton::clicked, this, &SettingsDialog::editRemote);
    connect(m_remoteButtons.remove, &QPushButton::clicked, this, &SettingsDialog::removeRemote);
    connect(m_remoteButtons.test, &QPushButton::clicked, this, &SettingsDialog::testRemote);
    connect(m_stopTest, &QPushButton::clicked, this, &SettingsDialog::stopTest);
    connect(m_remotes, &QTreeWidget::itemSelectionChanged, this, &SettingsDialog::updateRemoteButtons);
    connect(m_remotes, &QTreeWidget::itemDoubleClicked, this, [this] {
        if (m_remoteButtons.edit->isEnabled())
            editRemote();
    });
    // Return in the list edits the remote instead of reaching the default button (OK).
    m_remotes->installEventFilter(this);
    auto *del = new QShortcut(QKeySequence::Delete, m_remotes, nullptr, nullptr, Qt::WidgetShortcut);
    connect(del, &QShortcut::activated, this, [this] {
        if (m_remoteButtons.remove->isEnabled())
            removeRemote();
    });

    load();
    setMinimumWidth(620);
    resize(660, 540);
}

SettingsDialog::~SettingsDialog() = default;

bool SettingsDialog::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_remotes && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Return || key == Qt::Key_Enter) {
            if (m_remoteButtons.edit->isEnabled())
                editRemote();
            return true;
        }
    }
    return QDialog::eventFilter(watched, event);
}

void SettingsDialog::load()
{
    m_io->setValue(storedInt(m_store, kIoWorkersKey, Pools::defaultIoThreads()));
    if (const qint64 rate = UploadSettings::fromStore(m_store).limits.globalSendRate; rate > 0)
        m_limitRate->setText(formatBytes(rate).remove(QLatin1Char(' ')).replace(QLatin1String("iB"), QString()));
    m_cpu->setValue(storedInt(m_store, kCpuWorkersKey, Pools::defaultCpuThreads()));
    loadRemotes();
    setMessage(Tone::Hint, tr("Documents go to their collection’s remote. Changes to remotes are saved at "
                              "once; passwords are kept in the system keychain."));
}

void SettingsDialog::loadRemotes(const QString &select)
{
    const QString keep = select.isEmpty() ? selectedRemote() : select;
    m_remotes->clear();
    // Settings reads take the store's lock only briefly: fine on the GUI thread.
    const auto list = RemoteProfiles(m_store).list();
    if (!list) {
        setMessage(Tone::Error, tr("The remotes could not be read: %1").arg(list.error()));
        updateRemoteButtons();
        return;
    }
    const bool localStored = m_store.contains(RemoteProfiles::settingsKey(RemoteProfile::defaultLocalName())).valueOr(true);
    for (const RemoteProfile &p : *list) {
        auto *item = new QTreeWidgetItem(m_remotes);
        const bool builtIn = p.name == RemoteProfile::defaultLocalName() && !localStored;
        item->setText(NameColumn, p.name);
        item->setText(KindColumn, kindText(p.kind));
        item->setText(LocationColumn, p.displayUrl());
        item->setToolTip(LocationColumn, plainToolTip(p.displayUrl()));
        QString user = p.user;
        if (p.usesBearerToken())
            user = tr("(token)");
        else if (builtIn)
            user = tr("(built-in)");
        item->setText(UserColumn, user);
        item->setData(NameColumn, kBuiltInRole, builtIn);
        if (builtIn)
            item->setToolTip(NameColumn, tr("The built-in remote: a folder in Quire’s data folder."));
        if (p.name == keep)
            m_remotes->setCurrentItem(item);
    }
    if (!m_remotes->currentItem() && m_remotes->topLevelItemCount() > 0)
        m_remotes->setCurrentItem(m_remotes->topLevelItem(0));
    updateRemoteButtons();
}

bool SettingsDialog::selectRemote(const QString &name)
{
    const auto found = m_remotes->findItems(name, Qt::MatchExactly, NameColumn);
    if (found.isEmpty())
        return false;
    m_remotes->setCurrentItem(found.first());
    return true;
}

QString SettingsDialog::selectedRemote() const
{
    const QTreeWidgetItem *item = m_remotes->currentItem();
    return item && item->isSelected() ? item->text(NameColumn) : QString();
}

QString SettingsDialog::remoteMessage() const
{
    return m_message->text();
}

std::optional<RemoteProfile> SettingsDialog::selectedProfile()
{
    const QString name = selectedRemote();
    if (name.isEmpty())
        return std::nullopt;
    const auto found = RemoteProfiles(m_store).find(name);
    if (!found) {
        setMessage(Tone::Error, tr("Remote “%1” could not be read: %2").arg(name, found.error()));
        return std::nullopt;
    }
    if (!*found) {
        setMessage(Tone::Error, tr("There is no remote named “%1” any more.").arg(name));
        loadRemotes();
        return std::nullopt;
    }
    return **found;
}

void SettingsDialog::updateRemoteButtons()
{
    const QTreeWidgetItem *item = m_remotes->currentItem();
    const bool selected = item && item->isSelected();
    const bool builtIn = selected && item->data(NameColumn, kBuiltInRole).toBool();
    m_remoteButtons.add->setEnabled(!m_busy);
    m_remoteButtons.edit->setEnabled(!m_busy && selected);
    m_remoteButtons.remove->setEnabled(!m_busy && selected && !builtIn);
    m_remoteButtons.remove->setToolTip(builtIn ? tr("The built-in remote cannot be removed") : tr("Remove the selected remote"));
    m_remoteButtons.test->setEnabled(!m_busy && selected);
}

void SettingsDialog::setMessage(Tone tone, const QString &text)
{
    setToneText(m_message, palette(), tone, text);
}

void SettingsDialog::setBusy(const QString &text, bool stoppable)
{
    m_busy = true;
    m_busyBar->setVisible(true);
    m_stopTest->setVisible(stoppable);
    m_stopTest->setEnabled(stoppable);
    setMessage(Tone::Hint, text);
    updateRemoteButtons();
}

void SettingsDialog::finish(Tone tone, const QString &text)
{
    m_busy = false;
    m_busyBar->setVisible(false);
    m_stopTest->setVisible(false);
    setMessage(tone, text);
    updateRemoteButtons();
    Q_EMIT remoteOperationFinished(tone != Tone::Error);
}

// --- add, edit -----------------------------------------------------------------------------------

void SettingsDialog::addRemote()
{
    openEditor(std::nullopt);
}

void SettingsDialog::editRemote()
{
    if (const auto profile = selectedProfile())
        openEditor(profile);
}

RemoteEditDialog *SettingsDialog::editSelectedRemote()
{
    const auto profile = selectedProfile();
    return profile ? openEditor(profile) : nullptr;
}

RemoteEditDialog *SettingsDialog::openEditor(const std::optional<RemoteProfile> &existing)
{
    QStringList taken;
    for (int i = 0; i < m_remotes->topLevelItemCount(); ++i)
        taken << m_remotes->topLevelItem(i)->text(NameColumn);
    auto *editor = new RemoteEditDialog(existing, taken, this);
    editor->setAttribute(Qt::WA_DeleteOnClose);
    // Test Connection in the form: the profile as typed, saving nothing.
    editor->enableTesting(m_pools, UploadSettings::fromStore(m_store));
    connect(editor, &QDialog::accepted, this, [this, editor, existing] {
        saveRemote(editor->profile(), editor->password(), existing);
    });
    editor->open();
    return editor;
}

void SettingsDialog::saveRemote(const RemoteProfile &profile, const QString &password,
                                const std::optional<RemoteProfile> &before)
{
    // The same checks and storage as `quire remote add`: RemoteProfiles validates again.
    if (const Status s = RemoteProfiles(m_store).save(profile); !s) {
        finish(Tone::Error, tr("Remote “%1” was not saved: %2").arg(profile.name, s.error()));
        return;
    }
    loadRemotes(profile.name);
    const QString saved = before ? tr("Remote “%1” saved.").arg(profile.name)
                                 : tr("Remote “%1” added.").arg(profile.name);
    const bool storeSecret = profile.needsSecret() && !password.isEmpty();
    const bool dropSecret = before && before->needsSecret() && !profile.needsSecret();
    if (!storeSecret && !dropSecret) {
        finish(Tone::Success, saved);
        return;
    }
    // The keychain may wait for an unlock prompt: never on the GUI thread.
    const QString name = profile.name;
    setBusy(storeSecret ? tr("%1 Putting its password in the system keychain…").arg(saved)
                        : tr("%1 Removing its password from the system keychain…").arg(saved));
    auto future = m_pools.run(m_pools.io(), [name, password, storeSecret]() -> Status {
        return storeSecret ? Credentials::store(name, password) : Credentials::remove(name);
    });
    onFinished(future, this, [this, saved, storeSecret](const Status &s) {
        if (s.ok()) {
            finish(Tone::Success, storeSecret ? tr("%1 Its password is in the system keychain.").arg(saved) : saved);
        } else if (storeSecret) {
            finish(Tone::Error, tr("%1 Its password could not be put in the system keychain: %2. "
                                   "Set QUIRE_PASSWORD when running Quire instead.")
                                    .arg(saved, s.error()));
        } else {
            finish(Tone::Error, tr("%1 Its old password could not be removed from the system keychain: %2.")
                                    .arg(saved, s.error()));
        }
    });
}

// --- remove --------------------------------------------------------------------------------------

void SettingsDialog::removeRemote()
{
    const auto profile = selectedProfile();
    if (!profile)
        return;
    // Like `quire remote remove`: refused while a collection uploads there. The catalog is
    // asked on the I/O pool.
    setBusy(tr("Looking for collections that use “%1”…").arg(profile->name));
    onFinished(m_service.collections(), this, [this, p = *profile](const Result<QList<Collection>> &collections) {
        if (!collections) {
            finish(Tone::Error, tr("Remote “%1” was not removed: the catalog could not be read: %2")
                                    .arg(p.name, collections.error()));
            return;
        }
        QStringList users;
        for (const Collection &c : *collections) {
            if (c.remote == p.name)
                users << c.name;
        }
        if (!users.isEmpty()) {
            refuseRemoval(p.name, users);
            return;
        }
        confirmRemoval(p);
    });
}

void SettingsDialog::refuseRemoval(const QString &name, const QStringList &collections)
{
    QStringList quoted;
    for (const QString &c : collections)
        quoted << tr("“%1”").arg(c);
    // Spelled out for one and many: without a translation loaded, %n plurals stay "(s)".
    const QString text = collections.size() == 1
        ? tr("Remote “%1” is used by the collection %2. Choose another remote for it first with "
             "Collection › Upload To.").arg(name, quoted.first())
        : tr("Remote “%1” is used by %2 collections: %3. Choose another remote for them first with "
             "Collection › Upload To.")
              .arg(name, QString::number(collections.size()), quoted.join(QStringLiteral(", ")));
    finish(Tone::Error, text);
    // The collections' names come from the catalog.
    QMessageBox *box = plainMessageBox(QMessageBox::Warning, tr("Remove Remote"),
                                       tr("Remote “%1” cannot be removed while collections upload to it.").arg(name),
                                       text, QMessageBox::Close, this);
    box->setObjectName(QStringLiteral("remoteInUseBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void SettingsDialog::confirmRemoval(const RemoteProfile &profile)
{
    finish(Tone::Hint, tr("No collection uses “%1”.").arg(profile.name));
    QString info = tr("No collection uses it. Documents already copied to %1 stay there.").arg(profile.displayUrl());
    if (profile.needsSecret())
        info += QLatin1Char(' ') + tr("Its password is removed from the system keychain.");
    QMessageBox *box = plainMessageBox(QMessageBox::Question, tr("Remove Remote"),
                                       tr("Remove the remote “%1”?").arg(profile.name), info, QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("removeRemoteBox"));
    QPushButton *remove = box->addButton(tr("&Remove"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, remove, profile](QAbstractButton *clicked) {
        if (clicked == remove)
            removeConfirmed(profile);
    });
    box->open();
}

void SettingsDialog::removeConfirmed(const RemoteProfile &profile)
{
    if (const Status s = RemoteProfiles(m_store).remove(profile.name); !s) {
        finish(Tone::Error, tr("Remote “%1” was not removed: %2").arg(profile.name, s.error()));
        return;
    }
    loadRemotes();
    const QString removed = tr("Remote “%1” removed.").arg(profile.name);
    if (!profile.needsSecret()) {
        finish(Tone::Success, removed);
        return;
    }
    const QString name = profile.name;
    setBusy(tr("%1 Removing its password from the system keychain…").arg(removed));
    onFinished(m_pools.run(m_pools.io(), [name] { return Credentials::remove(name); }), this,
               [this, removed](const Status &s) {
                   // No keychain at all is not a failure of the removal (as on the command line).
                   finish(s.ok() ? Tone::Success : Tone::Error,
                          s.ok() ? removed
                                 : tr("%1 Its password could not be removed from the system keychain: %2.")
                                       .arg(removed, s.error()));
               });
}

// --- test ----------------------------------------------------------------------------------------

void SettingsDialog::testRemote()
{
    const auto profile = selectedProfile();
    if (!profile)
        return;
    // Settings reads are quick; the test itself runs on the I/O pool.
    m_testStopped = false;
    m_tester->start(*profile, UploadSettings::fromStore(m_store));
    setBusy(tr("Testing “%1” (%2)…").arg(profile->name, profile->displayUrl()), true);
    m_stopTest->setFocus();
}

void SettingsDialog::stopTest()
{
    m_testStopped = true;
    m_stopTest->setEnabled(false);
    setMessage(Tone::Hint, tr("Stopping the test of “%1”…").arg(m_tester->remoteName()));
    m_tester->stop();
}

// --- workers -------------------------------------------------------------------------------------

bool SettingsDialog::apply()
{
    const QString rate = m_limitRate->text().trimmed();
    const auto parsed = net::parseRate(rate);
    if (!rate.isEmpty() && !parsed) {
        setMessage(Tone::Error, tr("The upload limit “%1” is not a rate such as 2M or 512k.").arg(rate));
        return false;
    }
    QString catalogProblem;
    if (m_catalog->location(&catalogProblem).isEmpty()) {
        setMessage(Tone::Error, tr("Catalog: %1").arg(catalogProblem));
        return false;
    }
    m_catalog->apply();
    const QVariantMap changes{
        {kIoWorkersKey, m_io->value()},
        {kCpuWorkersKey, m_cpu->value()},
        {UploadSettings::key("limitRate"), parsed && *parsed > 0 ? QString::number(*parsed) : QString()},
    };
    if (auto s = m_store.setValues(changes); !s)
        setMessage(Tone::Error, s.error());
    m_pools.setIoThreads(m_io->value());
    m_pools.setCpuThreads(m_cpu->value());
    net::RateLimiter::global().setRate(parsed.value_or(0));   // running uploads slow down at once
    return true;
}

} // namespace quire
