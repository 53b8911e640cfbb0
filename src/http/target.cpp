#include "http/target.h"

#include <boost/url/grammar/parse.hpp>
#include <boost/url/rfc/pchars.hpp>
#include <boost/url/rfc/pct_encoded_rule.hpp>

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

}  // namespace tb::http
