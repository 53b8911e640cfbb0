#pragma once
// Organizations: groups inside a tenant (API.md §3.2), with their own small role set
// (admin, member). Only members of the tenant can join one; documents may later be shared
// with one through `_org`.
//
// Invariants:
//  1. Every statement is scoped by the caller's tenant (TenantScope): another tenant's
//     organization is 404.
//  2. organizations.member_count changes in the same transaction as the rows it counts.
//
// Thread safety: stateless beyond its references; all methods may run concurrently.

#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "tenancy/tenant_service.h"

namespace tb::tenancy {

struct Organization {
    std::string id, tenant_id, name, slug, description;
    int64_t member_count = 0;
    int64_t created_at = 0, updated_at = 0;
};

struct NewOrganization {
    std::string name;
    std::optional<std::string> slug;
    std::string description;
};

struct OrganizationPatch {
    std::optional<std::string> name, slug, description;
};

const query::Resource& OrganizationsResource();
const query::Resource& OrganizationMembersResource();

class OrgService {
  public:
    OrgService(storage::Database& db, IdGenerator& ids, const Clock& clock, audit::AuditLog& audit);

    Task<Result<Page<Organization>>> List(const Caller& who, const query::ListQuery& q);
    Task<Result<Organization>> Create(const Caller& who, NewOrganization in);
    Task<Result<Organization>> Get(const Caller& who, const std::string& id);
    Task<Result<Organization>> Update(const Caller& who, const std::string& id,
                                      OrganizationPatch patch);
    Task<Status> Delete(const Caller& who, const std::string& id);

    Task<Result<Page<Member>>> ListMembers(const Caller& who, const std::string& org_id,
                                           const query::ListQuery& q);
    Task<Result<Member>> AddMember(const Caller& who, const std::string& org_id,
                                   const std::string& user_id, const std::string& role);
    Task<Status> RemoveMember(const Caller& who, const std::string& org_id,
                              const std::string& user_id);

    // The access checks of an update or member change alone (404, then 403).
    Task<Status> AuthorizeManage(const Caller& who, const std::string& org_id);

  private:
    Task<Result<std::optional<Organization>>> Find(storage::Session& s,
                                                   const storage::TenantScope& scope,
                                                   const std::string& id);
    // Tenant admin+, or an admin of this organization (403 otherwise).
    Task<Status> CanManageOrg(const Caller& who, const std::string& org_id);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }

    storage::Database& db_;
    IdGenerator& ids_;
    const Clock& clock_;
    audit::AuditLog& audit_;
};

}  // namespace tb::tenancy
