#include "api/params.h"

#include <algorithm>

#include <boost/url/parse_query.hpp>

namespace tb::api {

Result<std::map<std::string, std::string>> QueryParams(
    const http::Request& request, std::initializer_list<std::string_view> allowed) {
    std::map<std::string, std::string> out;
    if (request.query.empty()) return out;
    auto params = boost::urls::parse_query(request.query);
    if (!params) return Error::BadRequest("Malformed query string", "query");
    for (auto param : *params) {
        std::string key = param.key.decode();
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
            return Error::BadRequest("Unknown query parameter: " + key, key);
        if (out.contains(key)) return Error::BadRequest("Repeated query parameter: " + key, key);
        out[key] = param.has_value ? param.value.decode() : std::string();
    }
    return out;
}

}  // namespace tb::api
