#pragma once
// Task<T>: the awaitable every asynchronous function returns. It is Asio's awaitable; this
// alias is the one place where Asio shows above the transport and the storage drivers, so
// that services can be coroutines without knowing the I/O library (docs/decisions/0002).

#include <boost/asio/awaitable.hpp>

namespace tb {
template <class T = void>
using Task = boost::asio::awaitable<T>;
}  // namespace tb
