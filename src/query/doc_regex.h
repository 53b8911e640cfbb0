#pragma once
// `$regex` patterns (API.md §5.3, §13): RE2 syntax, checked and rewritten into one canonical
// text that RE2 (SQLite's registered function) and PostgreSQL's ARE engine read identically,
// so that both backends match the same documents.
//
// Accepted: literals (any UTF-8), `.`, bracket classes with ranges and negation, `\d \D \w \W
// \s \S` (ASCII, as RE2 defines them), the escapes `\n \t \r \f` and `\` before punctuation,
// `^ $` (text start and end), groups `( )` and `(?: )`, `|`, the quantifiers `* + ? {n}
// {n,} {n,m}` (n, m ≤ 100) with an optional lazy `?`, and `(?i)` at the very start (ASCII
// letters fold). Anything else — backreferences, lookaround, `\b`, Unicode or POSIX classes,
// other flags — is refused: the backends disagree on it, or it is not linear time.
//
// The canonical text spells out every class (`\d` → `[0-9]`, `.` → `[^\n]`, an ASCII letter
// under (?i) → `[aA]`) and keeps no flags, so neither engine's locale or defaults matter.

#include <string>
#include <string_view>

#include "common/result.h"

namespace tb::query {

// The canonical pattern, or BAD_REQUEST-ready text saying what is wrong (the caller adds the
// field and path).
Result<std::string> CanonicalRegex(std::string_view pattern);

}  // namespace tb::query
