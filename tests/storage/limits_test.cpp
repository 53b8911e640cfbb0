// The rate limiter's shared budgets and the usage meter's counters on both backends: two
// limiters on one database act as two nodes sharing a PostgreSQL.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "backend.h"
#include "limits/rate_limiter.h"
#include "limits/usage_meter.h"
#include "limits/usage_store.h"
#include "storage/migration.h"

namespace tb::limits {
namespace {

using storage::testing::RunTask;

class LimitsStore : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        db_ = storage::testing::OpenBackend(GetParam(), ioc_, dir_);
        if (!db_) GTEST_SKIP() << "TB_TEST_PG_URL not set";
        auto migrations = GetParam() == "sqlite" ? storage::SqliteMigrations()
                                                 : storage::PostgresMigrations();
        ASSERT_TRUE(RunTask(ioc_, storage::Migrate(*db_, migrations, clock_)).ok());
    }
    void TearDown() override {
        if (db_) db_->Close();
        if (!dir_.empty()) std::filesystem::remove_all(dir_);
    }

    boost::asio::io_context ioc_;
    // 10:20 into an hour, so that the window ends at 11:00.
    FakeClock clock_{Timestamp(std::chrono::milliseconds(int64_t{1'767'261'600'000} + 1'200'000))};
    std::filesystem::path dir_;
    std::unique_ptr<storage::Database> db_;
};

TEST_P(LimitsStore, NodesShareABudgetThroughSync) {
    RateLimiter a(clock_), b(clock_);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(a.Take(Budget::kUser, "1", 10).allowed);
    ASSERT_TRUE(RunTask(ioc_, a.Sync(*db_)).ok());
    ASSERT_TRUE(b.Take(Budget::kUser, "1", 10).allowed);
    ASSERT_TRUE(RunTask(ioc_, b.Sync(*db_)).ok());  // learns a's 6: 7 spent in all
    RateDecision d = b.Take(Budget::kUser, "1", 10);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 2);
    EXPECT_TRUE(b.Take(Budget::kUser, "1", 10).allowed);
    EXPECT_TRUE(b.Take(Budget::kUser, "1", 10).allowed);
    d = b.Take(Budget::kUser, "1", 10);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after, 40 * 60);
    // Another budget is untouched.
    EXPECT_EQ(b.Take(Budget::kKey, "1", 10).remaining, 9);
    // A restarted node starts from the shared row once it has synced.
    ASSERT_TRUE(RunTask(ioc_, b.Sync(*db_)).ok());
    RateLimiter c(clock_);
    ASSERT_TRUE(c.Take(Budget::kUser, "1", 100).allowed);
    ASSERT_TRUE(RunTask(ioc_, c.Sync(*db_)).ok());
    EXPECT_EQ(c.Take(Budget::kUser, "1", 100).remaining, 100 - 12);
}

TEST_P(LimitsStore, MeterFlushesAddUpAcrossNodes) {
    UsageMeter a(clock_), b(clock_);
    a.Record({"t1", "u1", "", "documents", 201, 1, 100, 300});
    a.Record({"t1", "u1", "", "documents", 404, 0, 10, 50});
    b.Record({"t1", "u1", "k1", "documents", 200, 0, 0, 1000});
    b.Record({"t2", "u2", "", "auth", 200, 0, 5, 5});  // another tenant
    ASSERT_TRUE(RunTask(ioc_, a.Flush(*db_)).ok());
    ASSERT_TRUE(RunTask(ioc_, b.Flush(*db_)).ok());
    a.Record({"t1", "u1", "", "documents", 500, 0, 0, 0});
    ASSERT_TRUE(RunTask(ioc_, a.Flush(*db_)).ok());

    int64_t now = ToUnixMillis(clock_.Now()) / 1000;
    int64_t day = now - now % 86400;
    auto report = RunTask(
        ioc_, ReadUsage(*db_, storage::TenantScope::Of("t1"), day, day + 86400, 3600));
    ASSERT_TRUE(report.ok()) << report.error().internal;
    EXPECT_EQ(report->series.size(), 24u);
    EXPECT_EQ(report->totals.requests, 4);
    EXPECT_EQ(report->totals.errors, 2);
    EXPECT_EQ(report->totals.documents_written, 1);
    EXPECT_EQ(report->totals.bytes_in, 110);
    EXPECT_EQ(report->totals.bytes_out, 1350);
    EXPECT_EQ(report->series[10].counts.requests, 4);
    ASSERT_EQ(report->by_key.size(), 1u);
    EXPECT_EQ(report->by_key[0].first, "k1");
    ASSERT_EQ(report->by_user.size(), 1u);
    EXPECT_EQ(report->by_user[0].second.requests, 4);
    auto days = RunTask(ioc_, ReadUsage(*db_, storage::TenantScope::Of("t1"), day - 86400,
                                        day + 86400, 86400));
    ASSERT_TRUE(days.ok());
    ASSERT_EQ(days->series.size(), 2u);
    EXPECT_EQ(days->series[0].counts.requests, 0);
    EXPECT_EQ(days->series[1].counts.requests, 4);
}

// The per-tenant request metric is fed from flushes that stored their rows: a failed flush
// reports nothing, and its rows are reported once, by the flush that stores them.
TEST_P(LimitsStore, MeterReportsFlushedRequestsOnce) {
    UsageMeter meter(clock_);
    std::map<std::string, int64_t> seen;
    meter.OnFlushed([&](std::string_view tenant, int64_t n) { seen[std::string(tenant)] += n; });
    meter.Record({"t1", "u1", "", "documents", 200, 0, 0, 0});
    meter.Record({"t1", "u1", "", "documents", 200, 0, 0, 0});
    meter.Record({"t2", "", "k2", "auth", 401, 0, 0, 0});
    auto rename = [&](std::string_view from, std::string_view to) {
        const storage::TransactionFn fn = [&](storage::Session& tx) -> Task<Status> {
            std::string sql = "ALTER TABLE " + std::string(from) + " RENAME TO " + std::string(to);
            auto done = co_await tx.Execute(sql);
            if (!done.ok()) co_return std::move(done).error();
            co_return Status{};
        };
        ASSERT_TRUE(RunTask(ioc_, db_->Transaction(fn)).ok());
    };
    rename("usage_counters", "usage_counters_away");
    EXPECT_FALSE(RunTask(ioc_, meter.Flush(*db_)).ok());
    EXPECT_TRUE(seen.empty());
    rename("usage_counters_away", "usage_counters");
    ASSERT_TRUE(RunTask(ioc_, meter.Flush(*db_)).ok());
    EXPECT_EQ(seen, (std::map<std::string, int64_t>{{"t1", 2}, {"t2", 1}}));
    ASSERT_TRUE(RunTask(ioc_, meter.Flush(*db_)).ok());  // nothing new
    EXPECT_EQ(seen["t1"], 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, LimitsStore, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace tb::limits
