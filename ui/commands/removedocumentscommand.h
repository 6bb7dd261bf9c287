#pragma once

#include "catalog/catalog.h"

#include <QFuture>
#include <QList>
#include <QPointer>
#include <QUndoCommand>

#include <functional>
#include <memory>

namespace quire {

class CatalogService;

// Removes documents from the catalog; undo puts them back exactly as they were (same ids,
// hashes, statuses). Both run asynchronously on the I/O pool; an undo issued while the removal
// is still running waits for it (operations on one command run in order).
//
// The command may be deleted (undo stack cleared) while an operation runs: the state the
// continuations need is shared, and they run with `context` (normally the window) as their
// context object, so nothing is delivered after it is gone.
class RemoveDocumentsCommand final : public QUndoCommand
{
public:
    using ErrorHandler = std::function<void(const QString &message)>;

    RemoveDocumentsCommand(CatalogService &service, QObject *context, QList<qint64> ids,
                           const QString &text, ErrorHandler onError = {});
    ~RemoveDocumentsCommand() override;

    void redo() override;
    void undo() override;

    // Resolves when the last operation (remove or restore) finished.
    QFuture<void> lastOperation() const;
    // The documents as they were removed (empty until the removal finished).
    QList<Document> removed() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace quire
