#include "tenancy/names.h"

#include <gtest/gtest.h>

namespace tb::tenancy {
namespace {

TEST(Names, Slugs) {
    EXPECT_TRUE(IsSlug("acme"));
    EXPECT_TRUE(IsSlug("a-1"));
    EXPECT_FALSE(IsSlug(""));
    EXPECT_FALSE(IsSlug("-a"));
    EXPECT_FALSE(IsSlug("a-"));
    EXPECT_FALSE(IsSlug("Acme"));
    EXPECT_FALSE(IsSlug("a_b"));
    EXPECT_FALSE(IsSlug(std::string(64, 'a')));
    EXPECT_EQ(SlugFrom("Ann's Workspace"), "ann-s-workspace");
    EXPECT_EQ(SlugFrom("  --Ünïcode!! "), "n-code");
    EXPECT_EQ(SlugFrom("\xE2\x9C\x93\xE2\x9C\x93"), "tenant");
    EXPECT_EQ(SlugFrom("!!", "org"), "org");
    EXPECT_LE(SlugFrom(std::string(200, 'x')).size(), 48u);
    std::string s = SlugWithSuffix(SlugFrom(std::string(200, 'x')));
    EXPECT_TRUE(IsSlug(s)) << s;
    EXPECT_EQ(s.size(), 55u);
    EXPECT_NE(SlugWithSuffix("acme"), SlugWithSuffix("acme"));
}

TEST(Names, DisplayNames) {
    EXPECT_TRUE(CheckName("A").ok());
    EXPECT_TRUE(CheckName(std::string(100, 'a')).ok());
    EXPECT_FALSE(CheckName("").ok());
    EXPECT_FALSE(CheckName(std::string(101, 'a')).ok());
    std::string hundred_accents;
    for (int i = 0; i < 100; ++i) hundred_accents += "\xC3\xA9";
    EXPECT_TRUE(CheckName(hundred_accents).ok());  // code points, not bytes
    EXPECT_FALSE(CheckSlug(std::optional<std::string>("Bad Slug")).ok());
    EXPECT_TRUE(CheckSlug(std::nullopt).ok());
}

}  // namespace
}  // namespace tb::tenancy
