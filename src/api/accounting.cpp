#include "api/accounting.h"

#include "api/render.h"
#include "common/strings.h"

namespace tb::api {

namespace {

bool HasCredentials(const http::Request& request) {
    return !Trim(request.headers.Get("authorization")).empty() ||
           !Trim(request.headers.Get("x-api-key")).empty();
}

Task<std::optional<Error>> Charge(Services& s, http::RouteContext& ctx, const std::string budget,
                                  int64_t limit) {
    if (!s.limits_enabled || ctx.account.charged) co_return std::nullopt;
    if (!s.rate_limiter.Knows(budget)) co_await s.rate_limiter.Prime(s.db, budget);
    limits::RateDecision d = s.rate_limiter.Take(budget, limit);
    ctx.account.charged = true;
    ctx.account.limit = d.limit;
    ctx.account.remaining = d.remaining;
    ctx.account.reset = d.reset;
    if (d.allowed) co_return std::nullopt;
    co_return Error::RateLimited("Rate limit exceeded: " + std::to_string(d.limit) +
                                     " requests per hour; retry after the window resets",
                                 static_cast<int>(d.retry_after));
}

void SetRateHeaders(const http::RouteContext& ctx, http::Response& response) {
    if (!ctx.account.charged) return;
    response.headers.Add("X-RateLimit-Limit", std::to_string(ctx.account.limit));
    response.headers.Add("X-RateLimit-Remaining", std::to_string(ctx.account.remaining));
    response.headers.Add("X-RateLimit-Reset", std::to_string(ctx.account.reset));
}

}  // namespace

std::string RouteGroup(std::string_view path) {
    if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/v1/health")
        return "";
    if (path.find("/documents") != std::string_view::npos) return "documents";
    if (path.starts_with("/docs") || path == "/v1/openapi.json") return "docs";
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
    const std::string budget = "ip:" + request.remote_ip;
    co_return co_await Charge(s, ctx, budget, limit);
}

Task<std::optional<Error>> ChargeCaller(Services& s, const tenancy::Caller& who,
                                        http::RouteContext& ctx) {
    if (who.tenant) ctx.account.tenant_id = who.tenant->id();
    if (who.anonymous) co_return std::nullopt;  // charged by Metered, before the handler
    ctx.account.user_id = who.user.id;
    if (who.api_key) ctx.account.key_id = who.api_key->id;
    const limits::Plan& plan = s.plans.Get(who.tenant ? who.plan : "");
    const std::string budget = who.api_key ? "k:" + who.api_key->id : "u:" + who.user.id;
    const int64_t limit = who.api_key ? s.plans.KeyPerHour(plan) : s.plans.UserPerHour(plan);
    co_return co_await Charge(s, ctx, budget, limit);
}

http::Handler Metered(Services& s, http::Handler inner, std::string group) {
    if (group.empty()) return inner;
    return [&s, inner = std::move(inner), group = std::move(group)](
               http::Request& request, http::RouteContext& ctx) -> Task<http::Response> {
        std::optional<Error> refused;
        if (!HasCredentials(request)) refused = co_await ChargeAnonymous(s, request, ctx);
        http::Response response;
        if (refused) {
            response = Fail(*refused, ctx);
        } else {
            response = co_await inner(request, ctx);
            // Credentials sent to a route that reads none (a stale token on login): the
            // request still counts against its IP.
            if (!ctx.account.charged) (void)co_await ChargeAnonymous(s, request, ctx);
        }
        SetRateHeaders(ctx, response);
        if (!ctx.account.tenant_id.empty()) {
            limits::UsageEvent e;
            e.tenant_id = ctx.account.tenant_id;
            e.user_id = ctx.account.user_id;
            e.key_id = ctx.account.key_id;
            e.route_group = group;
            e.status = response.status;
            e.documents_written = ctx.account.documents_written;
            e.bytes_in = static_cast<int64_t>(request.body.size());
            e.bytes_out = static_cast<int64_t>(response.body.size());
            s.meter.Record(e);
            s.metrics.CountTenant(ctx.account.tenant_id);
        }
        co_return response;
    };
}

}  // namespace tb::api
