#pragma once
// Rows of memberships joined with users, shared by the files of TenantService (members,
// users of a tenant). Internal to tenancy/.

#include "storage/database.h"
#include "storage/list_sql.h"
#include "storage/value.h"
#include "tenancy/tenant_service.h"

namespace tb::tenancy::detail {

inline constexpr const char* kMemberColumns =
    "u.id, u.email, u.name, u.email_verified, u.is_active, u.is_admin, u.created_at, "
    "u.updated_at, u.last_login_at, m.role, m.joined_at";
inline constexpr const char* kMemberFrom = "memberships m JOIN users u ON u.id = m.user_id";

inline Member MemberFromRow(const std::vector<storage::Value>& r) {
    using storage::AsInt;
    using storage::AsText;
    Member m;
    m.user.id = AsText(r[0]);
    m.user.email = AsText(r[1]);
    m.user.name = AsText(r[2]);
    m.user.email_verified = AsInt(r[3]) != 0;
    m.user.is_active = AsInt(r[4]) != 0;
    m.user.is_admin = AsInt(r[5]) != 0;
    m.user.created_at = AsInt(r[6]);
    m.user.updated_at = AsInt(r[7]);
    if (!storage::IsNull(r[8])) m.user.last_login_at = AsInt(r[8]);
    m.role = AsText(r[9]);
    m.joined_at = AsInt(r[10]);
    return m;
}

// Serialises the membership changes of one tenant: the first statement of their transaction
// takes the tenant row's lock (PostgreSQL; SQLite has one writer anyway), so that two owners
// stepping down at once cannot both see the other one still there (last-owner invariant).
Task<Status> LockTenant(storage::Session& tx, const storage::TenantScope& scope);

inline Error TenantNotFound() { return Error::NotFound("Tenant not found"); }
// The same answer to someone who may not enter the tenant (it may exist): audited as
// access.denied in that tenant's log.
inline Error TenantHidden() {
    Error e = TenantNotFound();
    e.access_denied = true;
    return e;
}
inline Error UserNotFound() { return Error::NotFound("User not found"); }

}  // namespace tb::tenancy::detail
