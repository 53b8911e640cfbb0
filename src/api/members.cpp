#include "api/members.h"

namespace tb::api {

Result<tenancy::Role> ParseRoleField(const json::object& o, bool required) {
    TB_ASSIGN_OR_RETURN(auto role, MaybeString(o, "role"));
    if (!role) {
        if (required) return Error::Validation("role", "role is required");
        return tenancy::Role::kMember;
    }
    return tenancy::RoleField(*role);
}

Result<NewMember> ParseNewMember(http::RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"email", "role"}));
    NewMember in;
    TB_ASSIGN_OR_RETURN(in.email, RequiredString(*o, "email"));
    TB_ASSIGN_OR_RETURN(in.role, ParseRoleField(*o, false));
    return in;
}

}  // namespace tb::api
