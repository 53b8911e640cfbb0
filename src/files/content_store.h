#pragma once
// Where file contents live (files.backend): one interface, two backends.
//  - local (files/local_store.h): files under <data>/files/, one per file, in paths made from
//    ids only;
//  - database: chunks in the database, so that nodes on one PostgreSQL share files.
// A content is written through a Writer and becomes readable only once committed (durable);
// the `files` row that makes it visible to the API is written after that by the service, so a
// crash can leave content without a row (removed by Sweep) but never a row without content.
//
// Thread safety: a store may be used from every I/O thread; one Writer by one coroutine.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/byte_source.h"
#include "common/result.h"
#include "common/task.h"
#include "storage/database.h"
#include "storage/list_sql.h"

namespace tb::files {

class ContentWriter {
  public:
    virtual ~ContentWriter() = default;
    virtual Task<Status> Write(std::string_view piece) = 0;
    // Makes the content durable and readable under its id.
    virtual Task<Status> Commit() = 0;
    // Inside the transaction that writes the content's `files` row, after Commit: what the
    // store must change in the same breath (the database store's upload record).
    virtual Task<Status> Finish(storage::Session& tx) {
        (void)tx;
        co_return Status{};
    }
    // Forgets what was written (also done by the destructor of an uncommitted writer).
    virtual Task<void> Abort() = 0;
};

class ContentStore {
  public:
    virtual ~ContentStore() = default;
    virtual Task<Result<std::unique_ptr<ContentWriter>>> Create(const storage::TenantScope& tenant,
                                                                const std::string& file_id) = 0;
    // Bytes [offset, offset + length) of a committed content, read in pieces.
    virtual Task<Result<std::unique_ptr<ByteSource>>> Open(const storage::TenantScope& tenant,
                                                           const std::string& file_id,
                                                           uint64_t offset, uint64_t length) = 0;
    // Removes a content (no error when it is already gone).
    virtual Task<Status> Remove(const storage::TenantScope& tenant, const std::string& file_id) = 0;
    // Inside the transaction that deletes a file's row: what the store removes with it (the
    // database store's chunks, which no sweep would find once the row is gone). Remove
    // follows the commit for what cannot be transactional (a file on disk).
    virtual Task<Status> RemoveIn(storage::Session& tx, const storage::TenantScope& tenant,
                                  const std::string& file_id) {
        (void)tx;
        (void)tenant;
        (void)file_id;
        co_return Status{};
    }
    // Removes contents no `files` row refers to, and what a crash left half-written. At
    // start-up and now and then; the count removed.
    virtual Task<Result<int64_t>> Sweep(storage::Database& db) = 0;
};

}  // namespace tb::files
