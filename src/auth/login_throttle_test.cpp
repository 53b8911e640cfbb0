#include "auth/login_throttle.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tb::auth {
namespace {

using namespace std::chrono_literals;

TEST(LoginThrottle, BlocksAtTheLimitAndSaysForHowLong) {
    FakeClock clock(Timestamp(1'000'000ms));
    LoginThrottle t(clock, 3, 60s);
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(t.BlockedFor("k"));
        t.RecordFailure("k");
        clock.Advance(1s);
    }
    ASSERT_TRUE(t.BlockedFor("k"));
    EXPECT_EQ(*t.BlockedFor("k"), 58);  // the first event, 3 s ago, leaves the window in 57 s
    EXPECT_FALSE(t.BlockedFor("other"));
    clock.Advance(58s);
    EXPECT_FALSE(t.BlockedFor("k"));  // the oldest event has left the window
}

TEST(LoginThrottle, ClearForgetsAKey) {
    FakeClock clock(Timestamp(0ms));
    LoginThrottle t(clock, 1, 60s);
    t.RecordFailure("k");
    EXPECT_TRUE(t.BlockedFor("k"));
    t.Clear("k");
    EXPECT_FALSE(t.BlockedFor("k"));
}

TEST(LoginThrottle, TakeSpendsOnlyWhenThereIsBudget) {
    FakeClock clock(Timestamp(0ms));
    LoginThrottle t(clock, 2, 60s);
    EXPECT_FALSE(t.Take("k"));
    EXPECT_FALSE(t.Take("k"));
    auto wait = t.Take("k");
    ASSERT_TRUE(wait);
    EXPECT_EQ(*wait, 61);
    clock.Advance(60s);
    EXPECT_FALSE(t.Take("k"));  // refused attempts did not extend the window
}

TEST(LoginThrottle, ConcurrentTakesNeverExceedTheLimit) {
    FakeClock clock(Timestamp(0ms));
    for (int round = 0; round < 20; ++round) {
        LoginThrottle t(clock, 5, 3600s);
        std::atomic<int> granted{0};
        std::vector<std::thread> threads;
        threads.reserve(8);
        for (int i = 0; i < 8; ++i) {
            threads.emplace_back([&] {
                for (int j = 0; j < 50; ++j)
                    if (!t.Take("k")) ++granted;
            });
        }
        for (auto& th : threads) th.join();
        EXPECT_EQ(granted.load(), 5);
    }
}

}  // namespace
}  // namespace tb::auth
