#include "collections/document_rows.h"

#include <array>

namespace tb::collections {

namespace {

constexpr std::array<size_t, 4> kChunks = {500, 100, 10, 1};

// The statement that inserts `n` rows of 10 parameters each.
const std::string& InsertSql(size_t n) {
    static const std::array<std::string, kChunks.size()> statements = [] {
        std::array<std::string, kChunks.size()> out;
        for (size_t k = 0; k < kChunks.size(); ++k) {
            std::string& sql = out[k];
            sql =
                "INSERT INTO documents (tenant_id, collection_id, id, body, version, created_at, "
                "changed_at, created_by, changed_by, org_id, size) VALUES ";
            for (size_t i = 0; i < kChunks[k]; ++i) {
                if (i > 0) sql += ", ";
                sql += "(?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)";
            }
        }
        return out;
    }();
    for (size_t k = 0; k < kChunks.size(); ++k)
        if (kChunks[k] == n) return statements[k];
    return statements.back();
}

size_t ChunkFor(size_t left) {
    for (size_t n : kChunks)
        if (n <= left) return n;
    return 1;
}

}  // namespace

Task<Status> InsertDocuments(storage::Session& tx, const storage::Dialect& dialect,
                             const std::string& tenant_id, const std::string& collection_id,
                             const std::vector<NewRow>& rows) {
    const std::string lock = "SELECT 1 FROM collections WHERE tenant_id = ? AND id = ?" +
                             std::string(dialect.ShareRowLock());
    std::vector<storage::Statement> statements;
    statements.push_back({lock, {tenant_id, collection_id}});
    for (size_t at = 0; at < rows.size();) {
        const size_t n = ChunkFor(rows.size() - at);
        storage::Params params;
        params.reserve(n * 10);
        for (size_t i = at; i < at + n; ++i) {
            const NewRow& r = rows[i];
            params.emplace_back(tenant_id);
            params.emplace_back(collection_id);
            params.emplace_back(*r.id);
            params.emplace_back(*r.body);
            params.emplace_back(r.now);
            params.emplace_back(r.now);
            const storage::Value creator = r.by->empty() ? storage::Value{} : storage::Value{*r.by};
            params.push_back(creator);
            params.push_back(creator);
            params.push_back(*r.org ? storage::Value{**r.org} : storage::Value{});
            params.emplace_back(static_cast<int64_t>(r.body->size()));
        }
        statements.push_back({InsertSql(n), std::move(params)});
        at += n;
    }
    auto results = co_await tx.QueryAll(std::move(statements));
    // Where documents keep their foreign key (SQLite), an INSERT into a collection deleted
    // since the caller resolved it fails on it (an internal error): not found, as below. Only
    // then is the collection looked at again; a unique index's conflict, a deadline or an
    // outage stands as it is. (On PostgreSQL the failed transaction refuses the look, and the
    // INSERT's own error stands.)
    if (!results.ok() && results.error().code == ErrorCode::kInternal) {
        storage::Params key{tenant_id, collection_id};
        auto still = co_await tx.Query(lock, std::move(key));
        if (still.ok() && still->empty()) co_return Error::NotFound("Collection not found");
        co_return std::move(results).error();
    }
    if (!results.ok()) co_return std::move(results).error();
    // Gone since the caller resolved it: the INSERTs roll back with the transaction.
    if (results->front().empty()) co_return Error::NotFound("Collection not found");
    co_return Status{};
}

}  // namespace tb::collections
