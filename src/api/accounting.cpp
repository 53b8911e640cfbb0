#include "api/accounting.h"

#include "api/denials.h"
#include "api/render.h"
#include "common/strings.h"

namespace tb::api {

namespace {

bool HasCredentials(const http::Request& request) {
    return !Trim(request.headers.Get("x-api-key")).empty() ||
           !Trim(request.headers.Get("authorization")).empty();
}

// The budget a 429 names in details.scope.
std::string_view ScopeName(limits::Budget kind) {
    switch (kind) {
        case limits::Budget::kUser:
            return "user";
        case limits::Budget::kKey:
            return "key";
        case limits::Budget::kTenant:
            return "tenant";
        case limits::Budget::kIp:
            break;
    }
    return "ip";
}

// Records a budget's decision on the request (its X-RateLimit-* figures); the 429 when it
// refused.
std::optional<Error> Apply(http::RouteContext& ctx, limits::Budget kind,
                           const limits::RateDecision& d) {
    ctx.account.charged = true;
    ctx.account.limit = d.limit;
    ctx.account.remaining = d.remaining;
    ctx.account.reset = d.reset;
    if (d.allowed) return std::nullopt;
    Error e = Error::RateLimited("Rate limit exceeded: " + std::to_string(d.limit) +
                                     " requests per hour; retry after the window resets",
                                 static_cast<int>(d.retry_after));
    e.details["scope"] = ScopeName(kind);
    return e;
}

// Charges the tenant's budget too (issue #29: a second key must not mean a second budget for
// the tenant). Refused by it, the request is given back to the principal's budget, so that a
// refused request counts in neither.
std::optional<Error> ApplyTenant(Services& s, http::RouteContext& ctx, limits::Budget kind,
                                 std::string_view id, const limits::RateDecision& d) {
    ctx.account.tenant_limit = d.limit;
    ctx.account.tenant_remaining = d.remaining;
    if (d.allowed) return std::nullopt;
    s.rate_limiter.Refund(kind, id, ctx.account.reset);
    ctx.account.remaining = std::min(ctx.account.limit, ctx.account.remaining + 1);
    Error e = Error::RateLimited("Tenant rate limit exceeded: " + std::to_string(d.limit) +
                                     " requests per hour for the whole tenant; retry after the "
                                     "window resets",
                                 static_cast<int>(d.retry_after));
    e.details["scope"] = ScopeName(limits::Budget::kTenant);
    return e;
}

// Take, and when this node's lease of a shared budget is spent, Reserve.
Task<limits::RateDecision> Decide(Services& s, limits::Budget kind, std::string id, int64_t limit) {
    limits::RateDecision d = s.rate_limiter.Take(kind, id, limit);
    if (d.reserve) d = co_await s.rate_limiter.Reserve(kind, std::move(id), limit);
    co_return d;
}

void SetRateHeaders(const http::RouteContext& ctx, http::Response& response) {
    if (!ctx.account.charged) return;
    response.rate_limit = {ctx.account.limit, ctx.account.remaining, ctx.account.reset,
                           ctx.account.tenant_limit, ctx.account.tenant_remaining};
}

}  // namespace

std::string RouteGroup(std::string_view path) {
    if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/v1/health" ||
        path == "/api/health")
        return "";
    // The dialects (API.md §11) count in the groups of their /v1 counterparts.
    if (path.starts_with("/api/auth/")) return "auth";
    if (path.starts_with("/workspaces/")) {
        size_t at = path.find("/{database}/");
        std::string_view rest = at == std::string_view::npos ? "" : path.substr(at + 12);
        return rest.starts_with("tenants") ? "tenants" : "auth";
    }
    if (path == "/rest/_meta") return "meta";
    if (path == "/rest" || path.starts_with("/rest/")) return "documents";
    if (path == "/media" || path.starts_with("/media/")) return "files";
    if (path.find("/documents") != std::string_view::npos) return "documents";
    if (path.starts_with("/docs") || path == "/v1/openapi.json" || path == "/compat/openapi.json")
        return "docs";
    if (path.starts_with("/.well-known")) return "auth";
    std::string_view rest = path.starts_with("/v1/") ? path.substr(4) : path.substr(1);
    return std::string(rest.substr(0, rest.find('/')));
}

Task<std::optional<Error>> ChargeAnonymous(Services& s, const http::Request& request,
                                           http::RouteContext& ctx) {
    if (!s.limits_enabled || ctx.account.charged) co_return std::nullopt;
    int64_t limit = s.plans.AnonymousPerHour();
    std::string tenant(Trim(request.headers.Get("x-tenant-id")).substr(0, 64));
    if (!tenant.empty()) {
        auto plan = co_await s.tenants.PlanOf(tenant);
        if (plan.ok() && !plan->empty()) limit = s.plans.AnonymousPerHour(s.plans.Get(*plan));
    }
    limits::RateDecision d = co_await Decide(s, limits::Budget::kIp, request.remote_ip, limit);
    co_return Apply(ctx, limits::Budget::kIp, d);
}

namespace {

// The budgets a signed-in request is charged to: its API key's, else its user's, with the
// limit of the plan named (empty: the default plan), and then its tenant's, if any.
struct Budgets {
    limits::Budget kind;
    std::string_view id;
    int64_t limit;
    int64_t tenant_limit;
};

Budgets BudgetsOf(Services& s, const auth::User& user, const auth::ApiKey* key,
                  std::string_view plan_name) {
    const limits::Plan& plan = s.plans.Get(plan_name);
    if (key)
        return {limits::Budget::kKey, key->id, s.plans.KeyPerHour(plan),
                s.plans.TenantPerHour(plan)};
    return {limits::Budget::kUser, user.id, s.plans.UserPerHour(plan), s.plans.TenantPerHour(plan)};
}

// Records who the request is for and charges its budgets in memory; undecided when a shared
// budget's lease is spent (then nothing is charged, and ChargeIdentityFully decides).
Charged ChargeIdentity(Services& s, http::RouteContext& ctx, std::string_view tenant,
                       const auth::User& user, const auth::ApiKey* key,
                       std::string_view plan_name) {
    ctx.account.SetIds(tenant, user.id, key ? std::string_view(key->id) : "");
    if (!s.limits_enabled || ctx.account.charged) return {};
    Budgets b = BudgetsOf(s, user, key, plan_name);
    limits::RateDecision d = s.rate_limiter.Take(b.kind, b.id, b.limit);
    if (d.reserve) return {false, std::nullopt};
    if (auto refused = Apply(ctx, b.kind, d)) return {true, std::move(refused)};
    if (tenant.empty()) return {};
    limits::RateDecision t = s.rate_limiter.Take(limits::Budget::kTenant, tenant, b.tenant_limit);
    if (t.reserve) {
        s.rate_limiter.Refund(b.kind, b.id, d.reset);
        ctx.account.charged = false;
        return {false, std::nullopt};
    }
    return {true, ApplyTenant(s, ctx, b.kind, b.id, t)};
}

Task<std::optional<Error>> ChargeIdentityFully(Services& s, http::RouteContext& ctx,
                                               std::string tenant, const auth::User& user,
                                               const auth::ApiKey* key,
                                               std::string_view plan_name) {
    ctx.account.SetIds(tenant, user.id, key ? std::string_view(key->id) : "");
    if (!s.limits_enabled || ctx.account.charged) co_return std::nullopt;
    Budgets b = BudgetsOf(s, user, key, plan_name);
    const std::string id(b.id);
    limits::RateDecision d = co_await Decide(s, b.kind, id, b.limit);
    if (auto refused = Apply(ctx, b.kind, d)) co_return refused;
    if (tenant.empty()) co_return std::nullopt;
    limits::RateDecision t = co_await Decide(s, limits::Budget::kTenant, tenant, b.tenant_limit);
    co_return ApplyTenant(s, ctx, b.kind, id, t);
}

std::string_view TenantOf(const tenancy::Caller& who) {
    return who.tenant ? std::string_view(who.tenant->id()) : "";
}

}  // namespace

Charged ChargeCaller(Services& s, const tenancy::Caller& who, http::RouteContext& ctx) {
    if (who.anonymous) {
        ctx.account.SetIds(TenantOf(who), "", "");
        return {};  // charged before the handler (Accounting::Before)
    }
    return ChargeIdentity(s, ctx, TenantOf(who), *who.user, who.api_key.get(),
                          who.tenant ? std::string_view(who.plan) : "");
}

Task<std::optional<Error>> ChargeCallerFully(Services& s, const tenancy::Caller& who,
                                             http::RouteContext& ctx) {
    if (who.anonymous) {
        ctx.account.SetIds(TenantOf(who), "", "");
        co_return std::nullopt;
    }
    std::string tenant(TenantOf(who));  // named: no temporaries inside co_await (GCC 12)
    std::string_view plan = who.tenant ? std::string_view(who.plan) : "";
    co_return co_await ChargeIdentityFully(s, ctx, tenant, *who.user, who.api_key.get(), plan);
}

Charged ChargePrincipal(Services& s, const auth::Principal& who, http::RouteContext& ctx) {
    return ChargeIdentity(s, ctx, "", *who.user, who.api_key.get(), "");
}

Task<std::optional<Error>> ChargePrincipalFully(Services& s, const auth::Principal& who,
                                                http::RouteContext& ctx) {
    std::string none;  // named: no temporaries inside co_await (GCC 12)
    co_return co_await ChargeIdentityFully(s, ctx, none, *who.user, who.api_key.get(), none);
}

Accounting::Accounting(Services& s, const http::Router& router) : s_(s) {
    for (const auto& route : router.routes()) {
        if (static_cast<size_t>(route->index) >= groups_.size()) groups_.resize(route->index + 1);
        groups_[route->index] = RouteGroup(route->path);
    }
}

const std::string& Accounting::GroupOf(const http::RouteContext& ctx) const {
    static const std::string kNone;
    if (ctx.route_index < 0 || static_cast<size_t>(ctx.route_index) >= groups_.size()) return kNone;
    return groups_[ctx.route_index];
}

bool Accounting::Wants(const http::Request& request, const http::RouteContext& ctx) const {
    return s_.limits_enabled && !GroupOf(ctx).empty() && !HasCredentials(request);
}

Task<std::optional<http::Response>> Accounting::Before(http::Request& request,
                                                       http::RouteContext& ctx) {
    auto refused = co_await ChargeAnonymous(s_, request, ctx);
    if (!refused) co_return std::nullopt;
    co_return Fail(*refused, ctx);
}

void Accounting::After(const http::Request& request, http::RouteContext& ctx,
                       http::Response& response) {
    NoteDenial(s_, request, ctx, response);
    const std::string& group = GroupOf(ctx);
    if (group.empty()) return;
    // Credentials sent to a route that reads none (a stale token on login): the request still
    // counts against its IP, with the server's anonymous limit (no tenant lookup here).
    // (A shared budget whose lease is spent skips the count rather than wait here.)
    if (s_.limits_enabled && !ctx.account.charged) {
        limits::RateDecision d = s_.rate_limiter.Take(limits::Budget::kIp, request.remote_ip,
                                                      s_.plans.AnonymousPerHour());
        if (!d.reserve) (void)Apply(ctx, limits::Budget::kIp, d);
    }
    SetRateHeaders(ctx, response);
    if (s_.metering_enabled && !ctx.account.tenant_id().empty()) {
        s_.meter.Record({ctx.account.tenant_id(), ctx.account.user_id(), ctx.account.key_id(),
                         group, response.status, ctx.account.documents_written,
                         static_cast<int64_t>(request.body_bytes()),
                         static_cast<int64_t>(response.body_bytes())});
    }
}

}  // namespace tb::api
