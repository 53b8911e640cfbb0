#pragma once
// Bytes that arrive in pieces: an upload's body read off the socket, one part of a multipart
// body, a stored file read back. Whoever reads never holds the whole in memory.

#include <cstdint>
#include <span>

#include "common/result.h"
#include "common/task.h"

namespace tb {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    // Up to `into.size()` bytes (at least one unless at the end); 0 at the end. After an
    // error the source is spent.
    virtual Task<Result<size_t>> Read(std::span<char> into) = 0;
};

}  // namespace tb
