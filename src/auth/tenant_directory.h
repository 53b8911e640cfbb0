#pragma once
// What accounts need from tenancy, without depending on it (tenancy builds on auth): the
// personal tenant made at registration, and a user's memberships for login, refresh, `me`
// and the token's `tid`. Implemented by tenancy::TenantService.

#include <optional>
#include <string>
#include <vector>

#include "auth/client_info.h"
#include "auth/user_store.h"

namespace tb::auth {

// One of the caller's tenants, with the caller's role in it (API.md §2.2 `tenants`).
struct TenantMembership {
    std::string tenant_id, name, slug, plan, status, role;
    int64_t joined_at = 0;
};

// The user's personal tenant among their memberships (oldest first): the oldest tenant they
// own, made at registration (the Nilux dialect's `tier` is its plan and its primary key lives
// there, API.md §11). Null when they own none.
inline const TenantMembership* PersonalTenant(const std::vector<TenantMembership>& tenants) {
    for (const TenantMembership& m : tenants)
        if (m.role == "owner") return &m;
    return nullptr;
}

// A pending invitation to a tenant (API.md §7), found by its token.
struct Invitation {
    std::string id, tenant_id, email, role;
};

class TenantDirectory {
  public:
    virtual ~TenantDirectory() = default;
    // Inside the registration transaction: the user's personal tenant, with the user as its
    // owner; nullopt when the instance makes none.
    virtual Task<Result<std::optional<TenantMembership>>> CreatePersonalTenant(
        storage::Session& tx, const User& user, const std::string& tenant_name,
        const ClientInfo& client) = 0;
    // Whether the user is a member of the tenant, read in the caller's transaction.
    virtual Task<Result<bool>> IsMember(storage::Session& s, const std::string& user_id,
                                        const std::string& tenant_id) = 0;
    // The live invitation with this token hash; nullopt when unknown, accepted or expired.
    virtual Task<Result<std::optional<Invitation>>> FindInvitation(storage::Session& s,
                                                                   const std::string& token_hash,
                                                                   int64_t now) = 0;
    // Inside the acceptance transaction, first: marks the invitation accepted (BAD_REQUEST
    // "Invalid or expired token" when another request took it first).
    virtual Task<Status> ClaimInvitation(storage::Session& tx, const Invitation& invitation,
                                         int64_t now) = 0;
    // Then, once the account exists: makes the user a member with the invitation's role,
    // unless they are one already. The caller publishes the membership change after commit.
    virtual Task<Status> JoinInvited(storage::Session& tx, const Invitation& invitation,
                                     const User& user, const ClientInfo& client, int64_t now) = 0;
    // The user's memberships, oldest first (cached; invalidated on change).
    virtual Task<Result<std::vector<TenantMembership>>> MembershipsOf(
        const std::string& user_id) = 0;
};

}  // namespace tb::auth
