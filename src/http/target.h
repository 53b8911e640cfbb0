#pragma once
// The path of a request target in origin form (RFC 9112 §3.2.1): `1*( "/" segment )`, each
// segment pchars and percent-escapes (RFC 3986 §3.3).

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tb::http {

// Checks path and splits it into decoded segments ("/" has none; "/a/" has "a" and ""), and
// sets decoded to the percent-decoded path. Segments are checked one by one with Boost.URL's
// own segment rule instead of parsing the whole target as a URL: a request then costs a
// fraction of the instructions, and a segment without an escape is copied, not decoded.
// The answer equals boost::urls::parse_origin_form's (target_test.cpp holds them equal).
Status SplitPath(std::string_view path, std::string& decoded, std::vector<std::string>& segments);

// Checks that every parameter name and value of a query string, percent-decoded, is UTF-8
// text without NUL (400 otherwise, details.field "query"): they are echoed in errors and bound
// in SQL. A query without '%' or bytes past ASCII passes at once.
Status CheckQueryText(std::string_view query);

}  // namespace tb::http
