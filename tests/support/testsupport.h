#pragma once

#include "pooltask.h"

#include <QString>
#include <QThreadPool>

#include <future>
#include <type_traits>

namespace quire::test {

// Path of the quire executable built alongside the tests.
QString quireBinary();

// A pool for tests to run catalog calls on (the catalog refuses the GUI thread).
QThreadPool &workerPool();

// Runs fn on a worker thread and waits for its result.
// Not QtConcurrent::run(...).result(): QFuture's wait functions *steal* a task that has not
// started yet and run it on the waiting thread, which would be the GUI thread here.
template <typename F>
auto onWorker(F fn) -> std::invoke_result_t<F>
{
    using R = std::invoke_result_t<F>;
    std::promise<R> promise;
    std::future<R> future = promise.get_future();
    startTask(&workerPool(), [&] {
        if constexpr (std::is_void_v<R>) {
            fn();
            promise.set_value();
        } else {
            promise.set_value(fn());
        }
    });
    return future.get();
}

} // namespace quire::test
