#pragma once
// Rate limits and metering of API requests (API.md §1.3, §8, §13 "Usage counting",
// "Rate-limit windows"), one mechanism for every route:
//  - Metered wraps each route's handler: a request without credentials is charged to its
//    client IP's budget before the handler runs; after it, the X-RateLimit-* headers of the
//    budget charged are set and the request is metered in its tenant.
//  - The auth resolver (authenticate.cpp) charges a signed-in user's or an API key's budget
//    with the limit of the plan of the request's tenant, and records who the request was.
//
// Thread safety: as the limiter and the meter (safe from every I/O thread).

#include <optional>
#include <string>

#include "api/services.h"
#include "http/message.h"
#include "http/router.h"
#include "tenancy/caller.h"

namespace tb::api {

// The route group a path template is metered under ("documents", "auth", …); "" for the
// routes API.md §13 leaves out of usage and rate limits (health, readiness, metrics).
std::string RouteGroup(std::string_view path_template);

// Wraps a route's handler with rate limiting and metering.
http::Handler Metered(Services& s, http::Handler inner, std::string group);

// Charges the client IP's anonymous budget (a request without credentials, or with bad ones):
// RATE_LIMITED when it is spent. The limit is that of the plan of the tenant X-Tenant-ID
// names, else limits.anonymous_per_hour.
Task<std::optional<Error>> ChargeAnonymous(Services& s, const http::Request& request,
                                           http::RouteContext& ctx);
// Charges the budget of the user or API key of `who`, with its plan's limit (the default
// plan's for a request outside any tenant), and records who the request is for metering.
std::optional<Error> ChargeCaller(Services& s, const tenancy::Caller& who, http::RouteContext& ctx);

}  // namespace tb::api
