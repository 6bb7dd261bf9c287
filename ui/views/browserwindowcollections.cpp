// BrowserWindow's collections: new, rename, remove, and where each uploads (Upload To).
#include "views/browserwindow.h"

#include "catalog/catalogservice.h"
#include "commands/setcollectionremotecommand.h"
#include "common/format.h"
#include "common/plaintext.h"
#include "common/responsivenessmonitor.h"
#include "dialogs/collectionnamedialog.h"
#include "models/collectionmodel.h"
#include "remotes/remoteprofile.h"
#include "settings/sessionstore.h"
#include "upload/uploadcontroller.h"
#include "views/collectionview.h"

#include <QAction>
#include <QActionGroup>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QUndoStack>

namespace quire {

namespace {

// The remote chosen the last time a collection was made in the window: the next one's default.
const QString kNewCollectionRemoteKey = QStringLiteral("settings/ui/newCollectionRemote");

QString lastNewCollectionRemote(SessionStore &store)
{
    return store.value(kNewCollectionRemoteKey).valueOr({}).toString();
}

} // namespace

// --- collections -------------------------------------------------------------------------------

qint64 BrowserWindow::currentCollectionId() const
{
    return m_collectionView->currentCollectionId();
}

bool BrowserWindow::selectCollection(qint64 id)
{
    return m_collectionView->selectCollection(id);
}

QString BrowserWindow::collectionName(qint64 id) const
{
    const int row = m_collections->rowOfId(id);
    return row >= 0 ? m_collections->collectionAt(row).name : QString();
}

QStringList BrowserWindow::collectionNames() const
{
    QStringList names;
    for (const Collection &c : m_collections->collections())
        names << c.name;
    return names;
}

void BrowserWindow::newCollection()
{
    const QStringList taken = collectionNames();
    QString suggestion = tr("New Collection");
    for (int n = 2; taken.contains(suggestion); ++n)
        suggestion = tr("New Collection %1").arg(n);
    auto *dialog = new CollectionNameDialog(tr("New Collection"), tr("Name of the new collection:"), suggestion,
                                            taken, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    // The default remote: the one chosen for the last collection made here (if it still exists).
    dialog->setRemoteChoice(remoteNames(), lastNewCollectionRemote(m_store));
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QString name = dialog->name();
        const QString remote = dialog->remote();
        (void)m_store.setValue(kNewCollectionRemoteKey, remote);
        onFinished(m_service.createCollection(name, remote), this, [this, name](Result<qint64> id) {
            if (!id) {
                showError(tr("Could not create the collection “%1”.").arg(name), id.error());
                return;
            }
            m_pendingSelectId = *id;
            m_collections->refresh();
        });
    });
    dialog->open();
}

void BrowserWindow::addPathsToNewCollection(const QList<QByteArray> &paths)
{
    if (paths.isEmpty())
        return;
    onFinished(m_service.suggestCollectionName(paths, tr("New Collection")), this, [this, paths](const QString &suggestion) {
        auto *dialog = new CollectionNameDialog(
            tr("New Collection"),
            tr("Add %n item(s) to a new collection named:", nullptr, int(paths.size())), suggestion, {}, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        // A name that exists adds to that collection, which keeps its remote.
        dialog->setExistingNames(collectionNames());
        dialog->setRemoteChoice(remoteNames(), lastNewCollectionRemote(m_store));
        connect(dialog, &QDialog::accepted, this, [this, dialog, paths] {
            const QString name = dialog->name();
            const QString remote = dialog->remote();
            if (!dialog->isExisting())
                (void)m_store.setValue(kNewCollectionRemoteKey, remote);
            onFinished(m_service.ensureCollection(name, remote), this, [this, paths, name](Result<qint64> id) {
                if (!id) {
                    showError(tr("Could not create the collection “%1”.").arg(name), id.error());
                    return;
                }
                ingestInto(*id, paths, name);
                m_pendingSelectId = *id;
                m_collections->refresh();
            });
        });
        dialog->open();
    });
}

void BrowserWindow::renameCollection()
{
    const qint64 id = currentCollectionId();
    if (id <= 0)
        return;
    const QString old = collectionName(id);
    QStringList taken = collectionNames();
    taken.removeAll(old);
    // The prompt is the name field's buddy label: an "&" in the name would mark a shortcut.
    auto *dialog = new CollectionNameDialog(tr("Rename Collection"), tr("New name for “%1”:").arg(literalMnemonic(old)),
                                            old, taken, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog, id] {
        const QString name = dialog->name();
        onFinished(m_service.renameCollection(id, name), this, [this, name](Status s) {
            if (s)
                m_collections->refresh();
            else
                showError(tr("Could not rename the collection to “%1”.").arg(name), s.error());
        });
    });
    dialog->open();
}

void BrowserWindow::removeCollection()
{
    const qint64 id = currentCollectionId();
    if (id <= 0)
        return;
    const int row = m_collections->rowOfId(id);
    const qint64 count = row >= 0 ? m_collections->collectionAt(row).documentCount : 0;
    QMessageBox *box = plainMessageBox(QMessageBox::Warning, tr("Remove Collection"),
                                       tr("Remove the collection “%1” and its %2 from the catalog?")
                                           .arg(collectionName(id), Format::documents(count)),
                                       tr("The files themselves are not touched. This cannot be undone."),
                                       QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("confirmRemoveCollection"));
    QPushButton *remove = box->addButton(tr("Remove Collection"), QMessageBox::DestructiveRole);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, remove, id](QAbstractButton *clicked) {
        if (clicked != remove)
            return;
        onFinished(m_service.removeCollection(id), this, [this](Status s) {
            if (!s)
                showError(tr("Could not remove the collection."), s.error());
            m_collections->refresh();
        });
    });
    box->open();
}

// --- where a collection uploads ----------------------------------------------------------------

QStringList BrowserWindow::remoteNames()
{
    // Settings reads take the store's lock only briefly: fine on the GUI thread.
    QStringList names;
    const auto list = RemoteProfiles(m_store).list();
    if (!list) {
        showError(tr("The remotes could not be read."), list.error());
        return names;
    }
    for (const RemoteProfile &p : *list)
        names << p.name;
    return names;
}

QString BrowserWindow::problemWithRemote(const QString &remote)
{
    if (remote.isEmpty())
        return {};
    const auto found = RemoteProfiles(m_store).find(remote);
    if (!found)
        return tr("The remotes could not be read: %1").arg(found.error());
    if (!found->has_value())
        return tr("There is no remote named “%1” any more; add it again in Settings › Remotes.").arg(remote);
    return {};
}

void BrowserWindow::fillUploadToMenu()
{
    ResponsivenessMonitor::Activity activity("BrowserWindow::fillUploadToMenu");
    delete m_uploadToGroup;
    m_uploadToMenu->clear();
    m_uploadToGroup = new QActionGroup(m_uploadToMenu);
    m_uploadToGroup->setExclusive(true);
    connect(m_uploadToGroup, &QActionGroup::triggered, this, [this](QAction *a) {
        setCurrentCollectionRemote(a->data().toString());
    });

    const int row = m_collections->rowOfId(currentCollectionId());
    const QString current = row >= 0 ? m_collections->collectionAt(row).remote : QString();
    const auto add = [this](const QString &text, const QString &remote, const QString &objectName) {
        QAction *a = m_uploadToMenu->addAction(text);
        a->setObjectName(objectName);
        a->setData(remote);
        a->setCheckable(true);
        m_uploadToGroup->addAction(a);
        return a;
    };
    QAction *none = add(tr("&None (Don’t Upload)"), QString(), QStringLiteral("actionUploadToNone"));
    none->setToolTip(tr("Keep the documents in the catalog only"));
    none->setChecked(current.isEmpty());
    m_uploadToMenu->addSeparator();

    bool listed = current.isEmpty();
    if (const auto list = RemoteProfiles(m_store).list(); !list) {
        QAction *a = m_uploadToMenu->addAction(tr("The remotes could not be read"));
        a->setToolTip(plainToolTip(list.error()));
        a->setEnabled(false);
    } else {
        for (const RemoteProfile &p : *list) {
            QAction *a = add(literalMnemonic(p.name), p.name, QStringLiteral("actionUploadTo_") + p.name);
            a->setToolTip(plainToolTip(p.displayUrl()));
            a->setStatusTip(tr("Upload the collection’s documents to %1").arg(p.displayUrl()));
            a->setChecked(p.name == current);
            listed = listed || p.name == current;
        }
    }
    if (!listed) {
        // Set elsewhere (the command line, another computer's settings) to a remote not
        // configured here: shown as the current choice, not offered.
        // The name comes from the catalog, which any program sharing it may have written.
        QAction *a = add(tr("%1 (not configured)").arg(literalMnemonic(current)), current,
                         QStringLiteral("actionUploadToMissing"));
        a->setToolTip(plainToolTip(tr("No remote named “%1” is configured: its documents cannot be uploaded. "
                                      "Add it in Settings › Remotes or choose another.").arg(current)));
        a->setChecked(true);
        a->setEnabled(false);
    }
    m_uploadToMenu->addSeparator();
    m_uploadToMenu->addAction(m_manageRemotes);
}

void BrowserWindow::setCurrentCollectionRemote(const QString &remote)
{
    const qint64 id = currentCollectionId();
    const int row = m_collections->rowOfId(id);
    if (id <= 0 || row < 0)
        return;
    const Collection &c = m_collections->collectionAt(row);
    if (c.remote == remote)
        return;
    if (const QString why = problemWithRemote(remote); !why.isEmpty()) {
        showError(tr("The collection’s remote was not changed."), why);
        return;
    }
    // The undo step's text becomes Edit › Undo's menu item.
    const QString text = remote.isEmpty() ? tr("Stop Uploading “%1”").arg(literalMnemonic(c.name))
                                          : tr("Upload “%1” to “%2”").arg(literalMnemonic(c.name), literalMnemonic(remote));
    SetCollectionRemoteCommand::Hooks hooks;
    hooks.check = [this](const QString &r) { return problemWithRemote(r); };
    hooks.applied = [this](qint64 collectionId, const QString &r, bool) { collectionRemoteChanged(collectionId, r); };
    hooks.onError = [this](const QString &error) {
        showError(tr("Could not change where the collection uploads."), error);
    };
    m_undo->push(new SetCollectionRemoteCommand(m_service, this, id, c.remote, remote, text, std::move(hooks)));
}

void BrowserWindow::collectionRemoteChanged(qint64 id, const QString &remote)
{
    m_collections->refresh();
    const QString name = collectionName(id);
    if (remote.isEmpty()) {
        showMessage(tr("“%1” does not upload any more; documents already uploaded stay where they are.").arg(name),
                    10000);
    } else {
        showMessage(tr("“%1” uploads to “%2” now.").arg(name, remote), 10000);
    }
    // Its waiting documents go to the new remote (the controller says how many, for the message).
    m_uploads.collectionRemoteChanged(id, remote);
}

} // namespace quire
