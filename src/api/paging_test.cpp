#include "api/paging.h"

#include <gtest/gtest.h>

namespace tb::api {
namespace {

TEST(Paging, DefaultsAndValues) {
    auto p = ParsePaging("").value();
    EXPECT_EQ(p.page, 1);
    EXPECT_EQ(p.per_page, 20);
    p = ParsePaging("page=3&per_page=100").value();
    EXPECT_EQ(p.page, 3);
    EXPECT_EQ(p.per_page, 100);
}

TEST(Paging, RefusesBadValuesNamingTheParameter) {
    for (const char* q : {"per_page=101", "per_page=0", "page=0", "page=abc", "page=-1", "page=1e3",
                          "per_page=", "x=1", "page=1%00"}) {
        auto r = ParsePaging(q);
        ASSERT_FALSE(r.ok()) << q;
        EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
        EXPECT_TRUE(r.error().details.contains("field")) << q;
    }
    EXPECT_EQ(ParsePaging("per_page=101").error().details.at("field"), "per_page");
}

}  // namespace
}  // namespace tb::api
