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
    return {{"user", UserJson(s.user)},
            {"tokens", TokensJson(s.tokens)},
            {"tenants", MembershipsJson(s.tenants)}};
}

// The JSON body as an object; an absent body counts as {} when `optional`.
Result<json::object*> BodyObject(RouteContext& ctx, bool optional = false) {
    if (optional && ctx.body.is_null() && !ctx.body_error) ctx.body = json::object{};
    return ctx.JsonObject();
}

Result<std::optional<std::string>> OptionalId(const json::object& o, std::string_view field) {
    TB_ASSIGN_OR_RETURN(std::string v, OptionalString(o, field));
    if (v.empty()) return std::optional<std::string>{};
    return std::optional<std::string>(std::move(v));
}

// Each body is parsed into its input struct by a plain function, so a handler checks once.

Result<auth::RegisterInput> ParseRegister(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email", "password", "name", "tenant_name"}));
    auth::RegisterInput in;
    TB_ASSIGN_OR_RETURN(in.email, RequiredString(*o, "email"));
    TB_ASSIGN_OR_RETURN(in.password, RequiredString(*o, "password"));
    TB_ASSIGN_OR_RETURN(in.name, OptionalString(*o, "name"));
    TB_ASSIGN_OR_RETURN(in.tenant_name, OptionalString(*o, "tenant_name"));
    return in;
}

struct LoginInput {
    std::string email, password;
    std::optional<std::string> tenant_id;
};

Result<LoginInput> ParseLogin(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email", "password", "tenant_id"}));
    LoginInput in;
    TB_ASSIGN_OR_RETURN(in.email, RequiredString(*o, "email"));
    TB_ASSIGN_OR_RETURN(in.password, RequiredString(*o, "password"));
    TB_ASSIGN_OR_RETURN(in.tenant_id, OptionalId(*o, "tenant_id"));
    return in;
}

struct RefreshInput {
    std::string refresh_token;
    std::optional<std::string> tenant_id;
};

Result<RefreshInput> ParseRefresh(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"refresh_token", "tenant_id"}));
    RefreshInput in;
    TB_ASSIGN_OR_RETURN(in.refresh_token, RequiredString(*o, "refresh_token"));
    TB_ASSIGN_OR_RETURN(in.tenant_id, OptionalId(*o, "tenant_id"));
    return in;
}

struct LogoutInput {
    std::optional<std::string> refresh_token;
    bool all = false;
};

Result<LogoutInput> ParseLogout(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx, /*optional=*/true));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"refresh_token", "all"}));
    LogoutInput in;
    TB_ASSIGN_OR_RETURN(in.refresh_token, OptionalId(*o, "refresh_token"));
    TB_ASSIGN_OR_RETURN(in.all, OptionalBool(*o, "all", false));
    return in;
}

Result<std::string> ParseName(RouteContext& ctx, const std::string& current) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name"}));
    return OptionalString(*o, "name", current);
}

struct PasswordInput {
    std::string current, next;
};

Result<PasswordInput> ParsePassword(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"current_password", "new_password"}));
    PasswordInput in;
    TB_ASSIGN_OR_RETURN(in.current, RequiredString(*o, "current_password"));
    TB_ASSIGN_OR_RETURN(in.next, RequiredString(*o, "new_password"));
    return in;
}

struct TokenPasswordInput {
    std::string token, password, name;
};

Result<TokenPasswordInput> ParseResetConfirm(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"token", "new_password"}));
    TokenPasswordInput in;
    TB_ASSIGN_OR_RETURN(in.token, RequiredString(*o, "token"));
    TB_ASSIGN_OR_RETURN(in.password, RequiredString(*o, "new_password"));
    return in;
}

Result<std::string> ParseTokenOnly(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"token"}));
    return RequiredString(*o, "token");
}

Result<TokenPasswordInput> ParseAccept(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"token", "password", "name"}));
    TokenPasswordInput in;
    TB_ASSIGN_OR_RETURN(in.token, RequiredString(*o, "token"));
    TB_ASSIGN_OR_RETURN(in.password, OptionalString(*o, "password"));
    TB_ASSIGN_OR_RETURN(in.name, OptionalString(*o, "name"));
    return in;
}

Result<std::string> ParseResetRequest(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, BodyObject(ctx));
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email"}));
    return RequiredString(*o, "email");
}

}  // namespace

http::Handler Register(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto in = ParseRegister(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto out = co_await s.auth.Register(std::move(*in), Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(SignedInJson(*out), 201);
    };
}

http::Handler Login(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto in = ParseLogin(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto out = co_await s.auth.Login(in->email, in->password, in->tenant_id, Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(SignedInJson(*out));
    };
}

http::Handler Refresh(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto in = ParseRefresh(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto out = co_await s.auth.Refresh(in->refresh_token, in->tenant_id, Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(json::object{{"tokens", TokensJson(*out)}});
    };
}

http::Handler Logout(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto in = ParseLogout(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        Status st = co_await s.auth.Logout(*who, in->refresh_token, in->all, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Ok(
            json::object{{"message", in->all ? "Logged out of every session" : "Logged out"}});
    };
}

http::Handler Me(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto tenants = co_await s.tenants.MembershipsOf(who->user->id);
        if (!tenants.ok()) co_return Fail(tenants.error(), ctx);
        std::string body(kOkPrefix);
        body.reserve(512);
        body += R"({"user":)";
        AppendUserJson(body, *who->user);
        body += R"(,"tenants":)";
        AppendMembershipsJson(body, *tenants);
        body += "}}";
        co_return http::Response::Json(200, std::move(body));
    };
}

http::Handler UpdateMe(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto name = ParseName(ctx, who->user->name);
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
        auto in = ParsePassword(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        Status st = co_await s.auth.ChangePassword(*who, in->current, in->next, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Ok(json::object{{"message", "Password changed; other sessions were signed out"}});
    };
}

http::Handler Jwks(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        // The standard JWKS document, not the envelope: JOSE libraries read it as is.
        Response r = Response::Json(200, WriteJson(s.auth.Jwks()));
        r.headers.Add("Cache-Control", "public, max-age=300");
        co_return r;
    };
}

http::Handler RequestPasswordReset(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto email = ParseResetRequest(ctx);
        if (!email.ok()) co_return Fail(email.error(), ctx);
        Status st = co_await s.auth.RequestPasswordReset(*email, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        // The same answer whether or not the email has an account (API.md §2.2).
        co_return Ok(json::object{{"message", "If the account exists, a reset mail is on its way"}},
                     202);
    };
}

http::Handler ConfirmPasswordReset(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto in = ParseResetConfirm(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        Status st = co_await s.auth.ConfirmPasswordReset(in->token, in->password, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Ok(json::object{{"message", "Password reset; every session was signed out"}});
    };
}

http::Handler RequestEmailVerification(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireSession(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto body = BodyObject(ctx, /*optional=*/true);
        if (!body.ok()) co_return Fail(body.error(), ctx);
        if (Status st = RejectUnknownFields(**body, {}); !st.ok()) co_return Fail(st.error(), ctx);
        Status st = co_await s.auth.RequestEmailVerification(*who, Client(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Ok(json::object{{"message", who->user->email_verified
                                                  ? "The email is already verified"
                                                  : "A verification mail is on its way"}},
                     202);
    };
}

http::Handler ConfirmEmail(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto token = ParseTokenOnly(ctx);
        if (!token.ok()) co_return Fail(token.error(), ctx);
        auto user = co_await s.auth.ConfirmEmail(*token, Client(req));
        if (!user.ok()) co_return Fail(user.error(), ctx);
        co_return Ok(json::object{{"user", UserJson(*user)}});
    };
}

http::Handler AcceptInvitation(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto in = ParseAccept(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auth::AcceptInput accept{in->token, in->password, in->name};
        auto out = co_await s.auth.AcceptInvitation(std::move(accept), Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Ok(SignedInJson(*out));
    };
}

}  // namespace tb::api::v1
