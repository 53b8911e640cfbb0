#include "auth/api_key_service.h"

#include "limits/plans.h"

#include <algorithm>

#include "common/encoding.h"
#include "common/json.h"
#include "common/strings.h"

namespace tb::auth {

using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::Session;
using storage::TransactionFn;
using storage::Value;

namespace {

constexpr std::string_view kPrefix = "tbk_";
constexpr std::string_view kPrimaryPrefix = "sk_live_";
constexpr std::string_view kPrimaryName = "Primary Key";
constexpr const char* kColumns =
    "id, tenant_id, owner_user_id, name, preview, scopes, collections, allowed_origins, "
    "is_active, created_at, updated_at, expires_at, last_used_at, is_primary";

std::string ToJsonArray(const std::vector<std::string>& items) {
    json::array a;
    for (const auto& s : items) a.emplace_back(s);
    return WriteJson(a);
}

std::vector<std::string> FromJsonArray(const std::string& text) {
    std::vector<std::string> out;
    auto v = ParseStoredJson(text);
    if (v.ok() && v->is_array()) {
        for (const auto& item : v->as_array()) {
            if (item.is_string()) out.emplace_back(item.as_string());
        }
    }
    return out;
}

ApiKey FromRow(const std::vector<Value>& r) {
    ApiKey k;
    k.id = AsText(r[0]);
    if (!IsNull(r[1])) k.tenant_id = AsText(r[1]);
    k.owner_user_id = AsText(r[2]);
    k.name = AsText(r[3]);
    k.preview = AsText(r[4]);
    k.scopes = FromJsonArray(AsText(r[5]));
    k.collections = FromJsonArray(AsText(r[6]));
    k.allowed_origins = FromJsonArray(AsText(r[7]));
    k.is_active = AsInt(r[8]) != 0;
    k.created_at = AsInt(r[9]);
    k.updated_at = AsInt(r[10]);
    if (!IsNull(r[11])) k.expires_at = AsInt(r[11]);
    if (!IsNull(r[12])) k.last_used_at = AsInt(r[12]);
    k.is_primary = AsInt(r[13]) != 0;
    return k;
}

// "tbk_" + 32 random bytes in base64url (43 characters).
std::string NewSecret() { return std::string(kPrefix) + RandomToken(32); }
std::string Preview(const std::string& secret) {
    return std::string(kPrefix) + "\u2026" + secret.substr(secret.size() - 4);
}

// "sk_live_" + 24 random bytes in base64url (32 characters), previewed as the Nilux seed
// shows: "sk_live...wxyz".
std::string NewPrimarySecret() { return std::string(kPrimaryPrefix) + RandomToken(24); }
std::string PrimaryPreview(const std::string& secret) {
    return "sk_live..." + secret.substr(secret.size() - 4);
}

Error Invalid() { return Error::Unauthorized("Invalid API key"); }

std::vector<std::string> Dedup(std::vector<std::string> v) {
    std::vector<std::string> out;
    for (auto& s : v) {
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
    return out;
}

// [a-z][a-z0-9_-]{0,62} (API.md §5.1).
bool IsCollectionName(std::string_view n) {
    if (n.empty() || n.size() > 63 || n[0] < 'a' || n[0] > 'z') return false;
    return std::all_of(n.begin(), n.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

// scheme://host[:port] with http or https, nothing after: what browsers send in Origin.
bool IsOrigin(std::string_view o) {
    size_t rest;
    if (o.starts_with("https://")) {
        rest = 8;
    } else if (o.starts_with("http://")) {
        rest = 7;
    } else {
        return false;
    }
    std::string_view hostport = o.substr(rest);
    size_t colon = hostport.find(':');
    std::string_view host = hostport.substr(0, colon);
    if (host.empty() || host.size() > 253) return false;
    bool host_ok = std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '-';
    });
    if (!host_ok) return false;
    if (colon == std::string_view::npos) return true;
    std::string_view port = hostport.substr(colon + 1);
    return !port.empty() && port.size() <= 5 &&
           std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status ValidateCollections(const std::vector<std::string>& names) {
    for (const auto& n : names) {
        if (!IsCollectionName(n)) {
            return Error::Validation("collections", "Invalid collection name: " + n.substr(0, 64));
        }
    }
    return {};
}

Status ValidateName(const std::string& name) {
    size_t length = Utf8Length(name);
    if (length == 0 || length > 100)
        return Error::Validation("name", "name must be 1 to 100 characters");
    return {};
}

}  // namespace

bool LooksLikeApiKey(std::string_view credential) {
    return credential.starts_with(kPrefix) || credential.starts_with(kPrimaryPrefix);
}

bool ApiKey::HasScope(std::string_view scope) const {
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

Status ValidateScopes(const std::vector<std::string>& scopes, bool cors_key) {
    if (scopes.empty()) return Error::Validation("scopes", "scopes must not be empty");
    for (const auto& s : scopes) {
        if (s != "read" && s != "write" && s != "admin") {
            return Error::Validation("scopes", "Unknown scope: " + s.substr(0, 32));
        }
        if (s == "admin" && cors_key) {
            return Error::Validation("scopes",
                                     "A key with allowed_origins cannot hold the admin scope");
        }
    }
    return {};
}

Status ValidateOrigins(const std::vector<std::string>& origins) {
    for (const auto& o : origins) {
        if (!IsOrigin(o)) {
            return Error::Validation("allowed_origins", "Invalid origin: " + o.substr(0, 100));
        }
    }
    return {};
}

ApiKeyService::ApiKeyService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                             audit::AuditLog& audit, CacheLifetime cache)
    : db_(db),
      ids_(ids),
      clock_(clock),
      audit_(audit),
      cache_(std::move(cache)),
      cors_origins_(std::make_shared<std::set<std::string, std::less<>>>()) {}

void ApiKeyService::Invalidate(const std::string& key_id) {
    InvalidateWhere([&](const KeyCredential& c) { return c.key.id == key_id; });
}

void ApiKeyService::InvalidateWhere(const std::function<bool(const KeyCredential&)>& match) {
    std::lock_guard lock(mu_);
    std::erase_if(by_hash_, [&](const auto& kv) {
        return !kv.second.credential || match(*kv.second.credential);
    });
}

void ApiKeyService::Changed(const std::string& key_id) {
    Invalidate(key_id);
    if (bus_) bus_->Publish("api_key", key_id);  // its subscriber here invalidates again: cheap
}

void ApiKeyService::Attach(InvalidationBus& bus) {
    bus_ = &bus;
    auto by_owner = [this](const std::string& user_id) {
        InvalidateWhere([&](const KeyCredential& c) { return c.owner.id == user_id; });
    };
    bus.Subscribe("user", by_owner);
    bus.Subscribe("membership", by_owner);
    bus.Subscribe("tenant", [this](const std::string& tenant_id) {
        InvalidateWhere([&](const KeyCredential& c) { return c.key.tenant_id == tenant_id; });
    });
    bus.Subscribe("api_key", [this](const std::string& key_id) { Invalidate(key_id); });
    bus.Subscribe("*", [this](const std::string&) {
        std::lock_guard lock(mu_);
        by_hash_.clear();
    });
}

const query::Resource& ApiKeysResource() {
    using query::Type;
    static const query::Resource r{"api_keys",
                                   "id",
                                   {{"id", "id", Type::kId},
                                    {"name", "name", Type::kText},
                                    {"owner_user_id", "owner_user_id", Type::kId},
                                    {"is_active", "is_active", Type::kBool},
                                    {"created_at", "created_at", Type::kTime},
                                    {"expires_at", "expires_at", Type::kTime, true},
                                    {"last_used_at", "last_used_at", Type::kTime, true}},
                                   {},
                                   false,
                                   false,
                                   false,
                                   {{"active", "is_active"}}};
    return r;
}

bool ApiKeyService::AnyKeyAllowsOrigin(std::string_view origin) const {
    std::lock_guard lock(mu_);
    return cors_origins_->count(origin) > 0;
}

Task<Status> ApiKeyService::RefreshCorsOrigins() {
    // tenant-scope: preflights carry no credentials; any tenant's CORS key may allow an origin.
    auto rows = co_await db_.Query(
        "SELECT allowed_origins FROM api_keys WHERE is_active = 1 AND allowed_origins <> '[]'", {});
    if (!rows.ok()) co_return std::move(rows).error();
    auto set = std::make_shared<std::set<std::string, std::less<>>>();
    for (const auto& r : rows->rows) {
        for (auto& o : FromJsonArray(AsText(r[0]))) set->insert(std::move(o));
    }
    std::lock_guard lock(mu_);
    cors_origins_ = std::move(set);
    co_return Status{};
}

Task<Status> ApiKeyService::Flush() {
    std::unordered_map<std::string, int64_t> pending;
    {
        std::lock_guard lock(mu_);
        pending.swap(last_used_);
    }
    if (!pending.empty()) {
        // Off the hot path: one transaction for every key used since the last flush.
        const TransactionFn fn = [&](Session& tx) -> Task<Status> {
            for (const auto& [id, ms] : pending) {
                // tenant-scope: ids recorded by Authenticate for keys it had just found.
                auto r = co_await tx.Execute(
                    "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL "
                    "OR last_used_at < ?)",
                    Bind(ms, id, ms));
                if (!r.ok()) co_return std::move(r).error();
            }
            co_return Status{};
        };
        TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    }
    co_return co_await RefreshCorsOrigins();
}

std::optional<Result<std::shared_ptr<const KeyCredential>>> ApiKeyService::CachedByHash(
    const std::string& hash, std::string_view origin, int64_t now) {
    std::shared_ptr<const KeyCredential> cred;
    {
        std::lock_guard lock(mu_);
        auto it = by_hash_.find(hash);
        if (it == by_hash_.end() || now - it->second.fetched_ms >= cache_.ms()) return std::nullopt;
        cred = it->second.credential;
    }
    return Accept(std::move(cred), origin, now);
}

std::optional<Result<std::shared_ptr<const KeyCredential>>> ApiKeyService::AuthenticateCached(
    std::string_view secret, std::string_view origin) {
    if (!LooksLikeApiKey(secret) || secret.size() > 128) return Invalid();
    return CachedByHash(Sha256Hex(secret), origin, Now());
}

Task<Result<std::shared_ptr<const KeyCredential>>> ApiKeyService::Authenticate(
    std::string_view secret, std::string_view origin) {
    if (!LooksLikeApiKey(secret) || secret.size() > 128) co_return Invalid();
    std::string hash = Sha256Hex(secret);
    int64_t now = Now();
    if (auto hit = CachedByHash(hash, origin, now)) co_return std::move(*hit);
    std::shared_ptr<const KeyCredential> cred;
    // tenant-scope: the key is what names its tenant; nothing else is known yet.
    std::string sql = std::string("SELECT ") + kColumns + " FROM api_keys WHERE key_hash = ?";
    auto rows = co_await db_.Query(sql, Bind(hash));
    if (!rows.ok()) co_return std::move(rows).error();
    if (!rows->empty()) {
        ApiKey key = FromRow(rows->rows[0]);
        auto owner = co_await UserStore::FindById(db_, key.owner_user_id);
        if (!owner.ok()) co_return std::move(owner).error();
        if (*owner) {
            cred = std::make_shared<const KeyCredential>(
                KeyCredential{std::move(key), std::move(**owner)});
        }
    }
    {
        std::lock_guard lock(mu_);
        if (by_hash_.size() >= 100'000) by_hash_.clear();
        by_hash_[hash] = Cached{cred, now};
    }
    co_return Accept(std::move(cred), origin, now);
}

Result<std::shared_ptr<const KeyCredential>> ApiKeyService::Accept(
    std::shared_ptr<const KeyCredential> cred, std::string_view origin, int64_t now) {
    if (!cred || !cred->key.is_active || !cred->owner.is_active || !cred->key.tenant_id)
        return Invalid();
    if (cred->key.expires_at && *cred->key.expires_at <= now) return Invalid();
    if (cred->key.IsCorsKey()) {
        const auto& allowed = cred->key.allowed_origins;
        if (origin.empty() || std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) {
            return Invalid();
        }
    }
    {
        std::lock_guard lock(mu_);
        last_used_[cred->key.id] = now;
    }
    return cred;
}

Task<Result<std::pair<ApiKey, std::string>>> ApiKeyService::Create(const KeyActor& who,
                                                                   NewApiKey in) {
    if (!who.tenant) co_return Error::NotFound("No tenant selected: send X-Tenant-ID");
    TB_CO_RETURN_IF_ERROR(ValidateName(in.name));
    auto allowed = [&](const std::string& s) {
        return std::find(who.rights.begin(), who.rights.end(), s) != who.rights.end();
    };
    std::vector<std::string> scopes;
    if (in.scopes) {
        scopes = Dedup(*in.scopes);
    } else {
        // The default, narrowed to the caller's rights (API.md §13 "Viewer keys").
        for (const char* s : {"read", "write"})
            if (allowed(s)) scopes.emplace_back(s);
        if (scopes.empty())
            co_return Error::Forbidden("The caller holds neither read nor write: name the scopes");
    }
    in.allowed_origins = Dedup(std::move(in.allowed_origins));
    TB_CO_RETURN_IF_ERROR(ValidateOrigins(in.allowed_origins));
    TB_CO_RETURN_IF_ERROR(ValidateScopes(scopes, !in.allowed_origins.empty()));
    TB_CO_RETURN_IF_ERROR(ValidateCollections(in.collections));
    for (const auto& s : scopes)
        if (!allowed(s)) co_return Error::Forbidden("Scope above your rights: " + s);
    int64_t now = Now();
    if (in.expires_at && *in.expires_at <= now) {
        co_return Error::Validation("expires_at", "expires_at must be in the future");
    }
    ApiKey key;
    key.id = ids_.Next();
    key.tenant_id = who.tenant->id();
    key.owner_user_id = who.user.id;
    key.name = in.name;
    key.scopes = std::move(scopes);
    key.collections = Dedup(std::move(in.collections));
    key.allowed_origins = std::move(in.allowed_origins);
    key.created_at = key.updated_at = now;
    key.expires_at = in.expires_at;
    std::string secret = NewSecret();
    key.preview = Preview(secret);
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        if (who.max_keys != limits::kUnlimited) {
            // The owners' primary keys are outside the quota (API.md §11).
            auto count = co_await tx.Query(
                "SELECT COUNT(*) FROM api_keys WHERE tenant_id = ? AND is_primary = 0",
                Bind(*key.tenant_id));
            if (!count.ok()) co_return std::move(count).error();
            TB_CO_RETURN_IF_ERROR(limits::CheckQuota(
                who.max_keys, storage::AsInt(count->rows[0][0]), 1, "max_api_keys", "API keys"));
        }
        auto r = co_await tx.Execute(
            "INSERT INTO api_keys (id, tenant_id, owner_user_id, name, key_hash, preview, scopes, "
            "collections, allowed_origins, is_active, created_at, updated_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            Bind(key.id, *key.tenant_id, key.owner_user_id, key.name, Sha256Hex(secret),
                 key.preview, ToJsonArray(key.scopes), ToJsonArray(key.collections),
                 ToJsonArray(key.allowed_origins), now, now,
                 key.expires_at ? Value(*key.expires_at) : Value()));
        if (!r.ok()) co_return std::move(r).error();
        audit::Event e{key.tenant_id,  who.user.id, "api_key.created", key.id, who.ip,
                       who.user_agent, {}};
        if (who.via_key_id) e.details["via_key"] = *who.via_key_id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (key.IsCorsKey()) (void)co_await RefreshCorsOrigins();
    co_return std::make_pair(std::move(key), std::move(secret));
}

Task<Result<KeyPage>> ApiKeyService::List(const KeyActor& who, const query::ListQuery& q) {
    if (!who.tenant) co_return Error::NotFound("No tenant selected: send X-Tenant-ID");
    // Admin+ see every key of the tenant; anyone else their own.
    storage::ListSource source =
        storage::ListSource::ForTenant(*who.tenant, "tenant_id", kColumns, "api_keys");
    if (!who.sees_all) {
        source.scope += " AND owner_user_id = ?";
        source.params.emplace_back(who.user.id);
    }
    auto result = co_await storage::RunList(db_, db_.dialect(), ApiKeysResource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    KeyPage out{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) out.items.push_back(FromRow(r));
    co_return out;
}

Task<Result<std::optional<ApiKey>>> ApiKeyService::FindOwned(const KeyActor& who,
                                                             const std::string& id) {
    if (!who.tenant) co_return std::optional<ApiKey>{};
    std::string sql =
        std::string("SELECT ") + kColumns + " FROM api_keys WHERE tenant_id = ? AND id = ?";
    auto rows = co_await db_.Query(sql, Bind(who.tenant->id(), id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<ApiKey>{};
    ApiKey key = FromRow(rows->rows[0]);
    // Someone else's key is answered exactly like a missing one.
    if (key.owner_user_id != who.user.id && !who.sees_all) co_return std::optional<ApiKey>{};
    co_return std::optional<ApiKey>(std::move(key));
}

Task<Result<ApiKey>> ApiKeyService::Get(const KeyActor& who, const std::string& id) {
    TB_CO_ASSIGN_OR_RETURN(std::optional<ApiKey> key, co_await FindOwned(who, id));
    if (!key) co_return Error::NotFound("API key not found");
    co_return std::move(*key);
}

Task<Result<ApiKey>> ApiKeyService::Update(const KeyActor& who, const std::string& id,
                                           ApiKeyPatch patch) {
    TB_CO_ASSIGN_OR_RETURN(std::optional<ApiKey> found, co_await FindOwned(who, id));
    if (!found) co_return Error::NotFound("API key not found");
    ApiKey key = std::move(*found);
    if (patch.name) {
        TB_CO_RETURN_IF_ERROR(ValidateName(*patch.name));
        key.name = *patch.name;
    }
    if (patch.scopes) {
        std::vector<std::string> scopes = Dedup(*patch.scopes);
        TB_CO_RETURN_IF_ERROR(ValidateScopes(scopes, key.IsCorsKey()));
        for (const auto& sc : scopes) {
            if (std::find(who.rights.begin(), who.rights.end(), sc) == who.rights.end())
                co_return Error::Forbidden("Scope above your rights: " + sc);
        }
        key.scopes = std::move(scopes);
    }
    if (patch.is_active) key.is_active = *patch.is_active;
    key.updated_at = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "UPDATE api_keys SET name = ?, scopes = ?, is_active = ?, updated_at = ? WHERE "
            "tenant_id = "
            "? AND id = ?",
            Bind(key.name, ToJsonArray(key.scopes), key.is_active, key.updated_at, who.tenant->id(),
                 key.id));
        if (!r.ok()) co_return std::move(r).error();
        audit::Event e{key.tenant_id,  who.user.id, "api_key.updated", key.id, who.ip,
                       who.user_agent, {}};
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    Changed(key.id);
    if (key.IsCorsKey()) (void)co_await RefreshCorsOrigins();
    co_return key;
}

Task<Status> ApiKeyService::Delete(const KeyActor& who, const std::string& id) {
    TB_CO_ASSIGN_OR_RETURN(std::optional<ApiKey> found, co_await FindOwned(who, id));
    if (!found) co_return Error::NotFound("API key not found");
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute("DELETE FROM api_keys WHERE tenant_id = ? AND id = ?",
                                     Bind(who.tenant->id(), id));
        if (!r.ok()) co_return std::move(r).error();
        audit::Event e{found->tenant_id, who.user.id, "api_key.revoked", id, who.ip,
                       who.user_agent,   {}};
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    Changed(id);
    if (found->IsCorsKey()) (void)co_await RefreshCorsOrigins();
    co_return Status{};
}

Task<Result<std::pair<ApiKey, std::string>>> ApiKeyService::Rotate(const KeyActor& who,
                                                                   const std::string& id) {
    TB_CO_ASSIGN_OR_RETURN(std::optional<ApiKey> found, co_await FindOwned(who, id));
    if (!found) co_return Error::NotFound("API key not found");
    ApiKey key = std::move(*found);
    // A user's primary key is that user's own credential: an admin may revoke it, but a
    // rotation would hand the admin a secret that acts as its owner.
    if (key.is_primary && key.owner_user_id != who.user.id)
        co_return Error::Forbidden("Only its owner rotates a primary key");
    std::string secret = key.is_primary ? NewPrimarySecret() : NewSecret();
    std::string preview = key.is_primary ? PrimaryPreview(secret) : Preview(secret);
    ClientInfo client{who.ip, who.user_agent};
    TB_CO_RETURN_IF_ERROR(
        co_await StoreNewSecret(key, secret, std::move(preview), who.user.id, client));
    co_return std::make_pair(std::move(key), std::move(secret));
}

Task<Status> ApiKeyService::StoreNewSecret(ApiKey& key, const std::string& secret,
                                           std::string preview, const std::string& actor,
                                           const ClientInfo& client) {
    key.preview = std::move(preview);
    key.updated_at = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "UPDATE api_keys SET key_hash = ?, preview = ?, updated_at = ? WHERE tenant_id = ? AND "
            "id = ?",
            Bind(Sha256Hex(secret), key.preview, key.updated_at, key.tenant_id.value_or(""),
                 key.id));
        if (!r.ok()) co_return std::move(r).error();
        audit::Event e{key.tenant_id,
                       actor,
                       "api_key.rotated",
                       key.id,
                       client.ip,
                       client.user_agent.substr(0, 512),
                       {}};
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    Changed(key.id);
    co_return Status{};
}

Task<Result<std::pair<ApiKey, std::string>>> ApiKeyService::CreatePrimary(
    Session& tx, const User& owner, const std::string& tenant_id, const ClientInfo& client) {
    ApiKey key;
    key.id = ids_.Next();
    key.tenant_id = tenant_id;
    key.owner_user_id = owner.id;
    key.name = kPrimaryName;
    // The rights of its owner, who owns the personal tenant (API.md §13 "Viewer keys": a key
    // made without scopes gets its maker's rights); a role lowered later bounds it anyway.
    key.scopes = {"read", "write", "admin"};
    key.is_primary = true;
    key.created_at = key.updated_at = Now();
    std::string secret = NewPrimarySecret();
    key.preview = PrimaryPreview(secret);
    // The one key of its owner outside the plan's key quota: a user always has it.
    auto r = co_await tx.Execute(
        "INSERT INTO api_keys (id, tenant_id, owner_user_id, name, key_hash, preview, scopes, "
        "collections, allowed_origins, is_active, created_at, updated_at, is_primary) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, '[]', '[]', 1, ?, ?, 1)",
        Bind(key.id, tenant_id, owner.id, key.name, Sha256Hex(secret), key.preview,
             ToJsonArray(key.scopes), key.created_at, key.created_at));
    if (!r.ok()) co_return std::move(r).error();
    audit::Event e{key.tenant_id,
                   owner.id,
                   "api_key.created",
                   key.id,
                   client.ip,
                   client.user_agent.substr(0, 512),
                   {}};
    e.details["primary"] = true;
    TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
    co_return std::make_pair(std::move(key), std::move(secret));
}

Task<Result<std::optional<ApiKey>>> ApiKeyService::FindPrimary(const std::string& user_id) {
    // tenant-scope: a user's own primary key, whichever tenant holds it (one per user).
    std::string sql = std::string("SELECT ") + kColumns +
                      " FROM api_keys WHERE owner_user_id = ? AND is_primary = 1";
    auto rows = co_await db_.Query(sql, Bind(user_id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<ApiKey>{};
    co_return std::optional<ApiKey>(FromRow(rows->rows[0]));
}

Task<Result<std::pair<ApiKey, std::string>>> ApiKeyService::RotatePrimary(
    const User& owner, const std::optional<std::string>& tenant_id, const ClientInfo& client) {
    TB_CO_ASSIGN_OR_RETURN(std::optional<ApiKey> found, co_await FindPrimary(owner.id));
    if (!found) {
        if (!tenant_id) co_return Error::NotFound("No personal tenant to hold an API key");
        std::pair<ApiKey, std::string> made;
        const TransactionFn fn = [&](Session& tx) -> Task<Status> {
            TB_CO_ASSIGN_OR_RETURN(made, co_await CreatePrimary(tx, owner, *tenant_id, client));
            co_return Status{};
        };
        Status created = co_await db_.Transaction(fn);
        if (created.ok()) co_return made;
        // Another request made it first (the one-per-user index): rotate that one instead.
        if (created.error().code != ErrorCode::kConflict) co_return std::move(created).error();
        TB_CO_ASSIGN_OR_RETURN(found, co_await FindPrimary(owner.id));
        if (!found) co_return std::move(created).error();
    }
    ApiKey key = std::move(*found);
    std::string secret = NewPrimarySecret();
    TB_CO_RETURN_IF_ERROR(
        co_await StoreNewSecret(key, secret, PrimaryPreview(secret), owner.id, client));
    co_return std::make_pair(std::move(key), std::move(secret));
}

}  // namespace tb::auth
