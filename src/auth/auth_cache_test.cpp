#include "auth/auth_cache.h"

#include <gtest/gtest.h>

namespace tb::auth {
namespace {

TEST(AuthCache, TokensLiveUntilTheirExpiry) {
    AuthCache cache(CacheLifetime(1000));
    cache.PutToken("t", {"u1", "s1", std::nullopt, 5000});
    EXPECT_TRUE(cache.FindToken("t", 4999).has_value());
    EXPECT_FALSE(cache.FindToken("t", 5000).has_value());
    EXPECT_FALSE(cache.FindToken("other", 0).has_value());
}

TEST(AuthCache, SessionsExpireAfterTtlAndOnInvalidation) {
    AuthCache cache(CacheLifetime(1000));
    auto u = std::make_shared<User>();
    u->id = "u1";
    cache.PutSession("s1", {u, true, 100});
    cache.PutSession("s2", {u, true, 100});
    auto v = std::make_shared<User>();
    v->id = "u2";
    cache.PutSession("s3", {v, true, 100});
    EXPECT_TRUE(cache.FindSession("s1", 1099).has_value());
    EXPECT_FALSE(cache.FindSession("s1", 1100).has_value());  // past the TTL
    cache.InvalidateUser("u1");
    EXPECT_FALSE(cache.FindSession("s2", 200).has_value());
    EXPECT_TRUE(cache.FindSession("s3", 200).has_value());
}

TEST(AuthCache, TheSharedLifetimeMovesEveryCopyAtOnce) {
    CacheLifetime lifetime(1000);
    AuthCache cache(lifetime);  // a copy of the handle
    auto u = std::make_shared<User>();
    u->id = "u1";
    cache.PutSession("s1", {u, true, 100});
    EXPECT_FALSE(cache.FindSession("s1", 5000).has_value());  // 1 s: expired
    cache.PutSession("s1", {u, true, 100});
    lifetime.Set(CacheLifetime::kLongMs);  // the feed is live
    EXPECT_TRUE(cache.FindSession("s1", 5000).has_value());
    EXPECT_FALSE(cache.FindSession("s1", 100 + CacheLifetime::kLongMs).has_value());
    lifetime.Set(CacheLifetime::kShortMs);  // the feed went silent
    EXPECT_FALSE(cache.FindSession("s1", 5000).has_value());
}

TEST(AuthCache, StaysBounded) {
    AuthCache cache(CacheLifetime(1000), 10);
    for (int i = 0; i < 25; ++i)
        cache.PutToken("t" + std::to_string(i), {"u", "s", std::nullopt, 9999});
    EXPECT_TRUE(cache.FindToken("t24", 0).has_value());
    int kept = 0;
    for (int i = 0; i < 25; ++i) kept += cache.FindToken("t" + std::to_string(i), 0).has_value();
    EXPECT_LE(kept, 10);
}

}  // namespace
}  // namespace tb::auth
