#pragma once
// The response envelope (API.md §1.1) and the JSON shapes of shared objects, in one place.

#include "auth/auth_service.h"
#include "common/json.h"
#include "http/message.h"
#include "http/router.h"

namespace tb::api {

// {"success":true,"data":…}
http::Response Ok(json::value data, int status = 200);
// {"success":true,"data":[…],"meta":{page,per_page,total,total_pages}} (API.md §1.1).
http::Response OkPage(json::array items, int64_t page, int64_t per_page, int64_t total);
// The error envelope for this request.
http::Response Fail(const Error& error, const http::RouteContext& ctx);

json::object UserJson(const auth::User& user);
json::object TokensJson(const auth::TokenPair& tokens);

}  // namespace tb::api
