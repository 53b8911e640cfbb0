#pragma once
// API keys (API.md §4): create (the full key shown once), list, get, update, revoke, rotate,
// and the authentication of a key on every request.
//
// Invariants:
//  1. Only the SHA-256 of a key is stored; the key itself exists only in the answer that
//     created or rotated it.
//  2. A revoked, rotated-out, deactivated or expired key is refused at once on this node (the
//     lookup cache is invalidated by every change; other nodes see it within the cache TTL).
//  3. A CORS key (allowed_origins not empty) is usable only with a listed Origin and never
//     holds `admin`.
//
// Thread safety: all methods may run concurrently; caches lock mu_.

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/audit_log.h"
#include "auth/client_info.h"
#include "auth/user_store.h"
#include "common/cache_lifetime.h"
#include "common/invalidation.h"
#include "storage/list_sql.h"

namespace tb::auth {

struct ApiKey {
    std::string id;
    std::optional<std::string> tenant_id;
    std::string owner_user_id;
    std::string name;
    std::string preview;
    std::vector<std::string> scopes;
    std::vector<std::string> collections;
    std::vector<std::string> allowed_origins;
    bool is_active = true;
    int64_t created_at = 0;
    int64_t updated_at = 0;
    std::optional<int64_t> expires_at;
    std::optional<int64_t> last_used_at;
    // The owner's primary key (sk_live_…, one per user: the Nilux dialect's key, API.md §11).
    bool is_primary = false;

    bool HasScope(std::string_view scope) const;
    // The key's `collections` list, when not empty, names the only collections it reaches.
    bool ReachesCollection(std::string_view name) const {
        return collections.empty() ||
               std::find(collections.begin(), collections.end(), name) != collections.end();
    }
    bool IsCorsKey() const { return !allowed_origins.empty(); }
};

// Who acts on keys: a user, possibly through one of their keys, in a tenant.
struct KeyActor {
    User user;
    std::optional<std::string> via_key_id;
    std::string ip, user_agent;
    std::optional<storage::TenantScope> tenant;  // the request's tenant (keys live in one)
    bool sees_all = false;            // admin+ or platform admin: every key of the tenant
    std::vector<std::string> rights;  // the scopes this actor may hand out
    int64_t max_keys = -1;            // the tenant's plan quota of keys (-1: none)
};

struct NewApiKey {
    std::string name;
    std::optional<std::vector<std::string>> scopes;
    std::vector<std::string> collections;
    std::vector<std::string> allowed_origins;
    std::optional<int64_t> expires_at;
};

struct ApiKeyPatch {
    std::optional<std::string> name;
    std::optional<std::vector<std::string>> scopes;
    std::optional<bool> is_active;
};

struct KeyPage {
    std::vector<ApiKey> items;
    std::optional<int64_t> total;
    std::optional<std::vector<query::Literal>> next_keys;
};

// Whether a credential has the form of an API key: `tbk_…`, or a primary key's `sk_live_…`
// (both accepted everywhere, API.md §13 "Nilux keys").
bool LooksLikeApiKey(std::string_view credential);

// The declared list fields of API keys (API.md §1.2).
const query::Resource& ApiKeysResource();

struct KeyCredential {
    ApiKey key;
    User owner;
};

class ApiKeyService {
  public:
    ApiKeyService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                  audit::AuditLog& audit, CacheLifetime cache = CacheLifetime());

    // The created key and the full secret (shown once).
    Task<Result<std::pair<ApiKey, std::string>>> Create(const KeyActor& who, NewApiKey in);
    // Drops cached credentials when their owner or tenant changes (invalidation bus), and
    // announces this node's own key changes there (realtime streams of the key end).
    void Attach(InvalidationBus& bus);
    Task<Result<KeyPage>> List(const KeyActor& who, const query::ListQuery& q);
    Task<Result<ApiKey>> Get(const KeyActor& who, const std::string& id);
    Task<Result<ApiKey>> Update(const KeyActor& who, const std::string& id, ApiKeyPatch patch);
    Task<Status> Delete(const KeyActor& who, const std::string& id);
    Task<Result<std::pair<ApiKey, std::string>>> Rotate(const KeyActor& who, const std::string& id);

    // A user's primary key (one per user, named "Primary Key", scopes read, write and admin,
    // in the user's personal tenant; its secret is `sk_live_` + 32 characters).
    // Inside the registration transaction: creates it. The key and the full secret.
    Task<Result<std::pair<ApiKey, std::string>>> CreatePrimary(storage::Session& tx,
                                                               const User& owner,
                                                               const std::string& tenant_id,
                                                               const ClientInfo& client);
    // The user's primary key, if any (active or not).
    Task<Result<std::optional<ApiKey>>> FindPrimary(const std::string& user_id);
    // A new secret for the user's primary key (the old one refused at once), or a new primary
    // key in `tenant_id` when the user has none. NOT_FOUND when there is neither.
    Task<Result<std::pair<ApiKey, std::string>>> RotatePrimary(
        const User& owner, const std::optional<std::string>& tenant_id, const ClientInfo& client);

    // The key and its owner, or UNAUTHORIZED. `origin` is the request's Origin ("" if none).
    // Shared with the cache: the caller's principal points into it.
    Task<Result<std::shared_ptr<const KeyCredential>>> Authenticate(std::string_view secret,
                                                                    std::string_view origin);
    // Authenticate's answer when the cache decides it, without a coroutine (the common case);
    // nullopt: ask Authenticate.
    std::optional<Result<std::shared_ptr<const KeyCredential>>> AuthenticateCached(
        std::string_view secret, std::string_view origin);
    // Whether any active CORS key lists the origin (for preflights; refreshed in the background).
    bool AnyKeyAllowsOrigin(std::string_view origin) const;
    // Writes the batched last_used_at values and reloads the CORS origin set.
    Task<Status> Flush();

  private:
    // The cache's answer for a key's hash; nullopt when it holds none (or a stale one).
    std::optional<Result<std::shared_ptr<const KeyCredential>>> CachedByHash(
        const std::string& hash, std::string_view origin, int64_t now);
    // The checks of a found (or known missing: null) credential; records the key's use.
    Result<std::shared_ptr<const KeyCredential>> Accept(std::shared_ptr<const KeyCredential> cred,
                                                        std::string_view origin, int64_t now);
    Task<Result<std::optional<ApiKey>>> FindOwned(const KeyActor& who, const std::string& id);
    // A rotation: the key's new secret (its hash) and preview, audited, the old one refused.
    Task<Status> StoreNewSecret(ApiKey& key, const std::string& secret, std::string preview,
                                const std::string& actor, const ClientInfo& client);
    Task<Status> RefreshCorsOrigins();
    void Invalidate(const std::string& key_id);
    void InvalidateWhere(const std::function<bool(const KeyCredential&)>& match);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }

    storage::Database& db_;
    IdGenerator& ids_;
    const Clock& clock_;
    audit::AuditLog& audit_;
    CacheLifetime cache_;

    struct Cached {
        std::shared_ptr<const KeyCredential> credential;  // null: no such (active) key
        int64_t fetched_ms = 0;
    };
    // A key of this node changed: its cached credential goes, and the bus hears of it.
    void Changed(const std::string& key_id);
    InvalidationBus* bus_ = nullptr;  // set by Attach, before serving
    mutable std::mutex mu_;
    std::unordered_map<std::string, Cached> by_hash_;     // guarded by mu_
    std::unordered_map<std::string, int64_t> last_used_;  // guarded by mu_: id -> ms
    std::shared_ptr<const std::set<std::string, std::less<>>> cors_origins_;  // guarded by mu_
};

// Validation shared by create and update (exposed for unit tests).
Status ValidateScopes(const std::vector<std::string>& scopes, bool cors_key);
Status ValidateOrigins(const std::vector<std::string>& origins);

}  // namespace tb::auth
