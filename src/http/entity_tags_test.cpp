#include "http/entity_tags.h"

#include <gtest/gtest.h>

namespace tb::http {
namespace {

TEST(EntityTags, ParsesListsOfStrongAndWeakTags) {
    auto l = ParseEntityTags(R"( "3",W/"4" ,, "a,b")");
    EXPECT_FALSE(l.malformed);
    EXPECT_FALSE(l.any);
    EXPECT_EQ(l.members, 3u);
    ASSERT_EQ(l.tags.size(), 3u);
    EXPECT_EQ(l.tags[1], (EntityTag{"4", true}));
    EXPECT_EQ(l.tags[2].opaque, "a,b");  // a comma inside quotes is part of the tag
    EXPECT_EQ(FormatEntityTags(l), R"("3", W/"4", "a,b")");
}

TEST(EntityTags, StarAndMalformedMembers) {
    auto any = ParseEntityTags("*");
    EXPECT_TRUE(any.any);
    EXPECT_TRUE(ListsTagWeakly(any, "\"anything\""));
    auto bad = ParseEntityTags(R"("1", 2, "3")");
    EXPECT_TRUE(bad.malformed);
    EXPECT_EQ(bad.members, 2u);
    EXPECT_FALSE(ListsTagWeakly(bad, "\"1\""));
    EXPECT_TRUE(ParseEntityTags("\"open").malformed);
}

TEST(EntityTags, WeakComparisonIgnoresW) {
    auto l = ParseEntityTags(R"(W/"abc")");
    EXPECT_TRUE(ListsTagWeakly(l, "\"abc\""));
    EXPECT_TRUE(ListsTagWeakly(l, "W/\"abc\""));
    EXPECT_FALSE(ListsTagWeakly(l, "\"abd\""));
}

}  // namespace
}  // namespace tb::http
