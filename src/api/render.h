#pragma once
// The response envelope (API.md §1.1) and the JSON shapes of shared objects, in one place.

#include "auth/auth_service.h"
#include "common/json.h"
#include "http/message.h"
#include "http/router.h"
#include "tenancy/org_service.h"
#include "tenancy/tenant_service.h"

namespace tb::api {

// {"success":true,"data":…}
http::Response Ok(json::value data, int status = 200);
// The same envelope around data written as text: kOkPrefix, the data, then "}".
inline constexpr std::string_view kOkPrefix = R"({"success":true,"data":)";
// The error envelope for this request.
http::Response Fail(const Error& error, const http::RouteContext& ctx);

// RFC 3339 with milliseconds, or null.
json::value TimeJson(std::optional<int64_t> ms);
json::object UserJson(const auth::User& user);
// The texts of UserJson and MembershipsJson, appended without building a json::value tree
// (the /v1/auth/me hot path: the tree cost a third of the request). render_test.cpp keeps
// each equal to json::serialize of its tree.
void AppendUserJson(std::string& out, const auth::User& user);
void AppendMembershipsJson(std::string& out, const std::vector<auth::TenantMembership>& tenants);
json::object TokensJson(const auth::TokenPair& tokens);
// `tenants` of login, register and me: [{id, name, slug, role, plan}].
json::array MembershipsJson(const std::vector<auth::TenantMembership>& tenants);
json::object TenantJson(const tenancy::Tenant& t);
// {user_id, email, name, role, joined_at} (tenant and organization members).
json::object MemberJson(const tenancy::Member& m);
// The user object with the role and joined_at of the current tenant (/v1/users).
json::object TenantUserJson(const tenancy::Member& m);
json::object OrganizationJson(const tenancy::Organization& o);
// {id, email, role, expires_at}
json::object InvitationJson(const tenancy::PendingInvitation& i);
// {id, to, subject, status, attempts, last_error, created_at, updated_at, sent_at}
json::object MailJson(const mail::Entry& m);

}  // namespace tb::api
