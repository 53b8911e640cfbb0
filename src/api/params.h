#pragma once
// The query parameters of a route that is not a list (lists go through query/): the names a
// route takes, each at most once.

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "common/result.h"
#include "http/message.h"

namespace tb::api {

// The parameters, decoded; an unknown one, a repeated one or a malformed query string → 400
// naming it.
Result<std::map<std::string, std::string>> QueryParams(
    const http::Request& request, std::initializer_list<std::string_view> allowed);

}  // namespace tb::api
