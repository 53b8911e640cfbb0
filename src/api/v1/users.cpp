// /v1/users: the users of the current tenant (API.md §3.1).
#include "api/authenticate.h"
#include "api/list.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;
using tenancy::TenantService;

namespace {

struct NewUserInput {
    std::string email, name, password;
    tenancy::Role role = tenancy::Role::kMember;
};

Result<NewUserInput> ParseNewUser(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email", "name", "password", "role"}));
    NewUserInput in;
    TB_ASSIGN_OR_RETURN(in.email, RequiredString(*o, "email"));
    TB_ASSIGN_OR_RETURN(in.name, OptionalString(*o, "name"));
    TB_ASSIGN_OR_RETURN(in.password, OptionalString(*o, "password"));
    TB_ASSIGN_OR_RETURN(auto role, MaybeString(*o, "role"));
    if (role) {
        TB_ASSIGN_OR_RETURN(in.role, tenancy::RoleField(*role));
    }
    return in;
}

Result<tenancy::UserPatch> ParseUserPatch(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "email", "role", "is_active"}));
    tenancy::UserPatch p;
    TB_ASSIGN_OR_RETURN(p.name, MaybeString(*o, "name"));
    TB_ASSIGN_OR_RETURN(p.email, MaybeString(*o, "email"));
    TB_ASSIGN_OR_RETURN(p.role, MaybeString(*o, "role"));
    TB_ASSIGN_OR_RETURN(p.is_active, MaybeBool(*o, "is_active"));
    return p;
}

}  // namespace

http::Handler ListUsers(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status access = who->CanRead();
        if (!access.ok()) co_return Fail(access.error(), ctx);
        auto q = ParseListQuery(s, req, tenancy::UsersResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        if (!q->extra.empty())
            co_return Fail(Error::BadRequest("Unknown query parameter: purge", "purge"), ctx);
        auto page = co_await s.tenants.ListUsers(*who, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, tenancy::UsersResource(), *q, *page, TenantUserJson);
    };
}

http::Handler CreateUser(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status access = who->CanManage();
        if (!access.ok()) co_return Fail(access.error(), ctx);
        auto in = ParseNewUser(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        tenancy::NewUser user{in->email, in->name, "", in->role};
        if (!in->password.empty()) {
            Status policy = s.auth.CheckNewPassword(in->password, "password");
            if (!policy.ok()) co_return Fail(policy.error(), ctx);
            auto hash = co_await s.auth.HashPassword(in->password);
            if (!hash.ok()) co_return Fail(hash.error(), ctx);
            user.password_hash = std::move(*hash);
        }
        auto m = co_await s.tenants.CreateUser(*who, std::move(user));
        if (!m.ok()) co_return Fail(m.error(), ctx);
        co_return Ok(TenantUserJson(*m), 201);
    };
}

http::Handler GetUser(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto m = co_await s.tenants.GetUser(*who, std::string(ctx.Param("id")));
        if (!m.ok()) co_return Fail(m.error(), ctx);
        co_return Ok(TenantUserJson(*m));
    };
}

http::Handler UpdateUser(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto patch = ParseUserPatch(ctx);
        if (!patch.ok()) {
            // 404 (not in this tenant) before the body error.
            auto m = co_await s.tenants.GetUser(*who, id);
            co_return Fail(m.ok() ? patch.error() : m.error(), ctx);
        }
        auto m = co_await s.tenants.UpdateUser(*who, id, std::move(*patch));
        if (!m.ok()) co_return Fail(m.error(), ctx);
        co_return Ok(TenantUserJson(*m));
    };
}

http::Handler DeleteUser(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto q = ParseListQuery(s, req, tenancy::UsersResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        bool purge = false;
        if (auto it = q->extra.find("purge"); it != q->extra.end()) {
            if (it->second != "true" && it->second != "false")
                co_return Fail(Error::BadRequest("purge must be true or false", "purge"), ctx);
            purge = it->second == "true";
        }
        if (!q->conditions.empty() || !q->sort.empty() || !q->fields.empty())
            co_return Fail(Error::BadRequest("DELETE takes only purge", "query"), ctx);
        Status st = co_await s.tenants.DeleteUser(*who, std::string(ctx.Param("id")), purge);
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

}  // namespace tb::api::v1
