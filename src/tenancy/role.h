#pragma once
// Roles inside a tenant, highest first: owner > admin > member > viewer (API.md §3), and what
// each may do. Organization roles are a separate, smaller set (admin, member).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tb::tenancy {

enum class Role { kViewer = 0, kMember = 1, kAdmin = 2, kOwner = 3 };

std::optional<Role> ParseRole(std::string_view name);
// As ParseRole, for a request's `role` field: VALIDATION_ERROR on "role" when unknown.
Result<Role> RoleField(std::string_view name);
std::string_view RoleName(Role role);
inline bool AtLeast(Role role, Role minimum) {
    return static_cast<int>(role) >= static_cast<int>(minimum);
}
// The API key scopes a role may hold (API.md §13 "Viewer keys"): viewer read; member read,
// write; admin and owner also admin.
std::vector<std::string> ScopesOf(Role role);

}  // namespace tb::tenancy
