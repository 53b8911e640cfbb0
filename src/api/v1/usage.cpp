// Usage, plans and billing (API.md §8): /v1/usage, /v1/tenants/{id}/usage, /v1/plans and
// /v1/billing. Amounts are in the plan's currency, as numbers with two decimals.
#include <cmath>

#include "api/authenticate.h"
#include "api/params.h"
#include "api/render.h"
#include "api/v1/handlers.h"
#include "billing/billing_service.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

json::value Quota(int64_t limit) {
    return limit == limits::kUnlimited ? json::value(nullptr) : json::value(limit);
}

double Money(int64_t cents) { return static_cast<double>(cents) / 100.0; }
double MicrosMoney(int64_t micros) { return static_cast<double>(micros) / 1e6; }

json::object CountsJson(const limits::UsageCounts& c) {
    return {{"requests", c.requests},
            {"errors", c.errors},
            {"documents_written", c.documents_written},
            {"bytes_in", c.bytes_in},
            {"bytes_out", c.bytes_out}};
}

std::string Rfc3339(int64_t unix_seconds) {
    return FormatRfc3339(FromUnixMillis(unix_seconds * 1000));
}

json::object LimitsJson(const Services& s, const limits::Plan& p) {
    return {{"user_per_hour", s.plans.UserPerHour(p)},
            {"key_per_hour", s.plans.KeyPerHour(p)},
            {"anonymous_per_hour", s.plans.AnonymousPerHour(p)},
            {"tenant_per_hour", s.plans.TenantPerHour(p)},
            {"max_documents", Quota(p.max_documents)},
            {"max_storage_bytes", Quota(p.max_storage_bytes)},
            {"max_members", Quota(p.max_members)},
            {"max_api_keys", Quota(p.max_api_keys)},
            {"max_file_bytes", Quota(p.max_file_bytes)},
            {"max_realtime_connections", Quota(p.max_realtime_connections)}};
}

json::object PlanJson(const Services& s, const limits::Plan& p) {
    return {{"name", p.name},
            {"default", p.name == s.plans.Default().name},
            {"limits", LimitsJson(s, p)},
            {"price",
             {{"currency", p.currency},
              {"monthly", MicrosMoney(p.price_monthly_micros)},
              {"included_requests", Quota(p.included_requests)},
              {"overage_per_1000_requests", MicrosMoney(p.overage_per_1000_requests_micros)},
              {"included_documents_written", Quota(p.included_documents_written)},
              {"overage_per_1000_documents_written",
               MicrosMoney(p.overage_per_1000_documents_written_micros)}}}};
}

// usage / limit in percent with two decimals; null when there is no limit.
json::value Percent(int64_t used, int64_t limit) {
    if (limit == limits::kUnlimited) return nullptr;
    if (limit == 0) return used > 0 ? 100.0 : 0.0;
    return std::round(static_cast<double>(used) * 10000.0 / static_cast<double>(limit)) / 100.0;
}

json::object ReportJson(const billing::UsageRange& range, const limits::UsageReport& r) {
    json::array series;
    for (const auto& p : r.series) {
        json::object point = CountsJson(p.counts);
        point.emplace("ts", Rfc3339(p.ts));
        series.push_back(std::move(point));
    }
    json::array by_key, by_user;
    for (const auto& [id, counts] : r.by_key) {
        json::object o = CountsJson(counts);
        o.emplace("key_id", id);
        by_key.push_back(std::move(o));
    }
    for (const auto& [id, counts] : r.by_user) {
        json::object o = CountsJson(counts);
        o.emplace("user_id", id);
        by_user.push_back(std::move(o));
    }
    return {{"period",
             {{"from", Rfc3339(range.from)},
              {"to", Rfc3339(range.to)},
              {"granularity", range.granularity}}},
            {"series", std::move(series)},
            {"totals", CountsJson(r.totals)},
            {"by_key", std::move(by_key)},
            {"by_user", std::move(by_user)}};
}

// from, to and granularity as sent; any other parameter, or one repeated, is kept as the
// error the service answers after its access checks.
billing::UsageParams ParamsOf(const Request& req) {
    billing::UsageParams p;
    auto params = QueryParams(req, {"from", "to", "granularity"});
    if (!params.ok()) {
        p.invalid = std::move(params).error();
        return p;
    }
    p.from = (*params)["from"];
    p.to = (*params)["to"];
    p.granularity = (*params)["granularity"];
    return p;
}

}  // namespace

http::Handler GetUsage(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        const billing::UsageParams params = ParamsOf(req);
        auto usage = co_await s.billing.Usage(*who, params);
        if (!usage.ok()) co_return Fail(usage.error(), ctx);
        co_return Ok(ReportJson(usage->range, usage->report));
    };
}

http::Handler GetTenantUsage(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx, /*require_tenant=*/false);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        const billing::UsageParams params = ParamsOf(req);
        const std::string id(ctx.Param("id"));
        auto usage = co_await s.billing.TenantUsage(*who, id, params);
        if (!usage.ok()) co_return Fail(usage.error(), ctx);
        co_return Ok(ReportJson(usage->range, usage->report));
    };
}

http::Handler ListPlans(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        json::array plans;
        for (const limits::Plan& p : s.plans.all()) plans.push_back(PlanJson(s, p));
        co_return Ok(std::move(plans));
    };
}

http::Handler GetBilling(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto st = co_await s.billing.Billing(*who);
        if (!st.ok()) co_return Fail(st.error(), ctx);
        const limits::Plan& p = *st->plan;
        const auto& u = st->usage;
        // Streams are counted by the realtime hubs, not stored.
        const int64_t realtime = static_cast<int64_t>(s.realtime.TenantStreams(who->scope().id()));
        json::object limits_json = LimitsJson(s, p);
        limits_json["included_requests"] = Quota(p.included_requests);
        limits_json["included_documents_written"] = Quota(p.included_documents_written);
        json::object data{
            {"plan", p.name},
            {"period_start", Rfc3339(st->period_start)},
            {"period_end", Rfc3339(st->period_end)},
            {"limits", std::move(limits_json)},
            {"usage",
             {{"requests", u.requests},
              {"errors", u.errors},
              {"documents_written", u.documents_written},
              {"documents", u.documents},
              {"storage_bytes", u.storage_bytes},
              {"members", u.members},
              {"api_keys", u.api_keys},
              {"realtime_connections", realtime}}},
            {"usage_percent",
             {{"requests", Percent(u.requests, p.included_requests)},
              {"documents_written", Percent(u.documents_written, p.included_documents_written)},
              {"documents", Percent(u.documents, p.max_documents)},
              {"storage_bytes", Percent(u.storage_bytes, p.max_storage_bytes)},
              {"members", Percent(u.members, p.max_members)},
              {"api_keys", Percent(u.api_keys, p.max_api_keys)},
              {"realtime_connections", Percent(realtime, p.max_realtime_connections)}}},
            {"estimated_charges",
             {{"base", Money(st->charges.base_cents)},
              {"overage", Money(st->charges.overage_cents)},
              {"total", Money(st->charges.total_cents)},
              {"currency", st->charges.currency}}}};
        co_return Ok(std::move(data));
    };
}

}  // namespace tb::api::v1
