#include "realtime/event_stream.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

namespace tb::realtime {

namespace asio = boost::asio;

std::string FormatEvent(std::string_view id, std::string_view event, std::string_view data) {
    std::string out;
    out.reserve(id.size() + event.size() + data.size() + 24);
    if (!id.empty()) out.append("id: ").append(id).append("\n");
    out.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
    return out;
}

EventStream::EventStream(asio::any_io_executor executor, size_t max_queued,
                         std::chrono::milliseconds heartbeat)
    : executor_(std::move(executor)),
      max_queued_(max_queued),
      heartbeat_(heartbeat),
      timer_(executor_) {}

bool EventStream::Push(std::string_view text) {
    {
        std::lock_guard lock(mu_);
        if (closing_) return false;
        // An event larger than the whole allowance still goes to a client that is keeping up
        // (its queue is empty): a document may be as large as the queue.
        if (!queue_.empty() && queue_.size() + text.size() > max_queued_) {
            // The client reads slower than events come: it is told, and let go.
            closing_ = true;
            queue_ += FormatEvent("", "overflow", R"({"reason":"the client read too slowly"})");
        } else {
            queue_.append(text);
        }
    }
    Wake();
    std::lock_guard lock(mu_);
    return !closing_;
}

void EventStream::Close(std::string_view last) {
    {
        std::lock_guard lock(mu_);
        if (closing_) return;
        closing_ = true;
        queue_.append(last);
    }
    Wake();
}

bool EventStream::ended() const {
    std::lock_guard lock(mu_);
    return closing_;
}

void EventStream::Wake() {
    // The timer belongs to the reader's executor: cancelled there, after the reader began to
    // wait or before it looks at the queue again (both happen on that executor, in order).
    asio::post(executor_, [self = shared_from_this()] { self->timer_.cancel(); });
}

Task<bool> EventStream::Ready() {
    for (;;) {
        {
            std::lock_guard lock(mu_);
            if (!queue_.empty()) co_return true;
            if (closing_) co_return false;
        }
        timer_.expires_after(heartbeat_);
        boost::system::error_code ec;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!ec) {
            // Nothing for a heartbeat interval: a comment line, which clients ignore.
            std::lock_guard lock(mu_);
            if (queue_.empty() && !closing_) queue_ = ":\n\n";
        }
    }
}

Task<Result<size_t>> EventStream::Read(std::span<char> into) {
    if (!co_await Ready()) co_return size_t{0};
    std::lock_guard lock(mu_);
    size_t n = std::min(into.size(), queue_.size());
    std::memcpy(into.data(), queue_.data(), n);
    queue_.erase(0, n);
    co_return n;
}

Task<Result<std::string>> EventStream::ReadChunk(size_t max) {
    std::string out;
    if (!co_await Ready()) co_return out;
    std::lock_guard lock(mu_);
    if (queue_.size() <= max) {
        out.swap(queue_);
    } else {
        out.assign(queue_, 0, max);
        queue_.erase(0, max);
    }
    co_return out;
}

}  // namespace tb::realtime
