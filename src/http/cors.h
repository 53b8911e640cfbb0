#pragma once
// CORS (API.md §13). An origin is allowed for a preflight when the server config lists it or
// the OriginSource (tenant settings, CORS keys: added by later modules) knows it anywhere; the
// actual response echoes it only when it is allowed for that request.
//
// Thread safety: read-only after start; the OriginSource must be thread-safe.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.h"

namespace tb::http {

class CorsPolicy {
  public:
    // Extra allowed origins beyond the server config: answers whether `origin` is allowed by
    // any tenant or key (for preflights), or for the request's own tenant (actual requests).
    using OriginCheck = std::function<bool(std::string_view origin, const Request& request)>;

    explicit CorsPolicy(std::vector<std::string> server_origins)
        : origins_(std::move(server_origins)) {}
    void set_preflight_check(OriginCheck check) { preflight_check_ = std::move(check); }
    // Whether a tenant's own settings allow an origin.
    using TenantOriginCheck =
        std::function<bool(std::string_view origin, std::string_view tenant_id)>;
    void set_tenant_check(TenantOriginCheck check) { tenant_check_ = std::move(check); }

    bool IsPreflight(const Request& request) const;
    // The 204 answer to a preflight, with the allow headers when the origin is allowed.
    Response Preflight(const Request& request) const;
    // Adds Allow-Origin, Vary and Expose-Headers to an actual response when allowed.
    // `tenant_allowed`: the api layer's verdict for the request's tenant (false if unknown).
    void Decorate(const Request& request, Response& response, bool tenant_allowed) const;
    bool ServerAllows(std::string_view origin) const;
    // The verdict for a route that acts on no tenant's data (API.md §13 "CORS"): the origins
    // of the tenant the request names (X-Tenant-ID, else `tenant`, from its credentials),
    // or, when it names none, any origin the server config, a tenant or a CORS key lists.
    bool AllowsOutsideTenant(const Request& request, std::string_view tenant) const;

  private:
    std::vector<std::string> origins_;
    OriginCheck preflight_check_;
    TenantOriginCheck tenant_check_;
};

}  // namespace tb::http
