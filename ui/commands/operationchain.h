#pragma once

#include "catalog/catalogservice.h"

#include <QFuture>
#include <QObject>
#include <QPointer>
#include <QPromise>

#include <functional>
#include <memory>

namespace quire {

// Runs asynchronous operations strictly one after another, so that an undo command's undo never
// overtakes its redo (or the other way round) while the catalog works on the I/O pool.
// Continuations run on `context` (the GUI thread); with `context` gone, queued operations are
// dropped. GUI thread only.
struct OperationChain
{
    QPointer<QObject> context;
    QFuture<void> last;   // resolves when the last queued operation has

    // Runs op now if nothing is running, else after the previous operation finished.
    void chain(std::function<QFuture<void>()> op)
    {
        if (!last.isValid() || last.isFinished()) {
            last = op();
            return;
        }
        QObject *ctx = context.data();
        if (!ctx)
            return;   // the window is gone: nothing to run the operation for
        auto done = std::make_shared<QPromise<void>>();
        done->start();
        onFinished(last, ctx, [ctx, done, op = std::move(op)] {
            onFinished(op(), ctx, [done] { done->finish(); });
        });
        last = done->future();
    }
};

} // namespace quire
