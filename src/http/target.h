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

}  // namespace tb::http
