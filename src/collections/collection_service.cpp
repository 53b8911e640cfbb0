#include "collections/collection_service.h"

#include "collections/collection_counters.h"

#include <map>
#include <set>

namespace tb::collections {

using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::ListSource;
using storage::Session;
using storage::TenantScope;
using storage::TransactionFn;
using tenancy::Caller;

namespace {

// The columns FromRow reads, of the row aliased `c`.
const std::string& Columns() {
    static const std::string columns = std::string("c.id, c.name, c.schema, c.indexes, c.rules, ") +
                                       kDocumentCountOfRow + ", c.created_at, c.updated_at";
    return columns;
}

Error CollectionNotFound() { return Error::NotFound("Collection not found"); }

Result<Collection> FromRow(const std::vector<storage::Value>& r) {
    Collection c;
    c.id = AsText(r[0]);
    c.name = AsText(r[1]);
    if (!IsNull(r[2])) {
        TB_ASSIGN_OR_RETURN(json::value schema, ParseStoredJson(AsText(r[2])));
        c.schema = std::move(schema);
    }
    TB_ASSIGN_OR_RETURN(json::value indexes, ParseStoredJson(AsText(r[3])));
    TB_ASSIGN_OR_RETURN(c.indexes, ParseIndexes(indexes));
    TB_ASSIGN_OR_RETURN(json::value rules, ParseStoredJson(AsText(r[4])));
    TB_ASSIGN_OR_RETURN(c.rules, ParseRules(rules));
    c.document_count = AsInt(r[5]);
    c.created_at = AsInt(r[6]);
    c.updated_at = AsInt(r[7]);
    return c;
}

// The checked parts of a definition, as stored.
struct Definition {
    storage::Value schema;  // JSON text or NULL
    std::string indexes, rules;
};

Result<Definition> CheckDefinition(const json::value& schema, const json::value& indexes,
                                   const json::value& rules) {
    Definition d;
    if (!schema.is_null()) {
        TB_RETURN_IF_ERROR(Schema::Compile(schema));
        d.schema = WriteJson(schema);
    }
    TB_ASSIGN_OR_RETURN(auto parsed_indexes, ParseIndexes(indexes));
    d.indexes = WriteJson(IndexesJson(parsed_indexes));
    TB_ASSIGN_OR_RETURN(auto parsed_rules, ParseRules(rules));
    d.rules = WriteJson(RulesJson(parsed_rules));
    return d;
}

std::string_view JsonTypeName(const json::value& v) {
    switch (v.kind()) {
        case json::kind::object:
            return "object";
        case json::kind::array:
            return "array";
        case json::kind::string:
            return "string";
        case json::kind::bool_:
            return "boolean";
        case json::kind::null:
            return "null";
        default:
            return "number";
    }
}

// Field path -> JSON types seen, one level of nesting into objects.
void Collect(const json::object& o, const std::string& prefix, int depth,
             std::map<std::string, std::set<std::string_view>>& out) {
    for (const auto& kv : o) {
        if (depth == 0 && !kv.key().empty() && kv.key()[0] == '_') continue;
        std::string path =
            prefix.empty() ? std::string(kv.key()) : prefix + "." + std::string(kv.key());
        out[path].insert(JsonTypeName(kv.value()));
        if (kv.value().is_object() && depth < 2)
            Collect(kv.value().get_object(), path, depth + 1, out);
    }
}

}  // namespace

const query::Resource& CollectionsResource() {
    using query::Type;
    static const query::Resource r{"collections",
                                   "c.id",
                                   {{"name", "c.name", Type::kText},
                                    {"document_count", kDocumentCountOfRow, Type::kInt},
                                    {"created_at", "c.created_at", Type::kTime},
                                    {"updated_at", "c.updated_at", Type::kTime}}};
    return r;
}

CollectionService::CollectionService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                                     audit::AuditLog& audit, InvalidationBus& bus,
                                     CollectionSettings settings)
    : db_(db), ids_(ids), clock_(clock), audit_(audit), bus_(bus), settings_(settings) {
    bus_.Subscribe("collection", [this](const std::string& key) {
        std::lock_guard lock(mu_);
        cache_.erase(key);
    });
    bus_.Subscribe("*", [this](const std::string&) {
        std::lock_guard lock(mu_);
        cache_.clear();
    });
}

void CollectionService::Forget(const TenantScope& scope, const std::string& name) {
    bus_.Publish("collection", scope.id() + "/" + name);
}

Task<Result<std::optional<Collection>>> CollectionService::Read(Session& s,
                                                                const TenantScope& scope,
                                                                const std::string& name) {
    std::string sql = std::string("SELECT ") + Columns() +
                      " FROM collections c WHERE c.tenant_id = ? AND c.name = ?";
    auto rows = co_await s.Query(sql, Bind(scope.id(), name));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<Collection>{};
    TB_CO_ASSIGN_OR_RETURN(Collection c, FromRow(rows->rows[0]));
    co_return std::optional<Collection>(std::move(c));
}

Task<Result<tenancy::Page<Collection>>> CollectionService::List(const Caller& who,
                                                                const query::ListQuery& q) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    ListSource source =
        ListSource::ForTenant(who.scope(), "c.tenant_id", Columns(), "collections c");
    // A key restricted to some collections sees only those (issue #29): the rest of the
    // tenant's collections, their names and fields, are none of its business.
    if (who.api_key && !who.api_key->collections.empty()) {
        source.scope += " AND c.name IN (";
        for (size_t i = 0; i < who.api_key->collections.size(); ++i) {
            source.scope += i ? ", ?" : "?";
            source.params.emplace_back(who.api_key->collections[i]);
        }
        source.scope += ")";
    }
    auto result = co_await storage::RunList(db_, db_.dialect(), CollectionsResource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    tenancy::Page<Collection> page{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) {
        TB_CO_ASSIGN_OR_RETURN(Collection c, FromRow(r));
        page.items.push_back(std::move(c));
    }
    co_return page;
}

Task<Result<Collection>> CollectionService::Insert(const Caller& who, NewCollection in) {
    TB_CO_RETURN_IF_ERROR(CheckCollectionName(in.name));
    TB_CO_ASSIGN_OR_RETURN(Definition d, CheckDefinition(in.schema, in.indexes, in.rules));
    Collection out;
    out.id = ids_.Next();
    out.name = in.name;
    out.created_at = out.updated_at = Now();
    TB_CO_ASSIGN_OR_RETURN(out.indexes, ParseIndexes(in.indexes));
    // The indexes first (they name the collection's id, not its row): the row then never
    // exists without them.
    TB_CO_ASSIGN_OR_RETURN(auto made, co_await indexes_.CreateMissing(out.id, out.indexes));
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "INSERT INTO collections (tenant_id, id, name, schema, indexes, rules, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            Bind(who.scope().id(), out.id, out.name, d.schema, d.indexes, d.rules, out.created_at,
                 out.updated_at));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("A collection with this name exists", "name");
            co_return std::move(r).error();
        }
        co_return co_await audit_.Record(tx, who.AuditEvent("collection.created", out.name));
    };
    if (Status st = co_await db_.Transaction(fn); !st.ok()) {
        (void)co_await indexes_.Drop(made);
        co_return std::move(st).error();
    }
    Forget(who.scope(), out.name);
    if (!in.schema.is_null()) out.schema = in.schema;
    TB_CO_ASSIGN_OR_RETURN(out.rules, ParseRules(in.rules));
    co_return out;
}

Task<Result<Collection>> CollectionService::Create(const Caller& who, NewCollection in) {
    TB_CO_RETURN_IF_ERROR(who.CanManage());
    co_return co_await Insert(who, std::move(in));
}

Task<Result<Collection>> CollectionService::Get(const Caller& who, const std::string& name) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    if (who.api_key && !who.api_key->ReachesCollection(name)) {
        co_return Error::Forbidden("This API key cannot reach this collection");
    }
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Read(db_, who.scope(), name));
    if (!found) co_return CollectionNotFound();
    co_return std::move(*found);
}

Task<Result<Collection>> CollectionService::Update(const Caller& who, const std::string& name,
                                                   CollectionPatch patch) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Read(db_, who.scope(), name));
    if (!found) co_return CollectionNotFound();
    TB_CO_RETURN_IF_ERROR(who.CanManage());
    Collection c = std::move(*found);
    json::value schema =
        patch.schema ? *patch.schema : (c.schema ? *c.schema : json::value(nullptr));
    json::value indexes = patch.indexes ? *patch.indexes : json::value(IndexesJson(c.indexes));
    json::value rules = patch.rules ? *patch.rules : json::value(RulesJson(c.rules));
    TB_CO_ASSIGN_OR_RETURN(Definition d, CheckDefinition(schema, indexes, rules));
    TB_CO_ASSIGN_OR_RETURN(auto specs, ParseIndexes(indexes));
    TB_CO_ASSIGN_OR_RETURN(auto made, co_await indexes_.CreateMissing(c.id, specs));
    int64_t now = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "UPDATE collections SET schema = ?, indexes = ?, rules = ?, updated_at = ? WHERE "
            "tenant_id = ? AND id = ?",
            Bind(d.schema, d.indexes, d.rules, now, who.scope().id(), c.id));
        if (!r.ok()) co_return std::move(r).error();
        if (*r == 0) co_return CollectionNotFound();
        audit::Event e = who.AuditEvent("collection.updated", c.name);
        co_return co_await audit_.Record(tx, e);
    };
    if (Status st = co_await db_.Transaction(fn); !st.ok()) {
        (void)co_await indexes_.Drop(made);
        co_return std::move(st).error();
    }
    Forget(who.scope(), name);
    // Indexes no longer declared go after the commit: until then the old definition holds.
    TB_CO_RETURN_IF_ERROR(co_await indexes_.DropOthers(c.id, specs));
    c.schema = schema.is_null() ? std::nullopt : std::optional<json::value>(schema);
    c.indexes = std::move(specs);
    TB_CO_ASSIGN_OR_RETURN(c.rules, ParseRules(rules));
    c.updated_at = now;
    co_return c;
}

Task<Status> CollectionService::Delete(const Caller& who, const std::string& name) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Read(db_, who.scope(), name));
    if (!found) co_return CollectionNotFound();
    TB_CO_RETURN_IF_ERROR(who.CanManage());
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        // First, so that a transaction inserting documents into it has committed (and its
        // documents go below) or waits and then finds it gone (Dialect::ShareRowLock).
        auto locked = co_await tx.Query("SELECT 1 FROM collections WHERE tenant_id = ? AND id = ?" +
                                            std::string(db_.dialect().ExclusiveRowLock()),
                                        Bind(who.scope().id(), found->id));
        if (!locked.ok()) co_return std::move(locked).error();
        auto docs =
            co_await tx.Execute("DELETE FROM documents WHERE tenant_id = ? AND collection_id = ?",
                                Bind(who.scope().id(), found->id));
        if (!docs.ok()) co_return std::move(docs).error();
        auto r = co_await tx.Execute("DELETE FROM collections WHERE tenant_id = ? AND id = ?",
                                     Bind(who.scope().id(), found->id));
        if (!r.ok()) co_return std::move(r).error();
        audit::Event e = who.AuditEvent("collection.deleted", name);
        e.details["documents"] = *docs;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    Forget(who.scope(), name);
    TB_CO_RETURN_IF_ERROR(co_await indexes_.DropOthers(found->id, {}));
    co_return Status{};
}

Task<Result<std::vector<std::string>>> CollectionService::CollectionIds(
    const storage::TenantScope& scope) {
    auto rows =
        co_await db_.Query("SELECT id FROM collections WHERE tenant_id = ?", Bind(scope.id()));
    if (!rows.ok()) co_return std::move(rows).error();
    std::vector<std::string> out;
    for (const auto& r : rows->rows) out.push_back(AsText(r[0]));
    co_return out;
}

Task<Status> CollectionService::DropIndexes(const std::vector<std::string>& collection_ids) {
    for (const auto& id : collection_ids)
        TB_CO_RETURN_IF_ERROR(co_await indexes_.DropOthers(id, {}));
    co_return Status{};
}

Task<Result<json::array>> CollectionService::Meta(const Caller& who) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    std::string sql = std::string("SELECT ") + Columns() +
                      " FROM collections c WHERE c.tenant_id = ? ORDER BY c.name";
    auto rows = co_await db_.Query(sql, Bind(who.scope().id()));
    if (!rows.ok()) co_return std::move(rows).error();
    json::array out;
    for (const auto& r : rows->rows) {
        TB_CO_ASSIGN_OR_RETURN(Collection c, FromRow(r));
        if (who.api_key && !who.api_key->ReachesCollection(c.name)) continue;  // as List
        // The fields seen: sampled from the newest 200 documents, so the answer stays cheap
        // on any collection size.
        auto docs = co_await db_.Query(
            "SELECT body FROM documents WHERE tenant_id = ? AND collection_id = ? ORDER BY "
            "created_at DESC, id DESC LIMIT 200",
            Bind(who.scope().id(), c.id));
        if (!docs.ok()) co_return std::move(docs).error();
        std::map<std::string, std::set<std::string_view>> seen;
        for (const auto& d : docs->rows) {
            auto body = ParseStoredJson(AsText(d[0]), {.max_depth = 256});
            if (body.ok() && body->is_object()) Collect(body->get_object(), "", 0, seen);
        }
        json::array fields;
        for (const auto& [path, types] : seen) {
            json::array type_names;
            for (auto t : types) type_names.emplace_back(t);
            fields.push_back(json::object{{"path", path}, {"types", std::move(type_names)}});
        }
        out.push_back(json::object{{"name", c.name},
                                   {"schema", c.schema ? *c.schema : json::value(nullptr)},
                                   {"document_count", c.document_count},
                                   {"fields", std::move(fields)}});
    }
    co_return out;
}

std::shared_ptr<const Loaded> CollectionService::FindCached(const TenantScope& scope,
                                                            std::string_view name) {
    thread_local std::string key;  // reused: no allocation per request
    key.assign(scope.id()).append(1, '/').append(name);
    int64_t now = Now();
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.second < settings_.cache.ms())
        return it->second.first;
    return nullptr;
}

Task<Result<std::optional<std::shared_ptr<const Loaded>>>> CollectionService::Find(
    const TenantScope& scope, const std::string& name) {
    using Found = std::optional<std::shared_ptr<const Loaded>>;
    if (auto hit = FindCached(scope, name)) co_return Found(std::move(hit));
    std::string key = scope.id() + "/" + name;
    int64_t now = Now();
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Read(db_, scope, name));
    if (!found) co_return Found{};
    auto loaded = std::make_shared<Loaded>();
    if (found->schema) {
        auto compiled = Schema::Compile(*found->schema);
        if (!compiled.ok()) co_return Error::Internal("stored schema does not compile");
        loaded->schema = std::move(*compiled);
    }
    loaded->def = std::move(*found);
    std::shared_ptr<const Loaded> shared = loaded;
    {
        std::lock_guard lock(mu_);
        if (cache_.size() > 10'000) cache_.clear();  // bound memory on a node with many tenants
        cache_[key] = {shared, now};
    }
    co_return Found(shared);
}

Task<Result<std::shared_ptr<const Loaded>>> CollectionService::FindForWrite(
    const Caller& who, const std::string& name) {
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(who.scope(), name));
    if (found) co_return *found;
    if (!MayAutoCreate(who)) co_return CollectionNotFound();
    NewCollection in;
    in.name = name;
    auto created = co_await Insert(who, std::move(in));
    // Another request may have created it first: either way it exists now.
    if (!created.ok() && created.error().code != ErrorCode::kConflict)
        co_return std::move(created).error();
    TB_CO_ASSIGN_OR_RETURN(auto again, co_await Find(who.scope(), name));
    if (!again) co_return CollectionNotFound();
    co_return *again;
}

}  // namespace tb::collections
