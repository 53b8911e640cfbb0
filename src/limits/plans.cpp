#include "limits/plans.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <utility>

namespace tb::limits {

namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

Error BadValue(const std::string& setting, const std::string& expected, const std::string& got) {
    return Error::BadRequest("invalid value for setting " + setting + ": expected " + expected +
                             ", got '" + got + "'");
}

Result<int64_t> ParseCount(const std::string& v, const std::string& setting, int64_t min) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || p != v.data() + v.size() || n < min) {
        return BadValue(
            setting,
            min < 0 ? "an integer, -1 for unlimited" : "an integer from " + std::to_string(min), v);
    }
    return n;
}

// A price in currency units ("25", "0.5") as millionths.
Result<int64_t> ParseMicros(const std::string& v, const std::string& setting) {
    double d = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
    if (ec != std::errc() || p != v.data() + v.size() || !(d >= 0) || d > 1e9) {
        return BadValue(setting, "a price from 0 to 1e9", v);
    }
    return static_cast<int64_t>(std::llround(d * 1e6));
}

using Setter = std::function<Status(Plan&, const std::string&, const std::string&)>;

Setter Count(int64_t Plan::*field, int64_t min) {
    return [=](Plan& p, const std::string& v, const std::string& setting) -> Status {
        TB_ASSIGN_OR_RETURN(p.*field, ParseCount(v, setting, min));
        return {};
    };
}

Setter Price(int64_t Plan::*field) {
    return [=](Plan& p, const std::string& v, const std::string& setting) -> Status {
        TB_ASSIGN_OR_RETURN(p.*field, ParseMicros(v, setting));
        return {};
    };
}

const std::vector<std::pair<std::string, Setter>>& Fields() {
    static const std::vector<std::pair<std::string, Setter>> kFields = {
        {"user_per_hour", Count(&Plan::user_per_hour, 0)},
        {"key_per_hour", Count(&Plan::key_per_hour, 0)},
        {"anonymous_per_hour", Count(&Plan::anonymous_per_hour, 0)},
        {"tenant_per_hour", Count(&Plan::tenant_per_hour, 0)},
        {"max_documents", Count(&Plan::max_documents, kUnlimited)},
        {"max_storage_bytes", Count(&Plan::max_storage_bytes, kUnlimited)},
        {"max_members", Count(&Plan::max_members, kUnlimited)},
        {"max_api_keys", Count(&Plan::max_api_keys, kUnlimited)},
        {"max_file_bytes", Count(&Plan::max_file_bytes, kUnlimited)},
        {"max_realtime_connections", Count(&Plan::max_realtime_connections, kUnlimited)},
        {"currency",
         [](Plan& p, const std::string& v, const std::string& setting) -> Status {
             bool ok = v.size() == 3;
             for (char c : v) ok = ok && c >= 'A' && c <= 'Z';
             if (!ok) return BadValue(setting, "a three-letter currency code such as USD", v);
             p.currency = v;
             return {};
         }},
        {"price_monthly", Price(&Plan::price_monthly_micros)},
        {"included_requests", Count(&Plan::included_requests, kUnlimited)},
        {"overage_per_1000_requests", Price(&Plan::overage_per_1000_requests_micros)},
        {"included_documents_written", Count(&Plan::included_documents_written, kUnlimited)},
        {"overage_per_1000_documents_written",
         Price(&Plan::overage_per_1000_documents_written_micros)},
    };
    return kFields;
}

}  // namespace

std::vector<Plan> DefaultPlans() {
    Plan free;
    free.name = "free";
    free.max_documents = 100'000;
    free.max_storage_bytes = kGiB;
    free.max_members = 100;
    free.max_api_keys = 100;
    free.max_file_bytes = 10 * kMiB;
    free.max_realtime_connections = 100;

    Plan pro;
    pro.name = "pro";
    pro.user_per_hour = 10'000;
    pro.key_per_hour = 50'000;
    pro.anonymous_per_hour = 1'000;
    pro.tenant_per_hour = 500'000;
    pro.max_documents = 10'000'000;
    pro.max_storage_bytes = 100 * kGiB;
    pro.max_members = 1'000;
    pro.max_api_keys = 1'000;
    pro.max_file_bytes = 100 * kMiB;
    pro.max_realtime_connections = 10'000;
    pro.price_monthly_micros = 25'000'000;
    pro.included_requests = 1'000'000;
    pro.overage_per_1000_requests_micros = 500'000;
    pro.included_documents_written = 1'000'000;
    pro.overage_per_1000_documents_written_micros = 100'000;

    Plan enterprise;
    enterprise.name = "enterprise";
    enterprise.user_per_hour = 100'000;
    enterprise.key_per_hour = 500'000;
    enterprise.anonymous_per_hour = 10'000;
    enterprise.tenant_per_hour = 5'000'000;
    enterprise.max_file_bytes = kGiB;
    enterprise.price_monthly_micros = 499'000'000;
    enterprise.included_requests = 50'000'000;
    enterprise.overage_per_1000_requests_micros = 200'000;
    enterprise.included_documents_written = 50'000'000;
    enterprise.overage_per_1000_documents_written_micros = 50'000;
    return {free, pro, enterprise};
}

Status SetPlanField(Plan& plan, std::string_view field, const std::string& value,
                    const std::string& setting) {
    for (const auto& [name, set] : Fields()) {
        if (name == field) return set(plan, value, setting);
    }
    return Error::BadRequest("unknown setting " + setting);
}

const std::vector<std::string>& PlanFieldNames() {
    static const std::vector<std::string> kNames = [] {
        std::vector<std::string> names;
        for (const auto& f : Fields()) names.push_back(f.first);
        return names;
    }();
    return kNames;
}

PlanCatalog::PlanCatalog(std::vector<Plan> plans, std::string default_plan, RateDefaults defaults)
    : plans_(std::move(plans)), default_plan_(std::move(default_plan)), defaults_(defaults) {}

const Plan* PlanCatalog::Find(std::string_view name) const {
    for (const Plan& p : plans_) {
        if (p.name == name) return &p;
    }
    return nullptr;
}

const Plan& PlanCatalog::Get(std::string_view name) const {
    if (const Plan* p = Find(name)) return *p;
    if (const Plan* p = Find(default_plan_)) return *p;
    return plans_.front();
}

int64_t PlanCatalog::UserPerHour(const Plan& p) const {
    return p.user_per_hour > 0 ? p.user_per_hour : defaults_.user_per_hour;
}
int64_t PlanCatalog::KeyPerHour(const Plan& p) const {
    return p.key_per_hour > 0 ? p.key_per_hour : defaults_.key_per_hour;
}
int64_t PlanCatalog::AnonymousPerHour(const Plan& p) const {
    return p.anonymous_per_hour > 0 ? p.anonymous_per_hour : defaults_.anonymous_per_hour;
}
int64_t PlanCatalog::TenantPerHour(const Plan& p) const {
    return p.tenant_per_hour > 0 ? p.tenant_per_hour : defaults_.tenant_per_hour;
}

Status CheckQuota(int64_t limit, int64_t current, int64_t adding, std::string_view limit_name,
                  std::string_view what) {
    if (limit == kUnlimited || current + adding <= limit) return {};
    return Error::QuotaExceeded("The plan allows at most " + std::to_string(limit) + " " +
                                    std::string(what) + "; upgrade the plan or remove some",
                                std::string(limit_name), limit);
}

}  // namespace tb::limits
