// /v1/organizations (API.md §3.2).
#include "api/authenticate.h"
#include "api/list.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

Result<tenancy::NewOrganization> ParseNewOrg(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "slug", "description"}));
    tenancy::NewOrganization in;
    TB_ASSIGN_OR_RETURN(in.name, RequiredString(*o, "name"));
    TB_ASSIGN_OR_RETURN(in.slug, MaybeString(*o, "slug"));
    TB_ASSIGN_OR_RETURN(in.description, OptionalString(*o, "description"));
    return in;
}

Result<tenancy::OrganizationPatch> ParseOrgPatch(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "slug", "description"}));
    tenancy::OrganizationPatch p;
    TB_ASSIGN_OR_RETURN(p.name, MaybeString(*o, "name"));
    TB_ASSIGN_OR_RETURN(p.slug, MaybeString(*o, "slug"));
    TB_ASSIGN_OR_RETURN(p.description, MaybeString(*o, "description"));
    return p;
}

struct NewOrgMember {
    std::string user_id, role = "member";
};

Result<NewOrgMember> ParseNewOrgMember(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"user_id", "role"}));
    NewOrgMember in;
    TB_ASSIGN_OR_RETURN(in.user_id, RequiredString(*o, "user_id"));
    TB_ASSIGN_OR_RETURN(auto role, MaybeString(*o, "role"));
    if (role) in.role = *role;
    if (in.role != "admin" && in.role != "member")
        return Error::Validation("role", "role must be admin or member");
    return in;
}

// On a body error, an access error wins (API.md §13 "Precedence of errors").
Task<Error> AccessFirst(Services& s, const tenancy::Caller& who, const std::string& org_id,
                        Error body_error) {
    Status st = co_await s.orgs.AuthorizeManage(who, org_id);
    co_return st.ok() ? std::move(body_error) : std::move(st).error();
}

}  // namespace

http::Handler ListOrganizations(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status access = who->CanRead();
        if (!access.ok()) co_return Fail(access.error(), ctx);
        auto q = ParseListQuery(s, req, tenancy::OrganizationsResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        auto page = co_await s.orgs.List(*who, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, tenancy::OrganizationsResource(), *q, *page, OrganizationJson);
    };
}

http::Handler CreateOrganization(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status access = who->CanManage();
        if (!access.ok()) co_return Fail(access.error(), ctx);
        auto in = ParseNewOrg(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto o = co_await s.orgs.Create(*who, std::move(*in));
        if (!o.ok()) co_return Fail(o.error(), ctx);
        co_return Ok(OrganizationJson(*o), 201);
    };
}

http::Handler GetOrganization(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto o = co_await s.orgs.Get(*who, std::string(ctx.Param("id")));
        if (!o.ok()) co_return Fail(o.error(), ctx);
        co_return Ok(OrganizationJson(*o));
    };
}

http::Handler UpdateOrganization(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto patch = ParseOrgPatch(ctx);
        if (!patch.ok()) co_return Fail(co_await AccessFirst(s, *who, id, patch.error()), ctx);
        auto o = co_await s.orgs.Update(*who, id, std::move(*patch));
        if (!o.ok()) co_return Fail(o.error(), ctx);
        co_return Ok(OrganizationJson(*o));
    };
}

http::Handler DeleteOrganization(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status st = co_await s.orgs.Delete(*who, std::string(ctx.Param("id")));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

http::Handler ListOrganizationMembers(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status access = who->CanRead();
        if (!access.ok()) co_return Fail(access.error(), ctx);
        std::string id(ctx.Param("id"));
        auto q = ParseListQuery(s, req, tenancy::OrganizationMembersResource());
        if (!q.ok()) {
            // 404 for another tenant's organization before the query error.
            auto o = co_await s.orgs.Get(*who, id);
            co_return Fail(o.ok() ? q.error() : o.error(), ctx);
        }
        auto page = co_await s.orgs.ListMembers(*who, id, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, tenancy::OrganizationMembersResource(), *q, *page, MemberJson);
    };
}

http::Handler AddOrganizationMember(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto in = ParseNewOrgMember(ctx);
        if (!in.ok()) co_return Fail(co_await AccessFirst(s, *who, id, in.error()), ctx);
        auto m = co_await s.orgs.AddMember(*who, id, in->user_id, in->role);
        if (!m.ok()) co_return Fail(m.error(), ctx);
        co_return Ok(MemberJson(*m), 201);
    };
}

http::Handler RemoveOrganizationMember(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status st = co_await s.orgs.RemoveMember(*who, std::string(ctx.Param("id")),
                                                 std::string(ctx.Param("user_id")));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

}  // namespace tb::api::v1
