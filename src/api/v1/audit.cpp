// /v1/audit-logs (API.md §9): admin+ of a tenant read its events; platform admins also the
// instance-level ones (and every event when no tenant is selected).
#include "api/authenticate.h"
#include "api/list.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {
json::object EntryJson(const audit::AuditLog::Entry& e) {
    return {{"id", e.id},
            {"tenant_id", e.tenant_id ? json::value(*e.tenant_id) : json::value(nullptr)},
            {"ts", FormatRfc3339(FromUnixMillis(e.ts))},
            {"actor", e.actor.empty() ? json::value(nullptr) : json::value(e.actor)},
            {"action", e.action},
            {"target", e.target},
            {"ip", e.ip},
            {"user_agent", e.user_agent},
            {"details", e.details}};
}
}  // namespace

http::Handler ListAuditLogs(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        const auto& resource = audit::AuditLog::Resource();
        Result<audit::AuditLog::Page> page = Error::Internal("unset");
        if (!who->tenant) {
            if (!who->platform_admin())
                co_return Fail(Error::NotFound("No tenant selected: send X-Tenant-ID"), ctx);
            auto q = ParseListQuery(s, req, resource);
            if (!q.ok()) co_return Fail(q.error(), ctx);
            page = co_await audit::AuditLog::ListAll(s.db, *q);
            if (!page.ok()) co_return Fail(page.error(), ctx);
            co_return RenderList(s, resource, *q, *page, EntryJson);
        }
        Status allowed = who->CanManage();
        if (!allowed.ok()) co_return Fail(allowed.error(), ctx);
        auto q = ParseListQuery(s, req, resource);
        if (!q.ok()) co_return Fail(q.error(), ctx);
        page = co_await audit::AuditLog::ListTenant(s.db, who->scope(), who->platform_admin(), *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, resource, *q, *page, EntryJson);
    };
}

}  // namespace tb::api::v1
