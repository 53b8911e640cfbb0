#include "audit/denial_log.h"

#include <gtest/gtest.h>

namespace tb::audit {
namespace {

FakeClock ClockAt(int64_t unix_seconds) {
    return FakeClock(Timestamp(std::chrono::milliseconds(unix_seconds * 1000)));
}
// 2026-01-01T10:20:00Z
constexpr int64_t kMinuteStart = int64_t{1'767'261'600} + 1200;

Event Refusal(std::string target) {
    Event e;
    e.tenant_id = "t";
    e.action = "access.denied";
    e.target = std::move(target);
    return e;
}

class DenialLogTest : public ::testing::Test {
  protected:
    FakeClock clock = ClockAt(kMinuteStart);
    IdGenerator ids{clock};
    AuditLog audit{ids, clock};
};

TEST_F(DenialLogTest, EachActorHasItsAllowancePerMinuteAndTheNextEventCountsTheRest) {
    DenialLog log(audit, clock, {.per_actor_per_minute = 3});
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(log.Note(Refusal("a"), "u:1"));
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(log.Note(Refusal("a"), "u:1"));
    EXPECT_TRUE(log.Note(Refusal("b"), "u:2"));  // another actor is not held back
    EXPECT_EQ(log.total(), 9);
    auto first = log.TakePending();
    ASSERT_EQ(first.size(), 4u);
    for (const Event& e : first) EXPECT_FALSE(e.details.contains("suppressed"));

    clock.Advance(std::chrono::seconds(60));
    EXPECT_TRUE(log.Note(Refusal("a"), "u:1"));
    EXPECT_TRUE(log.Note(Refusal("a"), "u:1"));
    auto next = log.TakePending();
    ASSERT_EQ(next.size(), 2u);
    EXPECT_EQ(next[0].details.at("suppressed").as_int64(), 5);
    EXPECT_FALSE(next[1].details.contains("suppressed"));
    EXPECT_TRUE(log.TakePending().empty());
}

TEST_F(DenialLogTest, TheQueueAndTheActorTableAreBounded) {
    DenialLog log(audit, clock, {.per_actor_per_minute = 100, .max_pending = 2, .max_actors = 3});
    EXPECT_TRUE(log.Note(Refusal("a"), "u:1"));
    EXPECT_TRUE(log.Note(Refusal("a"), "u:2"));
    EXPECT_FALSE(log.Note(Refusal("a"), "u:3"));  // queue full: counted only
    EXPECT_FALSE(log.Note(Refusal("a"), "u:4"));  // a fourth actor in this minute
    EXPECT_EQ(log.total(), 4);
    EXPECT_EQ(log.TakePending().size(), 2u);
    EXPECT_TRUE(log.Note(Refusal("a"), "u:3"));
    EXPECT_EQ(log.TakePending()[0].details.at("suppressed").as_int64(), 1);
}

}  // namespace
}  // namespace tb::audit
