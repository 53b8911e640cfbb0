#pragma once
// The one auth resolver of the API (API.md §2): credentials of a request -> Principal.
// Missing, malformed, expired or revoked credentials -> UNAUTHORIZED.

#include "api/services.h"
#include "auth/auth_service.h"
#include "http/message.h"

namespace tb::api {

Task<Result<auth::Principal>> RequireUser(Services& s, const http::Request& request);
auth::ClientInfo Client(const http::Request& request);

}  // namespace tb::api
