#pragma once

#include <QFuture>
#include <QPointer>
#include <QString>
#include <QUndoCommand>

#include <functional>
#include <memory>

namespace quire {

class CatalogService;

// Changes the remote a collection uploads to (Collection › Upload To); undo puts the previous
// one back. Both run on the I/O pool through CatalogService::setCollectionRemote; an undo issued
// while the change is still running waits for it (operations on one command run in order).
// Documents uploaded meanwhile stay where they went: undo changes where the pending ones go.
//
// Hooks (called on the context's thread, never after the context is gone):
//   check    before each operation: why `remote` cannot be used now (a remote removed since),
//            empty when it can; a refused operation changes nothing and reports the reason
//   applied  after the catalog took the change (`undone`: it was an undo)
//   onError  the change failed or was refused; the message says why
//
// The command may be deleted (undo stack cleared) while an operation runs: the state the
// continuations need is shared, and they run with `context` (normally the window) as their
// context object.
class SetCollectionRemoteCommand final : public QUndoCommand
{
public:
    struct Hooks
    {
        std::function<QString(const QString &remote)> check;
        std::function<void(qint64 collectionId, const QString &remote, bool undone)> applied;
        std::function<void(const QString &message)> onError;
    };

    SetCollectionRemoteCommand(CatalogService &service, QObject *context, qint64 collectionId,
                               const QString &before, const QString &after, const QString &text,
                               Hooks hooks = {});
    ~SetCollectionRemoteCommand() override;

    void redo() override;
    void undo() override;

    qint64 collectionId() const;
    QString before() const;
    QString after() const;
    // Resolves when the last operation (change or undo) finished.
    QFuture<void> lastOperation() const;

private:
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace quire
