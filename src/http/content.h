#pragma once
// Serving stored content the way browsers, curl and download managers expect (RFC 9110):
// one byte range of a representation (§14), conditional requests against its validators
// (§13: ETag, Last-Modified), and the Content-Disposition that names it (RFC 6266, with the
// RFC 8187 `filename*` for names that are not plain ASCII).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tb::http {

// What to send for a Range header against a `size`-byte representation.
struct RangeDecision {
    enum Kind { kWhole, kPartial, kUnsatisfiable } kind = kWhole;
    uint64_t offset = 0, length = 0;  // kPartial: the bytes to send
};

// One range (`bytes=a-b`, `a-`, `-n`) is served as 206; no Range, another unit, a malformed
// header or several ranges get the whole representation (200: RFC 9110 lets a server ignore
// Range, and multipart/byteranges is not worth its price); a range that starts past the end
// (or a zero suffix, or any range of an empty representation) is unsatisfiable (416).
// `if_range` (an If-Range header) must equal `etag` or `last_modified` for the range to apply.
RangeDecision DecideRange(std::string_view range, uint64_t size, std::string_view if_range = {},
                          std::string_view etag = {}, std::string_view last_modified = {});

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a Unix time in seconds, and back
// (nullopt for anything else).
std::string HttpDate(int64_t unix_seconds);
std::optional<int64_t> ParseHttpDate(std::string_view text);

// Whether a GET or HEAD may be answered 304: If-None-Match lists the ETag (or is "*"); or,
// without If-None-Match, If-Modified-Since is not before the last modification.
bool NotModified(std::string_view if_none_match, std::string_view if_modified_since,
                 std::string_view etag, int64_t last_modified_seconds);

// `inline` or `attachment`, with `filename="…"` (an ASCII rendering: other characters, quotes
// and backslashes as '_') and, when the name is not plain ASCII, `filename*=UTF-8''…`.
std::string ContentDisposition(std::string_view name, bool attachment);

}  // namespace tb::http
