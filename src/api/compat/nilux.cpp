// The Nilux dialect: /api/auth/* and /api/health (003_a6612fd435a589e7.txt, API.md §11).
// Bare bodies, errors as {"detail": "…"} (dialects.cpp), the seed's field names.
#include "api/authenticate.h"
#include "api/compat/bare.h"
#include "api/compat/handlers.h"
#include "api/render.h"

namespace tb::api::compat {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

// The plan of the user's personal tenant (auth::PersonalTenant); the default plan's when they
// own none (an invited user).
std::string Tier(Services& s, const std::vector<auth::TenantMembership>& tenants) {
    const auth::TenantMembership* personal = auth::PersonalTenant(tenants);
    return personal ? personal->plan : s.plans.Default().name;
}

json::object UserOf(const auth::User& u, std::string tier) {
    return {{"id", u.id},
            {"email", u.email},
            {"name", u.name},
            {"tier", std::move(tier)},
            {"email_verified", u.email_verified},
            {"is_active", u.is_active},
            {"created_at", TimeJson(u.created_at)},
            {"updated_at", TimeJson(u.updated_at)}};
}

json::object TokensOf(const auth::TokenPair& t) {
    return {{"access_token", t.access_token},
            {"refresh_token", t.refresh_token},
            {"token_type", "bearer"},
            {"expires_in", t.expires_in}};
}

// The key object: with the full `key` only when it was just made; `createdAt` is when this
// secret was made (a rotation's time, as the seed shows); `lastUsed` only in the preview.
json::object KeyOf(const auth::ApiKey& k, const std::string* secret) {
    json::object o;
    if (secret) o["key"] = *secret;
    o["name"] = k.name;
    o["keyPreview"] = k.preview;
    o["createdAt"] = TimeJson(k.updated_at);
    if (!secret) o["lastUsed"] = TimeJson(k.last_used_at);
    o["isActive"] = k.is_active;
    return o;
}

// The seed's messages for the answers its clients handle; every other error as it is.
Error AsNilux(Error e, std::string_view conflict, std::string_view unauthorized = {}) {
    if (e.code == ErrorCode::kConflict) return Error::BadRequest(std::string(conflict));
    if (e.code == ErrorCode::kUnauthorized && !unauthorized.empty())
        return Error::Unauthorized(std::string(unauthorized));
    // Login: an inactive user is 400 in this dialect (403 on /v1).
    if (e.code == ErrorCode::kForbidden && e.message == "Inactive user")
        return Error::BadRequest("Inactive user");
    return e;
}

Result<json::object*> Body(RouteContext& ctx, std::initializer_list<std::string_view> fields) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, fields));
    return o;
}

Result<auth::RegisterInput> ParseRegister(const json::object& o) {
    auth::RegisterInput in;
    TB_ASSIGN_OR_RETURN(in.email, RequiredString(o, "email"));
    TB_ASSIGN_OR_RETURN(in.password, RequiredString(o, "password"));
    TB_ASSIGN_OR_RETURN(in.name, OptionalString(o, "name"));
    in.primary_key = true;  // the dialect's registration answers the user's key
    return in;
}

}  // namespace

http::Handler NiluxRegister(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto o = Body(ctx, {"email", "password", "name"});
        if (!o.ok()) co_return Fail(o.error(), ctx);
        auto in = ParseRegister(**o);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto out = co_await s.auth.Register(std::move(*in), Client(req));
        if (!out.ok()) co_return Fail(AsNilux(out.error(), "Email already registered"), ctx);
        json::value key = nullptr;
        if (out->primary_key) key = KeyOf(out->primary_key->first, &out->primary_key->second);
        co_return Bare(json::object{{"user", UserOf(out->user, Tier(s, out->tenants))},
                                    {"tokens", TokensOf(out->tokens)},
                                    {"api_key", std::move(key)}});
    };
}

http::Handler NiluxLogin(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto o = Body(ctx, {"email", "password"});
        if (!o.ok()) co_return Fail(o.error(), ctx);
        auto email = RequiredString(**o, "email");
        if (!email.ok()) co_return Fail(email.error(), ctx);
        auto password = RequiredString(**o, "password");
        if (!password.ok()) co_return Fail(password.error(), ctx);
        auto out = co_await s.auth.Login(*email, *password, std::nullopt, Client(req));
        if (!out.ok()) co_return Fail(AsNilux(out.error(), "", "Invalid credentials"), ctx);
        // The session exists now: a failed key lookup answers the tokens without the key
        // rather than a 500 that leaves the session unknown to the client.
        auto key = co_await s.api_keys.FindPrimary(out->user.id);
        json::value api_key = nullptr;
        if (key.ok() && *key) api_key = KeyOf(**key, nullptr);
        co_return Bare(json::object{{"user", UserOf(out->user, Tier(s, out->tenants))},
                                    {"tokens", TokensOf(out->tokens)},
                                    {"api_key", std::move(api_key)}});
    };
}

http::Handler NiluxRefresh(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto o = Body(ctx, {"refresh_token"});
        if (!o.ok()) co_return Fail(o.error(), ctx);
        auto token = RequiredString(**o, "refresh_token");
        if (!token.ok()) co_return Fail(token.error(), ctx);
        auto out = co_await s.auth.Refresh(*token, std::nullopt, Client(req));
        if (!out.ok()) co_return Fail(AsNilux(out.error(), "", "Invalid refresh token"), ctx);
        co_return Bare(TokensOf(*out));
    };
}

http::Handler NiluxMe(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto tenants = co_await s.tenants.MembershipsOf(who->user->id);
        if (!tenants.ok()) co_return Fail(tenants.error(), ctx);
        co_return Bare(UserOf(*who->user, Tier(s, *tenants)));
    };
}

http::Handler NiluxGetApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto key = co_await s.api_keys.FindPrimary(who->user->id);
        if (!key.ok()) co_return Fail(key.error(), ctx);
        // The seed: "Returns null if no API key exists" (a literal null body).
        co_return *key ? Bare(KeyOf(**key, nullptr)) : Response::Json(200, "null");
    };
}

http::Handler NiluxRotateApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        // A session only: a key must not mint a stronger key for its owner.
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto tenants = co_await s.tenants.MembershipsOf(who->user->id);
        if (!tenants.ok()) co_return Fail(tenants.error(), ctx);
        std::optional<std::string> home;
        if (const auto* personal = auth::PersonalTenant(*tenants)) home = personal->tenant_id;
        auth::ClientInfo client = Client(req);
        auto out = co_await s.api_keys.RotatePrimary(*who->user, home, client);
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Bare(KeyOf(out->first, &out->second));
    };
}

http::Handler NiluxLogout(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        // The seed's logout always succeeds; a valid session token also ends its session here.
        // It takes no body: one that is not JSON is still refused (400, 415).
        if (ctx.body_error) co_return Fail(*ctx.body_error, ctx);
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (who.ok() && !who->api_key)
            (void)co_await s.auth.Logout(*who, std::nullopt, false, Client(req));
        co_return Bare(json::object{{"message", "Logged out successfully"}});
    };
}

}  // namespace tb::api::compat
