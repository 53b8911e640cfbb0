#include <gtest/gtest.h>

#include "limits/billing.h"
#include "limits/plans.h"
#include "limits/rate_limiter.h"

namespace tb::limits {
namespace {

// 2026-01-01T10:20:00Z
constexpr int64_t kTenTwenty = int64_t{1'767'261'600} + 1200;

FakeClock ClockAt(int64_t unix_seconds) {
    return FakeClock(Timestamp(std::chrono::milliseconds(unix_seconds * 1000)));
}

TEST(RateLimiter, CountsDownToTheLimitThenRefusesUntilTheWindowEnds) {
    FakeClock clock = ClockAt(kTenTwenty);
    RateLimiter limiter(clock);
    for (int i = 1; i <= 3; ++i) {
        RateDecision d = limiter.Take(Budget::kIp, "1", 3);
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.remaining, 3 - i);
        EXPECT_EQ(d.limit, 3);
        EXPECT_EQ(d.reset, kTenTwenty - 1200 + 3600);
    }
    RateDecision refused = limiter.Take(Budget::kIp, "1", 3);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_EQ(refused.retry_after, 2400);
    EXPECT_EQ(limiter.refused(), 1);
    // A higher limit (a plan change) opens the same budget again.
    EXPECT_TRUE(limiter.Take(Budget::kIp, "1", 5).allowed);
    // The next window starts afresh.
    clock.Advance(std::chrono::seconds(2400));
    RateDecision next = limiter.Take(Budget::kIp, "1", 3);
    EXPECT_TRUE(next.allowed);
    EXPECT_EQ(next.remaining, 2);
    EXPECT_EQ(next.reset, kTenTwenty - 1200 + 7200);
}

TEST(RateLimiter, BudgetsAreIndependent) {
    FakeClock clock = ClockAt(kTenTwenty);
    RateLimiter limiter(clock);
    EXPECT_TRUE(limiter.Take(Budget::kUser, "a", 1).allowed);
    EXPECT_FALSE(limiter.Take(Budget::kUser, "a", 1).allowed);
    EXPECT_TRUE(limiter.Take(Budget::kUser, "b", 1).allowed);
    EXPECT_TRUE(limiter.Take(Budget::kKey, "a", 1).allowed);
    EXPECT_TRUE(limiter.Take(Budget::kTenant, "a", 1).allowed);
}

TEST(RateLimiter, RefundGivesBackOneRequestOfThisWindow) {
    FakeClock clock = ClockAt(kTenTwenty);
    RateLimiter limiter(clock);
    EXPECT_TRUE(limiter.Take(Budget::kTenant, "t", 2).allowed);
    RateDecision second = limiter.Take(Budget::kTenant, "t", 2);
    EXPECT_TRUE(second.allowed);
    limiter.Refund(Budget::kTenant, "t", second.reset);
    RateDecision d = limiter.Take(Budget::kTenant, "t", 2);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 0);
    // The hour turns between a Take and its Refund: the new window is not touched.
    clock.Advance(std::chrono::seconds(2400));
    limiter.Refund(Budget::kTenant, "t", d.reset);
    limiter.Refund(Budget::kTenant, "unknown", d.reset);
    EXPECT_EQ(limiter.Take(Budget::kTenant, "t", 2).remaining, 1);
}

TEST(Billing, HandComputedPro) {
    Plan pro = DefaultPlans()[1];
    ASSERT_EQ(pro.name, "pro");
    // 1,234,567 requests: 234,567 over at $0.50 per 1000 = $117.2835 -> $117.28;
    // 1,000,500 documents written: 500 over at $0.10 per 1000 = $0.05.
    Charges c = EstimateCharges(pro, 1'234'567, 1'000'500);
    EXPECT_EQ(c.base_cents, 2500);
    EXPECT_EQ(c.overage_cents, 11733);  // 117.2835 + 0.05 = 117.3335 -> 117.33
    EXPECT_EQ(c.total_cents, 14233);
    EXPECT_EQ(c.currency, "USD");
    Charges within = EstimateCharges(pro, 10, 10);
    EXPECT_EQ(within.overage_cents, 0);
    EXPECT_EQ(within.total_cents, 2500);
    Charges free = EstimateCharges(DefaultPlans()[0], 1'000'000'000, 1'000'000'000);
    EXPECT_EQ(free.total_cents, 0);
}

TEST(Billing, MonthOfIsTheCalendarMonthInUtc) {
    auto [start, end] = MonthOf(kTenTwenty);
    EXPECT_EQ(start, 1'767'225'600);               // 2026-01-01T00:00:00Z
    EXPECT_EQ(end, 1'769'904'000);                 // 2026-02-01T00:00:00Z
    auto [nstart, nend] = MonthOf(1'796'083'199);  // 2026-11-30T23:59:59Z
    EXPECT_EQ(nstart, 1'793'491'200);              // 2026-11-01
    EXPECT_EQ(nend, 1'796'083'200);                // 2026-12-01
    auto [dstart, dend] = MonthOf(1'796'083'200);  // 2026-12-01T00:00:00Z: December to 2027
    EXPECT_EQ(dstart, 1'796'083'200);
    EXPECT_EQ(dend, 1'798'761'600);
}

TEST(Plans, FieldsParseAndRejectBadValues) {
    Plan p;
    EXPECT_TRUE(SetPlanField(p, "max_documents", "-1", "plans.x.max_documents").ok());
    EXPECT_EQ(p.max_documents, kUnlimited);
    EXPECT_TRUE(SetPlanField(p, "price_monthly", "12.34", "plans.x.price_monthly").ok());
    EXPECT_EQ(p.price_monthly_micros, 12'340'000);
    EXPECT_FALSE(SetPlanField(p, "max_documents", "-2", "plans.x.max_documents").ok());
    EXPECT_FALSE(SetPlanField(p, "user_per_hour", "-1", "plans.x.user_per_hour").ok());
    EXPECT_FALSE(SetPlanField(p, "currency", "usd", "plans.x.currency").ok());
    Status unknown = SetPlanField(p, "colour", "red", "plans.x.colour");
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("plans.x.colour"), std::string::npos);
}

TEST(Plans, CatalogFallsBackToDefaultsAndTheDefaultPlan) {
    PlanCatalog catalog(DefaultPlans(), "free", RateDefaults{1000, 5000, 100});
    const Plan& free = catalog.Get("free");
    EXPECT_EQ(catalog.UserPerHour(free), 1000);
    EXPECT_EQ(catalog.KeyPerHour(free), 5000);
    EXPECT_EQ(catalog.AnonymousPerHour(free), 100);
    EXPECT_EQ(catalog.TenantPerHour(free), 50'000);
    EXPECT_EQ(catalog.TenantPerHour(catalog.Get("pro")), 500'000);
    EXPECT_EQ(catalog.UserPerHour(catalog.Get("pro")), 10'000);
    EXPECT_EQ(catalog.Get("gone").name, "free");
    EXPECT_EQ(catalog.Find("gone"), nullptr);
}

TEST(Quota, NamesTheLimit) {
    EXPECT_TRUE(CheckQuota(10, 9, 1, "max_documents", "documents").ok());
    EXPECT_TRUE(CheckQuota(kUnlimited, 1'000'000, 1, "max_documents", "documents").ok());
    Status over = CheckQuota(10, 9, 2, "max_documents", "documents");
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().code, ErrorCode::kQuotaExceeded);
    EXPECT_EQ(over.error().details.at("limit").as_string(), "max_documents");
    EXPECT_EQ(over.error().details.at("value").as_int64(), 10);
}

TEST(RateLimiter, LeasesShrinkWithWhatIsLeftDownToOneRequest) {
    EXPECT_EQ(LeaseSize(3000, 3000), 60);  // a fiftieth of the limit while much is left
    EXPECT_EQ(LeaseSize(3000, 240), 30);   // an eighth of what is left near the end
    EXPECT_EQ(LeaseSize(3000, 5), 1);      // per request at the very end
    EXPECT_EQ(LeaseSize(6, 6), 1);         // small budgets: per request
    EXPECT_EQ(LeaseSize(10'000'000, 10'000'000), 1000);  // at most 1,000
}

}  // namespace
}  // namespace tb::limits
