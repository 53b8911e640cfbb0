#pragma once
// Plans (API.md §8): what a tenant may use and what it pays. They come from config: the
// built-in `free`, `pro` and `enterprise`, changed or extended by `[plans.<name>]` tables.
//
// A request limit of 0 means "the server default" (limits.user_per_hour, key_per_hour,
// anonymous_per_hour: API.md §1.3); a quota of -1 (kUnlimited) means no limit. Prices are
// held in millionths of the currency unit so that charges add up exactly.
//
// Thread safety: a PlanCatalog is built at start-up and read-only after.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tb::limits {

inline constexpr int64_t kUnlimited = -1;

struct Plan {
    std::string name;
    // Requests per fixed one-hour window (0: the server default).
    int64_t user_per_hour = 0, key_per_hour = 0, anonymous_per_hour = 0;
    // The whole tenant's signed-in requests (every user and key of it together), issue #29.
    int64_t tenant_per_hour = 0;
    // Quotas (kUnlimited: none).
    int64_t max_documents = kUnlimited, max_storage_bytes = kUnlimited, max_members = kUnlimited,
            max_api_keys = kUnlimited, max_file_bytes = kUnlimited;
    // Realtime streams subscribed in the tenant at once, on all nodes together (issue #25).
    int64_t max_realtime_connections = kUnlimited;
    // Price per calendar month, and overage past what the month includes.
    std::string currency = "USD";
    int64_t price_monthly_micros = 0;
    int64_t included_requests = kUnlimited;
    int64_t overage_per_1000_requests_micros = 0;
    int64_t included_documents_written = kUnlimited;
    int64_t overage_per_1000_documents_written_micros = 0;
};

// free, pro and enterprise, as documented in docs/api.md §8.
std::vector<Plan> DefaultPlans();

// Sets one field of a plan from its textual config value ("max_documents", "price_monthly",
// …); an unknown field or a bad value is an error naming `setting`.
Status SetPlanField(Plan& plan, std::string_view field, const std::string& value,
                    const std::string& setting);
// The config field names, for help text and for matching TB_PLANS_<NAME>_<FIELD>.
const std::vector<std::string>& PlanFieldNames();

struct RateDefaults {
    int64_t user_per_hour = 1000, key_per_hour = 5000, anonymous_per_hour = 100,
            tenant_per_hour = 50'000;
};

class PlanCatalog {
  public:
    // REQUIRES: `plans` holds `default_plan`.
    PlanCatalog(std::vector<Plan> plans, std::string default_plan, RateDefaults defaults);

    // nullptr when no plan has that name.
    const Plan* Find(std::string_view name) const;
    // The named plan, or the default one for an unknown or empty name (a plan removed from the
    // config leaves its tenants on the default).
    const Plan& Get(std::string_view name) const;
    const Plan& Default() const { return Get(default_plan_); }
    const std::vector<Plan>& all() const { return plans_; }

    // The effective per-hour limits of a plan (its own, else the server default).
    int64_t UserPerHour(const Plan& p) const;
    int64_t KeyPerHour(const Plan& p) const;
    int64_t AnonymousPerHour(const Plan& p) const;
    int64_t TenantPerHour(const Plan& p) const;
    int64_t AnonymousPerHour() const { return defaults_.anonymous_per_hour; }

  private:
    std::vector<Plan> plans_;
    std::string default_plan_;
    RateDefaults defaults_;
};

// A plan limit check: an error naming the limit when `current + adding` would pass it.
Status CheckQuota(int64_t limit, int64_t current, int64_t adding, std::string_view limit_name,
                  std::string_view what);

}  // namespace tb::limits
