#pragma once
// AwaitCallback: the bridge from a thread that is not an I/O thread (the SQLite writer, the
// password-hashing pool) back to a waiting coroutine.
//
// `co_await AwaitCallback<T>(submit)` suspends the coroutine and calls submit(resume), where
// resume is a copyable std::function<void(T)> that may be called from any thread, exactly
// once. The coroutine then continues on its own executor with the value. While it waits, its
// executor is kept from running out of work, so a draining server still resumes it.

#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/task.h"

namespace tb {

// Not a coroutine itself: async_initiate with use_awaitable returns the awaitable, and the
// initiation runs when it is awaited.
template <class T, class Submit>
Task<T> AwaitCallback(Submit submit) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(T)>(
        [submit = std::move(submit)](auto handler) mutable {
            auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                            boost::asio::execution::outstanding_work.tracked);
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            submit(std::function<void(T)>([shared, work](T value) mutable {
                boost::asio::post(
                    work, [shared, v = std::move(value)]() mutable { (*shared)(std::move(v)); });
            }));
        },
        boost::asio::use_awaitable);
}

}  // namespace tb
