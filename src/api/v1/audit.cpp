// /v1/audit-logs (API.md §9). Platform admins see every event; tenant admins will see their
// tenant's once tenancy lands.
#include "api/authenticate.h"
#include "api/paging.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

http::Handler ListAuditLogs(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        // API keys never reach platform routes (API.md §13), whatever their owner.
        if (!who->user.is_admin || who->api_key)
            co_return Fail(Error::Forbidden("Platform admins only"), ctx);
        auto paging = ParsePaging(req.query);
        if (!paging.ok()) co_return Fail(paging.error(), ctx);
        auto page = co_await audit::AuditLog::ListAll(s.db, paging->page, paging->per_page);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        json::array items;
        for (const auto& e : page->items) {
            items.push_back(json::object{
                {"id", e.id},
                {"tenant_id", e.tenant_id ? json::value(*e.tenant_id) : json::value(nullptr)},
                {"ts", FormatRfc3339(FromUnixMillis(e.ts))},
                {"actor", e.actor.empty() ? json::value(nullptr) : json::value(e.actor)},
                {"action", e.action},
                {"target", e.target},
                {"ip", e.ip},
                {"user_agent", e.user_agent},
                {"details", e.details}});
        }
        co_return OkPage(std::move(items), paging->page, paging->per_page, page->total);
    };
}

}  // namespace tb::api::v1
