#include "api/render.h"

#include "http/errors.h"

namespace tb::api {

http::Response Ok(json::value data, int status) {
    json::object body{{"success", true}, {"data", std::move(data)}};
    return http::Response::Json(status, json::serialize(body));
}

http::Response OkPage(json::array items, int64_t page, int64_t per_page, int64_t total) {
    int64_t pages = (total + per_page - 1) / per_page;
    json::object body{{"success", true},
                      {"data", std::move(items)},
                      {"meta",
                       {{"page", page}, {"per_page", per_page}, {"total", total}, {"total_pages", pages}}}};
    return http::Response::Json(200, json::serialize(body));
}

http::Response Fail(const Error& error, const http::RouteContext& ctx) {
    return http::ErrorResponse(error, ctx.request_id);
}

namespace {
json::value Time(std::optional<int64_t> ms) {
    if (!ms) return nullptr;
    return json::value(FormatRfc3339(FromUnixMillis(*ms)));
}
}  // namespace

json::object UserJson(const auth::User& u) {
    return {{"id", u.id},
            {"email", u.email},
            {"name", u.name},
            {"email_verified", u.email_verified},
            {"is_active", u.is_active},
            {"is_admin", u.is_admin},
            {"created_at", Time(u.created_at)},
            {"updated_at", Time(u.updated_at)},
            {"last_login_at", Time(u.last_login_at)}};
}

json::object TokensJson(const auth::TokenPair& t) {
    return {{"access_token", t.access_token},
            {"refresh_token", t.refresh_token},
            {"token_type", "Bearer"},
            {"expires_in", t.expires_in},
            {"refresh_expires_in", t.refresh_expires_in}};
}

}  // namespace tb::api
