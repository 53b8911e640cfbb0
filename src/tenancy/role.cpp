#include "tenancy/role.h"

namespace tb::tenancy {

std::optional<Role> ParseRole(std::string_view name) {
    if (name == "owner") return Role::kOwner;
    if (name == "admin") return Role::kAdmin;
    if (name == "member") return Role::kMember;
    if (name == "viewer") return Role::kViewer;
    return std::nullopt;
}

Result<Role> RoleField(std::string_view name) {
    auto role = ParseRole(name);
    if (!role) return Error::Validation("role", "role must be owner, admin, member or viewer");
    return *role;
}

std::string_view RoleName(Role role) {
    switch (role) {
        case Role::kOwner:
            return "owner";
        case Role::kAdmin:
            return "admin";
        case Role::kMember:
            return "member";
        case Role::kViewer:
            return "viewer";
    }
    return "viewer";
}

std::vector<std::string> ScopesOf(Role role) {
    if (AtLeast(role, Role::kAdmin)) return {"read", "write", "admin"};
    if (AtLeast(role, Role::kMember)) return {"read", "write"};
    return {"read"};
}

}  // namespace tb::tenancy
