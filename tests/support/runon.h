#pragma once

#include "jobs/pooltask.h"

#include <QThreadPool>

#include <future>
#include <type_traits>

namespace quire::test {

// Runs fn on a thread of pool and waits for its result.
// Not QtConcurrent::run(...).result(): QFuture's wait functions *steal* a task that has not
// started yet and run it on the waiting thread, which would be the GUI thread here.
template <typename F>
auto runOn(QThreadPool *pool, F fn) -> std::invoke_result_t<F>
{
    using R = std::invoke_result_t<F>;
    std::promise<R> promise;
    std::future<R> future = promise.get_future();
    startTask(pool, [&] {
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
