#include "http/target.h"

#include <gtest/gtest.h>

#include <boost/url/parse.hpp>
#include <random>

namespace tb::http {
namespace {

// What Boost.URL's full origin-form parser says of a path: nullopt when it refuses it.
std::optional<std::pair<std::string, std::vector<std::string>>> Reference(std::string_view path) {
    auto url = boost::urls::parse_origin_form(boost::core::string_view(path.data(), path.size()));
    if (!url) return std::nullopt;
    std::vector<std::string> segments;
    for (auto s : url->encoded_segments()) segments.push_back(s.decode());
    // Boost hides a leading "." segment (its own prefix for paths such as "/.//a"); a request
    // keeps it, and routes nowhere with it.
    if (path.starts_with("/./")) segments.insert(segments.begin(), ".");
    return std::make_pair(std::string(url->path()), segments);
}

void ExpectSameAsBoost(std::string_view path) {
    std::string decoded;
    std::vector<std::string> segments;
    Status st = SplitPath(path, decoded, segments);
    auto want = Reference(path);
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
