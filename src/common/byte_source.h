#pragma once
// Bytes that arrive in pieces: an upload's body read off the socket, one part of a multipart
// body, a stored file read back. Whoever reads never holds the whole in memory.

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "common/task.h"

namespace tb {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    // Up to `into.size()` bytes (at least one unless at the end); 0 at the end. After an
    // error the source is spent.
    virtual Task<Result<size_t>> Read(std::span<char> into) = 0;
    // Read into a string of its own of up to `max` bytes (empty at the end). For a reader
    // that waits long between pieces and should hold no buffer meanwhile (an event stream);
    // a source that queues its bytes hands them over without a copy.
    // The reader is gone (the client closed the connection): a source that waits for bytes
    // to come may end now. Any thread.
    virtual void Abandon() {}
    virtual Task<Result<std::string>> ReadChunk(size_t max) {
        std::string out(max, '\0');
        auto n = co_await Read(std::span<char>(out.data(), out.size()));
        if (!n.ok()) co_return std::move(n).error();
        out.resize(*n);
        co_return out;
    }
};

}  // namespace tb
