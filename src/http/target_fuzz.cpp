// Fuzz target: request paths and query strings. SplitPath must give Boost.URL's answer for
// every path (target_reference.h): the same refusals, the same decoded path and segments; a
// query string CheckQueryText accepts decodes to UTF-8 without NUL. The input's first byte
// picks which: even a path, odd a query string.
#include <boost/url/parse_query.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/fuzz_check.h"
#include "common/strings.h"
#include "http/target.h"
#include "http/target_reference.h"


extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        // The server splits the target at its first '?': SplitPath sees the path before it.
        const std::string_view path = text.substr(0, text.find('?'));
        std::string decoded;
        std::vector<std::string> segments;
        const tb::Status st = tb::http::SplitPath(path, decoded, segments);
        const auto want = tb::http::ReferencePath(path);
        tb::FuzzCheck(st.ok() == want.has_value(), "SplitPath and Boost.URL disagree on refusing");
        if (want) {
            tb::FuzzCheck(decoded == want->first, "decoded path differs from Boost.URL's");
            tb::FuzzCheck(segments == want->second, "segments differ from Boost.URL's");
        }
        return 0;
    }
    if (!tb::http::CheckQueryText(text).ok()) return 0;
    // A terminated copy: the Boost.URL built by GCC reads its argument up to a NUL here.
    const std::string query(text);
    auto params = boost::urls::parse_query(query.c_str());
    if (!params) return 0;  // malformed escapes: the list parser refuses them itself
    for (auto p : *params) {
        const std::string key = p.key.decode(), value = p.value.decode();
        tb::FuzzCheck(tb::IsValidUtf8(key) && key.find('\0') == std::string::npos, "a key passed");
        tb::FuzzCheck(tb::IsValidUtf8(value) && value.find('\0') == std::string::npos,
                      "a value passed");
    }
    return 0;
}
