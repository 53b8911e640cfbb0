#pragma once
// Request budgets in fixed one-hour windows (API.md §1.3, §13 "Rate-limit windows"): one
// budget per signed-in user, per API key, per anonymous client IP and per tenant, named by a
// key such as "u:<user id>", "k:<key id>", "ip:<address>" or "t:<tenant id>".
//
// One node (SQLite): Take is O(1) and touches only memory, a sharded map of this window's
// counts. Sync (every second, off the request path) adds each key's new requests to its row
// of `rate_limits`, so that a budget survives a restart (counted from the first sync after
// it).
//
// Several nodes on one PostgreSQL (ShareThrough): a node admits only requests it has
// reserved in the shared row first. Take spends this node's reservation (the lease) in
// memory; when it is spent, Take answers `reserve` and Reserve asks the database for the next
// lease with one conditional UPSERT … RETURNING, which never lets the row pass the limit.
// So the nodes together admit at most the limit, and at least the limit less the leases idle
// nodes hold unspent. A lease is a fiftieth of the limit while much of the budget is left and
// shrinks with what is left (to one request, checked per request, near the end), so that a
// burst across nodes ends within 2% of the limit per node (tests/cluster/budgets.test.mjs).
// One reservation per budget is in flight on a node at a time; requests that need the same
// budget meanwhile wait for it.
//
// Thread safety: Take, Refund and Reserve may run on every I/O thread at once (a mutex per
// shard); Sync runs on one coroutine at a time.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
    // Shared budgets only: this node's lease is spent and nothing is decided (or counted);
    // Reserve decides.
    bool reserve = false;
};

// The size of the next lease of a shared budget, given its limit and what the nodes have not
// reserved of it yet: a fiftieth of the limit, at most an eighth of what is left, 1 to 1,000.
int64_t LeaseSize(int64_t limit, int64_t unreserved);

class RateLimiter {
  public:
    static constexpr int64_t kWindowSeconds = 3600;

    explicit RateLimiter(const Clock& clock) : clock_(clock) {}

    // Shares the budgets with the other nodes on `db` (leases, above). Call before serving.
    void ShareThrough(storage::Database& db) { shared_db_ = &db; }

    // Counts one request against a budget unless that would pass `limit` (the request is then
    // refused and not counted). Allocates only for a budget first seen in this window.
    RateDecision Take(Budget kind, std::string_view id, int64_t limit);
    // Gives back one request that Take counted in the window ending at `reset` (its
    // decision's): a request a second budget then refused is counted in neither. Nothing when
    // that window has ended.
    void Refund(Budget kind, std::string_view id, int64_t reset);
    // Decides a request that Take answered with `reserve`: reserves the budget's next lease in
    // the database (or waits for the reservation another request of this node made) and
    // spends one request of it. Admits the request when the database cannot be reached: its
    // own statements will then fail, and a budget must not turn an outage into 429s.
    Task<RateDecision> Reserve(Budget kind, std::string id, int64_t limit);

    // Writes this node's new counts to `rate_limits` and reads back the shared totals; drops
    // the windows that ended. On failure the counts stay pending for the next call.
    Task<Status> Sync(storage::Database& db);

    // Counts refused since start (for /metrics).
    int64_t refused() const { return refused_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        int64_t window = 0;   // window start, Unix seconds
        int64_t shared = 0;   // the shared total as last read, this node's synced counts included
                              // (shared budgets: every node's reservations)
        int64_t pending = 0;  // this node's counts not yet synced (one node only)
        int64_t lease = 0;    // shared budgets: requests reserved by this node, not yet spent
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
    // One reservation in the database; the lease granted (0: the budget is spent), or an error.
    Task<Result<int64_t>> ReserveLease(const std::string& bucket, int64_t window, int64_t limit,
                                       int64_t unreserved);
    // Takes the lead of the budget's reservation, or waits until the one in flight ends (false).
    Task<bool> LeadOrWait(const std::string& bucket);
    void EndReservation(const std::string& bucket);

    const Clock& clock_;
    storage::Database* shared_db_ = nullptr;
    std::array<Shard, 16> shards_;
    // Budgets with a reservation in flight on this node, with the requests waiting for it.
    std::mutex reserving_mu_;
    std::unordered_map<std::string, std::vector<std::function<void(bool)>>>
        reserving_;  // guarded by reserving_mu_
    std::atomic<int64_t> refused_{0};
    int64_t last_cleanup_ = 0;  // only touched by Sync
};

}  // namespace tb::limits
