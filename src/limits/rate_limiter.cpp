#include "limits/rate_limiter.h"

#include "common/await_callback.h"
#include "common/log.h"

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
    if (it == shard.entries.end() || it->second.window != window) return;
    // Shared: back into the lease. One node: a negative pending count (a sync came between)
    // is written as a negative delta.
    if (shared_db_) {
        ++it->second.lease;
    } else {
        --it->second.pending;
    }
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
        if (shared_db_) {
            // Every node's reservations, less what this node has reserved and not spent.
            used = e.shared - e.lease;
            if (e.lease > 0) {
                --e.lease;
                ++used;
            } else if (e.shared < limit) {
                d.reserve = true;  // decided by Reserve; nothing counted
                return d;
            } else {
                d.allowed = false;
            }
        } else {
            used = e.shared + e.pending;
            d.allowed = used < limit;
            if (d.allowed) {
                ++e.pending;
                ++used;
            }
        }
    }
    d.remaining = std::max<int64_t>(0, limit - used);
    if (!d.allowed) {
        d.retry_after = std::max<int64_t>(1, d.reset - now);
        refused_.fetch_add(1, std::memory_order_relaxed);
    }
    return d;
}

int64_t LeaseSize(int64_t limit, int64_t unreserved) {
    return std::clamp<int64_t>(std::min(limit / 50, unreserved / 8), 1, 1000);
}

Task<bool> RateLimiter::LeadOrWait(const std::string& bucket) {
    {
        std::lock_guard lock(reserving_mu_);
        if (reserving_.try_emplace(bucket).second) co_return true;
    }
    // Woken when the reservation in flight ends (at once if it ended since the check above).
    auto wait = [this, bucket](std::function<void(bool)> resume) {
        std::unique_lock lock(reserving_mu_);
        auto it = reserving_.find(bucket);
        if (it == reserving_.end()) {
            lock.unlock();
            resume(false);
            return;
        }
        it->second.push_back(std::move(resume));
    };
    co_return co_await AwaitCallback<bool>(std::move(wait));
}

void RateLimiter::EndReservation(const std::string& bucket) {
    std::vector<std::function<void(bool)>> waiting;
    {
        std::lock_guard lock(reserving_mu_);
        auto it = reserving_.find(bucket);
        if (it == reserving_.end()) return;
        waiting = std::move(it->second);
        reserving_.erase(it);
    }
    for (auto& resume : waiting) resume(false);
}

Task<Result<int64_t>> RateLimiter::ReserveLease(const std::string& bucket, int64_t window,
                                                int64_t limit, int64_t unreserved) {
    const int64_t ask = LeaseSize(limit, unreserved);
    int64_t total = -1;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        total = -1;
        // The row never passes the limit by more than the last lease asked for, and what a
        // lease grants is cut at the limit: the nodes never admit more than the limit.
        auto rows = co_await tx.Query(
            "INSERT INTO rate_limits (bucket, window_start, count) VALUES (?, ?, ?) "
            "ON CONFLICT (bucket, window_start) DO UPDATE SET count = rate_limits.count + "
            "excluded.count WHERE rate_limits.count < ? RETURNING count",
            Bind(bucket, window, ask, limit));
        if (!rows.ok()) co_return std::move(rows).error();
        if (!rows->empty()) total = storage::AsInt(rows->rows[0][0]);
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await shared_db_->Transaction(fn));
    if (total < 0) co_return int64_t{0};  // spent: the row is at the limit already
    // The lease granted, and what the row holds now (every node's reservations).
    const int64_t granted = std::min(ask, limit - (total - ask));
    Shard& shard = ShardOf(NameHash{}(bucket));
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(bucket);
    if (it != shard.entries.end() && it->second.window == window) {
        it->second.shared = std::max(it->second.shared, total);
        it->second.lease += granted;
    }
    co_return granted;
}

Task<RateDecision> RateLimiter::Reserve(Budget kind, std::string id, int64_t limit) {
    char buf[96];
    const std::string bucket(NameOf(kind, id, buf).text);
    for (;;) {
        RateDecision d = Take(kind, id, limit);
        if (!d.reserve) co_return d;
        if (!co_await LeadOrWait(bucket)) continue;  // another request reserved: try its lease
        int64_t window = d.reset - kWindowSeconds;
        int64_t unreserved = limit;
        {
            Shard& shard = ShardOf(NameHash{}(bucket));
            std::lock_guard lock(shard.mu);
            if (auto it = shard.entries.find(bucket);
                it != shard.entries.end() && it->second.window == window)
                unreserved = limit - it->second.shared;
        }
        auto granted = co_await ReserveLease(bucket, window, limit, unreserved);
        if (!granted.ok() || *granted == 0) {
            Shard& shard = ShardOf(NameHash{}(bucket));
            std::lock_guard lock(shard.mu);
            if (auto it = shard.entries.find(bucket);
                it != shard.entries.end() && it->second.window == window && granted.ok())
                it->second.shared = std::max(it->second.shared, limit);  // spent for everyone
        }
        EndReservation(bucket);
        if (!granted.ok()) {
            log::Warn("rate-limit reservation failed; request admitted",
                      {{"error", granted.error().internal}});
            d.reserve = false;
            d.remaining = 0;
            co_return d;
        }
    }
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
