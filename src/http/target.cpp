#include "http/target.h"

#include <algorithm>

#include <boost/url/grammar/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/pct_encoded_rule.hpp>

#include "common/strings.h"

namespace tb::http {

Status SplitPath(std::string_view path, std::string& decoded, std::vector<std::string>& segments) {
    if (path.empty() || path.front() != '/') return Error::BadRequest("Malformed request target");
    segments.clear();
    bool escaped = false;
    if (path.size() > 1) {
        size_t start = 1;
        while (true) {
            size_t end = path.find('/', start);
            // At the last segment, end is npos and npos - start still reaches the end.
            std::string_view raw = path.substr(start, end - start);
            auto segment =
                boost::urls::grammar::parse(boost::core::string_view(raw.data(), raw.size()),
                                            boost::urls::pct_encoded_rule(boost::urls::pchars));
            if (!segment) return Error::BadRequest("Malformed request target");
            if (segment->decoded_size() == raw.size()) {
                segments.emplace_back(raw);
            } else {
                segments.push_back(segment->decode());
                escaped = true;
                // Only an escape can bring a byte outside ASCII's printable range: a segment
                // is text (echoed in errors, bound in SQL), so UTF-8 without NUL.
                const std::string& text = segments.back();
                if (text.find('\0') != std::string::npos || !IsValidUtf8(text))
                    return Error::BadRequest("Path segments must be UTF-8 text without NUL");
            }
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
    }
    if (!escaped) {
        decoded.assign(path);
        return {};
    }
    decoded.clear();
    for (const std::string& s : segments) {
        decoded += '/';
        decoded += s;
    }
    return {};
}

Status CheckQueryText(std::string_view query) {
    bool plain = std::all_of(query.begin(), query.end(), [](char c) {
        return c != '%' && static_cast<unsigned char>(c) < 0x80;
    });
    if (plain) return {};
    // Each parameter name and value is checked on its own, decoded as the list parser decodes
    // it; an escape that is not two hex digits stays as it is (the parser is lenient there).
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string part;
    auto check = [&part]() { return part.find('\0') == std::string::npos && IsValidUtf8(part); };
    for (size_t i = 0; i <= query.size(); ++i) {
        if (i == query.size() || query[i] == '&' || query[i] == '=') {
            if (!check()) break;
            part.clear();
            if (i == query.size()) return {};
            continue;
        }
        if (query[i] == '%' && i + 2 < query.size() && hex(query[i + 1]) >= 0 &&
            hex(query[i + 2]) >= 0) {
            part += static_cast<char>(hex(query[i + 1]) * 16 + hex(query[i + 2]));
            i += 2;
        } else {
            part += query[i];
        }
    }
    return Error::BadRequest("Query parameters must be UTF-8 text without NUL", "query");
}

}  // namespace tb::http
