#pragma once
// Files of a tenant (API.md §6): upload (streamed), list, read, delete, and the content for
// downloads. Who may do what (docs/api.md §14 "Files"): any member reads (a key needs `read`);
// members who are not viewers upload (a key needs `write`); a member deletes their own files,
// admin+ any (a key acts for its owner and needs `write`). A key's collection restrictions do
// not apply to files.
//
// Invariants:
//  1. Every statement is scoped by the caller's tenant: another tenant's file id is 404.
//  2. A row exists only for a content that is whole and durable in the store; the tenant's
//     file_bytes moves with the row, in the same transaction, under the storage quota.
//  3. An upload past the plan's max_file_bytes (413) or the tenant's storage quota (402) is
//     stopped as soon as the count passes it, and leaves nothing behind.
//
// Thread safety: all methods may run concurrently.

#include <optional>
#include <string>
#include <string_view>

#include "audit/audit_log.h"
#include "collections/document_changes.h"
#include "common/byte_source.h"
#include "common/clock.h"
#include "common/ids.h"
#include "files/content_store.h"
#include "files/file.h"
#include "limits/plans.h"
#include "query/list_query.h"
#include "storage/database.h"
#include "tenancy/caller.h"
#include "tenancy/tenant_service.h"

namespace tb::files {

const query::Resource& FilesResource();

class FileService {
  public:
    FileService(storage::Database& db, IdGenerator& ids, const Clock& clock, audit::AuditLog& audit,
                ContentStore& store, const limits::PlanCatalog& plans);

    // Whether `who` may upload at all, and a declared body size against the plan's per-file
    // limit (413): no I/O, checked before any byte is read.
    Status MayUpload(const tenancy::Caller& who, std::optional<uint64_t> declared_size) const;

    // Stores one file read from `content` (streamed: hashed and written as it arrives). A
    // declared size is checked against the per-file limit (413) and the storage left (402)
    // before the first byte is read; the bytes received are checked as they come.
    Task<Result<FileInfo>> Upload(const tenancy::Caller& who, std::string_view name,
                                  std::string_view content_type, ByteSource& content,
                                  std::optional<uint64_t> declared_size = std::nullopt);

    Task<Result<tenancy::Page<FileInfo>>> List(const tenancy::Caller& who,
                                               const query::ListQuery& q);
    Task<Result<FileInfo>> Get(const tenancy::Caller& who, const std::string& id);
    Task<Status> Delete(const tenancy::Caller& who, const std::string& id);

    // Whether `who` may read the tenant's files (realtime file events go only where it holds).
    static Status MayRead(const tenancy::Caller& who) { return who.CanRead(); }
    // Where committed uploads and deletes are announced (realtime), as changes of
    // collections::kFilesCollection whose body is FileJson; none by default. Set once, before
    // serving.
    void SetChangeSink(collections::DocumentChangeSink* sink) { changes_ = sink; }

    // The file of a tenant by id, for a request that proved its right another way (a signed
    // link): no caller.
    Task<Result<FileInfo>> Find(const storage::TenantScope& tenant, const std::string& id);
    // Bytes [offset, offset + length) of a file found by Get or Find.
    Task<Result<std::unique_ptr<ByteSource>>> OpenContent(const FileInfo& file, uint64_t offset,
                                                          uint64_t length);

  private:
    Task<Result<FileInfo>> FindIn(storage::Session& s, const storage::TenantScope& tenant,
                                  const std::string& id);

    storage::Database& db_;
    IdGenerator& ids_;
    const Clock& clock_;
    audit::AuditLog& audit_;
    ContentStore& store_;
    const limits::PlanCatalog& plans_;
    collections::DocumentChangeSink* changes_ = nullptr;
    void Announce(collections::DocumentChange::Kind kind, const FileInfo& f) const;
};

}  // namespace tb::files
