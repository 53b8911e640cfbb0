#include "collections/document_service.h"

#include "collections/collection_counters.h"
#include "collections/document_rows.h"

#include "limits/usage_store.h"
#include "query/doc_filter.h"
#include "storage/doc_sql.h"

namespace tb::collections {

using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::ListSource;
using storage::Params;
using storage::Session;
using storage::TakeText;
using storage::TenantScope;
using storage::TransactionFn;
using tenancy::Caller;
using tenancy::Role;

namespace {

Error DocumentNotFound() { return Error::NotFound("Document not found"); }

// A write that a unique index refuses.
Error UniqueViolation(Error e) {
    if (e.code != ErrorCode::kConflict) return e;
    return Error::Conflict(
        "A document with this value exists: a unique index of the collection "
        "forbids repeating it");
}

Error VersionMismatch() {
    Error e;
    e.code = ErrorCode::kPreconditionFailed;
    e.message = "The document has changed (If-Match does not match its version)";
    return e;
}

bool IsWrite(Operation op) { return op != Operation::kList && op != Operation::kRead; }

std::string Prefixed(const std::string& at, const std::string& field) {
    if (at.empty()) return field;
    return field.empty() ? at : at + "." + field;
}

// The schema's verdict, with the batch position in front of the failing path.
Status Validate(const Loaded& c, const json::object& data, const std::string& at) {
    if (!c.schema) return {};
    Status st = c.schema->Validate(data);
    if (st.ok() || at.empty()) return st;
    Error e = std::move(st).error();
    auto it = e.details.find("field");
    std::string field = it != e.details.end() && it->value().is_string()
                            ? std::string(it->value().get_string())
                            : std::string();
    e.details["field"] = Prefixed(at, field);
    return e;
}

struct Current {
    json::object data;
    int64_t version = 0, created_at = 0;
    std::string created_by;
    std::optional<std::string> org;
};

}  // namespace

DocumentService::DocumentService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                                 CollectionService& collections, DocumentSettings settings)
    : db_(db),
      ids_(ids),
      clock_(clock),
      collections_(collections),
      settings_(settings),
      combiner_([this](const std::vector<CreateCombiner::Item*>& batch) -> Task<void> {
          co_await WriteCreates(batch);
      }) {}

Task<Status> DocumentService::WriteRows(const std::vector<CreateCombiner::Item*>& items) {
    const Caller& who = *items.front()->who;
    const std::string& collection_id = *items.front()->collection_id;
    std::vector<NewRow> rows;
    int64_t bytes = 0;
    rows.reserve(items.size());
    for (const CreateCombiner::Item* item : items) {
        rows.push_back(item->row);
        bytes += item->bytes;
    }
    const auto documents = static_cast<int64_t>(rows.size());
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await CheckQuotas(tx, who, documents, bytes));
        const std::string& tenant_id = who.scope().id();
        Status inserted =
            co_await InsertDocuments(tx, db_.dialect(), tenant_id, collection_id, rows);
        if (!inserted.ok()) co_return UniqueViolation(inserted.error());
        co_return co_await Changed(tx, who.scope(), collection_id, documents, bytes);
    };
    co_return co_await db_.Transaction(fn);
}

Task<void> DocumentService::WriteCreates(const std::vector<CreateCombiner::Item*>& batch) {
    if (batch.size() > 1) {
        Status together = co_await WriteRows(batch);
        if (together.ok()) {
            for (CreateCombiner::Item* item : batch) item->result = Status{};
            co_return;
        }
    }
    // Alone: each gets the answer it would have had by itself (which one broke a unique
    // index, which one passed the quota).
    for (CreateCombiner::Item* item : batch) {
        const std::vector<CreateCombiner::Item*> one{item};
        item->result = co_await WriteRows(one);
    }
}

Task<Result<std::shared_ptr<const Loaded>>> DocumentService::Open(const Caller& who,
                                                                  const std::string& collection,
                                                                  bool write) {
    // Membership here (MayOpen); the key's scopes per operation in Decide (a write-only key
    // writes).
    if (who.anonymous) {
        // A visitor learns nothing about collections that are not open to it (API.md §13).
        TB_CO_ASSIGN_OR_RETURN(auto found, co_await collections_.Find(who.scope(), collection));
        if (!found) co_return Error::Unauthorized("Authentication required");
        co_return *found;
    }
    TB_CO_RETURN_IF_ERROR(MayOpen(who, collection));
    if (write) co_return co_await collections_.FindForWrite(who, collection);
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await collections_.Find(who.scope(), collection));
    if (!found) co_return Error::NotFound("Collection not found");
    co_return *found;
}

Status DocumentService::MayOpen(const Caller& who, const std::string& collection) {
    if (!who.EffectiveRole()) return Error::NotFound("Tenant not found");
    if (who.api_key && !who.api_key->ReachesCollection(collection))
        return Error::Forbidden("This API key cannot reach this collection");
    return {};
}

std::shared_ptr<const Loaded> DocumentService::OpenCachedForRead(const Caller& who,
                                                                 const std::string& collection) {
    // A visitor or a refusal goes through Open, which answers it.
    if (who.anonymous || !MayOpen(who, collection).ok()) return nullptr;
    return collections_.FindCached(who.scope(), collection);
}

Result<DocumentService::Reach> DocumentService::Decide(const Caller& who, const Loaded& c,
                                                       Operation op) const {
    bool write = IsWrite(op);
    if (who.api_key && !who.api_key->HasScope(write ? "write" : "read") &&
        !who.api_key->HasScope("admin")) {
        return Error::Forbidden(std::string("This API key lacks the ") +
                                (write ? "write" : "read") + " scope");
    }
    if (who.anonymous) {
        if (c.def.rules.of(op) == Rule::kPublic) return Reach{};
        return Error::Unauthorized("Authentication required");
    }
    if (who.AtLeastRole(Role::kAdmin)) return Reach{};  // tenant admins always may (§5.1)
    if (write && who.role == Role::kViewer) return Error::Forbidden("Viewers are read-only");
    switch (c.def.rules.of(op)) {
        case Rule::kPublic:
        case Rule::kMember:
            return Reach{};
        case Rule::kOwner:
            if (op == Operation::kCreate) return Reach{};
            return Reach{Reach::kOwn, who.user->id};
        case Rule::kOrg:
            return Reach{Reach::kOrgs, who.user->id};
        case Rule::kAdmin:
            break;
    }
    return Error::Forbidden("Only tenant admins may " +
                            std::string(kOperationNames[static_cast<size_t>(op)]) +
                            " documents of this collection");
}

Task<Result<DocumentService::Reach>> DocumentService::DecideOn(const Caller& who, const Loaded& c,
                                                               Operation op,
                                                               const std::string& id) {
    auto reach = Decide(who, c, op);
    if (reach.ok() || reach.error().code != ErrorCode::kForbidden) co_return reach;
    auto read = Decide(who, c, Operation::kRead);
    if (!read.ok()) co_return reach;  // nothing here is visible to the caller
    std::string sql =
        "SELECT d.version FROM documents d WHERE d.tenant_id = ? AND d.collection_id = ? AND "
        "d.id = ?";
    Params params = Bind(who.scope().id(), c.def.id, id);
    AddReach(*read, who.scope(), sql, params);
    auto rows = co_await db_.Query(sql, std::move(params));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return DocumentNotFound();
    co_return reach;
}

void DocumentService::AddReach(const Reach& reach, const TenantScope& scope, std::string& sql,
                               Params& params) {
    if (reach.kind == Reach::kOwn) {
        sql += " AND d.created_by = ?";
        params.emplace_back(reach.user_id);
    } else if (reach.kind == Reach::kOrgs) {
        sql +=
            " AND d.org_id IN (SELECT organization_id FROM organization_members WHERE tenant_id "
            "= ? AND user_id = ?)";
        params.emplace_back(scope.id());
        params.emplace_back(reach.user_id);
    }
}

Task<Status> DocumentService::Authorize(const Caller& who, const std::string& collection,
                                        Operation op, const std::string& id) {
    if (!who.EffectiveRole() && !who.anonymous) co_return Error::NotFound("Tenant not found");
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await collections_.Find(who.scope(), collection));
    if (!found && who.anonymous) co_return Error::Unauthorized("Authentication required");
    if (!found) {
        if (op == Operation::kCreate && collections_.MayAutoCreate(who)) co_return Status{};
        co_return Error::NotFound("Collection not found");
    }
    TB_CO_ASSIGN_OR_RETURN(auto c, co_await Open(who, collection, false));
    if (id.empty()) {
        TB_CO_RETURN_IF_ERROR(Decide(who, *c, op));
        co_return Status{};
    }
    TB_CO_ASSIGN_OR_RETURN(Reach reach, co_await DecideOn(who, *c, op, id));
    std::string sql =
        "SELECT d.version FROM documents d WHERE d.tenant_id = ? AND d.collection_id = ? AND "
        "d.id = ?";
    Params params = Bind(who.scope().id(), c->def.id, id);
    AddReach(reach, who.scope(), sql, params);
    auto rows = co_await db_.Query(sql, std::move(params));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return DocumentNotFound();
    co_return Status{};
}

Task<Status> DocumentService::CheckOrg(Session& s, const Caller& who,
                                       const std::optional<std::string>& org,
                                       const std::string& at) {
    if (!org) co_return Status{};
    auto rows = co_await s.Query("SELECT id FROM organizations WHERE tenant_id = ? AND id = ?",
                                 Bind(who.scope().id(), *org));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty())
        co_return Error::Validation(Prefixed(at, "_org"), "No such organization in this tenant");
    co_return Status{};
}

Task<Result<StoredDocument>> DocumentService::Get(const Caller& who, const std::string& collection,
                                                  const std::string& id) {
    std::shared_ptr<const Loaded> c = OpenCachedForRead(who, collection);
    if (!c) {
        TB_CO_ASSIGN_OR_RETURN(c, co_await Open(who, collection, false));
    }
    TB_CO_ASSIGN_OR_RETURN(Reach reach, Decide(who, *c, Operation::kRead));
    std::string sql =
        "SELECT d.body, d.version FROM documents d WHERE d.tenant_id = ? AND d.collection_id = ? "
        "AND d.id = ?";
    Params params = Bind(who.scope().id(), c->def.id, id);
    AddReach(reach, who.scope(), sql, params);
    auto rows = co_await db_.Query(sql, std::move(params));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return DocumentNotFound();
    co_return StoredDocument{id, AsInt(rows->rows[0][1]), TakeText(rows->rows[0][0])};
}

Task<Result<DocumentPage>> DocumentService::List(const Caller& who, const std::string& collection,
                                                 const query::ListQuery& q) {
    std::shared_ptr<const Loaded> c = OpenCachedForRead(who, collection);
    if (!c) {
        TB_CO_ASSIGN_OR_RETURN(c, co_await Open(who, collection, false));
    }
    TB_CO_ASSIGN_OR_RETURN(Reach reach, Decide(who, *c, Operation::kList));
    ListSource source = ListSource::ForTenant(who.scope(), "d.tenant_id", "d.body", "documents d");
    if (auto literal = storage::CollectionTerm(c->def.id)) {
        source.scope += " AND " + *literal;  // so that the collection's partial indexes apply
    } else {
        source.scope += " AND d.collection_id = ?";
        source.params.emplace_back(c->def.id);
    }
    AddReach(reach, who.scope(), source.scope, source.params);
    bool filtered = false;
    if (auto it = q.extra.find("q"); it != q.extra.end()) {
        TB_CO_ASSIGN_OR_RETURN(query::DocFilter filter, query::ParseDocFilter(it->second));
        source.scope += " AND " + storage::CompileDocFilter(db_.dialect(), filter, source.params);
        filtered = true;
    }
    if (!q.path_filters.empty()) {
        TB_CO_ASSIGN_OR_RETURN(query::DocFilter filter, query::DocFilterFromParams(q.path_filters));
        source.scope += " AND " + storage::CompileDocFilter(db_.dialect(), filter, source.params);
        filtered = true;
    }
    if (q.text_search) {
        TB_CO_ASSIGN_OR_RETURN(query::DocFilter filter, query::TextSearchFilter(*q.text_search));
        source.scope += " AND " + storage::CompileDocFilter(db_.dialect(), filter, source.params);
        filtered = true;
    }
    if (reach.kind == Reach::kAll && !filtered) {
        // Unfiltered, the total is the collection's counter, not a count of every row.
        source.unfiltered_count = kDocumentCountSql;
        source.unfiltered_count_params = Bind(who.scope().id(), c->def.id);
    }
    source.count_cache = &counts_;
    source.count_version = kWriteSequenceSql;
    source.count_version_params = Bind(who.scope().id(), c->def.id);
    auto result = co_await storage::RunList(db_, db_.dialect(), DocumentsResource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    DocumentPage page{{}, result->total, std::move(result->next_keys)};
    page.items.reserve(result->rows.rows.size());
    for (auto& r : result->rows.rows) page.items.push_back(TakeText(r[0]));
    co_return page;
}

// Every document write ends here, in its own transaction: the collection's counters move by
// the write's documents and bytes, and its write sequence (the version cached list totals are
// filed under, storage/count_cache.h) moves by one, so no write path can leave a stale total.
Task<Status> DocumentService::Changed(Session& tx, const storage::TenantScope& scope,
                                      const std::string& collection_id, int64_t documents,
                                      int64_t bytes) {
    co_return co_await AddToCounters(tx, scope.id(), collection_id, documents, bytes);
}

// The tenant's documents and their bytes, against its plan (API.md §8): QUOTA_EXCEEDED when
// adding `documents` and `bytes` would pass a limit. Read in the write's transaction; the
// counts are those kept by every write (collection_counters.h).
Task<Status> DocumentService::CheckQuotas(Session& tx, const Caller& who, int64_t documents,
                                          int64_t bytes) {
    if (!settings_.plans || (documents <= 0 && bytes <= 0)) co_return Status{};
    const limits::Plan& plan = settings_.plans->Get(who.plan);
    if (plan.max_documents == limits::kUnlimited && plan.max_storage_bytes == limits::kUnlimited)
        co_return Status{};
    TB_CO_ASSIGN_OR_RETURN(limits::Stored stored, co_await limits::ReadStored(tx, who.scope()));
    TB_CO_RETURN_IF_ERROR(limits::CheckQuota(plan.max_documents, stored.documents, documents,
                                             "max_documents", "documents"));
    co_return limits::CheckQuota(plan.max_storage_bytes, stored.bytes, bytes, "max_storage_bytes",
                                 "bytes stored");
}

Task<Result<std::vector<StoredDocument>>> DocumentService::Create(const Caller& who,
                                                                  const std::string& collection,
                                                                  std::vector<json::object> bodies,
                                                                  bool at_positions) {
    if (bodies.size() > settings_.max_batch) {
        Error e;
        e.code = ErrorCode::kPayloadTooLarge;
        e.message = "A batch holds at most " + std::to_string(settings_.max_batch) + " documents";
        co_return e;
    }
    if (bodies.empty()) co_return Error::Validation("", "A batch needs at least one document");
    TB_CO_ASSIGN_OR_RETURN(auto c, co_await Open(who, collection, true));
    TB_CO_ASSIGN_OR_RETURN(Reach reach, Decide(who, *c, Operation::kCreate));
    bool org_rule =
        c->def.rules.of(Operation::kCreate) == Rule::kOrg && !who.AtLeastRole(Role::kAdmin);
    int64_t now = Now();
    std::vector<StoredDocument> out;
    std::vector<std::optional<std::string>> orgs;
    out.reserve(bodies.size());
    for (size_t i = 0; i < bodies.size(); ++i) {
        std::string at = at_positions ? std::to_string(i) : std::string();
        TB_CO_ASSIGN_OR_RETURN(ClientBody body, TakeClientBody(std::move(bodies[i]), at));
        TB_CO_RETURN_IF_ERROR(Validate(*c, body.data, at));
        SystemFields sys;
        sys.id = ids_.Next();
        sys.created_at = sys.changed_at = now;
        sys.created_by = sys.changed_by = who.user->id;
        sys.org = body.org ? *body.org : std::nullopt;
        if (org_rule && !sys.org)
            co_return Error::Validation(Prefixed(at, "_org"),
                                        "This collection needs _org: one of your organizations");
        TB_CO_ASSIGN_OR_RETURN(std::string text,
                               RenderDocument(body.data, sys, settings_.limits, at));
        out.push_back({sys.id, 1, std::move(text)});
        orgs.push_back(sys.org);
    }
    (void)reach;
    int64_t bytes = 0;
    for (const StoredDocument& d : out) bytes += static_cast<int64_t>(d.body.size());
    std::vector<NewRow> rows;
    rows.reserve(out.size());
    for (size_t i = 0; i < out.size(); ++i)
        rows.push_back({&out[i].id, &out[i].body, &orgs[i], &who.user->id, now});
    auto announce = [&] {
        if (!changes_) return;
        std::vector<DocumentChange> created;
        created.reserve(out.size());
        for (size_t i = 0; i < out.size(); ++i)
            created.push_back({DocumentChange::Kind::kCreate, who.scope().id(), c->def.name,
                               out[i].id, 1, out[i].body, who.user->id, orgs[i]});
        Publish(std::move(created));
    };
    if (settings_.combine_creates && out.size() == 1 && !orgs[0]) {
        CreateCombiner::Item item{rows[0], bytes, &who, &c->def.id, Status{}};
        const std::string key = who.scope().id() + "/" + c->def.id;
        TB_CO_RETURN_IF_ERROR(co_await combiner_.Write(key, item));
        announce();
        co_return out;
    }
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(
            co_await CheckQuotas(tx, who, static_cast<int64_t>(out.size()), bytes));
        for (size_t i = 0; i < out.size(); ++i) {
            if (orgs[i] && (i == 0 || orgs[i] != orgs[i - 1])) {
                // Named, not a temporary: GCC 12 destroys temporaries in co_await
                // expressions twice.
                const std::string at = at_positions ? std::to_string(i) : std::string();
                TB_CO_RETURN_IF_ERROR(co_await CheckOrg(tx, who, orgs[i], at));
                if (org_rule) {
                    auto member = co_await tx.Query(
                        "SELECT 1 FROM organization_members WHERE tenant_id = ? AND "
                        "organization_id = ? AND user_id = ?",
                        Bind(who.scope().id(), *orgs[i], who.user->id));
                    if (!member.ok()) co_return std::move(member).error();
                    if (member->empty())
                        co_return Error::Forbidden("You are not a member of this organization");
                }
            }
        }
        const std::string& tenant_id = who.scope().id();
        Status inserted = co_await InsertDocuments(tx, db_.dialect(), tenant_id, c->def.id, rows);
        if (!inserted.ok()) co_return UniqueViolation(inserted.error());
        co_return co_await Changed(tx, who.scope(), c->def.id, static_cast<int64_t>(out.size()),
                                   bytes);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    announce();
    co_return out;
}

Task<Result<StoredDocument>> DocumentService::Rewrite(const Caller& who,
                                                      const std::string& collection,
                                                      const std::string& id,
                                                      const json::value* replacement,
                                                      const json::value* patch,
                                                      std::optional<int64_t> expected_version) {
    TB_CO_ASSIGN_OR_RETURN(auto c, co_await Open(who, collection, false));
    TB_CO_ASSIGN_OR_RETURN(Reach reach, co_await DecideOn(who, *c, Operation::kUpdate, id));
    bool org_rule =
        c->def.rules.of(Operation::kUpdate) == Rule::kOrg && !who.AtLeastRole(Role::kAdmin);
    // The request's own part, checked before the current document is read.
    const json::value& sent = replacement ? *replacement : *patch;
    if (!sent.is_object())
        co_return Error::Validation("", "A document (or a merge patch of one) is a JSON object");
    TB_CO_ASSIGN_OR_RETURN(ClientBody body, TakeClientBody(sent.get_object()));
    StoredDocument out;
    std::string owner;               // of the document written, for its announcement
    std::optional<std::string> org;  // likewise
    for (int attempt = 0;; ++attempt) {
        bool lost_race = false;
        const TransactionFn fn = [&](Session& tx) -> Task<Status> {
            lost_race = false;  // set by this run only: a transaction may run again
            std::string sql =
                "SELECT d.body, d.version, d.created_at, d.created_by, d.org_id, d.size FROM "
                "documents d WHERE d.tenant_id = ? AND d.collection_id = ? AND d.id = ?";
            Params params = Bind(who.scope().id(), c->def.id, id);
            AddReach(reach, who.scope(), sql, params);
            // Locked (PostgreSQL): concurrent writers of one document queue here and each reads
            // the version the one before it wrote, instead of racing to the UPDATE and reading
            // again (three clients PUTting one document across two nodes lost nine races in a
            // row and got 409 now and then). The version check below stays.
            sql += db_.dialect().ExclusiveRowLock();
            auto rows = co_await tx.Query(sql, std::move(params));
            if (!rows.ok()) co_return std::move(rows).error();
            if (rows->empty()) co_return DocumentNotFound();
            const auto& r = rows->rows[0];
            Current cur;
            cur.version = AsInt(r[1]);
            if (expected_version && *expected_version != cur.version) co_return VersionMismatch();
            cur.created_at = AsInt(r[2]);
            cur.created_by = AsText(r[3]);
            if (!IsNull(r[4])) cur.org = AsText(r[4]);
            int64_t old_size = AsInt(r[5]);
            json::object data;
            if (replacement) {
                data = body.data;
            } else {
                TB_CO_ASSIGN_OR_RETURN(json::value stored,
                                       ParseStoredJson(AsText(r[0]), {.max_depth = 256}));
                json::value merged = MergePatch(json::value(ClientFields(stored.get_object())),
                                                json::value(body.data));
                data = std::move(merged.as_object());
            }
            TB_CO_RETURN_IF_ERROR(Validate(*c, data, ""));
            SystemFields sys;
            sys.id = id;
            sys.created_at = cur.created_at;
            sys.created_by = cur.created_by;
            sys.changed_at = Now();
            sys.changed_by = who.user->id;
            sys.version = cur.version + 1;
            sys.org = body.org ? *body.org : cur.org;
            if (sys.org != cur.org) {
                const std::string root;
                TB_CO_RETURN_IF_ERROR(co_await CheckOrg(tx, who, sys.org, root));
                if (org_rule) {
                    if (!sys.org) co_return Error::Validation("_org", "This collection needs _org");
                    auto member = co_await tx.Query(
                        "SELECT 1 FROM organization_members WHERE tenant_id = ? AND "
                        "organization_id = ? AND user_id = ?",
                        Bind(who.scope().id(), *sys.org, who.user->id));
                    if (!member.ok()) co_return std::move(member).error();
                    if (member->empty())
                        co_return Error::Forbidden("You are not a member of this organization");
                }
            }
            TB_CO_ASSIGN_OR_RETURN(out.body, RenderDocument(data, sys, settings_.limits));
            out.id = id;
            out.version = sys.version;
            owner = sys.created_by;
            org = sys.org;
            storage::Value org = sys.org ? storage::Value{*sys.org} : storage::Value{};
            storage::Value by =
                who.user->id.empty() ? storage::Value{} : storage::Value{who.user->id};
            int64_t grown = static_cast<int64_t>(out.body.size()) - old_size;
            TB_CO_RETURN_IF_ERROR(co_await CheckQuotas(tx, who, 0, grown));
            auto n = co_await tx.Execute(
                "UPDATE documents SET body = ?, version = ?, changed_at = ?, changed_by = ?, "
                "org_id = ?, size = ? WHERE tenant_id = ? AND collection_id = ? AND id = ? AND "
                "version = ?",
                Bind(out.body, sys.version, sys.changed_at, by, org,
                     static_cast<int64_t>(out.body.size()), who.scope().id(), c->def.id, id,
                     cur.version));
            if (!n.ok()) co_return UniqueViolation(std::move(n).error());
            if (*n == 0) {
                // Another write came between the read and this update (PostgreSQL).
                if (expected_version) co_return VersionMismatch();
                lost_race = true;
                co_return Status{};
            }
            co_return co_await Changed(tx, who.scope(), c->def.id, 0, grown);
        };
        TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
        if (!lost_race) {
            if (changes_) {
                std::vector<DocumentChange> updated;
                updated.push_back({DocumentChange::Kind::kUpdate, who.scope().id(), c->def.name, id,
                                   out.version, out.body, owner, org});
                Publish(std::move(updated));
            }
            co_return out;
        }
        if (attempt >= 8) co_return Error::Conflict("The document is changing too fast; retry");
    }
}

Task<Result<StoredDocument>> DocumentService::Replace(const Caller& who,
                                                      const std::string& collection,
                                                      const std::string& id, json::object body,
                                                      std::optional<int64_t> expected_version) {
    json::value v(std::move(body));
    co_return co_await Rewrite(who, collection, id, &v, nullptr, expected_version);
}

Task<Result<StoredDocument>> DocumentService::Patch(const Caller& who,
                                                    const std::string& collection,
                                                    const std::string& id, json::value patch,
                                                    std::optional<int64_t> expected_version) {
    co_return co_await Rewrite(who, collection, id, nullptr, &patch, expected_version);
}

Task<Status> DocumentService::Delete(const Caller& who, const std::string& collection,
                                     const std::string& id,
                                     std::optional<int64_t> expected_version) {
    TB_CO_ASSIGN_OR_RETURN(auto c, co_await Open(who, collection, false));
    TB_CO_ASSIGN_OR_RETURN(Reach reach, co_await DecideOn(who, *c, Operation::kDelete, id));
    DocumentChange gone{DocumentChange::Kind::kDelete, who.scope().id(), c->def.name, id};
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        std::string sql =
            "SELECT d.version, d.size, d.body, d.created_by, d.org_id FROM documents d WHERE "
            "d.tenant_id = ? AND d.collection_id = ? AND d.id = ?";
        Params params = Bind(who.scope().id(), c->def.id, id);
        AddReach(reach, who.scope(), sql, params);
        auto rows = co_await tx.Query(sql, std::move(params));
        if (!rows.ok()) co_return std::move(rows).error();
        if (rows->empty()) co_return DocumentNotFound();
        const auto& row = rows->rows[0];
        int64_t version = AsInt(row[0]);
        int64_t size = AsInt(row[1]);
        if (expected_version && *expected_version != version) co_return VersionMismatch();
        gone.version = version;
        gone.body = AsText(row[2]);
        gone.created_by = IsNull(row[3]) ? std::string() : AsText(row[3]);
        gone.org = IsNull(row[4]) ? std::nullopt : std::optional<std::string>(AsText(row[4]));
        std::string del =
            "DELETE FROM documents WHERE tenant_id = ? AND collection_id = ? AND id = ?";
        Params del_params = Bind(who.scope().id(), c->def.id, id);
        if (expected_version) {
            // Atomic with the check above on PostgreSQL too: the row must still be that version.
            del += " AND version = ?";
            del_params.emplace_back(version);
        }
        auto n = co_await tx.Execute(del, std::move(del_params));
        if (!n.ok()) co_return std::move(n).error();
        if (*n == 0) co_return expected_version ? VersionMismatch() : DocumentNotFound();
        co_return co_await Changed(tx, who.scope(), c->def.id, -1, -size);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (changes_) {
        std::vector<DocumentChange> deleted;
        deleted.push_back(std::move(gone));
        Publish(std::move(deleted));
    }
    co_return Status{};
}

Task<Result<int64_t>> DocumentService::DeleteMatching(const Caller& who,
                                                      const std::string& collection,
                                                      const json::value& q) {
    TB_CO_ASSIGN_OR_RETURN(auto c, co_await Open(who, collection, false));
    TB_CO_ASSIGN_OR_RETURN(Reach reach, Decide(who, *c, Operation::kDelete));
    if (!who.AtLeastRole(Role::kAdmin))
        co_return Error::Forbidden("Bulk delete needs the admin or owner role");
    TB_CO_ASSIGN_OR_RETURN(query::DocFilter filter, query::DocFilterFromJson(q));
    int64_t deleted = 0;
    std::vector<DocumentChange> gone;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        gone.clear();  // a transaction may run again
        std::string sql =
            "DELETE FROM documents WHERE tenant_id = ? AND collection_id = ? AND id IN "
            "(SELECT d.id FROM documents d WHERE d.tenant_id = ? AND d.collection_id = ?";
        Params params = Bind(who.scope().id(), c->def.id, who.scope().id(), c->def.id);
        AddReach(reach, who.scope(), sql, params);
        sql += " AND " + storage::CompileDocFilter(db_.dialect(), filter, params) +
               ") RETURNING size, id, version, body, created_by, org_id";
        auto rows = co_await tx.Query(sql, std::move(params));
        if (!rows.ok()) co_return std::move(rows).error();
        deleted = static_cast<int64_t>(rows->size());
        int64_t bytes = 0;
        for (const auto& r : rows->rows) {
            bytes += AsInt(r[0]);
            if (!changes_) continue;
            gone.push_back(
                {DocumentChange::Kind::kDelete, who.scope().id(), c->def.name, AsText(r[1]),
                 AsInt(r[2]), AsText(r[3]), IsNull(r[4]) ? std::string() : AsText(r[4]),
                 IsNull(r[5]) ? std::nullopt : std::optional<std::string>(AsText(r[5]))});
        }
        co_return co_await Changed(tx, who.scope(), c->def.id, -deleted, -bytes);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (!gone.empty()) Publish(std::move(gone));
    co_return deleted;
}

Task<bool> DocumentService::MayRead(const Caller& who, const std::string& collection,
                                    const std::string& created_by,
                                    const std::optional<std::string>& org) {
    std::shared_ptr<const Loaded> c = OpenCachedForRead(who, collection);
    if (!c) {
        auto opened = co_await Open(who, collection, false);
        if (!opened.ok()) co_return false;
        c = std::move(*opened);
    }
    auto reach = Decide(who, *c, Operation::kRead);
    if (!reach.ok()) co_return false;
    switch (reach->kind) {
        case Reach::kAll:
            co_return true;
        case Reach::kOwn:
            co_return !created_by.empty() && created_by == reach->user_id;
        case Reach::kOrgs: {
            if (!org) co_return false;
            Params params = Bind(who.scope().id(), *org, reach->user_id);  // named (GCC 12)
            auto member = co_await db_.Query(
                "SELECT 1 FROM organization_members WHERE tenant_id = ? AND organization_id = ? "
                "AND user_id = ?",
                std::move(params));
            co_return member.ok() && !member->empty();
        }
    }
    co_return false;
}

Task<Result<std::vector<DocumentChange>>> DocumentService::Reload(
    const storage::TenantScope& scope, const std::string& collection_id,
    const std::string& collection, const std::vector<std::string>& ids) {
    std::vector<DocumentChange> out;
    if (ids.empty()) co_return out;
    std::string sql =
        "SELECT id, version, body, created_by, org_id FROM documents WHERE tenant_id = ? AND "
        "collection_id = ? AND id IN (";
    Params params = Bind(scope.id(), collection_id);
    for (size_t i = 0; i < ids.size(); ++i) {
        sql += i ? ",?" : "?";
        params.emplace_back(ids[i]);
    }
    sql += ')';
    auto rows = co_await db_.Query(sql, std::move(params));
    if (!rows.ok()) co_return std::move(rows).error();
    out.reserve(rows->rows.size());
    for (auto& row : rows->rows) {
        DocumentChange d;
        d.kind = DocumentChange::Kind::kUpdate;
        d.tenant_id = scope.id();
        d.collection = collection;
        d.id = TakeText(row[0]);
        d.version = AsInt(row[1]);
        d.body = TakeText(row[2]);
        d.created_by = AsText(row[3]);
        if (!storage::IsNull(row[4])) d.org = TakeText(row[4]);
        out.push_back(std::move(d));
    }
    co_return out;
}

void DocumentService::Publish(std::vector<DocumentChange> changes) const {
    if (changes_ && !changes.empty()) changes_->Published(std::move(changes));
}

}  // namespace tb::collections
