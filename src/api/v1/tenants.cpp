// /v1/tenants and /v1/tenants/{id}/members (API.md §3).
#include "api/authenticate.h"
#include "api/list.h"
#include "api/members.h"
#include "api/render.h"
#include "api/v1/handlers.h"
#include "common/log.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;
using tenancy::TenantService;

namespace {

Result<tenancy::NewTenant> ParseNewTenant(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "slug", "plan"}));
    tenancy::NewTenant in;
    TB_ASSIGN_OR_RETURN(in.name, RequiredString(*o, "name"));
    TB_ASSIGN_OR_RETURN(in.slug, MaybeString(*o, "slug"));
    TB_ASSIGN_OR_RETURN(in.plan, MaybeString(*o, "plan"));
    return in;
}

Result<tenancy::TenantPatch> ParseTenantPatch(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "slug", "settings", "plan", "status"}));
    tenancy::TenantPatch p;
    TB_ASSIGN_OR_RETURN(p.name, MaybeString(*o, "name"));
    TB_ASSIGN_OR_RETURN(p.slug, MaybeString(*o, "slug"));
    TB_ASSIGN_OR_RETURN(p.plan, MaybeString(*o, "plan"));
    TB_ASSIGN_OR_RETURN(p.status, MaybeString(*o, "status"));
    if (auto* settings = o->if_contains("settings"); settings && !settings->is_null()) {
        if (!settings->is_object())
            return Error::Validation("settings", "settings must be an object");
        p.settings = settings->as_object();
    }
    return p;
}

Result<tenancy::Role> ParseMemberPatch(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"role"}));
    return ParseRoleField(*o, true);
}

// On a body error, an access error wins (API.md §13 "Precedence of errors").
Task<Error> AccessFirst(Services& s, const tenancy::Caller& who, const std::string& tenant_id,
                        TenantService::Access access, Error body_error) {
    Status st = co_await s.tenants.Authorize(who, tenant_id, access);
    co_return st.ok() ? std::move(body_error) : std::move(st).error();
}

}  // namespace

http::Handler ListTenants(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto q = ParseListQuery(s, req, tenancy::TenantsResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        auto page = co_await s.tenants.List(*who, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, tenancy::TenantsResource(), *q, *page, TenantJson);
    };
}

http::Handler CreateTenant(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        if (who->api_key) co_return Fail(Error::Forbidden("API keys cannot create tenants"), ctx);
        auto in = ParseNewTenant(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto t = co_await s.tenants.Create(*who, std::move(*in));
        if (!t.ok()) co_return Fail(t.error(), ctx);
        co_return Ok(TenantJson(*t), 201);
    };
}

http::Handler GetTenant(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto t = co_await s.tenants.Get(*who, std::string(ctx.Param("id")));
        if (!t.ok()) co_return Fail(t.error(), ctx);
        co_return Ok(TenantJson(*t));
    };
}

http::Handler UpdateTenant(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto patch = ParseTenantPatch(ctx);
        if (!patch.ok()) {
            co_return Fail(
                co_await AccessFirst(s, *who, id, TenantService::Access::kOwner, patch.error()),
                ctx);
        }
        auto t = co_await s.tenants.Update(*who, id, std::move(*patch));
        if (!t.ok()) co_return Fail(t.error(), ctx);
        co_return Ok(TenantJson(*t));
    };
}

http::Handler DeleteTenant(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        // Read before the deletion decides anything; used only once it has succeeded.
        auto collections = co_await s.collections.CollectionIds(storage::TenantScope::Of(id));
        if (!collections.ok()) co_return Fail(collections.error(), ctx);
        Status st = co_await s.tenants.Delete(*who, id);
        if (!st.ok()) co_return Fail(st.error(), ctx);
        if (Status dropped = co_await s.collections.DropIndexes(*collections); !dropped.ok()) {
            // The tenant is gone either way; an index left behind covers no rows.
            log::Warn("dropping a deleted tenant's document indexes failed",
                      {{"tenant", id}, {"error", dropped.error().internal}});
        }
        co_return Response::Empty(204);
    };
}

http::Handler ListMembers(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto q = ParseListQuery(s, req, tenancy::MembersResource());
        if (!q.ok()) {
            co_return Fail(
                co_await AccessFirst(s, *who, id, TenantService::Access::kRead, q.error()), ctx);
        }
        auto page = co_await s.tenants.ListMembers(*who, id, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, tenancy::MembersResource(), *q, *page, MemberJson);
    };
}

http::Handler AddMember(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto in = ParseNewMember(ctx);
        if (!in.ok()) {
            co_return Fail(
                co_await AccessFirst(s, *who, id, TenantService::Access::kManage, in.error()), ctx);
        }
        auto added = co_await s.tenants.AddMember(*who, id, in->email, in->role);
        if (!added.ok()) co_return Fail(added.error(), ctx);
        if (added->invitation) {
            co_return Ok(json::object{{"invitation", InvitationJson(*added->invitation)}}, 202);
        }
        co_return Ok(MemberJson(*added->member), 201);
    };
}

http::Handler UpdateMember(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto role = ParseMemberPatch(ctx);
        if (!role.ok()) {
            co_return Fail(
                co_await AccessFirst(s, *who, id, TenantService::Access::kManage, role.error()),
                ctx);
        }
        auto m = co_await s.tenants.SetRole(*who, id, std::string(ctx.Param("user_id")), *role);
        if (!m.ok()) co_return Fail(m.error(), ctx);
        co_return Ok(MemberJson(*m));
    };
}

http::Handler RemoveMember(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status st = co_await s.tenants.RemoveMember(*who, std::string(ctx.Param("id")),
                                                    std::string(ctx.Param("user_id")));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

}  // namespace tb::api::v1
