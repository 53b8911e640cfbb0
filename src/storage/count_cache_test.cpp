#include "storage/count_cache.h"

#include <gtest/gtest.h>

namespace tb::storage {
namespace {

TEST(CountCache, KeysTellParameterListsApart) {
    const std::string sql = "SELECT COUNT(*) FROM t WHERE a = ? AND b = ?";
    EXPECT_NE(CountCache::KeyOf(sql, Bind("a", "bc")), CountCache::KeyOf(sql, Bind("ab", "c")));
    EXPECT_NE(CountCache::KeyOf(sql, Bind("1", "x")),
              CountCache::KeyOf(sql, Bind(int64_t{1}, "x")));
    EXPECT_NE(CountCache::KeyOf(sql, Bind(0.1, "x")), CountCache::KeyOf(sql, Bind(0.1000001, "x")));
    EXPECT_NE(CountCache::KeyOf(sql, Bind(kNull, "x")), CountCache::KeyOf(sql, Bind("", "x")));
    EXPECT_NE(CountCache::KeyOf(sql, Bind("t1", "x")),
              CountCache::KeyOf(sql + " ", Bind("t1", "x")));
    EXPECT_EQ(CountCache::KeyOf(sql, Bind("t1", "x")), CountCache::KeyOf(sql, Bind("t1", "x")));
}

TEST(CountCache, AnEntryServesOnlyItsVersion) {
    CountCache cache;
    std::string key = CountCache::KeyOf("SELECT COUNT(*) FROM t WHERE a = ?", Bind("t1"));
    EXPECT_FALSE(cache.Find(key, 3));
    cache.Store(key, 3, 42);
    EXPECT_EQ(cache.Find(key, 3), 42);
    EXPECT_FALSE(cache.Find(key, 4));
    cache.Store(key, 4, 43);
    EXPECT_FALSE(cache.Find(key, 3));
    EXPECT_EQ(cache.Find(key, 4), 43);
}

TEST(CountCache, StaysBounded) {
    CountCache cache;
    for (size_t i = 0; i < CountCache::kMaxEntries + 10; ++i) {
        cache.Store(CountCache::KeyOf("q", Bind(static_cast<int64_t>(i))), 1, 1);
    }
    EXPECT_LE(cache.size(), CountCache::kMaxEntries);
    EXPECT_GE(cache.size(), 1u);
}

}  // namespace
}  // namespace tb::storage
