#pragma once
// Small string helpers (ASCII only: HTTP tokens, emails, config names).

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tb {

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);
// The number of code points in valid UTF-8 (bytes that do not continue a sequence).
size_t Utf8Length(std::string_view s);
// Whether s is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);
// s with every byte that does not begin a well-formed sequence replaced by U+FFFD, cut at a
// character boundary to at most max_bytes: for text that is only recorded (a User-Agent in
// the audit log), where refusing the request would lose the record.
std::string ToValidUtf8(std::string_view s, size_t max_bytes = std::string_view::npos);
// Splits on `sep`, trimming each piece; empty pieces are dropped.
std::vector<std::string> SplitTrimmed(std::string_view s, char sep);
// The parts joined, in one allocation: for text built on every request, where a chain of
// `a + b + c` makes a temporary string (and an allocation) per `+`.
std::string Concat(std::initializer_list<std::string_view> parts);

// A hash map keyed by std::string that is looked up by string_view without copying the key
// (transparent hashing): for caches probed on every request with text from the request.
struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};
template <class V>
using TextMap = std::unordered_map<std::string, V, TextHash, std::equal_to<>>;

}  // namespace tb
