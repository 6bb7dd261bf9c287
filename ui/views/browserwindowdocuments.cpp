// BrowserWindow's document actions: remove (with undo), retry, open, show, copy hash, verify.
#include "views/browserwindow.h"

#include "catalog/catalogservice.h"
#include "commands/removedocumentscommand.h"
#include "common/format.h"
#include "common/plaintext.h"
#include "models/documentmodel.h"
#include "platform/nativefs.h"
#include "views/detailspane.h"
#include "views/documentview.h"

#include <QAction>
#include <QClipboard>
#include <QDesktopServices>
#include <QFileInfo>
#include <QFrame>
#include <QGuiApplication>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QUndoStack>
#include <QUrl>

namespace quire {

// --- documents ---------------------------------------------------------------------------------

QList<qint64> BrowserWindow::selectedDocumentIds() const
{
    return m_documents->idsOf(m_documentView->selectionModel()->selectedRows());
}

void BrowserWindow::removeDocuments()
{
    const QList<qint64> ids = selectedDocumentIds();
    if (ids.isEmpty())
        return;
    const QString name = collectionName(currentCollectionId());
    QMessageBox *box = plainMessageBox(
        QMessageBox::Question, tr("Remove Documents"),
        ids.size() == 1 ? tr("Remove “%1” from %2?")
                              .arg(m_documents->documentAt(m_documents->rowOfId(ids.first())).fileName, name)
                        : tr("Remove %1 from %2?").arg(Format::documents(ids.size()), name),
        tr("Only the catalog entries are removed; the files stay where they are. You can undo this."),
        QMessageBox::Cancel, this);
    box->setObjectName(QStringLiteral("confirmRemoveDocuments"));
    QPushButton *remove = box->addButton(tr("Remove"), QMessageBox::DestructiveRole);
    box->setDefaultButton(remove);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::buttonClicked, this, [this, remove, ids, name](QAbstractButton *clicked) {
        if (clicked != remove)
            return;
        const QString text = ids.size() == 1 ? tr("Remove 1 document") : tr("Remove %1").arg(Format::documents(ids.size()));
        m_undo->push(new RemoveDocumentsCommand(m_service, this, ids, text, [this](const QString &error) {
            showError(tr("Could not remove or restore the documents."), error);
        }));
        showUndoBar(ids.size() == 1 ? tr("Removed 1 document from %1.").arg(name)
                                    : tr("Removed %1 from %2.").arg(Format::documents(ids.size()), name));
    });
    box->open();
}

void BrowserWindow::showUndoBar(const QString &text)
{
    m_undoBar.label->setText(text);
    m_undoBar.frame->show();
    m_undoBar.timer.start();
}

void BrowserWindow::retryFailed()
{
    const qint64 id = currentCollectionId();
    if (id <= 0)
        return;
    // Selected failed documents only, when some are selected; else all of the collection's.
    QList<qint64> ids;
    for (const QModelIndex &i : m_documentView->selectionModel()->selectedRows()) {
        const auto status = static_cast<DocStatus>(i.data(DocumentModel::StatusRole).toInt());
        if (status == DocStatus::Failed || status == DocStatus::Cancelled)
            ids.append(i.data(DocumentModel::IdRole).toLongLong());
    }
    onFinished(m_service.retryFailed(id, ids), this, [this](Result<int> r) {
        if (!r)
            showError(tr("Could not retry the failed documents."), r.error());
        else if (*r == 0)
            showMessage(tr("Nothing to retry."));
        else
            showMessage(tr("Retrying %n document(s)…", nullptr, *r));
    });
}

void BrowserWindow::cancelCollection()
{
    const qint64 id = currentCollectionId();
    if (id > 0)
        m_service.cancelCollection(id);
}

void BrowserWindow::openSource()
{
    const QModelIndex i = m_documentView->currentIndex();
    if (!i.isValid())
        return;
    const QByteArray path = i.data(DocumentModel::SourcePathRole).toByteArray();
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(qtPath(path))))
        showMessage(tr("No application could open “%1”.").arg(qtPath(path)));
}

void BrowserWindow::showInFolder()
{
    const QModelIndex i = m_documentView->currentIndex();
    if (!i.isValid())
        return;
    // The folder's path is derived from the text of the source path; nothing is read from disk.
    const QString folder = QFileInfo(qtPath(i.data(DocumentModel::SourcePathRole).toByteArray())).path();
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(folder)))
        showMessage(tr("Could not show the folder “%1”.").arg(folder));
}

void BrowserWindow::copyHash()
{
    const QModelIndexList rows = m_documentView->selectionModel()->selectedRows();
    QStringList lines;
    for (const QModelIndex &i : rows) {
        const QString hash = i.data(DocumentModel::Sha256Role).toString();
        if (hash.isEmpty())
            continue;
        // One: just the hash. Several: sha256sum's format, so `sha256sum -c` can check them.
        lines << (rows.size() == 1 ? hash
                                   : hash + QStringLiteral("  ")
                                         + qtPath(i.data(DocumentModel::SourcePathRole).toByteArray()));
    }
    if (lines.isEmpty()) {
        showMessage(tr("No hash to copy yet."));
        return;
    }
    QGuiApplication::clipboard()->setText(lines.join(QLatin1Char('\n')) + (lines.size() > 1 ? QStringLiteral("\n") : QString()));
    showMessage(tr("Copied %n hash(es).", nullptr, int(lines.size())), 3000);
}

void BrowserWindow::verifyDocument()
{
    const QModelIndex i = m_documentView->currentIndex();
    if (!i.isValid())
        return;
    const qint64 id = i.data(DocumentModel::IdRole).toLongLong();
    const QString name = m_documents->documentAt(i.row()).fileName;
    showMessage(tr("Verifying “%1”…").arg(name), 0);
    m_verify->setEnabled(false);
    onFinished(m_service.verify(id), this, [this, id, name](Result<VerifyResult> r) {
        m_verify->setEnabled(true);
        updateActions();
        QString text;
        if (!r) {
            text = tr("Could not verify “%1”: %2").arg(name, r.error());
        } else {
            switch (r->outcome) {
            case VerifyResult::Outcome::Match:
                text = tr("Verified: “%1” still has the recorded SHA-256.").arg(name);
                break;
            case VerifyResult::Outcome::Mismatch:
                text = tr("“%1” has changed since it was hashed: its SHA-256 is now %2.")
                           .arg(name, QString::fromLatin1(r->actual));
                break;
            case VerifyResult::Outcome::NotHashed:
                text = tr("“%1” has not been hashed yet; nothing to compare.").arg(name);
                break;
            case VerifyResult::Outcome::Unreadable:
                text = tr("Could not read “%1”: %2").arg(name, r->error);
                break;
            }
        }
        showMessage(text, 10000);
        if (m_details->documentId() == id)
            m_details->setNote(text);
    });
}

} // namespace quire
