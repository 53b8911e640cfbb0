#pragma once
// Reading the metered usage of one tenant (API.md §8 GET /v1/usage and /v1/billing): series
// by hour or day, totals, and the totals by API key and by user.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "limits/usage_meter.h"
#include "storage/list_sql.h"

namespace tb::limits {

struct UsagePoint {
    int64_t ts = 0;  // bucket start, Unix seconds
    UsageCounts counts;
};

struct UsageReport {
    std::vector<UsagePoint> series;  // every bucket of the range, zeros included
    UsageCounts totals;
    std::vector<std::pair<std::string, UsageCounts>> by_key, by_user;  // most requests first
};

// Usage in [from, to) (Unix seconds; `from` a multiple of `step`, which is 3600 or 86400).
Task<Result<UsageReport>> ReadUsage(storage::Session& s, const storage::TenantScope& tenant,
                                    int64_t from, int64_t to, int64_t step);
// The tenant's stored documents and the bytes it stores, documents and files together (the
// counters every write keeps: the collection_counters rows, tenants.file_bytes):
// what max_documents and max_storage_bytes bound.
struct Stored {
    int64_t documents = 0, bytes = 0;
};
Task<Result<Stored>> ReadStored(storage::Session& s, const storage::TenantScope& tenant);
// Only the totals, for billing.
Task<Result<UsageCounts>> ReadUsageTotals(storage::Session& s, const storage::TenantScope& tenant,
                                          int64_t from, int64_t to);

}  // namespace tb::limits
