#include "api/paging.h"

#include <boost/url/parse_query.hpp>
#include <charconv>

namespace tb::api {

namespace {
Result<int64_t> PositiveInt(std::string_view name, std::string_view text, int64_t max) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || p != text.data() + text.size() || n < 1 || n > max) {
        return Error::BadRequest(
            std::string(name) + " must be an integer from 1 to " + std::to_string(max),
            std::string(name));
    }
    return n;
}
}  // namespace

Result<Paging> ParsePaging(std::string_view query) {
    Paging out;
    if (query.empty()) return out;
    auto params = boost::urls::parse_query(query);
    if (!params) return Error::BadRequest("Malformed query string", "query");
    for (auto param : *params) {
        std::string key = param.key.decode();  // percent-decoded
        std::string value = param.value.decode();
        if (key == "page") {
            TB_ASSIGN_OR_RETURN(out.page, PositiveInt("page", value, 1'000'000'000));
        } else if (key == "per_page") {
            TB_ASSIGN_OR_RETURN(out.per_page, PositiveInt("per_page", value, 100));
        } else {
            return Error::BadRequest("Unknown query parameter: " + key.substr(0, 64),
                                     key.substr(0, 64));
        }
    }
    return out;
}

}  // namespace tb::api
