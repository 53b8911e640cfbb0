#pragma once
// The one auth resolver of the API (API.md §2): credentials of a request -> Principal.
// Missing, malformed, expired or revoked credentials -> UNAUTHORIZED.

#include "api/services.h"
#include "auth/auth_service.h"
#include "http/message.h"
#include "http/router.h"

namespace tb::api {

// A user's session or an API key (X-API-Key, or Bearer with the tbk_ prefix). Marks the
// context when a CORS key allowed the request's Origin.
Task<Result<auth::Principal>> RequirePrincipal(Services& s, const http::Request& request,
                                               http::RouteContext& ctx);
// As RequirePrincipal, but only a session will do (logout, password, profile): an API key
// answers 403.
Task<Result<auth::Principal>> RequireSession(Services& s, const http::Request& request,
                                             http::RouteContext& ctx);
// The principal and the request's tenant (API.md §2 "Tenant context"): X-Tenant-ID, the
// token's tid, or the first membership; an API key's own tenant. `require_tenant`: no tenant
// at all answers 404.
Task<Result<tenancy::Caller>> RequireCaller(Services& s, const http::Request& request,
                                            http::RouteContext& ctx, bool require_tenant = true);
// As RequireCaller, but a request with no credentials at all is an anonymous visitor of the
// tenant X-Tenant-ID names (401 when there is none): for routes that `public` rules open.
Task<Result<tenancy::Caller>> RequireCallerOrVisitor(Services& s, const http::Request& request,
                                                     http::RouteContext& ctx);
// The key actor for key management; an API key needs the admin scope (403 otherwise).
Result<auth::KeyActor> KeyManager(const tenancy::Caller& who);
auth::ClientInfo Client(const http::Request& request);
// The User-Agent as recorded (sessions, audit log): only recorded, never refused, so invalid
// UTF-8 is replaced by U+FFFD; at most 512 bytes.
std::string UserAgent(const http::Request& request);

}  // namespace tb::api
