#pragma once
// The one route table of the /v1 API and the operational endpoints (STYLE.md §4).

#include <string>
#include <vector>

#include "api/services.h"
#include "http/router.h"

namespace tb::api {

// The route templates, in table order (for metrics labels), without registering handlers.
std::vector<std::string> RouteNames();
// Every operation as "METHOD /path/{template}" (e.g. "GET /v1/users/{id}"), in table order:
// what the OpenAPI document must describe, no more and no less.
std::vector<std::string> Operations();
// The same for the compatibility dialects (API.md §11): docs/openapi-compat.yaml's operations.
std::vector<std::string> CompatOperations();
// Whether a route template belongs to a compatibility dialect.
bool IsCompatRoute(std::string_view path);
// Registers every route on the router; handlers keep a reference to services.
void RegisterRoutes(http::Router& router, Services& services);
// The routes of the metrics.http listener: GET /metrics (open to whoever reaches the
// listener) and GET /healthz.
void RegisterMetricsRoutes(http::Router& router, Services& services);

}  // namespace tb::api
