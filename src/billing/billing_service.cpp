#include "billing/billing_service.h"

#include <charconv>

#include "limits/usage_store.h"

namespace tb::billing {

using storage::AsInt;
using storage::Bind;
using storage::TenantScope;

namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// An RFC 3339 time or a YYYY-MM-DD date, as Unix seconds.
std::optional<int64_t> ParseInstant(std::string_view text) {
    std::string full(text);
    if (text.size() == 10) full += "T00:00:00Z";
    auto t = ParseRfc3339(full);
    if (!t) return std::nullopt;
    return ToUnixMillis(*t) / 1000;
}

int64_t FloorTo(int64_t t, int64_t step) { return t - (((t % step) + step) % step); }

Task<Result<int64_t>> Count(storage::Session& s, std::string sql, const std::string& tenant_id) {
    TB_CO_ASSIGN_OR_RETURN(auto rows, co_await s.Query(sql, Bind(tenant_id)));
    co_return rows.empty() ? int64_t{0} : AsInt(rows.rows[0][0]);
}

}  // namespace

Result<UsageRange> ParseUsageRange(std::string_view from, std::string_view to,
                                   std::string_view granularity, int64_t now) {
    UsageRange r;
    if (!granularity.empty()) {
        if (granularity != "hour" && granularity != "day")
            return Error::BadRequest("granularity must be hour or day", "granularity");
        r.granularity = std::string(granularity);
    }
    r.step = r.granularity == "hour" ? kHour : kDay;
    int64_t start = limits::MonthOf(now).first, end = now;
    if (!from.empty()) {
        auto t = ParseInstant(from);
        if (!t) return Error::BadRequest("from must be an RFC 3339 time or a date", "from");
        start = *t;
    }
    if (!to.empty()) {
        auto t = ParseInstant(to);
        if (!t) return Error::BadRequest("to must be an RFC 3339 time or a date", "to");
        end = *t;
    } else if (end <= start) {
        end = start + 1;  // a `from` in the future: one empty bucket
    }
    if (end <= start) return Error::BadRequest("to must be after from", "to");
    r.from = FloorTo(start, r.step);
    r.to = FloorTo(end - 1, r.step) + r.step;
    int64_t max_buckets = r.step == kHour ? 31 * 24 : 366;
    if ((r.to - r.from) / r.step > max_buckets) {
        return Error::BadRequest(
            r.step == kHour ? "At most 31 days by hour" : "At most 366 days by day", "to");
    }
    return r;
}

Task<Result<UsageAnswer>> BillingService::Read(const TenantScope& tenant,
                                               const UsageParams& params) {
    if (params.invalid) co_return *params.invalid;
    UsageAnswer out;
    TB_CO_ASSIGN_OR_RETURN(out.range, ParseUsageRange(params.from, params.to, params.granularity,
                                                      ToUnixMillis(clock_.Now()) / 1000));
    TB_CO_ASSIGN_OR_RETURN(out.report, co_await limits::ReadUsage(db_, tenant, out.range.from,
                                                                  out.range.to, out.range.step));
    co_return out;
}

Task<Result<UsageAnswer>> BillingService::Usage(const tenancy::Caller& who,
                                                const UsageParams& params) {
    if (!who.tenant) co_return Error::NotFound("No tenant selected: send X-Tenant-ID");
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    co_return co_await Read(who.scope(), params);
}

Task<Result<UsageAnswer>> BillingService::TenantUsage(const tenancy::Caller& who,
                                                      const std::string& tenant_id,
                                                      const UsageParams& params) {
    if (!who.platform_admin()) co_return Error::Forbidden("Needs a platform admin");
    TB_CO_ASSIGN_OR_RETURN(
        auto found, co_await db_.Query("SELECT 1 FROM tenants WHERE id = ?", Bind(tenant_id)));
    if (found.empty()) co_return Error::NotFound("Tenant not found");
    co_return co_await Read(TenantScope::Of(tenant_id), params);
}

Task<Result<Statement>> BillingService::Billing(const tenancy::Caller& who) {
    if (!who.tenant) co_return Error::NotFound("No tenant selected: send X-Tenant-ID");
    TB_CO_RETURN_IF_ERROR(who.CanManage());
    Statement st;
    st.plan = &plans_.Get(who.plan);
    int64_t now = ToUnixMillis(clock_.Now()) / 1000;
    std::tie(st.period_start, st.period_end) = limits::MonthOf(now);
    const std::string& id = who.tenant->id();
    TB_CO_ASSIGN_OR_RETURN(auto metered, co_await limits::ReadUsageTotals(
                                             db_, who.scope(), st.period_start, st.period_end));
    st.usage.requests = metered.requests;
    st.usage.errors = metered.errors;
    st.usage.documents_written = metered.documents_written;
    TB_CO_ASSIGN_OR_RETURN(limits::Stored stored, co_await limits::ReadStored(db_, who.scope()));
    st.usage.documents = stored.documents;
    st.usage.storage_bytes = stored.bytes;
    TB_CO_ASSIGN_OR_RETURN(
        st.usage.members, co_await Count(db_, "SELECT member_count FROM tenants WHERE id = ?", id));
    TB_CO_ASSIGN_OR_RETURN(
        st.usage.api_keys,
        co_await Count(db_, "SELECT COUNT(*) FROM api_keys WHERE tenant_id = ? AND is_primary = 0",
                       id));
    st.charges = limits::EstimateCharges(*st.plan, st.usage.requests, st.usage.documents_written);
    co_return st;
}

}  // namespace tb::billing
