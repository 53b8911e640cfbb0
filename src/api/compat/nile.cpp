// The Nile dialect: /workspaces/{workspace}/databases/{database}/… (000_3a478b64d6b51130.txt,
// API.md §11). Users sign up and log in, see themselves, and manage the tenants they belong
// to. Bare bodies; errors as {"errorCode", "message", "statusCode"} (dialects.cpp).
#include "api/authenticate.h"
#include "api/compat/bare.h"
#include "api/compat/handlers.h"
#include "api/members.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::compat {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

// The workspace and database segments name this instance: any value, unless configured.
std::optional<Error> CheckInstance(const Services& s, const RouteContext& ctx) {
    auto mismatch = [&](std::string_view want, std::string_view param) {
        return !want.empty() && ctx.Param(param) != want;
    };
    if (mismatch(s.compat.nile_workspace, "workspace") ||
        mismatch(s.compat.nile_database, "database"))
        return Error::NotFound("No such workspace or database");
    return std::nullopt;
}

json::array TenantIds(const std::vector<auth::TenantMembership>& tenants) {
    json::array ids;
    for (const auto& t : tenants) ids.emplace_back(t.tenant_id);
    return ids;
}

// {jwt, maxAge, type}: the access token (verifiable with /.well-known/jwks.json).
json::object TokenOf(const auth::TokenPair& t) {
    return {{"jwt", t.access_token}, {"maxAge", t.expires_in}, {"type", "ACCESS_TOKEN"}};
}

json::object UserOf(const auth::User& u, json::array tenants) {
    return {{"id", u.id},
            {"email", u.email},
            {"name", u.name},
            {"emailVerified", u.email_verified},
            {"created", TimeJson(u.created_at)},
            {"updated", TimeJson(u.updated_at)},
            {"tenants", std::move(tenants)}};
}

json::object TenantOf(const std::string& id, const std::string& name) {
    return {{"id", id}, {"name", name}};
}

struct Credentials {
    std::string email, password, name;
};

Result<Credentials> ParseCredentials(RouteContext& ctx, bool with_name) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    if (with_name) {
        TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email", "password", "name"}));
    } else {
        TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email", "password"}));
    }
    Credentials c;
    TB_ASSIGN_OR_RETURN(c.email, RequiredString(*o, "email"));
    TB_ASSIGN_OR_RETURN(c.password, RequiredString(*o, "password"));
    if (with_name) {
        TB_ASSIGN_OR_RETURN(c.name, OptionalString(*o, "name"));
    }
    return c;
}

Result<std::string> ParseTenantName(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name"}));
    return RequiredString(*o, "name");
}

// Every member of a tenant, in one answer (Nile lists are not paged).
Task<Result<std::vector<tenancy::Member>>> AllMembers(Services& s, const tenancy::Caller& who,
                                                      const std::string& tenant_id) {
    query::ListQuery q;
    q.per_page = 10'000;
    q.count = false;
    auto page = co_await s.tenants.ListMembers(who, tenant_id, q);
    if (!page.ok()) co_return std::move(page).error();
    co_return std::move(page->items);
}

}  // namespace

http::Handler NileLogin(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto in = ParseCredentials(ctx, false);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto out = co_await s.auth.Login(in->email, in->password, std::nullopt, Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        co_return Bare(json::object{{"id", out->user.id},
                                    {"tenants", TenantIds(out->tenants)},
                                    {"token", TokenOf(out->tokens)}});
    };
}

http::Handler NileSignUp(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto in = ParseCredentials(ctx, true);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auth::RegisterInput reg{in->email, in->password, in->name, ""};
        auto out = co_await s.auth.Register(std::move(reg), Client(req));
        if (!out.ok()) co_return Fail(out.error(), ctx);
        json::object body = UserOf(out->user, TenantIds(out->tenants));
        body["token"] = TokenOf(out->tokens);
        co_return Bare(body, 201);
    };
}

http::Handler NileMe(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto tenants = co_await s.tenants.MembershipsOf(who->user->id);
        if (!tenants.ok()) co_return Fail(tenants.error(), ctx);
        co_return Bare(UserOf(*who->user, TenantIds(*tenants)));
    };
}

http::Handler NileListTenants(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        json::array out;
        if (who->api_key) {  // a key sees its own tenant only
            if (who->tenant) {
                auto t = co_await s.tenants.Get(*who, who->tenant->id());
                if (!t.ok()) co_return Fail(t.error(), ctx);
                out.push_back(TenantOf(t->id, t->name));
            }
            co_return Bare(out);
        }
        auto tenants = co_await s.tenants.MembershipsOf(who->user->id);
        if (!tenants.ok()) co_return Fail(tenants.error(), ctx);
        for (const auto& t : *tenants) out.push_back(TenantOf(t.tenant_id, t.name));
        co_return Bare(out);
    };
}

http::Handler NileCreateTenant(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        if (who->api_key) co_return Fail(Error::Forbidden("API keys cannot create tenants"), ctx);
        auto name = ParseTenantName(ctx);
        if (!name.ok()) co_return Fail(name.error(), ctx);
        tenancy::NewTenant in;  // named: no temporaries inside co_await (GCC 12)
        in.name = std::move(*name);
        auto t = co_await s.tenants.Create(*who, std::move(in));
        if (!t.ok()) co_return Fail(t.error(), ctx);
        co_return Bare(TenantOf(t->id, t->name), 201);
    };
}

http::Handler NileGetTenant(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto t = co_await s.tenants.Get(*who, id);
        if (!t.ok()) co_return Fail(t.error(), ctx);
        co_return Bare(TenantOf(t->id, t->name));
    };
}

http::Handler NileTenantUsers(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto members = co_await AllMembers(s, *who, id);
        if (!members.ok()) co_return Fail(members.error(), ctx);
        json::array out;
        for (const auto& m : *members) out.push_back(UserOf(m.user, json::array{json::value(id)}));
        co_return Bare(out);
    };
}

http::Handler NileAddTenantUser(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto in = ParseNewMember(ctx);
        if (!in.ok()) {
            Status st =
                co_await s.tenants.Authorize(*who, id, tenancy::TenantService::Access::kManage);
            co_return Fail(st.ok() ? in.error() : st.error(), ctx);
        }
        auto added = co_await s.tenants.AddMember(*who, id, in->email, in->role);
        if (!added.ok()) co_return Fail(added.error(), ctx);
        if (added->invitation)
            co_return Bare(json::object{{"invitation", InvitationJson(*added->invitation)}}, 202);
        co_return Bare(UserOf(added->member->user, json::array{json::value(id)}), 201);
    };
}

// The /v1 handler itself (same path parameters, errors in this dialect's shape), in this
// instance only.
http::Handler NileRemoveTenantUser(Services& s) {
    http::Handler v1 = v1::RemoveMember(s);
    return [&s, v1 = std::move(v1)](Request& req, RouteContext& ctx) -> Task<Response> {
        if (auto e = CheckInstance(s, ctx)) co_return Fail(*e, ctx);
        co_return co_await v1(req, ctx);
    };
}

}  // namespace tb::api::compat
