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
    DenialLog queue(audit, clock, {.per_actor_per_minute = 100, .max_pending = 2});
    EXPECT_TRUE(queue.Note(Refusal("a"), "u:1"));
    EXPECT_TRUE(queue.Note(Refusal("a"), "u:2"));
    EXPECT_FALSE(queue.Note(Refusal("a"), "u:3"));  // queue full: counted only
    EXPECT_EQ(queue.total(), 3);
    EXPECT_EQ(queue.TakePending().size(), 2u);
    EXPECT_TRUE(queue.Note(Refusal("a"), "u:3"));

    DenialLog actors(audit, clock, {.per_actor_per_minute = 1, .max_actors = 3});
    for (const char* actor : {"u:1", "u:2", "u:3"}) EXPECT_TRUE(actors.Note(Refusal("a"), actor));
    EXPECT_FALSE(actors.Note(Refusal("a"), "u:4"));  // a fourth actor in this minute
    EXPECT_FALSE(actors.Note(Refusal("a"), "u:1"));  // u:1 spent its allowance
    // Two minutes on, the actors of the past are forgotten: the table has room again.
    clock.Advance(std::chrono::seconds(60));
    EXPECT_TRUE(actors.Note(Refusal("a"), "u:2"));
    clock.Advance(std::chrono::seconds(120));
    for (const char* actor : {"u:4", "u:5", "u:6"}) EXPECT_TRUE(actors.Note(Refusal("a"), actor));
}

}  // namespace
}  // namespace tb::audit
