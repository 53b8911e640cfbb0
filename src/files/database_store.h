#pragma once
// File contents in the database (files.backend = "database"): 256 KiB chunks in
// `file_chunks`, so that every node on one PostgreSQL serves every file with no shared disk.
//
// A writer keeps at most kBatchChunks chunks in memory and writes them in one transaction
// (one commit per MiB, not per chunk); its content becomes visible only with the `files` row
// the service writes after Commit. Chunks without a row (a crash or a failure mid-upload) are
// removed by Sweep: at start-up on SQLite (one node owns the file) all of them, otherwise
// those older than an hour (another node may be writing the young ones). A reader fetches one
// chunk per read.
//
// Thread safety: any thread; a writer or reader belongs to one coroutine.

#include "common/clock.h"
#include "files/content_store.h"
#include "storage/database.h"

namespace tb::files {

class DatabaseStore final : public ContentStore {
  public:
    static constexpr size_t kChunkBytes = size_t{256} * 1024;
    static constexpr size_t kBatchChunks = 4;

    DatabaseStore(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

    Task<Result<std::unique_ptr<ContentWriter>>> Create(const storage::TenantScope& tenant,
                                                        const std::string& file_id) override;
    Task<Result<std::unique_ptr<ByteSource>>> Open(const storage::TenantScope& tenant,
                                                   const std::string& file_id, uint64_t offset,
                                                   uint64_t length) override;
    Task<Status> Remove(const storage::TenantScope& tenant, const std::string& file_id) override;
    Task<Status> RemoveIn(storage::Session& tx, const storage::TenantScope& tenant,
                          const std::string& file_id) override;
    Task<Result<int64_t>> Sweep(storage::Database& db) override;

  private:
    storage::Database& db_;
    const Clock& clock_;
    bool startup_ = true;
};

}  // namespace tb::files
