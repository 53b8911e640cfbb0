#pragma once
// File contents on the local disk (files.backend = "local", the default): one file per
// content at <root>/<tenant id>/<last two hex digits of the file id>/<file id>; the path is
// made from ids only (both UUIDs, checked by the caller), never from a client's name.
//
// Crash safety: a content is written to <root>/tmp/<id>.part, fsync'd, renamed into place and
// its directory fsync'd, so a content is either whole under its name or absent. What a crash
// leaves (a .part file; a content whose row was never written, or whose row was deleted
// before the content) is removed by Sweep.
//
// Blocking calls: write() and pread() run on the calling I/O thread (page-cache copies of
// 256 KiB at most); fsync, rename and the directory walk run on the worker pool.
//
// Thread safety: any thread; a writer or reader belongs to one coroutine.

#include <filesystem>

#include "common/worker_pool.h"
#include "files/content_store.h"

namespace tb::files {

// Where the content of a file lives under a store's root (the layout above): the store's
// own path and the backup's (app/backup.h). Both ids are UUIDs.
std::string LocalContentPath(std::string_view root, std::string_view tenant_id,
                             std::string_view file_id);

class LocalStore final : public ContentStore {
  public:
    LocalStore(std::filesystem::path root, WorkerPool& workers);

    // Creates the root and its tmp directory.
    Status Open();

    Task<Result<std::unique_ptr<ContentWriter>>> Create(const storage::TenantScope& tenant,
                                                        const std::string& file_id) override;
    Task<Result<std::unique_ptr<ByteSource>>> Open(const storage::TenantScope& tenant,
                                                   const std::string& file_id, uint64_t offset,
                                                   uint64_t length) override;
    Task<Status> Remove(const storage::TenantScope& tenant, const std::string& file_id) override;
    Task<Result<int64_t>> Sweep(storage::Database& db) override;

    // Plain string arithmetic: std::filesystem::path's operator/ cost a tenth of a small
    // file's download.
    std::string PathOf(const storage::TenantScope& tenant, const std::string& file_id) const;

  private:
    std::filesystem::path root_;
    std::string root_text_;  // root_, as text
    WorkerPool& workers_;
    // The first sweep runs at start-up, when no upload of this node is in flight: every .part
    // file and every content without a row goes, however young. Later sweeps spare what is
    // under an hour old (.part files: a day).
    bool startup_ = true;
};

}  // namespace tb::files
