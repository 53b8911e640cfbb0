#include "http/target.h"

#include <gtest/gtest.h>

#include <random>

#include "common/strings.h"
#include "http/target_reference.h"

namespace tb::http {
namespace {

void ExpectSameAsBoost(std::string_view path) {
    std::string decoded;
    std::vector<std::string> segments;
    Status st = SplitPath(path, decoded, segments);
    auto want = ReferencePath(path);
    ASSERT_EQ(st.ok(), want.has_value()) << path;
    if (!want) {
        EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
        return;
    }
    EXPECT_EQ(decoded, want->first) << path;
    EXPECT_EQ(segments, want->second) << path;
}

TEST(SplitPath, SplitsAndDecodesLikeBoostUrl) {
    for (std::string_view p : {"/",
                               "/v1/health",
                               "/v1/health/",
                               "//",
                               "//a",
                               "/a//b",
                               "/v1/collections/bench/documents/x",
                               "/a%20b/c",
                               "/a%2Fb",
                               "/%41%42",
                               "/caf%C3%A9",
                               "/a:b@c!$&'()*+,;=",
                               "/~user/-._",
                               "/a%zz",
                               "/a%2",
                               "/a%",
                               "/a b",
                               "/a\"b",
                               "/a<b>",
                               "/a{b}",
                               "/a|b",
                               "/a\\b",
                               "/a^b",
                               "/a`b",
                               "/a#b",
                               "/a[b]",
                               "relative",
                               "",
                               "*",
                               "/\x01",
                               "/\x7f",
                               "/\xc3\xa9"}) {
        ExpectSameAsBoost(p);
    }
}

// Issue #20: an escape that decodes to invalid UTF-8 or NUL is a 400, never a segment
// (PostgreSQL cut "c%00zzz" to "c" and answered 500 on "%ff").
TEST(SplitPath, RefusesSegmentsThatAreNotUtf8Text) {
    std::string decoded;
    std::vector<std::string> segments;
    for (std::string_view p :
         {"/v1/collections/%ff", "/v1/collections/c%00zzz", "/a/%C3", "/%ED%A0%80", "/%C0%AF"}) {
        Status st = SplitPath(p, decoded, segments);
        ASSERT_FALSE(st.ok()) << p;
        EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
    }
    ASSERT_TRUE(SplitPath("/caf%C3%A9", decoded, segments).ok());
    EXPECT_EQ(segments.back(), "caf\xc3\xa9");
}

TEST(CheckQueryText, RefusesNamesAndValuesThatAreNotUtf8Text) {
    for (std::string_view q : {"a=1", "", "n[gt]=5&tag[in]=a,b", "q=%7B%22a%22%3A1%7D",
                               "name=caf%C3%A9", "bad%zz=1", "%=1", "a=%"})
        EXPECT_TRUE(CheckQueryText(q).ok()) << q;
    for (std::string_view q : {"%ff=1", "a=%ff", "a=1&b=%00", "s=%C3", "a=\xff", "x=%ED%A0%80"}) {
        Status st = CheckQueryText(q);
        ASSERT_FALSE(st.ok()) << q;
        EXPECT_EQ(st.error().code, ErrorCode::kBadRequest);
    }
}

// Random paths over an alphabet of every kind of character the rule sorts (but '?': the
// caller cuts the query off first): the answers must be Boost's, refusals included.
TEST(SplitPath, RandomPathsMatchBoostUrl) {
    std::mt19937 rng(20261203);
    const std::string alphabet =
        "/%aZ09-._~!$&'()*+,;=:@ \"<>[]{}|\\^`#\x01\x7f\xc3\xa9"
        "Ff2";
    for (int i = 0; i < 20000; ++i) {
        std::string path = "/";
        size_t n = rng() % 12;
        for (size_t j = 0; j < n; ++j) path += alphabet[rng() % alphabet.size()];
        ExpectSameAsBoost(path);
    }
}

}  // namespace
}  // namespace tb::http
