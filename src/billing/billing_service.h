#pragma once
// Usage and billing of a tenant (API.md §8): the metered series and totals (GET /v1/usage, and
// GET /v1/tenants/{id}/usage for platform admins) and the current period's statement (GET
// /v1/billing: plan, limits, usage against them, estimated charges).
//
// Who may: usage, any member (a key with read); billing, admin+ (a key with admin); another
// tenant's usage, platform admins only.
//
// Thread safety: stateless beyond its references; safe from every I/O thread.

#include <optional>
#include <string>

#include "common/clock.h"
#include "limits/billing.h"
#include "limits/plans.h"
#include "limits/usage_store.h"
#include "storage/database.h"
#include "tenancy/caller.h"

namespace tb::billing {

// [from, to) in Unix seconds, bucketed by `step` (3600 or 86400); from and to on bucket starts.
struct UsageRange {
    int64_t from = 0, to = 0, step = 86400;
    std::string granularity = "day";
};

// The range from query parameters (empty: the default). Defaults: the current calendar month
// by day. `from`/`to` are RFC 3339 times or dates (YYYY-MM-DD); `to` is exclusive and rounded
// up to a whole bucket. At most 366 days by day or 31 days by hour.
Result<UsageRange> ParseUsageRange(std::string_view from, std::string_view to,
                                   std::string_view granularity, int64_t now_seconds);

// The query parameters of a usage request as sent; `invalid` is a malformed or unknown
// parameter, answered only after the access checks (API.md §13 "Precedence of errors").
struct UsageParams {
    std::string from, to, granularity;
    std::optional<Error> invalid;
};

struct UsageAnswer {
    UsageRange range;
    limits::UsageReport report;
};

struct TenantUsageNow {
    int64_t requests = 0, errors = 0, documents_written = 0;              // this period, metered
    int64_t documents = 0, storage_bytes = 0, members = 0, api_keys = 0;  // now
};

struct Statement {
    const limits::Plan* plan = nullptr;
    int64_t period_start = 0, period_end = 0;  // Unix seconds
    TenantUsageNow usage;
    limits::Charges charges;
};

class BillingService {
  public:
    BillingService(storage::Database& db, const Clock& clock, const limits::PlanCatalog& plans)
        : db_(db), clock_(clock), plans_(plans) {}

    Task<Result<UsageAnswer>> Usage(const tenancy::Caller& who, const UsageParams& params);
    Task<Result<UsageAnswer>> TenantUsage(const tenancy::Caller& who, const std::string& tenant_id,
                                          const UsageParams& params);
    Task<Result<Statement>> Billing(const tenancy::Caller& who);

  private:
    Task<Result<UsageAnswer>> Read(const storage::TenantScope& tenant, const UsageParams& params);

    storage::Database& db_;
    const Clock& clock_;
    const limits::PlanCatalog& plans_;
};

}  // namespace tb::billing
