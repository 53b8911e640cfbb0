#pragma once
// Runs one coroutine to completion on an io_context that is not yet serving (start-up work,
// CLI commands). Rethrows an exception the coroutine let escape (a bug).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>

#include "common/task.h"

namespace tb::app {

template <class T>
T RunSync(boost::asio::io_context& ioc, Task<T> task) {
    std::optional<T> out;
    std::exception_ptr error;
    auto wrapper = [&]() -> Task<void> { out.emplace(co_await std::move(task)); };
    boost::asio::co_spawn(ioc, wrapper(), [&](std::exception_ptr e) { error = std::move(e); });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*out);
}

}  // namespace tb::app
