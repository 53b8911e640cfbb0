#pragma once
// One server-sent event stream (text/event-stream, issue #25) as the body of an open-ended
// response (http Response::kOpenEnded): events are queued by whoever publishes them, on any
// thread, and the connection's writer reads them as they come. When nothing comes for the
// heartbeat interval it reads a comment line, so proxies and clients see a live connection and
// a client that has gone is noticed at the next write.
//
// A client that does not read as fast as events come is not waited for: past `max_queued`
// bytes the stream takes a final `overflow` event and ends, and publishers never block.
//
// Thread safety: Push, Close and ended() from any thread; Read from the connection's executor
// (the one given to the constructor), one read at a time.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/byte_source.h"

namespace tb::realtime {

// One event in the stream's wire form: `id:` (when not empty), `event:` and one `data:` line
// (data is one line of JSON), then the blank line that ends it.
std::string FormatEvent(std::string_view id, std::string_view event, std::string_view data);

class EventStream final : public ByteSource, public std::enable_shared_from_this<EventStream> {
  public:
    EventStream(boost::asio::any_io_executor executor, size_t max_queued,
                std::chrono::milliseconds heartbeat);

    // Queues an event's text (FormatEvent). False when the stream has ended or ends now: the
    // queue would pass max_queued, so the stream gets the `overflow` event and ends.
    bool Push(std::string_view text);
    // Ends the stream after what is queued and `last` (an event, or nothing).
    void Close(std::string_view last = {});
    bool ended() const;

    Task<Result<size_t>> Read(std::span<char> into) override;
    // The queue itself when it fits: an idle stream then holds no buffer at all.
    Task<Result<std::string>> ReadChunk(size_t max) override;
    void Abandon() override { Close(); }

  private:
    void Wake();
    // Waits until something is queued or the stream ends (queueing a heartbeat when nothing
    // came for the interval). True when there is something to read.
    Task<bool> Ready();

    boost::asio::any_io_executor executor_;
    const size_t max_queued_;
    const std::chrono::milliseconds heartbeat_;
    boost::asio::steady_timer timer_;  // touched only on executor_

    mutable std::mutex mu_;
    std::string queue_;     // guarded by mu_: bytes not yet read
    bool closing_ = false;  // guarded by mu_: no more Push; end once the queue is read
};

}  // namespace tb::realtime
