#pragma once
// Metering (API.md §8, §13 "Usage counting"): every request that resolved to a tenant adds to
// that tenant's counters for its hour, user, API key, route group and status class. Record
// only touches memory (a sharded map); Flush writes the sums to `usage_counters` in one
// transaction of UPSERTs that add to what is there, so every node adds its own share and a
// failed flush keeps its counts for the next one.
//
// Thread safety: Record may run on every I/O thread at once (a mutex per shard); Flush runs on
// one coroutine at a time.

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/task.h"
#include "storage/database.h"

namespace tb::limits {

struct UsageCounts {
    int64_t requests = 0, errors = 0, documents_written = 0, bytes_in = 0, bytes_out = 0;
    UsageCounts& operator+=(const UsageCounts& o);
};

// Views: Record copies what it keeps (only for a counter row it has not seen this hour).
struct UsageEvent {
    std::string_view tenant_id, user_id, key_id;  // user/key empty when there is none
    std::string_view route_group;                 // "documents", "auth", …
    int status = 200;
    int64_t documents_written = 0, bytes_in = 0, bytes_out = 0;
};

class UsageMeter {
  public:
    explicit UsageMeter(const Clock& clock) : clock_(clock) {}

    // Told, after each flush that stored them, each flushed row's tenant and request count
    // (for /metrics: a per-tenant counter kept off the request path). Set before serving.
    using FlushedFn = std::function<void(std::string_view tenant_id, int64_t requests)>;
    void OnFlushed(FlushedFn fn) { on_flushed_ = std::move(fn); }

    void Record(const UsageEvent& event);
    Task<Status> Flush(storage::Database& db);

  private:
    struct Row {
        std::string tenant_id, user_id, key_id, route_group;
        int64_t hour = 0;
        int status_class = 0;
        UsageCounts counts;
    };
    struct Shard {
        std::mutex mu;
        // guarded by mu; by the hash of a row's key fields (rows that collide share a bucket)
        std::unordered_map<uint64_t, std::vector<Row>> rows;
    };
    // Adds `counts` to the row with these key fields; `make` builds a new one when there is none.
    template <class Make>
    void Add(const UsageEvent& key, int64_t hour, int status_class, const UsageCounts& counts,
             Make make);

    const Clock& clock_;
    std::array<Shard, 16> shards_;
    FlushedFn on_flushed_;
};

}  // namespace tb::limits
