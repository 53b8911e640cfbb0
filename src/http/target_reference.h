#pragma once
// For tests and fuzzing only (not in the library): what Boost.URL's full origin-form parser
// says of a request path, the reference SplitPath is held equal to (target_test.cpp,
// target_fuzz.cpp).

#include <boost/url/parse.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace tb::http {

// nullopt when Boost refuses the path, or when a decoded segment is not UTF-8 text without
// NUL (which SplitPath refuses on top); else the decoded path and its segments.
inline std::optional<std::pair<std::string, std::vector<std::string>>> ReferencePath(
    std::string_view path) {
    auto url = boost::urls::parse_origin_form(boost::core::string_view(path.data(), path.size()));
    if (!url) return std::nullopt;
    std::vector<std::string> segments;
    for (auto s : url->encoded_segments()) {
        segments.push_back(s.decode());
        if (segments.back().find('\0') != std::string::npos || !IsValidUtf8(segments.back()))
            return std::nullopt;
    }
    // Boost hides a leading "." segment (its own prefix for paths such as "/.//a"); a request
    // keeps it, and routes nowhere with it.
    if (path.starts_with("/./")) segments.insert(segments.begin(), ".");
    return std::make_pair(std::string(url->path()), segments);
}

}  // namespace tb::http
