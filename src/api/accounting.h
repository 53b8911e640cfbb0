#pragma once
// Rate limits and metering of API requests (API.md §1.3, §8, §13 "Usage counting",
// "Rate-limit windows"), one mechanism for every route:
//  - Accounting, the pipeline's interceptor: a request without credentials is charged to its
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
#include "http/pipeline.h"
#include "http/router.h"
#include "tenancy/caller.h"

namespace tb::api {

// The route group a path template is metered under ("documents", "auth", …); "" for the
// routes API.md §13 leaves out of usage and rate limits (health, readiness, metrics).
std::string RouteGroup(std::string_view path_template);

// Rate limiting, metering and the audit of refusals (api/denials.h) around every routed
// handler.
class Accounting final : public http::Interceptor {
  public:
    // The route group of every route of the router, by route index.
    Accounting(Services& s, const http::Router& router);

    bool Wants(const http::Request& request, const http::RouteContext& ctx) const override;
    Task<std::optional<http::Response>> Before(http::Request& request,
                                               http::RouteContext& ctx) override;
    void After(const http::Request& request, http::RouteContext& ctx,
               http::Response& response) override;

  private:
    const std::string& GroupOf(const http::RouteContext& ctx) const;

    Services& s_;
    std::vector<std::string> groups_;
};

// Charges the client IP's anonymous budget (a request without credentials, or with bad ones):
// RATE_LIMITED when it is spent. The limit is that of the plan of the tenant X-Tenant-ID
// names, else limits.anonymous_per_hour.
Task<std::optional<Error>> ChargeAnonymous(Services& s, const http::Request& request,
                                           http::RouteContext& ctx);
// A charge made without waiting: `decided` false when a budget shared by several nodes needs
// the database first (nothing is charged then; the *Fully version decides).
struct Charged {
    bool decided = true;
    std::optional<Error> refusal;  // RATE_LIMITED
};
// Charges the budget of the user or API key of `who`, with its plan's limit (the default
// plan's for a request outside any tenant), and records who the request is for metering.
Charged ChargeCaller(Services& s, const tenancy::Caller& who, http::RouteContext& ctx);
Task<std::optional<Error>> ChargeCallerFully(Services& s, const tenancy::Caller& who,
                                             http::RouteContext& ctx);
// The same for a principal outside any tenant (the default plan's budget), without building a
// Caller from it.
Charged ChargePrincipal(Services& s, const auth::Principal& who, http::RouteContext& ctx);
Task<std::optional<Error>> ChargePrincipalFully(Services& s, const auth::Principal& who,
                                                http::RouteContext& ctx);

}  // namespace tb::api
