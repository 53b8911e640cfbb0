#pragma once
// Request budgets in fixed one-hour windows (API.md §1.3, §13 "Rate-limit windows"): one
// budget per signed-in user, per API key, per anonymous client IP and per tenant, named by a
// key such as "u:<user id>", "k:<key id>", "ip:<address>" or "t:<tenant id>".
//
// Take is O(1) and touches only memory: a sharded map of this window's counts. Sync (every
// second, off the request path) adds each key's new requests to the shared row of
// `rate_limits` with one UPSERT … RETURNING and learns the total of every node from it, so
// nodes on one PostgreSQL share their budgets. A node learns the other nodes' spending at each
// sync that carries its own (the first one after it first sees a budget, at the latest a
// second later); between syncs it may admit what the others spent meanwhile, about a second
// of their traffic for that budget. On SQLite the same rows let a budget survive a restart
// (counted from the first sync after it).
//
// Thread safety: Take may run on every I/O thread at once (a mutex per shard); Sync runs on
// one coroutine at a time.

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/task.h"
#include "storage/database.h"

namespace tb::limits {

// Whose budget: the row's bucket is the kind's prefix and the id ("u:<id>", "k:<id>",
// "ip:<address>", "t:<tenant id>").
enum class Budget { kUser, kKey, kIp, kTenant };

struct RateDecision {
    bool allowed = true;
    int64_t limit = 0;
    int64_t remaining = 0;
    int64_t reset = 0;        // Unix seconds at which the window ends
    int64_t retry_after = 0;  // seconds until then (at least 1), when refused
};

class RateLimiter {
  public:
    static constexpr int64_t kWindowSeconds = 3600;

    explicit RateLimiter(const Clock& clock) : clock_(clock) {}

    // Counts one request against a budget unless that would pass `limit` (the request is then
    // refused and not counted). Allocates only for a budget first seen in this window.
    RateDecision Take(Budget kind, std::string_view id, int64_t limit);
    // Gives back one request that Take counted in the window ending at `reset` (its
    // decision's): a request a second budget then refused is counted in neither. Nothing when
    // that window has ended.
    void Refund(Budget kind, std::string_view id, int64_t reset);

    // Writes this node's new counts to `rate_limits` and reads back the shared totals; drops
    // the windows that ended. On failure the counts stay pending for the next call.
    Task<Status> Sync(storage::Database& db);

    // Counts refused since start (for /metrics).
    int64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        int64_t window = 0;   // window start, Unix seconds
        int64_t shared = 0;   // the shared total as last read, this node's synced counts included
        int64_t pending = 0;  // this node's counts not yet synced
    };
    // Budget names are looked up as views (built in a stack buffer) with their hash computed
    // once, for the shard and the bucket alike: no allocation and one hash per request.
    struct Name {
        std::string_view text;
        size_t hash;
    };
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
        size_t operator()(const Name& n) const noexcept { return n.hash; }
    };
    struct NameEq {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
        bool operator()(const Name& a, std::string_view b) const noexcept { return a.text == b; }
        bool operator()(std::string_view a, const Name& b) const noexcept { return a == b.text; }
    };
    struct Shard {
        std::mutex mu;
        std::unordered_map<std::string, Entry, NameHash, NameEq> entries;  // guarded by mu
    };
    Shard& ShardOf(size_t hash) { return shards_[hash % shards_.size()]; }
    // The budget's bucket name ("<prefix><id>") in `buf`, with its hash.
    static Name NameOf(Budget kind, std::string_view id, std::span<char> buf);
    int64_t NowSeconds() const;

    const Clock& clock_;
    std::array<Shard, 16> shards_;
    std::atomic<int64_t> refused_{0};
    int64_t last_cleanup_ = 0;  // only touched by Sync
};

}  // namespace tb::limits
