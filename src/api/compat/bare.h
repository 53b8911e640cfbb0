#pragma once
// The dialects answer bare JSON: no {success, data} envelope (API.md §11).

#include "common/json.h"
#include "http/message.h"

namespace tb::api::compat {

inline http::Response Bare(const json::value& body, int status = 200) {
    return http::Response::Json(status, WriteJson(body));
}

}  // namespace tb::api::compat
