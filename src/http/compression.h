#pragma once
// Response compression (issue #20): gzip for clients that send `Accept-Encoding: gzip`, on
// answers of at least kMinCompressBytes whose media type compresses (JSON, text, JavaScript).
// Small answers (a document by id, health) pass untouched: for them the check is a size
// comparison. libdeflate from Debian (libdeflate-dev).
//
// Thread safety: free functions; StaticGzip may be shared by threads (compressed once).

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.h"

namespace tb::http {

inline constexpr size_t kMinCompressBytes = 1024;

// Whether an Accept-Encoding value accepts gzip: `gzip` (or `x-gzip`, or `*`) with a q-value
// above 0, and no `gzip;q=0` ruling it out (RFC 9110 §12.5.3).
bool AcceptsGzip(std::string_view accept_encoding);

// The gzip member (RFC 1952) of data at a level from 1 (fastest) to 12 (smallest); nullopt
// if compression fails (then the answer goes out as it is).
std::optional<std::string> Gzip(std::string_view data, int level);

// Compresses a response in place when the request accepts gzip and the response qualifies
// (at the fastest level by default: for a 5 KB list about 7% larger than level 4 for about
// half the CPU; docs/performance.md),
// and marks every qualifying response `Vary: Accept-Encoding` (caches must not hand a
// compressed answer to a client that did not ask for one). A strong ETag becomes weak, as
// the bytes are no longer the identity representation's. A response that already has a
// Content-Encoding (a pre-compressed asset) only gets the Vary.
void CompressResponse(const Request& request, Response& response, int level = 1);

// A body that never changes (the docs assets, the OpenAPI documents), compressed at most once
// at level 9, on first use.
class StaticGzip {
  public:
    explicit StaticGzip(std::string_view (*text)()) : text_(text) {}
    // The identity body, or the gzip one with Content-Encoding set when the request accepts it.
    void Serve(const Request& request, Response& response);

  private:
    std::string_view (*text_)();
    std::once_flag once_;
    std::optional<std::string> gzipped_;
};

}  // namespace tb::http
