#include "api/denials.h"

#include "api/authenticate.h"
#include "common/strings.h"

namespace tb::api {

namespace {

// The tenant a refused request was aimed at: the one its path names, else the one it entered.
// X-Tenant-ID counts only for a 404 hiding a tenant, which is the refusal to enter the tenant
// it names; for a 403 it would let anyone write into the log of any tenant they can name.
std::string TargetTenant(const http::Request& request, const http::RouteContext& ctx,
                         const http::Response& response) {
    // /v1/tenants/{id}/… and Nile's …/databases/{database}/tenants/{id}/… (API.md §11).
    bool names_tenant = ctx.route.starts_with("/v1/tenants/{id}") ||
                        (ctx.route.starts_with("/workspaces/") &&
                         ctx.route.find("/{database}/tenants/{id}") != std::string_view::npos);
    if (names_tenant) {
        if (std::string_view id = ctx.Param("id"); IsUuid(id)) return std::string(id);
    }
    if (!ctx.account.tenant_id().empty()) return std::string(ctx.account.tenant_id());
    if (response.status != 404) return {};
    std::string_view header = Trim(request.headers.Get("x-tenant-id"));
    if (IsUuid(header)) return std::string(header);
    return {};
}

}  // namespace

void NoteDenial(Services& s, const http::Request& request, const http::RouteContext& ctx,
                const http::Response& response) {
    if (!response.access_denied) return;
    audit::Event e;
    if (std::string tenant = TargetTenant(request, ctx, response); !tenant.empty())
        e.tenant_id = tenant;
    e.actor = std::string(ctx.account.user_id());
    e.action = "access.denied";
    std::string_view target = request.target;
    std::string_view path = target.substr(0, target.find('?'));
    e.target = std::string(path);
    e.ip = request.remote_ip;
    e.user_agent = UserAgent(request);
    e.details["route"] = std::string(request.method_text) + " " + std::string(ctx.route);
    e.details["status"] = response.status;
    std::string_view key = ctx.account.key_id();
    if (!key.empty()) e.details["via_key"] = key;
    // The allowance is the key's when one was used (a leaked key is its own actor), else the
    // user's, else the client IP's.
    std::string actor = !key.empty()       ? "k:" + std::string(key)
                        : !e.actor.empty() ? "u:" + e.actor
                                           : "ip:" + request.remote_ip;
    s.denials.Note(std::move(e), actor);
}

}  // namespace tb::api
