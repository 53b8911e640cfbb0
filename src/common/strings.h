#pragma once
// Small string helpers (ASCII only: HTTP tokens, emails, config names).

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tb {

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
bool IEquals(std::string_view a, std::string_view b);
// The number of code points in valid UTF-8 (bytes that do not continue a sequence).
size_t Utf8Length(std::string_view s);
// Whether s is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Splits on `sep`, trimming each piece; empty pieces are dropped.
std::vector<std::string> SplitTrimmed(std::string_view s, char sep);
// The parts joined, in one allocation: for text built on every request, where a chain of
// `a + b + c` makes a temporary string (and an allocation) per `+`.
std::string Concat(std::initializer_list<std::string_view> parts);

}  // namespace tb
