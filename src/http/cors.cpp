#include "http/cors.h"

#include <algorithm>

#include "common/strings.h"

namespace tb::http {

namespace {
constexpr std::string_view kAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
constexpr std::string_view kAllowHeaders =
    "authorization, content-type, x-api-key, x-tenant-id, if-match, if-none-match, "
    "x-request-id, x-http-method-override, x-apikey";
constexpr std::string_view kExposeHeaders =
    "etag, x-request-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, "
    "x-ratelimit-tenant-limit, x-ratelimit-tenant-remaining, x-ratelimit-tenant-reset, "
    "retry-after";
}  // namespace

bool CorsPolicy::ServerAllows(std::string_view origin) const {
    return std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

bool CorsPolicy::IsPreflight(const Request& request) const {
    return request.method == Method::kOptions &&
           request.headers.Has("access-control-request-method");
}

Response CorsPolicy::Preflight(const Request& request) const {
    Response r = Response::Empty(204);
    std::string_view origin = request.headers.Get("origin");
    if (origin.empty()) return r;
    r.headers.Add("Vary", "Origin");
    bool allowed = ServerAllows(origin) || (preflight_check_ && preflight_check_(origin, request));
    if (!allowed) return r;
    r.headers.Add("Access-Control-Allow-Origin", std::string(origin));
    r.headers.Add("Access-Control-Allow-Methods", std::string(kAllowMethods));
    r.headers.Add("Access-Control-Allow-Headers", std::string(kAllowHeaders));
    r.headers.Add("Access-Control-Max-Age", "600");
    return r;
}

bool CorsPolicy::AllowsOutsideTenant(const Request& request, std::string_view tenant) const {
    std::string_view origin = request.headers.Get("origin");
    if (origin.empty()) return false;
    // X-Tenant-ID first, as it picks the request's tenant first (API.md §2 "Tenant context").
    if (std::string_view named = Trim(request.headers.Get("x-tenant-id")); !named.empty())
        tenant = named;
    if (!tenant.empty()) return tenant_check_ && tenant_check_(origin, tenant);
    return preflight_check_ && preflight_check_(origin, request);
}

void CorsPolicy::Decorate(const Request& request, Response& response, bool tenant_allowed) const {
    std::string_view origin = request.headers.Get("origin");
    if (origin.empty()) return;
    response.headers.Add("Vary", "Origin");
    if (!tenant_allowed && !ServerAllows(origin)) return;
    response.headers.Add("Access-Control-Allow-Origin", std::string(origin));
    response.headers.Add("Access-Control-Expose-Headers", std::string(kExposeHeaders));
}

}  // namespace tb::http
