#pragma once
// Collections of a tenant (API.md §5.1): create, list, get, replace their definition, drop,
// the meta data view (GET /v1/meta), and the lookup every document request starts with.
//
// Invariants:
//  1. Every statement is scoped by the caller's tenant; another tenant's collection of the
//     same name is a different row, invisible (404).
//  2. A collection's document count (collection_counters.h) changes in the transaction of every
//     document write.
//  3. A definition is cached per node for at most `cache` (common/cache_lifetime.h); a change on
//  this node drops it
//     at once (the "collection" topic of the invalidation bus).
//
// Thread safety: all methods may run concurrently; the cache locks mu_.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "audit/audit_log.h"
#include "collections/collection.h"
#include "collections/document_indexes.h"
#include "collections/schema.h"
#include "common/cache_lifetime.h"
#include "common/invalidation.h"
#include "query/list_query.h"
#include "storage/database.h"
#include "tenancy/caller.h"
#include "tenancy/tenant_service.h"

namespace tb::collections {

struct CollectionSettings {
    bool auto_create = true;  // a write to an unknown collection creates it (admin+)
    CacheLifetime cache;      // how long a definition is trusted
};

// A collection's definition with its compiled schema (shared by concurrent requests).
struct Loaded {
    Collection def;
    std::shared_ptr<const Schema> schema;  // null: no schema
};

struct NewCollection {
    std::string name;
    json::value schema, indexes, rules;  // null: none / defaults
};

// PUT: the fields sent replace the current ones.
struct CollectionPatch {
    std::optional<json::value> schema, indexes, rules;
};

const query::Resource& CollectionsResource();

class CollectionService {
  public:
    CollectionService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                      audit::AuditLog& audit, InvalidationBus& bus, CollectionSettings settings);

    Task<Result<tenancy::Page<Collection>>> List(const tenancy::Caller& who,
                                                 const query::ListQuery& q);
    Task<Result<Collection>> Create(const tenancy::Caller& who, NewCollection in);
    Task<Result<Collection>> Get(const tenancy::Caller& who, const std::string& name);
    Task<Result<Collection>> Update(const tenancy::Caller& who, const std::string& name,
                                    CollectionPatch patch);
    Task<Status> Delete(const tenancy::Caller& who, const std::string& name);
    // Every collection with its schema and the fields seen in its newest documents.
    Task<Result<json::array>> Meta(const tenancy::Caller& who);

    // For document requests: the collection in the caller's tenant (nullopt: none).
    Task<Result<std::optional<std::shared_ptr<const Loaded>>>> Find(
        const storage::TenantScope& scope, const std::string& name);
    // Find's answer when the cache holds it, without a coroutine (the common case of a
    // document request); null: ask Find.
    std::shared_ptr<const Loaded> FindCached(const storage::TenantScope& scope,
                                             std::string_view name);
    // As Find; a missing collection is created when auto_create is on and the caller may
    // manage collections (else 404).
    Task<Result<std::shared_ptr<const Loaded>>> FindForWrite(const tenancy::Caller& who,
                                                             const std::string& name);

    // A tenant's deletion removes its collections' rows with it (tenancy::TenantService); the
    // SQL indexes behind them are not rows. The caller reads the ids before the deletion and
    // drops the indexes after it succeeded.
    Task<Result<std::vector<std::string>>> CollectionIds(const storage::TenantScope& scope);
    Task<Status> DropIndexes(const std::vector<std::string>& collection_ids);

    // Whether a write by this caller would create a missing collection.
    bool MayAutoCreate(const tenancy::Caller& who) const {
        return settings_.auto_create && who.CanManage().ok();
    }

  private:
    Task<Result<std::optional<Collection>>> Read(storage::Session& s,
                                                 const storage::TenantScope& scope,
                                                 const std::string& name);
    Task<Result<Collection>> Insert(const tenancy::Caller& who, NewCollection in);
    void Forget(const storage::TenantScope& scope, const std::string& name);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }

    storage::Database& db_;
    DocumentIndexes indexes_{db_};
    IdGenerator& ids_;
    const Clock& clock_;
    audit::AuditLog& audit_;
    InvalidationBus& bus_;
    CollectionSettings settings_;
    std::mutex mu_;
    // tenant id + '/' + name -> (definition, fetched at ms); guarded by mu_
    std::unordered_map<std::string, std::pair<std::shared_ptr<const Loaded>, int64_t>> cache_;
};

}  // namespace tb::collections
