#include "api/accounting.h"

#include <fmt/format.h>

#include "api/render.h"
#include "common/strings.h"

namespace tb::api {

namespace {

bool HasCredentials(const http::Request& request) {
    return !Trim(request.headers.Get("authorization")).empty() ||
           !Trim(request.headers.Get("x-api-key")).empty();
}

std::optional<Error> Charge(Services& s, http::RouteContext& ctx, const std::string& budget,
                            int64_t limit) {
    if (!s.limits_enabled || ctx.account.charged) return std::nullopt;
    limits::RateDecision d = s.rate_limiter.Take(budget, limit);
    ctx.account.charged = true;
    ctx.account.limit = d.limit;
    ctx.account.remaining = d.remaining;
    ctx.account.reset = d.reset;
    if (d.allowed) return std::nullopt;
    return Error::RateLimited("Rate limit exceeded: " + std::to_string(d.limit) +
                                  " requests per hour; retry after the window resets",
                              static_cast<int>(d.retry_after));
}

void SetRateHeaders(const http::RouteContext& ctx, http::Response& response) {
    if (!ctx.account.charged) return;
    response.headers.Add("X-RateLimit-Limit", fmt::format_int(ctx.account.limit).str());
    response.headers.Add("X-RateLimit-Remaining", fmt::format_int(ctx.account.remaining).str());
    response.headers.Add("X-RateLimit-Reset", fmt::format_int(ctx.account.reset).str());
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
    co_return Charge(s, ctx, "ip:" + request.remote_ip, limit);
}

std::optional<Error> ChargeCaller(Services& s, const tenancy::Caller& who,
                                  http::RouteContext& ctx) {
    if (who.tenant) ctx.account.tenant_id = who.tenant->id();
    if (who.anonymous) return std::nullopt;  // charged by Metered, before the handler
    ctx.account.user_id = who.user.id;
    if (who.api_key) ctx.account.key_id = who.api_key->id;
    const limits::Plan& plan = s.plans.Get(who.tenant ? who.plan : "");
    if (who.api_key) return Charge(s, ctx, "k:" + who.api_key->id, s.plans.KeyPerHour(plan));
    return Charge(s, ctx, "u:" + who.user.id, s.plans.UserPerHour(plan));
}

http::Handler Metered(Services& s, http::Handler inner, std::string group) {
    // Nothing to do on this route, or nothing at all (limits and metering off: the bare path
    // the benchmarks compare with).
    if (group.empty() || (!s.limits_enabled && !s.metering_enabled)) return inner;
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
        if (s.metering_enabled && !ctx.account.tenant_id.empty()) {
            s.meter.Record({ctx.account.tenant_id, ctx.account.user_id, ctx.account.key_id, group,
                            response.status, ctx.account.documents_written,
                            static_cast<int64_t>(request.body.size()),
                            static_cast<int64_t>(response.body.size())});
            s.metrics.CountTenant(ctx.account.tenant_id);
        }
        co_return response;
    };
}

}  // namespace tb::api
