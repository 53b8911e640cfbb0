#pragma once
// Who is calling and where the call applies: the principal resolved by auth, the request's
// tenant (API.md §2 "Tenant context") and the caller's role in it — with the permission
// checks every tenancy operation starts with (API.md §13 "Who columns", "API key scopes").

#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "auth/api_key_service.h"
#include "common/result.h"
#include "storage/list_sql.h"
#include "tenancy/role.h"

namespace tb::tenancy {

struct Caller {
    auth::UserRef user = auth::NoUser();          // shared with the auth caches, never null
    std::shared_ptr<const auth::ApiKey> api_key;  // null: not through a key
    std::optional<storage::TenantScope> tenant;   // the request's tenant, when it has one
    std::optional<Role> role;                     // the user's role there (nullopt: not a member)
    std::string ip, user_agent;
    // No credentials: a visitor naming a tenant with X-Tenant-ID (API.md §13 "Anonymous
    // tenant"); reaches only what a `public` rule opens.
    bool anonymous = false;
    // The plan of the request's tenant (API.md §8): its rate limits and quotas.
    std::string plan;
    // The signed-in session (empty through an API key or for a visitor): what a logout ends.
    std::string session_id;

    // A signed-in platform admin; never through an API key (API.md §13).
    bool platform_admin() const { return user->is_admin && !api_key; }
    // The role the request acts with in its tenant: a platform admin acts as owner.
    std::optional<Role> EffectiveRole() const {
        if (platform_admin()) return Role::kOwner;
        return role;
    }
    bool AtLeastRole(Role minimum) const {
        auto r = EffectiveRole();
        return r && AtLeast(*r, minimum);
    }
    // Reads: any member (viewer included); a key needs `read` or `admin`.
    Status CanRead() const {
        if (!EffectiveRole()) return Error::NotFound("Tenant not found");
        if (api_key && !api_key->HasScope("read") && !api_key->HasScope("admin"))
            return Error::Forbidden("This API key lacks the read scope");
        return {};
    }
    // Management (members, users, organizations, keys, settings): admin+; a key needs `admin`.
    Status CanManage() const {
        if (!EffectiveRole()) return Error::NotFound("Tenant not found");
        if (api_key && !api_key->HasScope("admin"))
            return Error::Forbidden("This API key lacks the admin scope");
        if (!AtLeastRole(Role::kAdmin)) return Error::Forbidden("Needs the admin or owner role");
        return {};
    }
    // REQUIRES: tenant.
    const storage::TenantScope& scope() const { return *tenant; }

    // An audit event of this caller in the request's tenant (instance-level without one).
    audit::Event AuditEvent(std::string action, std::string target) const {
        audit::Event e;
        if (tenant) e.tenant_id = tenant->id();
        if (anonymous) e.details["anonymous"] = true;
        e.actor = user->id;
        e.action = std::move(action);
        e.target = std::move(target);
        e.ip = ip;
        e.user_agent = user_agent.substr(0, 512);
        if (api_key) e.details["via_key"] = api_key->id;
        return e;
    }
};

}  // namespace tb::tenancy
