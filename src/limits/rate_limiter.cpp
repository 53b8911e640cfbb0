#include "limits/rate_limiter.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <vector>

namespace tb::limits {

using storage::Bind;
using storage::Session;
using storage::TransactionFn;

namespace {

std::string_view PrefixOf(Budget kind) {
    switch (kind) {
        case Budget::kUser:
            return "u:";
        case Budget::kKey:
            return "k:";
        case Budget::kTenant:
            return "t:";
        case Budget::kIp:
            break;
    }
    return "ip:";
}

}  // namespace

int64_t RateLimiter::NowSeconds() const { return ToUnixMillis(clock_.Now()) / 1000; }

RateLimiter::Name RateLimiter::NameOf(Budget kind, std::string_view id, std::span<char> buf) {
    // ids are UUIDs and addresses; a longer one is cut, which only merges budgets no real id
    // can reach.
    std::string_view prefix = PrefixOf(kind);
    size_t n = std::min(id.size(), buf.size() - prefix.size());
    std::memcpy(buf.data(), prefix.data(), prefix.size());
    std::memcpy(buf.data() + prefix.size(), id.data(), n);
    std::string_view text(buf.data(), prefix.size() + n);
    return {text, NameHash{}(text)};
}

void RateLimiter::Refund(Budget kind, std::string_view id, int64_t reset) {
    // The window of the Take, not of now: an hour may have turned in between.
    int64_t window = reset - kWindowSeconds;
    char buf[96];
    Name name = NameOf(kind, id, buf);
    Shard& shard = ShardOf(name.hash);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(name);
    // A negative pending count (a sync came between) is written as a negative delta.
    if (it != shard.entries.end() && it->second.window == window) --it->second.pending;
}

RateDecision RateLimiter::Take(Budget kind, std::string_view id, int64_t limit) {
    int64_t now = NowSeconds();
    int64_t window = now - now % kWindowSeconds;
    RateDecision d;
    d.limit = limit;
    d.reset = window + kWindowSeconds;
    char buf[96];
    Name name = NameOf(kind, id, buf);
    Shard& shard = ShardOf(name.hash);
    int64_t used = 0;
    {
        std::lock_guard lock(shard.mu);
        auto it = shard.entries.find(name);
        if (it == shard.entries.end()) {
            it = shard.entries.emplace(std::string(name.text), Entry{window, 0, 0}).first;
        }
        Entry& e = it->second;
        if (e.window != window) e = Entry{window, 0, 0};
        used = e.shared + e.pending;
        d.allowed = used < limit;
        if (d.allowed) {
            ++e.pending;
            ++used;
        }
    }
    d.remaining = std::max<int64_t>(0, limit - used);
    if (!d.allowed) {
        d.retry_after = std::max<int64_t>(1, d.reset - now);
        refused_.fetch_add(1, std::memory_order_relaxed);
    }
    return d;
}

Task<Status> RateLimiter::Sync(storage::Database& db) {
    struct Delta {
        std::string key;
        int64_t window = 0, count = 0, total = -1;
    };
    int64_t now = NowSeconds();
    int64_t window = now - now % kWindowSeconds;
    std::vector<Delta> deltas;
    for (Shard& shard : shards_) {
        std::lock_guard lock(shard.mu);
        std::erase_if(shard.entries, [&](const auto& kv) {
            return kv.second.window < window && kv.second.pending == 0;
        });
        for (auto& [key, e] : shard.entries) {
            if (e.pending == 0) continue;
            deltas.push_back({key, e.window, e.pending});
            e.shared += e.pending;
            e.pending = 0;
        }
    }
    bool cleanup = now - last_cleanup_ >= 60;
    if (deltas.empty() && !cleanup) co_return Status{};
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        for (Delta& d : deltas) {
            auto rows = co_await tx.Query(
                "INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, ?) "
                "ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_limits.count + "
                "excluded.count RETURNING count",
                Bind(d.key, d.window, d.count));
            if (!rows.ok()) co_return std::move(rows).error();
            if (!rows->empty()) d.total = storage::AsInt(rows->rows[0][0]);
        }
        if (cleanup) {
            auto r =
                co_await tx.Execute("DELETE FROM rate_limits WHERE window_start < ?", Bind(window));
            if (!r.ok()) co_return std::move(r).error();
        }
        co_return Status{};
    };
    Status s = co_await db.Transaction(fn);
    if (!s.ok()) {
        // Put the counts back, so that the next sync writes them.
        for (const Delta& d : deltas) {
            Shard& shard = ShardOf(NameHash{}(d.key));
            std::lock_guard lock(shard.mu);
            auto it = shard.entries.find(d.key);
            if (it == shard.entries.end() || it->second.window != d.window) continue;
            it->second.shared -= d.count;
            it->second.pending += d.count;
        }
        co_return s;
    }
    if (cleanup) last_cleanup_ = now;
    for (const Delta& d : deltas) {
        if (d.total < 0) continue;
        Shard& shard = ShardOf(NameHash{}(d.key));
        std::lock_guard lock(shard.mu);
        auto it = shard.entries.find(d.key);
        if (it != shard.entries.end() && it->second.window == d.window) {
            it->second.shared = std::max(it->second.shared, d.total);
        }
    }
    co_return Status{};
}

}  // namespace tb::limits
