#pragma once
// The body of adding someone to a tenant, shared by /v1/tenants/{id}/members and Nile's
// /tenants/{id}/users (API.md §3, §11): {email, role?}, role `member` by default.

#include <string>

#include "common/json.h"
#include "common/result.h"
#include "http/router.h"
#include "tenancy/role.h"

namespace tb::api {

struct NewMember {
    std::string email;
    tenancy::Role role = tenancy::Role::kMember;
};

Result<NewMember> ParseNewMember(http::RouteContext& ctx);
// `role` of a body: required, or `member` when absent.
Result<tenancy::Role> ParseRoleField(const json::object& o, bool required);

}  // namespace tb::api
