#include "limits/usage_store.h"

#include <map>

namespace tb::limits {

using storage::AsInt;
using storage::AsText;
using storage::Bind;

namespace {

constexpr std::string_view kSums =
    // PostgreSQL sums BIGINT as NUMERIC: cast back.
    "CAST(COALESCE(SUM(requests), 0) AS BIGINT), CAST(COALESCE(SUM(errors), 0) AS BIGINT), "
    "CAST(COALESCE(SUM(documents_written), 0) AS BIGINT), "
    "CAST(COALESCE(SUM(bytes_in), 0) AS BIGINT), CAST(COALESCE(SUM(bytes_out), 0) AS BIGINT)";

UsageCounts CountsAt(const std::vector<storage::Value>& r, size_t first) {
    return {AsInt(r[first]), AsInt(r[first + 1]), AsInt(r[first + 2]), AsInt(r[first + 3]),
            AsInt(r[first + 4])};
}

// Totals grouped by one column (key_id or user_id), rows without one left out.
Task<Result<std::vector<std::pair<std::string, UsageCounts>>>> ByColumn(
    storage::Session& s, const storage::TenantScope& tenant, std::string_view column, int64_t from,
    int64_t to) {
    std::string sql = "SELECT " + std::string(column) + ", " + std::string(kSums) +
                      " FROM usage_counters WHERE tenant_id = ? AND hour >= ? AND hour < ? AND " +
                      std::string(column) + " <> '' GROUP BY " + std::string(column) +
                      " ORDER BY 2 DESC, 1 LIMIT 100";
    TB_CO_ASSIGN_OR_RETURN(auto rows, co_await s.Query(sql, Bind(tenant.id(), from, to)));
    std::vector<std::pair<std::string, UsageCounts>> out;
    for (const auto& r : rows.rows) out.emplace_back(AsText(r[0]), CountsAt(r, 1));
    co_return out;
}

}  // namespace

Task<Result<UsageCounts>> ReadUsageTotals(storage::Session& s, const storage::TenantScope& tenant,
                                          int64_t from, int64_t to) {
    std::string sql = "SELECT " + std::string(kSums) +
                      " FROM usage_counters WHERE tenant_id = ? AND hour >= ? AND hour < ?";
    TB_CO_ASSIGN_OR_RETURN(auto rows, co_await s.Query(sql, Bind(tenant.id(), from, to)));
    if (rows.empty()) co_return UsageCounts{};
    co_return CountsAt(rows.rows[0], 0);
}

Task<Result<UsageReport>> ReadUsage(storage::Session& s, const storage::TenantScope& tenant,
                                    int64_t from, int64_t to, int64_t step) {
    UsageReport report;
    std::string sql = "SELECT (hour / ?) * ?, " + std::string(kSums) +
                      " FROM usage_counters WHERE tenant_id = ? AND hour >= ? AND hour < ? "
                      "GROUP BY 1 ORDER BY 1";
    TB_CO_ASSIGN_OR_RETURN(auto rows,
                           co_await s.Query(sql, Bind(step, step, tenant.id(), from, to)));
    std::map<int64_t, UsageCounts> buckets;
    for (const auto& r : rows.rows) buckets[AsInt(r[0])] = CountsAt(r, 1);
    for (int64_t ts = from; ts < to; ts += step) {
        UsagePoint p{ts, {}};
        if (auto it = buckets.find(ts); it != buckets.end()) p.counts = it->second;
        report.totals += p.counts;
        report.series.push_back(p);
    }
    TB_CO_ASSIGN_OR_RETURN(report.by_key, co_await ByColumn(s, tenant, "key_id", from, to));
    TB_CO_ASSIGN_OR_RETURN(report.by_user, co_await ByColumn(s, tenant, "user_id", from, to));
    co_return report;
}

Task<Result<Stored>> ReadStored(storage::Session& s, const storage::TenantScope& tenant) {
    auto rows = co_await s.Query(
        "SELECT CAST(COALESCE(SUM(document_count), 0) AS BIGINT), "
        "CAST(COALESCE(SUM(storage_bytes), 0) + (SELECT file_bytes FROM tenants WHERE id = ?) "
        "AS BIGINT) FROM collection_counters WHERE tenant_id = ?",
        storage::Bind(tenant.id(), tenant.id()));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return Stored{};
    const auto& r = rows->rows[0];
    co_return Stored{storage::AsInt(r[0]), storage::AsInt(r[1])};
}

}  // namespace tb::limits
