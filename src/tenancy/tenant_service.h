#pragma once
// Tenants and memberships (API.md §3): self-service tenants, members with roles, the
// last-owner rule, tenant deletion; the per-request tenant context (Resolve); and the users
// of the current tenant (API.md §3.1).
//
// Invariants:
//  1. Every query on tenant-owned rows is scoped by a TenantScope; a resource of another
//     tenant is answered exactly like a missing one (404).
//  2. A tenant always keeps at least one owner: demoting or removing the last one is 409.
//  3. Nobody grants a role above their own (an admin cannot make owners), and an admin cannot
//     change or remove an owner.
//  4. tenants.member_count changes in the same transaction as the membership it counts.
//  5. Membership facts are cached for at most `cache` (common/cache_lifetime.h) and dropped at once
//  on this node when
//     they change (the "membership" and "tenant" topics of the invalidation bus).
//
// Thread safety: all methods may run concurrently; the cache locks mu_.

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "audit/audit_log.h"
#include "auth/auth_service.h"
#include "auth/tenant_directory.h"
#include "common/cache_lifetime.h"
#include "common/invalidation.h"
#include "common/json.h"
#include "common/strings.h"
#include "limits/plans.h"
#include "mail/outbox.h"
#include "storage/list_sql.h"
#include "tenancy/caller.h"

namespace tb::tenancy {

struct TenancySettings {
    bool self_service = true;          // any user may create tenants (else admins only)
    bool personal_on_register = true;  // registration makes a personal tenant
    std::string default_plan = "free";
    // The plans tenants may be on, and their quotas (null: the built-in plans).
    const limits::PlanCatalog* catalog = nullptr;
    CacheLifetime cache;  // how long membership facts and plans are trusted
    int64_t invitation_ttl_ms = int64_t{7} * 24 * 3600 * 1000;
    std::string link_base = "http://localhost:8080";  // invitation links (mail.link_base)
};

struct Tenant {
    std::string id, name, slug, plan, status;
    json::object settings;
    int64_t member_count = 0;
    int64_t created_at = 0, updated_at = 0;
    std::optional<std::string> role;  // the caller's role, in lists
};

struct NewTenant {
    std::string name;
    std::optional<std::string> slug, plan;
};

struct TenantPatch {
    std::optional<std::string> name, slug, plan, status;
    std::optional<json::object> settings;
};

struct Member {
    auth::User user;
    std::string role;
    int64_t joined_at = 0;
};

// An invitation by mail (API.md §7): an email with no account, asked to join.
struct PendingInvitation {
    std::string id, email, role;
    int64_t expires_at = 0;
};

// What POST /v1/tenants/{id}/members did: added an existing account, or invited an email.
struct AddedMember {
    std::optional<Member> member;
    std::optional<PendingInvitation> invitation;
};

struct NewUser {
    std::string email, name;
    std::string password_hash;  // empty: no password (sign-in after a reset only)
    Role role = Role::kMember;
};

struct UserPatch {
    std::optional<std::string> name, email, role;
    std::optional<bool> is_active;
};

template <class T>
struct Page {
    std::vector<T> items;
    std::optional<int64_t> total;
    std::optional<std::vector<query::Literal>> next_keys;
};

// The list resources (API.md §1.2) of tenancy: declared fields, parsed by query/.
const query::Resource& TenantsResource();
const query::Resource& MembersResource();
const query::Resource& UsersResource();

class TenantService : public auth::TenantDirectory {
  public:
    TenantService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                  audit::AuditLog& audit, InvalidationBus& bus, TenancySettings settings);

    // The request's tenant: an API key's own (X-Tenant-ID naming another → 403); for a user
    // X-Tenant-ID, else the token's tid, else the first membership. A tenant the user is not
    // a member of is 404 (a platform admin may enter any existing one). `require`: no tenant
    // at all → 404 (else the Caller simply has none).
    Task<Result<Caller>> Resolve(const auth::Principal& principal, std::string_view header,
                                 bool require, std::string ip, std::string user_agent);
    // Resolve's answer when the membership cache decides it, without a coroutine; nullopt:
    // ask Resolve (the first membership, a platform admin's entry, a cache miss).
    std::optional<Result<Caller>> ResolveCached(const auth::Principal& principal,
                                                std::string_view header, const std::string& ip,
                                                const std::string& user_agent);

    // A visitor without credentials in the tenant X-Tenant-ID names: UNAUTHORIZED when the
    // header is missing or names no active tenant, so that nothing is revealed.
    Task<Result<Caller>> ResolveAnonymous(std::string_view header, std::string ip,
                                          std::string user_agent);

    // auth::TenantDirectory
    Task<Result<std::optional<auth::TenantMembership>>> CreatePersonalTenant(
        storage::Session& tx, const auth::User& user, const std::string& tenant_name,
        const auth::ClientInfo& client) override;
    Task<Result<std::vector<auth::TenantMembership>>> MembershipsOf(
        const std::string& user_id) override;
    Task<Result<bool>> IsMember(storage::Session& s, const std::string& user_id,
                                const std::string& tenant_id) override;
    Task<Result<std::optional<auth::Invitation>>> FindInvitation(storage::Session& s,
                                                                 const std::string& token_hash,
                                                                 int64_t now) override;
    Task<Status> ClaimInvitation(storage::Session& tx, const auth::Invitation& invitation,
                                 int64_t now) override;
    Task<Status> JoinInvited(storage::Session& tx, const auth::Invitation& invitation,
                             const auth::User& user, const auth::ClientInfo& client,
                             int64_t now) override;
    // Wiring: the outbox that carries invitations. Without it, inviting an unknown email is 404.
    void AttachMail(mail::Outbox& outbox) { outbox_ = &outbox; }

    // Tenants.
    Task<Result<Page<Tenant>>> List(const Caller& who, const query::ListQuery& q);
    Task<Result<Tenant>> Create(const Caller& who, NewTenant in);
    Task<Result<Tenant>> Get(const Caller& who, const std::string& id);
    Task<Result<Tenant>> Update(const Caller& who, const std::string& id, TenantPatch patch);
    Task<Status> Delete(const Caller& who, const std::string& id);

    // Members of a tenant named by id (API.md §3 /v1/tenants/{id}/members).
    Task<Result<Page<Member>>> ListMembers(const Caller& who, const std::string& tenant_id,
                                           const query::ListQuery& q);
    // An existing account becomes a member; an email without one is invited by mail (a new
    // invitation replaces a pending one for the same email).
    Task<Result<AddedMember>> AddMember(const Caller& who, const std::string& tenant_id,
                                        const std::string& email, Role role);
    Task<Result<Member>> SetRole(const Caller& who, const std::string& tenant_id,
                                 const std::string& user_id, Role role);
    Task<Status> RemoveMember(const Caller& who, const std::string& tenant_id,
                              const std::string& user_id);

    // Users of the caller's tenant (API.md §3.1).
    Task<Result<Page<Member>>> ListUsers(const Caller& who, const query::ListQuery& q);
    Task<Result<Member>> CreateUser(const Caller& who, NewUser in);
    Task<Result<Member>> GetUser(const Caller& who, const std::string& user_id);
    Task<Result<Member>> UpdateUser(const Caller& who, const std::string& user_id, UserPatch patch);
    Task<Status> DeleteUser(const Caller& who, const std::string& user_id, bool purge);

    // What an operation on the tenant named in a path needs (the access checks alone, so that
    // a handler can answer 404/403 before a body error: API.md §13 "Precedence of errors").
    enum class Access { kRead, kManage, kOwner };
    Task<Status> Authorize(const Caller& who, const std::string& tenant_id, Access access);

    // CORS (API.md §13): whether any tenant's settings.cors_origins lists the origin (for
    // preflights), and whether the given tenant's does (for actual requests). Both read an
    // index rebuilt on every change on this node and by RefreshCorsOrigins (upkeep, for the
    // changes of other nodes).
    bool AnyTenantAllowsOrigin(std::string_view origin) const;
    bool TenantAllowsOrigin(const std::string& tenant_id, std::string_view origin) const;
    Task<Status> RefreshCorsOrigins();

    // The plan of a tenant, through a cache ("" when there is no such tenant): the limits of
    // requests that name a tenant before anything resolves it (anonymous budgets).
    Task<Result<std::string>> PlanOf(const std::string& tenant_id);

    // The caller's role in a tenant, through the cache (null: not a member); shared with it.
    Task<Result<std::shared_ptr<const auth::TenantMembership>>> MembershipIn(
        const std::string& user_id, const std::string& tenant_id);
    // MembershipIn's answer when the cache holds a fresh one, without a coroutine; nullopt:
    // ask MembershipIn.
    std::optional<std::shared_ptr<const auth::TenantMembership>> CachedMembership(
        std::string_view user_id, std::string_view tenant_id);

  private:
    struct CachedUser {
        // tenant id -> membership (null: known not to be a member), with fetch times.
        TextMap<std::pair<std::shared_ptr<const auth::TenantMembership>, int64_t>> in;
        std::optional<std::vector<auth::TenantMembership>> all;
        int64_t all_ms = 0;
    };
    // A caller acting on the tenant named in the path: that tenant must be the request's (so
    // that a key bound to A can never reach B), visible (404) and, for writes, managed (403).
    Task<Result<Caller>> Enter(const Caller& who, const std::string& tenant_id);
    Task<Result<std::optional<Tenant>>> FindTenant(storage::Session& s, const std::string& id);
    Task<Result<std::optional<Member>>> FindMember(storage::Session& s,
                                                   const storage::TenantScope& scope,
                                                   const std::string& user_id);
    Task<Result<Page<Member>>> ListMembersIn(const storage::TenantScope& scope,
                                             const query::ListQuery& q, bool users_view);
    Task<Status> InsertMembership(storage::Session& tx, const storage::TenantScope& scope,
                                  const auth::User& user, Role role, int64_t now);
    Task<Result<PendingInvitation>> Invite(const Caller& in, const std::string& email, Role role);
    Task<Result<std::string>> UniqueSlug(storage::Session& tx, const std::string& name);
    // Role change and removal share the rules of invariants 2 and 3.
    Task<Status> CheckChange(storage::Session& tx, const Caller& who,
                             const storage::TenantScope& scope, const Member& target,
                             std::optional<Role> next);
    void ForgetUser(const std::string& user_id);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }
    const limits::PlanCatalog& Plans() const;

    storage::Database& db_;
    IdGenerator& ids_;
    const Clock& clock_;
    audit::AuditLog& audit_;
    InvalidationBus& bus_;
    TenancySettings settings_;
    mail::Outbox* outbox_ = nullptr;

    std::mutex mu_;
    TextMap<CachedUser> cache_;  // guarded by mu_: by user id
    // tenant id -> (plan or "", fetched at ms); guarded by mu_, cleared with cache_.
    std::unordered_map<std::string, std::pair<std::string, int64_t>> plans_;

    struct CorsIndex {
        std::set<std::string, std::less<>> all;
        std::unordered_map<std::string, std::vector<std::string>> by_tenant;
    };
    mutable std::mutex cors_mu_;
    std::shared_ptr<const CorsIndex> cors_;  // guarded by cors_mu_
};

}  // namespace tb::tenancy
