#include "limits/usage_meter.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace tb::limits {

using storage::Bind;
using storage::Session;
using storage::TransactionFn;

UsageCounts& UsageCounts::operator+=(const UsageCounts& o) {
    requests += o.requests;
    errors += o.errors;
    documents_written += o.documents_written;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    return *this;
}

namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

// Up to 8 bytes from the end of a field, and its length: ids are UUIDs whose last bytes are
// random, so this spreads them as well as hashing every byte, for a fraction of the work
// (rows that share a hash are told apart by comparing their fields).
uint64_t Tail(std::string_view s) {
    uint64_t v = 0;
    size_t n = std::min<size_t>(8, s.size());
    std::memcpy(&v, s.data() + s.size() - n, n);
    return v ^ (static_cast<uint64_t>(s.size()) << 56);
}

uint64_t KeyHash(const UsageEvent& k, int64_t hour, int status_class) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = Mix(h, Tail(k.tenant_id));
    h = Mix(h, Tail(k.user_id));
    h = Mix(h, Tail(k.key_id));
    h = Mix(h, Tail(k.route_group));
    h = Mix(h, static_cast<uint64_t>(hour));
    return Mix(h, static_cast<uint64_t>(status_class));
}

}  // namespace

template <class Make>
void UsageMeter::Add(const UsageEvent& k, int64_t hour, int status_class, const UsageCounts& counts,
                     Make make) {
    uint64_t h = KeyHash(k, hour, status_class);
    Shard& shard = shards_[h % shards_.size()];
    std::lock_guard lock(shard.mu);
    std::vector<Row>& bucket = shard.rows[h];
    for (Row& r : bucket) {
        if (r.hour == hour && r.status_class == status_class && r.tenant_id == k.tenant_id &&
            r.user_id == k.user_id && r.key_id == k.key_id && r.route_group == k.route_group) {
            r.counts += counts;
            return;
        }
    }
    bucket.push_back(make());
    bucket.back().counts = counts;
}

void UsageMeter::Record(const UsageEvent& e) {
    int64_t now = ToUnixMillis(clock_.Now()) / 1000;
    int64_t hour = now - now % 3600;
    int status_class = std::clamp(e.status / 100, 1, 5);
    UsageCounts counts{1, e.status >= 400 ? 1 : 0, e.documents_written, e.bytes_in, e.bytes_out};
    Add(e, hour, status_class, counts, [&] {
        return Row{std::string(e.tenant_id),
                   std::string(e.user_id),
                   std::string(e.key_id),
                   std::string(e.route_group),
                   hour,
                   status_class,
                   {}};
    });
}

Task<Status> UsageMeter::Flush(storage::Database& db) {
    std::vector<Row> rows;
    for (Shard& shard : shards_) {
        std::unordered_map<uint64_t, std::vector<Row>> taken;
        {
            std::lock_guard lock(shard.mu);
            taken.swap(shard.rows);
        }
        for (auto& [h, bucket] : taken) {
            for (Row& row : bucket) rows.push_back(std::move(row));
        }
    }
    if (rows.empty()) co_return Status{};
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        for (const Row& r : rows) {
            const UsageCounts& c = r.counts;
            auto done = co_await tx.Execute(
                "INSERT INTO usage_counters (tenant_id, hour, user_id, key_id, route_group, "
                "status_class, requests, errors, documents_written, bytes_in, bytes_out) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tenant_id, hour, user_id, key_id, route_group, status_class) "
                "DO UPDATE SET requests = usage_counters.requests + excluded.requests, "
                "errors = usage_counters.errors + excluded.errors, "
                "documents_written = usage_counters.documents_written + "
                "excluded.documents_written, "
                "bytes_in = usage_counters.bytes_in + excluded.bytes_in, "
                "bytes_out = usage_counters.bytes_out + excluded.bytes_out",
                Bind(r.tenant_id, r.hour, r.user_id, r.key_id, r.route_group,
                     int64_t{r.status_class}, c.requests, c.errors, c.documents_written, c.bytes_in,
                     c.bytes_out));
            if (!done.ok()) co_return std::move(done).error();
        }
        co_return Status{};
    };
    Status s = co_await db.Transaction(fn);
    if (!s.ok()) {
        for (Row& r : rows) {  // kept for the next flush
            UsageEvent k{r.tenant_id, r.user_id, r.key_id, r.route_group};
            Add(k, r.hour, r.status_class, r.counts, [&] { return std::move(r); });
        }
        co_return s;
    }
    if (on_flushed_) {
        for (const Row& r : rows) on_flushed_(r.tenant_id, r.counts.requests);
    }
    co_return s;
}

}  // namespace tb::limits
