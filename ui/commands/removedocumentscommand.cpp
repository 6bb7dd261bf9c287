#include "commands/removedocumentscommand.h"

#include "catalog/catalogservice.h"
#include "commands/operationchain.h"

namespace quire {

struct RemoveDocumentsCommand::State : OperationChain
{
    CatalogService *service = nullptr;
    QList<qint64> ids;
    QList<Document> removed;
    ErrorHandler onError;
};

RemoveDocumentsCommand::RemoveDocumentsCommand(CatalogService &service, QObject *context, QList<qint64> ids,
                                               const QString &text, ErrorHandler onError)
    : QUndoCommand(text)
    , m_state(std::make_shared<State>())
{
    m_state->service = &service;
    m_state->context = context;
    m_state->ids = std::move(ids);
    m_state->onError = std::move(onError);
}

RemoveDocumentsCommand::~RemoveDocumentsCommand() = default;

void RemoveDocumentsCommand::redo()
{
    const std::shared_ptr<State> s = m_state;
    s->chain([s]() -> QFuture<void> {
        if (!s->context)
            return QtFuture::makeReadyFuture();
        return thenOn(s->service->removeDocuments(s->ids), s->context.data(), [s](Result<QList<Document>> r) {
            if (r) {
                s->removed = std::move(r).value();
            } else if (s->onError) {
                s->onError(r.error());
            }
        });
    });
}

void RemoveDocumentsCommand::undo()
{
    const std::shared_ptr<State> s = m_state;
    s->chain([s]() -> QFuture<void> {
        if (!s->context || s->removed.isEmpty())
            return QtFuture::makeReadyFuture();
        return thenOn(s->service->restoreDocuments(s->removed), s->context.data(), [s](Status r) {
            if (r) {
                s->removed.clear();
            } else if (s->onError) {
                s->onError(r.error());
            }
        });
    });
}

QFuture<void> RemoveDocumentsCommand::lastOperation() const
{
    return m_state->last;
}

QList<Document> RemoveDocumentsCommand::removed() const
{
    return m_state->removed;
}

} // namespace quire
