#include "files/database_store.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace tb::files {

using storage::Bind;
using storage::Blob;
using storage::Session;
using storage::TransactionFn;

namespace {

// An upload's chunks and its record, gone in one transaction.
Task<Status> Discard(storage::Database& db, const std::string& tenant, const std::string& file) {
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        for (const char* sql : {"DELETE FROM file_chunks WHERE tenant_id = ? AND file_id = ?",
                                "DELETE FROM file_uploads WHERE tenant_id = ? AND file_id = ?"}) {
            auto r = co_await tx.Execute(sql, Bind(tenant, file));
            if (!r.ok()) co_return std::move(r).error();
        }
        co_return Status{};
    };
    co_return co_await db.Transaction(fn);
}

class ChunkWriter final : public ContentWriter {
  public:
    ChunkWriter(storage::Database& db, const Clock& clock, std::string tenant, std::string file)
        : db_(db), clock_(clock), tenant_(std::move(tenant)), file_(std::move(file)) {}

    Task<Status> Write(std::string_view piece) override {
        while (!piece.empty()) {
            if (chunks_.empty() || chunks_.back().bytes.size() == DatabaseStore::kChunkBytes) {
                if (chunks_.size() == DatabaseStore::kBatchChunks)
                    TB_CO_RETURN_IF_ERROR(co_await Flush());
                chunks_.emplace_back();
                chunks_.back().bytes.reserve(DatabaseStore::kChunkBytes);
            }
            std::string& chunk = chunks_.back().bytes;
            size_t n = std::min(piece.size(), DatabaseStore::kChunkBytes - chunk.size());
            chunk.append(piece.substr(0, n));
            piece.remove_prefix(n);
        }
        co_return Status{};
    }

    Task<Status> Commit() override { co_return co_await Flush(); }

    Task<Status> Finish(Session& tx) override {
        auto r = co_await tx.Execute("DELETE FROM file_uploads WHERE tenant_id = ? AND file_id = ?",
                                     Bind(tenant_, file_));
        if (!r.ok()) co_return std::move(r).error();
        // As in Flush: a swept upload has lost chunks; its row must not be written.
        if (*r != 1) co_return Error::Unavailable("The upload stalled and was dropped");
        co_return Status{};
    }

    Task<void> Abort() override {
        chunks_.clear();
        Status s = co_await Discard(db_, tenant_, file_);
        // Left behind, they are the sweep's once the upload record is old.
        if (!s.ok())
            log::Warn("file chunks not removed", {{"file", file_}, {"error", s.error().internal}});
        co_return;
    }

  private:
    // The chunks held, in one transaction (the function may run again: it only reads them).
    Task<Status> Flush() {
        if (chunks_.empty()) co_return Status{};
        int64_t first = written_;
        int64_t now = ToUnixMillis(clock_.Now());
        const TransactionFn fn = [&](Session& tx) -> Task<Status> {
            // The upload is alive: the sweep leaves its chunks alone.
            auto touched = co_await tx.Execute(
                "UPDATE file_uploads SET touched_at = ? WHERE tenant_id = ? AND file_id = ?",
                Bind(now, tenant_, file_));
            if (!touched.ok()) co_return std::move(touched).error();
            // The record is gone: the sweep took this upload for a stopped one (no chunk for
            // an hour) and removed its chunks. It cannot be completed any more.
            if (*touched != 1) co_return Error::Unavailable("The upload stalled and was dropped");
            for (size_t i = 0; i < chunks_.size(); ++i) {
                // Parameters made before the co_await: GCC 12 miscompiles a braced temporary in it.
                storage::Params p =
                    Bind(tenant_, file_, first + static_cast<int64_t>(i), Blob{chunks_[i].bytes});
                auto r = co_await tx.Execute(
                    "INSERT INTO file_chunks (tenant_id, file_id, seq, data) VALUES (?, ?, ?, ?)",
                    std::move(p));
                if (!r.ok()) co_return std::move(r).error();
            }
            co_return Status{};
        };
        TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
        written_ += static_cast<int64_t>(chunks_.size());
        chunks_.clear();
        co_return Status{};
    }

    storage::Database& db_;
    const Clock& clock_;
    std::string tenant_, file_;
    std::vector<Blob> chunks_;
    int64_t written_ = 0;  // chunks in the table
};

class ChunkReader final : public ByteSource {
  public:
    ChunkReader(storage::Database& db, std::string tenant, std::string file, uint64_t offset,
                uint64_t length)
        : db_(db),
          tenant_(std::move(tenant)),
          file_(std::move(file)),
          offset_(offset),
          left_(length) {}

    Task<Result<size_t>> Read(std::span<char> into) override {
        if (left_ == 0 || into.empty()) co_return size_t{0};
        int64_t seq = static_cast<int64_t>(offset_ / DatabaseStore::kChunkBytes);
        if (seq != chunk_seq_) {
            auto rows = co_await db_.Query(
                "SELECT data FROM file_chunks WHERE tenant_id = ? AND file_id = ? AND seq = ?",
                Bind(tenant_, file_, seq));
            if (!rows.ok()) co_return std::move(rows).error();
            if (rows->empty()) co_return Error::Internal("a file chunk is missing: " + file_);
            chunk_ = storage::TakeText(rows->rows[0][0]);
            chunk_seq_ = seq;
        }
        size_t at = static_cast<size_t>(offset_ % DatabaseStore::kChunkBytes);
        if (at >= chunk_.size()) co_return Error::Internal("a file chunk is short: " + file_);
        size_t n = std::min({into.size(), chunk_.size() - at,
                             static_cast<size_t>(std::min<uint64_t>(left_, SIZE_MAX))});
        std::memcpy(into.data(), chunk_.data() + at, n);
        offset_ += n;
        left_ -= n;
        co_return n;
    }

  private:
    storage::Database& db_;
    std::string tenant_, file_;
    uint64_t offset_, left_;
    int64_t chunk_seq_ = -1;
    std::string chunk_;
};

}  // namespace

Task<Result<std::unique_ptr<ContentWriter>>> DatabaseStore::Create(
    const storage::TenantScope& tenant, const std::string& file_id) {
    auto r = co_await db_.Execute(
        "INSERT INTO file_uploads (tenant_id, file_id, touched_at) VALUES (?, ?, ?)",
        Bind(tenant.id(), file_id, ToUnixMillis(clock_.Now())));
    if (!r.ok()) co_return std::move(r).error();
    co_return std::unique_ptr<ContentWriter>(new ChunkWriter(db_, clock_, tenant.id(), file_id));
}

Task<Result<std::unique_ptr<ByteSource>>> DatabaseStore::Open(const storage::TenantScope& tenant,
                                                              const std::string& file_id,
                                                              uint64_t offset, uint64_t length) {
    co_return std::unique_ptr<ByteSource>(
        new ChunkReader(db_, tenant.id(), file_id, offset, length));
}

Task<Status> DatabaseStore::Remove(const storage::TenantScope& tenant, const std::string& file_id) {
    auto r = co_await db_.Execute("DELETE FROM file_chunks WHERE tenant_id = ? AND file_id = ?",
                                  Bind(tenant.id(), file_id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> DatabaseStore::RemoveIn(Session& tx, const storage::TenantScope& tenant,
                                     const std::string& file_id) {
    auto r = co_await tx.Execute("DELETE FROM file_chunks WHERE tenant_id = ? AND file_id = ?",
                                 Bind(tenant.id(), file_id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Result<int64_t>> DatabaseStore::Sweep(storage::Database& db) {
    // At start-up on SQLite no upload can be under way (one node owns the file): all stopped.
    bool all = std::exchange(startup_, false) && db.dialect().Name() == "sqlite";
    int64_t before = all ? INT64_MAX : ToUnixMillis(clock_.Now()) - 3'600'000;
    auto stale = co_await db.Query(
        "SELECT tenant_id, file_id FROM file_uploads WHERE touched_at < ? ORDER BY touched_at "
        "LIMIT 1000",
        Bind(before));
    if (!stale.ok()) co_return std::move(stale).error();
    int64_t removed = 0;
    for (const auto& r : stale->rows) {
        std::string tenant = storage::AsText(r[0]), file = storage::AsText(r[1]);
        TB_CO_RETURN_IF_ERROR(co_await Discard(db, tenant, file));
        ++removed;
    }
    if (removed > 0) log::Info("removed file contents without a row", {{"count", removed}});
    co_return removed;
}

}  // namespace tb::files
