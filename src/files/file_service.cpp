#include "files/file_service.h"

#include <memory>

#include "common/encoding.h"
#include "common/log.h"
#include "files/names.h"
#include "limits/usage_store.h"
#include "storage/list_sql.h"

namespace tb::files {

using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::Session;
using storage::TenantScope;
using storage::TransactionFn;
using tenancy::Caller;
using tenancy::Role;

namespace {

constexpr const char* kColumns =
    "id, tenant_id, name, content_type, size, sha256, created_at, created_by";
constexpr size_t kPiece = size_t{256} * 1024;

FileInfo FromRow(std::vector<storage::Value>& r) {
    FileInfo f;
    f.id = AsText(r[0]);
    f.tenant_id = AsText(r[1]);
    f.name = AsText(r[2]);
    f.content_type = AsText(r[3]);
    f.size = AsInt(r[4]);
    f.sha256 = AsText(r[5]);
    f.created_at = AsInt(r[6]);
    f.created_by = AsText(r[7]);
    return f;
}

Error FileNotFound() { return Error::NotFound("File not found"); }

// Uploads and deletes: a member who is not a viewer; a key with `write` (or `admin`).
Status MayWrite(const Caller& who) {
    if (!who.EffectiveRole()) return Error::NotFound("Tenant not found");
    if (who.api_key && !who.api_key->HasScope("write") && !who.api_key->HasScope("admin"))
        return Error::Forbidden("This API key lacks the write scope");
    if (!who.platform_admin() && who.role == Role::kViewer)
        return Error::Forbidden("Viewers are read-only");
    return {};
}

Error TooLarge(int64_t limit) {
    return Error::PayloadTooLarge("The file is larger than the plan allows (" +
                                  std::to_string(limit) + " bytes per file)")
        .WithDetail("limit", "max_file_bytes")
        .WithDetail("value", limit);
}

// The bytes the tenant may still store (kUnlimited: no limit).
Task<Result<int64_t>> Room(Session& s, const TenantScope& tenant, const limits::Plan& plan) {
    if (plan.max_storage_bytes == limits::kUnlimited) co_return limits::kUnlimited;
    TB_CO_ASSIGN_OR_RETURN(limits::Stored stored, co_await limits::ReadStored(s, tenant));
    co_return std::max<int64_t>(0, plan.max_storage_bytes - stored.bytes);
}

Error NoRoom(const limits::Plan& plan) {
    return Error::QuotaExceeded("The tenant's storage quota (" +
                                    std::to_string(plan.max_storage_bytes) +
                                    " bytes) leaves no room for this file",
                                "max_storage_bytes", plan.max_storage_bytes);
}

}  // namespace

const query::Resource& FilesResource() {
    using query::Type;
    static const query::Resource r{"files",
                                   "id",
                                   {{"id", "id", Type::kId},
                                    {"name", "name", Type::kText},
                                    {"content_type", "content_type", Type::kText},
                                    {"size", "size", Type::kInt},
                                    {"sha256", "sha256", Type::kText},
                                    {"created_at", "created_at", Type::kTime},
                                    {"created_by", "created_by", Type::kText}}};
    return r;
}

FileService::FileService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                         audit::AuditLog& audit, ContentStore& store,
                         const limits::PlanCatalog& plans)
    : db_(db), ids_(ids), clock_(clock), audit_(audit), store_(store), plans_(plans) {}

Status FileService::MayUpload(const Caller& who, std::optional<uint64_t> declared_size) const {
    TB_RETURN_IF_ERROR(MayWrite(who));
    const limits::Plan& plan = plans_.Get(who.plan);
    if (declared_size && plan.max_file_bytes != limits::kUnlimited &&
        *declared_size > static_cast<uint64_t>(plan.max_file_bytes))
        return TooLarge(plan.max_file_bytes);
    return {};
}

Task<Result<FileInfo>> FileService::Upload(const Caller& who, std::string_view name,
                                           std::string_view content_type, ByteSource& content,
                                           std::optional<uint64_t> declared_size) {
    TB_CO_RETURN_IF_ERROR(MayUpload(who, declared_size));
    const TenantScope& scope = who.scope();
    const limits::Plan& plan = plans_.Get(who.plan);
    // The room left, read once: a declared size past it is refused before a byte is read.
    TB_CO_ASSIGN_OR_RETURN(int64_t room, co_await Room(db_, scope, plan));
    if (declared_size && room != limits::kUnlimited && *declared_size > static_cast<uint64_t>(room))
        co_return NoRoom(plan);
    FileInfo f;
    f.id = ids_.Next();
    f.tenant_id = scope.id();
    f.name = SanitizeName(name);
    f.content_type = CleanContentType(content_type);
    f.created_by = who.user->id;

    // Stream: count, hash and write each piece; stop at the first limit passed.
    TB_CO_ASSIGN_OR_RETURN(std::unique_ptr<ContentWriter> writer,
                           co_await store_.Create(scope, f.id));
    Sha256 hash;
    std::unique_ptr<char[]> piece(new char[kPiece]);
    int64_t size = 0;
    std::optional<Error> failed;
    while (!failed) {
        auto n = co_await content.Read(std::span<char>(piece.get(), kPiece));
        if (!n.ok()) {
            failed = std::move(n).error();
            break;
        }
        if (*n == 0) break;
        size += static_cast<int64_t>(*n);
        if (plan.max_file_bytes != limits::kUnlimited && size > plan.max_file_bytes) {
            failed = TooLarge(plan.max_file_bytes);
        } else if (room != limits::kUnlimited && size > room) {
            failed = NoRoom(plan);
        } else {
            std::string_view bytes(piece.get(), *n);
            hash.Update(bytes);
            if (Status s = co_await writer->Write(bytes); !s.ok()) failed = std::move(s).error();
        }
    }
    if (!failed) {
        if (Status s = co_await writer->Commit(); !s.ok()) failed = std::move(s).error();
    }
    if (failed) {
        co_await writer->Abort();
        co_return std::move(*failed);
    }
    f.size = size;
    f.sha256 = hash.FinishHex();
    f.created_at = ToUnixMillis(clock_.Now());

    // The row and the tenant's bytes together; the quota is checked once more under the
    // tenant row's lock (concurrent uploads of one tenant pass here one at a time).
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto up = co_await tx.Execute("UPDATE tenants SET file_bytes = file_bytes + ? WHERE id = ?",
                                      Bind(size, scope.id()));
        if (!up.ok()) co_return std::move(up).error();
        if (plan.max_storage_bytes != limits::kUnlimited) {
            TB_CO_ASSIGN_OR_RETURN(limits::Stored stored, co_await limits::ReadStored(tx, scope));
            if (stored.bytes > plan.max_storage_bytes) co_return NoRoom(plan);
        }
        auto ins = co_await tx.Execute(
            "INSERT INTO files (id, tenant_id, name, content_type, size, sha256, created_at, "
            "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            Bind(f.id, f.tenant_id, f.name, f.content_type, f.size, f.sha256, f.created_at,
                 f.created_by));
        if (!ins.ok()) co_return std::move(ins).error();
        TB_CO_RETURN_IF_ERROR(co_await writer->Finish(tx));
        audit::Event e = who.AuditEvent("file.uploaded", f.id);
        e.details["name"] = f.name;
        e.details["size"] = f.size;
        co_return co_await audit_.Record(tx, e);
    };
    if (Status s = co_await db_.Transaction(fn); !s.ok()) {
        co_await writer->Abort();
        (void)co_await store_.Remove(scope, f.id);
        co_return std::move(s).error();
    }
    Announce(collections::DocumentChange::Kind::kCreate, f);
    co_return f;
}

void FileService::Announce(collections::DocumentChange::Kind kind, const FileInfo& f) const {
    if (!changes_) return;
    collections::DocumentChange change;
    change.kind = kind;
    change.tenant_id = f.tenant_id;
    change.collection = collections::kFilesCollection;
    change.id = f.id;
    change.version = 1;
    change.body = json::serialize(FileJson(f));
    change.created_by = f.created_by;
    std::vector<collections::DocumentChange> changes;
    changes.push_back(std::move(change));
    changes_->Published(std::move(changes));
}

Task<Result<tenancy::Page<FileInfo>>> FileService::List(const Caller& who,
                                                        const query::ListQuery& q) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    auto source = storage::ListSource::ForTenant(who.scope(), "tenant_id", kColumns, "files");
    TB_CO_ASSIGN_OR_RETURN(
        auto result, co_await storage::RunList(db_, db_.dialect(), FilesResource(), q, source));
    tenancy::Page<FileInfo> page{{}, result.total, std::move(result.next_keys)};
    page.items.reserve(result.rows.size());
    for (auto& r : result.rows.rows) page.items.push_back(FromRow(r));
    co_return page;
}

Task<Result<FileInfo>> FileService::FindIn(Session& s, const TenantScope& tenant,
                                           const std::string& id) {
    if (!IsUuid(id)) co_return FileNotFound();
    // Named, not a temporary in the co_await (GCC 12 mishandles those).
    static const std::string kSql =
        std::string("SELECT ") + kColumns + " FROM files WHERE tenant_id = ? AND id = ?";
    auto rows = co_await s.Query(kSql, Bind(tenant.id(), id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return FileNotFound();
    co_return FromRow(rows->rows[0]);
}

Task<Result<FileInfo>> FileService::Find(const TenantScope& tenant, const std::string& id) {
    co_return co_await FindIn(db_, tenant, id);
}

Task<Result<FileInfo>> FileService::Get(const Caller& who, const std::string& id) {
    TB_CO_RETURN_IF_ERROR(MayRead(who));
    co_return co_await FindIn(db_, who.scope(), id);
}

Task<Status> FileService::Delete(const Caller& who, const std::string& id) {
    if (!who.EffectiveRole()) co_return Error::NotFound("Tenant not found");
    const TenantScope& scope = who.scope();
    FileInfo gone;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_ASSIGN_OR_RETURN(FileInfo f, co_await FindIn(tx, scope, id));
        gone = f;
        TB_CO_RETURN_IF_ERROR(MayWrite(who));
        if (!who.AtLeastRole(Role::kAdmin) && f.created_by != who.user->id)
            co_return Error::Forbidden("Only admins may delete files others uploaded");
        auto del = co_await tx.Execute("DELETE FROM files WHERE tenant_id = ? AND id = ?",
                                       Bind(scope.id(), id));
        if (!del.ok()) co_return std::move(del).error();
        if (*del == 0) co_return FileNotFound();  // deleted meanwhile
        TB_CO_RETURN_IF_ERROR(co_await store_.RemoveIn(tx, scope, id));
        auto up = co_await tx.Execute("UPDATE tenants SET file_bytes = file_bytes - ? WHERE id = ?",
                                      Bind(f.size, scope.id()));
        if (!up.ok()) co_return std::move(up).error();
        audit::Event e = who.AuditEvent("file.deleted", id);
        e.details["name"] = f.name;
        e.details["size"] = f.size;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    Announce(collections::DocumentChange::Kind::kDelete, gone);
    // The row is gone (with the database store's chunks); a file left on disk by a failure
    // here is removed by the local store's sweep.
    if (Status s = co_await store_.Remove(scope, id); !s.ok()) {
        log::Warn("file content not removed", {{"file", id}, {"error", s.error().internal}});
    }
    co_return Status{};
}

Task<Result<std::unique_ptr<ByteSource>>> FileService::OpenContent(const FileInfo& file,
                                                                   uint64_t offset,
                                                                   uint64_t length) {
    co_return co_await store_.Open(TenantScope::Of(file.tenant_id), file.id, offset, length);
}

}  // namespace tb::files
