#include "commands/setcollectionremotecommand.h"

#include "catalog/catalogservice.h"
#include "commands/operationchain.h"

namespace quire {

struct SetCollectionRemoteCommand::State : OperationChain
{
    CatalogService *service = nullptr;
    qint64 collectionId = 0;
    QString before;
    QString after;
    Hooks hooks;

    // Sets `remote` (checked first, when it is decided: a chained undo runs later).
    void set(const std::shared_ptr<State> &self, const QString &remote, bool undone)
    {
        chain([self, remote, undone]() -> QFuture<void> {
            if (!self->context)
                return QtFuture::makeReadyFuture();
            if (self->hooks.check) {
                if (const QString why = self->hooks.check(remote); !why.isEmpty()) {
                    if (self->hooks.onError)
                        self->hooks.onError(why);
                    return QtFuture::makeReadyFuture();
                }
            }
            return thenOn(self->service->setCollectionRemote(self->collectionId, remote), self->context.data(),
                          [self, remote, undone](Status s) {
                              if (!s) {
                                  if (self->hooks.onError)
                                      self->hooks.onError(s.error());
                              } else if (self->hooks.applied) {
                                  self->hooks.applied(self->collectionId, remote, undone);
                              }
                          });
        });
    }
};

SetCollectionRemoteCommand::SetCollectionRemoteCommand(CatalogService &service, QObject *context, qint64 collectionId,
                                                       const QString &before, const QString &after,
                                                       const QString &text, Hooks hooks)
    : QUndoCommand(text)
    , m_state(std::make_shared<State>())
{
    m_state->service = &service;
    m_state->context = context;
    m_state->collectionId = collectionId;
    m_state->before = before;
    m_state->after = after;
    m_state->hooks = std::move(hooks);
}

SetCollectionRemoteCommand::~SetCollectionRemoteCommand() = default;

void SetCollectionRemoteCommand::redo()
{
    m_state->set(m_state, m_state->after, false);
}

void SetCollectionRemoteCommand::undo()
{
    m_state->set(m_state, m_state->before, true);
}

qint64 SetCollectionRemoteCommand::collectionId() const
{
    return m_state->collectionId;
}

QString SetCollectionRemoteCommand::before() const
{
    return m_state->before;
}

QString SetCollectionRemoteCommand::after() const
{
    return m_state->after;
}

QFuture<void> SetCollectionRemoteCommand::lastOperation() const
{
    return m_state->last;
}

} // namespace quire
