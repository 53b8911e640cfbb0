#include "realtime/cluster_relay.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <unordered_set>

#include "common/log.h"

namespace tb::realtime {

namespace asio = boost::asio;
using collections::DocumentChange;

namespace {

// A row lives this long after it was written; it is rewritten when less than kRenewBelow is
// left (Renew runs every 20 s, so a followed collection's row never comes near expiring).
constexpr int64_t kLifetimeMs = 60'000;
constexpr int64_t kRenewBelowMs = 40'000;
constexpr size_t kReloadChunk = 500;  // ids per query
// A node's stream counts are rewritten every 5 s and trusted for 15 s.
constexpr int64_t kStreamsLifetimeMs = 15'000;

std::vector<std::string_view> Split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(sep, start);
        if (end == std::string_view::npos) {
            parts.push_back(text.substr(start));
            return parts;
        }
        parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

}  // namespace

bool ParseRemoteChanges(std::string_view payload, std::string& node,
                        std::vector<RemoteChange>& changes) {
    size_t first = payload.find('\n');
    if (first == std::string_view::npos) return false;
    node = std::string(payload.substr(0, first));
    for (std::string_view line : Split(payload.substr(first + 1), '\n')) {
        if (line.empty()) continue;
        auto f = Split(line, '\t');
        if (f.size() != 7 || f[0].size() != 1 || f[1].empty() || f[2].empty() || f[3].empty())
            continue;
        RemoteChange c;
        switch (f[0][0]) {
            case 'c':
                c.kind = DocumentChange::Kind::kCreate;
                break;
            case 'u':
                c.kind = DocumentChange::Kind::kUpdate;
                break;
            case 'd':
                c.kind = DocumentChange::Kind::kDelete;
                break;
            default:
                continue;
        }
        auto [end, err] = std::from_chars(f[4].data(), f[4].data() + f[4].size(), c.version);
        if (err != std::errc() || end != f[4].data() + f[4].size()) continue;
        c.tenant_id = f[1];
        c.collection_id = f[2];
        c.id = f[3];
        c.created_by = f[5];
        c.org = f[6];
        changes.push_back(std::move(c));
    }
    return true;
}

ClusterRelay::ClusterRelay(storage::Database& db, collections::CollectionService& collections,
                           collections::DocumentService& documents, files::FileService& files,
                           RealtimeHub& hub, const Clock& clock, std::string node_id,
                           asio::any_io_executor executor)
    : db_(db),
      collections_(collections),
      documents_(documents),
      files_(files),
      hub_(hub),
      clock_(clock),
      node_id_(std::move(node_id)),
      executor_(std::move(executor)) {}

Task<Status> ClusterRelay::Following(const storage::TenantScope& tenant,
                                     const std::string& collection) {
    std::string collection_id(collections::kFilesCollection);  // files: the name as the id
    if (collection != collections::kFilesCollection) {
        auto found = co_await collections_.Find(tenant, collection);
        if (!found.ok()) co_return std::move(found).error();
        if (!*found) co_return Status{};  // nothing to follow yet (Subscribe answers its 404)
        collection_id = (**found)->def.id;
    }
    Interest interest{tenant.id(), std::move(collection_id), collection, NowMs() + kLifetimeMs};
    const std::string key = Key(interest.tenant_id, interest.collection_id);
    {
        std::lock_guard lock(mu_);
        auto it = interest_.find(key);
        if (it != interest_.end() && it->second.expires_ms - NowMs() > kRenewBelowMs)
            co_return Status{};
    }
    TB_CO_RETURN_IF_ERROR(co_await Upsert(interest));
    std::lock_guard lock(mu_);
    interest_[key] = std::move(interest);
    co_return Status{};
}

Task<Status> ClusterRelay::Upsert(const Interest& interest) {
    storage::Params params =
        storage::Bind(interest.tenant_id, interest.collection_id, node_id_, interest.expires_ms);
    auto done = co_await db_.Execute(
        "INSERT INTO realtime_interest (tenant_id, collection_id, node_id, expires_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, collection_id, node_id) "
        "DO UPDATE SET expires_at = excluded.expires_at",
        std::move(params));
    if (!done.ok()) co_return std::move(done).error();
    co_return Status{};
}

Task<Status> ClusterRelay::Renew() {
    std::unordered_set<std::string> followed;
    for (const auto& [tenant_id, collection] : hub_.Followed()) {
        const auto scope = storage::TenantScope::Of(tenant_id);
        TB_CO_RETURN_IF_ERROR(co_await Following(scope, collection));
        if (collection == collections::kFilesCollection) {
            followed.insert(Key(tenant_id, collection));
            continue;
        }
        auto found = co_await collections_.Find(scope, collection);
        if (found.ok() && *found) followed.insert(Key(tenant_id, (**found)->def.id));
    }
    std::vector<Interest> lapsed;
    {
        std::lock_guard lock(mu_);
        for (auto it = interest_.begin(); it != interest_.end();) {
            if (followed.contains(it->first)) {
                ++it;
                continue;
            }
            lapsed.push_back(std::move(it->second));
            it = interest_.erase(it);
        }
    }
    for (const Interest& gone : lapsed) {
        storage::Params params = storage::Bind(gone.tenant_id, gone.collection_id, node_id_);
        auto done = co_await db_.Execute(
            "DELETE FROM realtime_interest WHERE tenant_id = ? AND collection_id = ? AND "
            "node_id = ?",
            std::move(params));
        if (!done.ok()) co_return std::move(done).error();
    }
    // Rows of nodes that stopped without withdrawing (a kill, a crash): any node clears them.
    storage::Params params = storage::Bind(NowMs());
    auto swept = co_await db_.Execute("DELETE FROM realtime_interest WHERE expires_at < ?",
                                      std::move(params));
    if (!swept.ok()) co_return std::move(swept).error();
    co_return co_await ShareStreams();
}

size_t ClusterRelay::RemoteStreams(const std::string& tenant_id) const {
    std::lock_guard lock(streams_mu_);
    auto it = remote_streams_.find(tenant_id);
    return it == remote_streams_.end() ? 0 : it->second;
}

Task<Status> ClusterRelay::ShareStreams() {
    const int64_t now = NowMs();
    std::unordered_map<std::string, size_t> mine = hub_.LocalStreams();
    // A tenant whose last stream here ended since the last time: its row says 0 until it
    // expires.
    for (const std::string& tenant_id : shared_) mine.try_emplace(tenant_id, 0);
    std::vector<std::pair<std::string, size_t>> rows(mine.begin(), mine.end());
    constexpr size_t kRowsPerStatement = 200;
    for (size_t from = 0; from < rows.size(); from += kRowsPerStatement) {
        std::string sql =
            "INSERT INTO realtime_streams (tenant_id, node_id, streams, expires_at) VALUES ";
        storage::Params params;
        for (size_t i = from; i < std::min(rows.size(), from + kRowsPerStatement); ++i) {
            sql += i == from ? "(?, ?, ?, ?)" : ", (?, ?, ?, ?)";
            params.emplace_back(rows[i].first);
            params.emplace_back(node_id_);
            params.emplace_back(static_cast<int64_t>(rows[i].second));
            params.emplace_back(now + kStreamsLifetimeMs);
        }
        sql +=
            " ON CONFLICT (tenant_id, node_id) DO UPDATE SET streams = excluded.streams, "
            "expires_at = excluded.expires_at";
        auto done = co_await db_.Execute(sql, std::move(params));
        if (!done.ok()) co_return std::move(done).error();
    }
    shared_.clear();
    for (const auto& [tenant_id, n] : rows)
        if (n > 0) shared_.insert(tenant_id);
    // Every tenant's sum over the other nodes (a node-wide view: which tenants have streams
    // here is only known here).
    storage::Params params = storage::Bind(node_id_, now);
    auto sums = co_await db_.Query(
        "SELECT tenant_id, CAST(SUM(streams) AS BIGINT) FROM realtime_streams WHERE node_id <> ? "
        "AND "
        "expires_at > ? GROUP BY tenant_id",
        std::move(params));
    if (!sums.ok()) co_return std::move(sums).error();
    std::unordered_map<std::string, size_t> remote;
    for (auto& row : sums->rows) {
        const int64_t n = storage::AsInt(row[1]);
        if (n > 0) remote.emplace(storage::TakeText(row[0]), static_cast<size_t>(n));
    }
    {
        std::lock_guard lock(streams_mu_);
        remote_streams_.swap(remote);
    }
    params = storage::Bind(now);
    auto swept = co_await db_.Execute("DELETE FROM realtime_streams WHERE expires_at < ?",
                                      std::move(params));
    if (!swept.ok()) co_return std::move(swept).error();
    co_return Status{};
}

Task<Status> ClusterRelay::Withdraw() {
    {
        std::lock_guard lock(mu_);
        interest_.clear();
    }
    storage::Params params = storage::Bind(node_id_);
    auto done =
        co_await db_.Execute("DELETE FROM realtime_interest WHERE node_id = ?", std::move(params));
    if (!done.ok()) co_return std::move(done).error();
    params = storage::Bind(node_id_);
    auto counts =
        co_await db_.Execute("DELETE FROM realtime_streams WHERE node_id = ?", std::move(params));
    if (!counts.ok()) co_return std::move(counts).error();
    co_return Status{};
}

void ClusterRelay::Notified(const std::string& payload) {
    std::string node;
    std::vector<RemoteChange> changes;
    if (!ParseRemoteChanges(payload, node, changes)) {
        log::Warn("malformed tb_documents notification");
        return;
    }
    if (node == node_id_ || changes.empty()) return;  // ours: the hub had them in process
    {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(changes));
        if (running_) return;
        running_ = true;
    }
    asio::co_spawn(executor_, Run(), asio::detached);
}

Task<void> ClusterRelay::Run() {
    for (;;) {
        std::vector<RemoteChange> lines;
        {
            std::lock_guard lock(mu_);
            if (queue_.empty()) {
                running_ = false;
                co_return;
            }
            for (auto& batch : queue_)
                for (auto& line : batch) lines.push_back(std::move(line));
            queue_.clear();
        }
        std::vector<DocumentChange> changes = co_await Resolve(std::move(lines));
        if (!changes.empty()) hub_.Published(std::move(changes));
    }
}

Task<std::vector<DocumentChange>> ClusterRelay::Resolve(std::vector<RemoteChange> lines) {
    // The collections' names, as this node followed them; a line of one no longer followed
    // is dropped.
    std::vector<std::string> names(lines.size());
    {
        std::lock_guard lock(mu_);
        for (size_t i = 0; i < lines.size(); ++i)
            if (auto it = interest_.find(Key(lines[i].tenant_id, lines[i].collection_id));
                it != interest_.end())
                names[i] = it->second.collection;
    }
    // The written documents, read by id per collection.
    std::unordered_map<std::string, std::vector<size_t>> by_collection;  // Key -> line indexes
    for (size_t i = 0; i < lines.size(); ++i)
        if (!names[i].empty() && lines[i].kind != DocumentChange::Kind::kDelete)
            by_collection[Key(lines[i].tenant_id, lines[i].collection_id)].push_back(i);
    std::unordered_map<std::string, DocumentChange> read;  // Key + '\t' + id -> row
    for (const auto& [key, indexes] : by_collection) {
        const RemoteChange& first = lines[indexes.front()];
        const auto scope = storage::TenantScope::Of(first.tenant_id);
        if (first.collection_id == collections::kFilesCollection) {
            for (size_t i : indexes) {
                auto file = co_await files_.Find(scope, lines[i].id);
                if (!file.ok()) continue;  // deleted since: its delete follows
                DocumentChange d;
                d.tenant_id = first.tenant_id;
                d.collection = collections::kFilesCollection;
                d.id = file->id;
                d.version = 1;
                d.body = json::serialize(files::FileJson(*file));
                d.created_by = file->created_by;
                std::string at = key + '\t' + d.id;
                read.insert_or_assign(std::move(at), std::move(d));
            }
            continue;
        }
        for (size_t from = 0; from < indexes.size(); from += kReloadChunk) {
            std::vector<std::string> ids;
            for (size_t j = from; j < std::min(indexes.size(), from + kReloadChunk); ++j)
                ids.push_back(lines[indexes[j]].id);
            auto rows =
                co_await documents_.Reload(scope, first.collection_id, names[indexes.front()], ids);
            if (!rows.ok()) {
                log::Warn("another node's document changes not read",
                          {{"error", rows.error().internal}});
                continue;
            }
            for (DocumentChange& row : *rows) {
                std::string at = key + '\t' + row.id;
                read.insert_or_assign(std::move(at), std::move(row));
            }
        }
    }
    std::vector<DocumentChange> out;
    for (size_t i = 0; i < lines.size(); ++i) {
        RemoteChange& line = lines[i];
        if (names[i].empty()) continue;
        if (line.kind == DocumentChange::Kind::kDelete) {
            DocumentChange d;
            d.kind = DocumentChange::Kind::kDelete;
            d.tenant_id = std::move(line.tenant_id);
            d.collection = names[i];
            d.id = std::move(line.id);
            d.version = line.version;
            d.created_by = std::move(line.created_by);
            if (!line.org.empty()) d.org = std::move(line.org);
            out.push_back(std::move(d));
            continue;
        }
        auto it = read.find(Key(line.tenant_id, line.collection_id) + '\t' + line.id);
        if (it == read.end() || it->second.version != line.version) continue;
        DocumentChange d = std::move(it->second);
        read.erase(it);
        d.kind = line.kind;
        out.push_back(std::move(d));
    }
    co_return out;
}

}  // namespace tb::realtime
