#include "limits/usage_meter.h"

#include <algorithm>
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

std::string JoinedKey(const std::string& tenant, const std::string& user, const std::string& key,
                      const std::string& group, int64_t hour, int status_class) {
    std::string k;
    k.reserve(tenant.size() + user.size() + key.size() + group.size() + 24);
    k.append(tenant).push_back('\x1f');
    k.append(user).push_back('\x1f');
    k.append(key).push_back('\x1f');
    k.append(group).push_back('\x1f');
    k.append(std::to_string(hour)).push_back('\x1f');
    k.push_back(static_cast<char>('0' + status_class));
    return k;
}

}  // namespace

void UsageMeter::Merge(Row row) {
    std::string key = JoinedKey(row.tenant_id, row.user_id, row.key_id, row.route_group, row.hour,
                                row.status_class);
    Shard& shard = shards_[std::hash<std::string>{}(key) % shards_.size()];
    std::lock_guard lock(shard.mu);
    auto [it, inserted] = shard.rows.try_emplace(std::move(key));
    if (inserted) {
        it->second = std::move(row);
    } else {
        it->second.counts += row.counts;
    }
}

void UsageMeter::Record(const UsageEvent& e) {
    int64_t now = ToUnixMillis(clock_.Now()) / 1000;
    Row row{e.tenant_id,
            e.user_id,
            e.key_id,
            e.route_group,
            now - now % 3600,
            std::clamp(e.status / 100, 1, 5),
            {}};
    row.counts = {1, e.status >= 400 ? 1 : 0, e.documents_written, e.bytes_in, e.bytes_out};
    Merge(std::move(row));
    recorded_.fetch_add(1, std::memory_order_relaxed);
}

Task<Status> UsageMeter::Flush(storage::Database& db) {
    std::vector<Row> rows;
    for (Shard& shard : shards_) {
        std::unordered_map<std::string, Row> taken;
        {
            std::lock_guard lock(shard.mu);
            taken.swap(shard.rows);
        }
        for (auto& [k, row] : taken) rows.push_back(std::move(row));
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
        for (Row& r : rows) Merge(std::move(r));  // kept for the next flush
    }
    co_return s;
}

}  // namespace tb::limits
