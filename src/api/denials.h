#pragma once
// Refused requests into the audit log (issue #29): a 403, or a 404 that hides another
// tenant, becomes an `access.denied` event (audit/denial_log.h bounds how many per actor).

#include "api/services.h"
#include "http/message.h"
#include "http/router.h"

namespace tb::api {

// Notes `response` as access.denied when it is such a refusal: in the log of the request's
// tenant (else the tenant X-Tenant-ID or a /v1/tenants/{id} path names, else instance-level),
// with the actor (user), the key, the route, the status and the client.
void NoteDenial(Services& s, const http::Request& request, const http::RouteContext& ctx,
                const http::Response& response);

}  // namespace tb::api
