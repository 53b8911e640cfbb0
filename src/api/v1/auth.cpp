// /v1/auth/* and /.well-known/jwks.json (API.md §2).
#include "api/authenticate.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

json::object SignedInJson(const auth::SignedIn& s) {
    return {
        {"user", UserJson(s.user)}, {"tokens", TokensJson(s.tokens)}, {"tenants", json::array{}}};
}

// The JSON body as an object; an absent body counts as {} when `optional`.
Result<json::object*> BodyObject(RouteContext& ctx, bool optional = false) {
    if (optional && ctx.body.is_null()) ctx.body = json::object{};
    return RequireObject(ctx.body);
}

Result<std::optional<std::string>> OptionalId(const json::object& o, std::string_view field) {
    TB_ASSIGN_OR_RETURN(std::string v, OptionalString(o, field));
    if (v.empty()) return std::optional<std::string>{};
    return std::optional<std::string>(std::move(v));
}

}  // namespace

http::Handler Register(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto body = BodyObject(ctx);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        const json::object& o = **body;
        if (auto st = RejectUnknownFields(o, {"email", "password", "name", "tenant_name"});
            !st.ok())
            co_return Fail(st.error(), ctx);
        auto email = RequiredString(o, "email");
        auto password = RequiredString(o, "password");
        auto name = OptionalString(o, "name");
        auto tenant = OptionalString(o, "tenant_name");
        for (const Status& st : {Status(email.ok() ? Status{} : email.error()),
                                 Status(password.ok() ? Status{} : password.error()),
                                 Status(name.ok() ? Status{} : name.error()),
                                 Status(tenant.ok() ? Status{} : tenant.error())}) {
            if (!st.ok()) co_return Fail(st.error(), ctx);
        }
        auth::RegisterInput in{*email, *password, *name, *tenant};
        auto out = co_await s.auth.Register(std::move(in), Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(SignedInJson(*out), 201);
    };
}

http::Handler Login(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto body = BodyObject(ctx);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        const json::object& o = **body;
        if (auto st = RejectUnknownFields(o, {"email", "password", "tenant_id"}); !st.ok())
            co_return Fail(st.error(), ctx);
        auto email = RequiredString(o, "email");
        if (!email.ok()) co_return Fail(email.error(), ctx);
        auto password = RequiredString(o, "password");
        if (!password.ok()) co_return Fail(password.error(), ctx);
        auto tenant = OptionalId(o, "tenant_id");
        if (!tenant.ok()) co_return Fail(tenant.error(), ctx);
        auto out = co_await s.auth.Login(*email, *password, *tenant, Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(SignedInJson(*out));
    };
}

http::Handler Refresh(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto body = BodyObject(ctx);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        const json::object& o = **body;
        if (auto st = RejectUnknownFields(o, {"refresh_token", "tenant_id"}); !st.ok())
            co_return Fail(st.error(), ctx);
        auto token = RequiredString(o, "refresh_token");
        if (!token.ok()) co_return Fail(token.error(), ctx);
        auto tenant = OptionalId(o, "tenant_id");
        if (!tenant.ok()) co_return Fail(tenant.error(), ctx);
        auto out = co_await s.auth.Refresh(*token, *tenant, Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(json::object{{"tokens", TokensJson(*out)}});
    };
}

http::Handler Logout(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto body = BodyObject(ctx, true);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        const json::object& o = **body;
        if (auto st = RejectUnknownFields(o, {"refresh_token", "all"}); !st.ok())
            co_return Fail(st.error(), ctx);
        auto token = OptionalId(o, "refresh_token");
        if (!token.ok()) co_return Fail(token.error(), ctx);
        auto all = OptionalBool(o, "all", false);
        if (!all.ok()) co_return Fail(all.error(), ctx);
        Status st = co_await s.auth.Logout(*who, *token, *all, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Ok(
            json::object{{"message", *all ? "Logged out of every session" : "Logged out"}});
    };
}

http::Handler Me(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        co_return Ok(json::object{{"user", UserJson(who->user)}, {"tenants", json::array{}}});
    };
}

http::Handler UpdateMe(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto body = BodyObject(ctx);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        const json::object& o = **body;
        if (auto st = RejectUnknownFields(o, {"name"}); !st.ok()) co_return Fail(st.error(), ctx);
        auto name = OptionalString(o, "name", who->user.name);
        if (!name.ok()) co_return Fail(name.error(), ctx);
        auto user = co_await s.auth.UpdateName(*who, *name);
        if (!user.ok()) co_return Fail(user.error(), ctx);
        co_return Ok(json::object{{"user", UserJson(*user)}});
    };
}

http::Handler ChangePassword(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto body = BodyObject(ctx);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        const json::object& o = **body;
        if (auto st = RejectUnknownFields(o, {"current_password", "new_password"}); !st.ok())
            co_return Fail(st.error(), ctx);
        auto current = RequiredString(o, "current_password");
        if (!current.ok()) co_return Fail(current.error(), ctx);
        auto next = RequiredString(o, "new_password");
        if (!next.ok()) co_return Fail(next.error(), ctx);
        Status st = co_await s.auth.ChangePassword(*who, *current, *next, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Ok(json::object{{"message", "Password changed; other sessions were signed out"}});
    };
}

http::Handler Jwks(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        // The standard JWKS document, not the envelope: JOSE libraries read it as is.
        Response r = Response::Json(200, json::serialize(s.auth.Jwks()));
        r.headers.Add("Cache-Control", "public, max-age=300");
        co_return r;
    };
}

}  // namespace tb::api::v1
