#pragma once
// Documents of a collection (API.md §5.2, §5.4): create (one or a batch, all or nothing),
// read, list, replace, merge-patch and delete, with system fields, versions and the
// collection's rules and schema.
//
// Invariants:
//  1. Every statement is scoped by tenant_id and collection_id.
//  2. Rules are filter terms of the statement itself (owner: created_by; org: the caller's
//     organizations), so a document the caller may not see is answered exactly like a missing
//     one (404) and lists, totals and cursors never count it.
//  3. `_version` grows by one per write; a write with an expected version changes the row only
//     if it still has that version (412 otherwise), in one statement.
//  4. The collection's counters of documents and bytes (the sum of documents.size, the bytes
//     of each stored body; collection_counters.h) change in the transaction of every write;
//     they bound the plan's
//     quotas (checked in that transaction; on PostgreSQL two concurrent writes to different
//     collections may both pass at the last free slot).
//
// Thread safety: stateless beyond its collaborators; all methods may run concurrently.

#include <optional>
#include <string>
#include <vector>

#include "collections/collection_service.h"
#include "collections/create_combiner.h"
#include "collections/document.h"
#include "collections/document_changes.h"
#include "collections/documents_resource.h"
#include "limits/plans.h"
#include "storage/count_cache.h"

namespace tb::collections {

struct StoredDocument {
    std::string id;
    int64_t version = 0;
    std::string body;  // the JSON text served
};

struct DocumentPage {
    std::vector<std::string> items;  // JSON texts
    std::optional<int64_t> total;
    std::optional<std::vector<query::Literal>> next_keys;
};

struct DocumentSettings {
    DocumentLimits limits;
    size_t max_batch = 1000;
    // The plans whose max_documents and max_storage_bytes bound writes (none without one).
    const limits::PlanCatalog* plans = nullptr;
    // Concurrent single-document creates in one collection share a transaction
    // (create_combiner.h): on PostgreSQL, where each transaction costs the database a commit.
    bool combine_creates = false;
};

class DocumentService {
  public:
    DocumentService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                    CollectionService& collections, DocumentSettings settings);

    Task<Result<StoredDocument>> Get(const tenancy::Caller& who, const std::string& collection,
                                     const std::string& id);
    Task<Result<DocumentPage>> List(const tenancy::Caller& who, const std::string& collection,
                                    const query::ListQuery& q);
    // `at_positions`: a batch, whose error paths start with the item's position.
    Task<Result<std::vector<StoredDocument>>> Create(const tenancy::Caller& who,
                                                     const std::string& collection,
                                                     std::vector<json::object> bodies,
                                                     bool at_positions);
    // expected_version: If-Match (nullopt: none or `*`).
    Task<Result<StoredDocument>> Replace(const tenancy::Caller& who, const std::string& collection,
                                         const std::string& id, json::object body,
                                         std::optional<int64_t> expected_version);
    Task<Result<StoredDocument>> Patch(const tenancy::Caller& who, const std::string& collection,
                                       const std::string& id, json::value patch,
                                       std::optional<int64_t> expected_version);
    Task<Status> Delete(const tenancy::Caller& who, const std::string& collection,
                        const std::string& id, std::optional<int64_t> expected_version);
    // Bulk delete by query (admin+; a key needs write): every document matching `q` the caller
    // may delete, in one transaction. Returns how many.
    Task<Result<int64_t>> DeleteMatching(const tenancy::Caller& who, const std::string& collection,
                                         const json::value& q);

    // Whether `who` may read a document of `collection` owned by `created_by` ("" for none) in
    // `org`: the collection's read rule and the key's scopes, as Get applies them. False for a
    // collection `who` cannot open. Realtime events are sent only where this holds.
    Task<bool> MayRead(const tenancy::Caller& who, const std::string& collection,
                       const std::string& created_by, const std::optional<std::string>& org);
    // The current rows of these documents of a collection (by its id; `collection` its name),
    // as changes of kind kUpdate, for what another node wrote (realtime/cluster_relay.h): what
    // no longer exists is left out. No rule applies: the realtime hub applies each reader's.
    Task<Result<std::vector<DocumentChange>>> Reload(const storage::TenantScope& scope,
                                                     const std::string& collection_id,
                                                     const std::string& collection,
                                                     const std::vector<std::string>& ids);
    // Where committed writes are announced (realtime); none by default. Set once, before
    // serving.
    void SetChangeSink(DocumentChangeSink* sink) { changes_ = sink; }

    // The access checks of an operation alone — 404 for an invisible collection or document,
    // then 403 — so that a handler answers them before a body error (API.md §13 "Precedence
    // of errors"). Writes nothing. `id` empty: no document.
    Task<Status> Authorize(const tenancy::Caller& who, const std::string& collection, Operation op,
                           const std::string& id = "");

  private:
    // How far a caller reaches in a collection for one operation.
    struct Reach {
        enum Kind { kAll, kOwn, kOrgs } kind = kAll;
        std::string user_id;  // kOwn / kOrgs
    };
    Task<Result<std::shared_ptr<const Loaded>>> Open(const tenancy::Caller& who,
                                                     const std::string& collection, bool write);
    // Open's refusals of a member or a key (not a visitor): no role in the tenant (404), a
    // key restricted to other collections (403).
    static Status MayOpen(const tenancy::Caller& who, const std::string& collection);
    // Open's common case without a coroutine: a member's (or a key's) read of a collection
    // the cache holds. Null: ask Open, which also gives every refusal its answer.
    std::shared_ptr<const Loaded> OpenCachedForRead(const tenancy::Caller& who,
                                                    const std::string& collection);
    Result<Reach> Decide(const tenancy::Caller& who, const Loaded& c, Operation op) const;
    // Decide for an operation on one document: a refused write of a document the caller may
    // read but that does not exist (another tenant's id, say) answers 404, not 403 — whether
    // a document exists is settled before whether the caller may change it (API.md §13
    // "Precedence of errors").
    Task<Result<Reach>> DecideOn(const tenancy::Caller& who, const Loaded& c, Operation op,
                                 const std::string& id);
    // The SQL terms of a reach (after "WHERE tenant_id = ? AND collection_id = ?").
    static void AddReach(const Reach& reach, const storage::TenantScope& scope, std::string& sql,
                         storage::Params& params);
    // The plan's document and storage quotas for a write adding these (402 past them).
    Task<Status> CheckQuotas(storage::Session& tx, const tenancy::Caller& who, int64_t documents,
                             int64_t bytes);
    // Moves the collection's document count, stored bytes and write sequence for one write.
    Task<Status> Changed(storage::Session& tx, const storage::TenantScope& scope,
                         const std::string& collection_id, int64_t documents, int64_t bytes);
    // `_org` names an organization of the tenant (422 on `<at>._org` otherwise).
    Task<Status> CheckOrg(storage::Session& s, const tenancy::Caller& who,
                          const std::optional<std::string>& org, const std::string& at);
    Task<Result<StoredDocument>> Rewrite(const tenancy::Caller& who, const std::string& collection,
                                         const std::string& id, const json::value* replacement,
                                         const json::value* patch,
                                         std::optional<int64_t> expected_version);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }
    // One transaction writing the items' documents (one tenant and collection): the quotas
    // for all of them, the rows, the counters.
    Task<Status> WriteRows(const std::vector<CreateCombiner::Item*>& items);
    // CreateCombiner's write: the batch together, or, when that fails, each item alone.
    Task<void> WriteCreates(const std::vector<CreateCombiner::Item*>& batch);

    storage::Database& db_;
    IdGenerator& ids_;
    const Clock& clock_;
    CollectionService& collections_;
    DocumentSettings settings_;
    // Announces committed writes to the sink, if any.
    void Publish(std::vector<DocumentChange> changes) const;

    DocumentChangeSink* changes_ = nullptr;
    storage::CountCache counts_;  // filtered list totals by the collection's write sequence
    CreateCombiner combiner_;
};

}  // namespace tb::collections
