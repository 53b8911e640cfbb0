#include "realtime/cluster_relay.h"

#include <gtest/gtest.h>

namespace tb::realtime {
namespace {

using Kind = collections::DocumentChange::Kind;

TEST(ParseRemoteChanges, ReadsTheNodeAndEachLine) {
    std::string node;
    std::vector<RemoteChange> changes;
    ASSERT_TRUE(
        ParseRemoteChanges("n1\nc\tt1\tc1\td1\t1\tu1\t\nu\tt1\tc1\td2\t7\t\to1\n"
                           "d\tt2\tc2\td3\t3\t\t\n",
                           node, changes));
    EXPECT_EQ(node, "n1");
    ASSERT_EQ(changes.size(), 3u);
    EXPECT_EQ(changes[0].kind, Kind::kCreate);
    EXPECT_EQ(changes[0].tenant_id, "t1");
    EXPECT_EQ(changes[0].collection_id, "c1");
    EXPECT_EQ(changes[0].id, "d1");
    EXPECT_EQ(changes[0].version, 1);
    EXPECT_EQ(changes[0].created_by, "u1");
    EXPECT_EQ(changes[0].org, "");
    EXPECT_EQ(changes[1].kind, Kind::kUpdate);
    EXPECT_EQ(changes[1].version, 7);
    EXPECT_EQ(changes[1].created_by, "");
    EXPECT_EQ(changes[1].org, "o1");
    EXPECT_EQ(changes[2].kind, Kind::kDelete);
    EXPECT_EQ(changes[2].tenant_id, "t2");
}

TEST(ParseRemoteChanges, SkipsMalformedLinesAndKeepsTheRest) {
    std::string node;
    std::vector<RemoteChange> changes;
    ASSERT_TRUE(
        ParseRemoteChanges("n\n"
                           "x\tt\tc\td\t1\t\t\n"         // unknown kind
                           "c\tt\tc\td\tv1\t\t\n"        // version not a number
                           "c\tt\tc\td\t1\t\n"           // a field short
                           "c\t\tc\td\t1\t\t\n"          // no tenant
                           "cc\tt\tc\td\t1\t\t\n"        // kind of two letters
                           "c\tt\tc\td\t1\t\t\textra\n"  // a field too many
                           "c\tt\tc\tok\t2\t\t\n",
                           node, changes));
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].id, "ok");
    EXPECT_FALSE(ParseRemoteChanges("no newline at all", node, changes));
}

}  // namespace
}  // namespace tb::realtime
