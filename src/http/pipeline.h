#pragma once
// The ordered transport pipeline every request passes, in two phases.
//
// Prepare (once the header is read, before the body):
//   0. client address  — the peer, or X-Forwarded-For behind a trusted proxy;
//   1. request id      — first, so every later answer and log line carries it;
//   2. method override — before routing, since it changes which route matches;
//   3. route match     — decides the body limit for this route (uploads may raise it).
// Handle (once the body is read):
//   4. exception guard — everything below it answers 500 without internals on a bug;
//   5. CORS preflight  — answered here, before routing: it needs no credentials on any path;
//   6. 404 / 405       — unknown path, or a method the path does not have (with Allow);
//   7. JSON body       — 415 for another content type, 400 for malformed JSON;
//   8. the handler     — with the interceptor's steps around it (rate limits, metering);
//                        the api layer authenticates and resolves the tenant;
//   9. response        — X-Request-ID and CORS headers added, metrics and access log written.
// docs/architecture.md ("Life of a request") follows these steps; keep them in step.
//
// Thread safety: Prepare and Handle may run concurrently on any I/O thread.

#include <functional>
#include <optional>
#include <vector>

#include "common/ids.h"
#include "http/access_log.h"
#include "http/client_ip.h"
#include "http/cors.h"
#include "http/metrics.h"
#include "http/router.h"

namespace tb::http {

// Steps of the layer above around every routed handler (rate limits and metering): Before runs
// only when Wants says so (a cheap check), and may answer instead of the handler; After sees
// every answer of a routed handler and may add headers.
class Interceptor {
  public:
    virtual ~Interceptor() = default;
    virtual bool Wants(const Request& request, const RouteContext& ctx) const = 0;
    virtual Task<std::optional<Response>> Before(Request& request, RouteContext& ctx) = 0;
    virtual void After(const Request& request, RouteContext& ctx, Response& response) = 0;
};

// A compatibility dialect (API.md §11), chosen by the first segment of the path: how its errors
// are written, everywhere a request under it is answered (no route, 405, 413, 415, a bad body,
// 429, a handler's error); and what it changes in a request before routing (a dialect's own
// credential headers turned into ours). `prepare` may refuse the request with an error that
// is answered after the body, like a bad method override.
struct Dialect {
    std::string segment;  // "api" serves /api and /api/...
    ErrorBody error_body = nullptr;
    std::function<std::optional<Error>(Request&)> prepare;  // may be empty
};

struct PipelineOptions {
    size_t max_body_bytes = size_t{10} * 1024 * 1024;
    AccessLog* access_log = nullptr;  // null: no access log
    // Peers whose X-Forwarded-For names the client (request.remote_ip is set from it).
    TrustedProxies trusted_proxies;
    Interceptor* interceptor = nullptr;  // null: none
    std::vector<Dialect> dialects;
};

struct Exchange {
    RouteMatch match;
    size_t body_limit = 0;
    std::optional<Error> early_error;  // e.g. a bad method override, answered after the body
    const Dialect* dialect = nullptr;  // null: /v1
    std::chrono::steady_clock::time_point start;
};

class Pipeline {
  public:
    Pipeline(const Router& router, Metrics& metrics, const CorsPolicy& cors, IdGenerator& ids,
             PipelineOptions options);

    Exchange Prepare(Request& head);
    Task<Response> Handle(Request& request, Exchange& exchange);
    // An answer for a request the transport refused (framing, limits): same envelope,
    // request id, metrics and log as any other. `prepared` is the request's Exchange when
    // Prepare already ran for it (it is then finished here, and counted once).
    Response Reject(const Request* head, const Error& error, Exchange* prepared = nullptr);

    // The client went away before its request could be handled: release what Prepare took.
    void Abandon(Exchange& exchange);

  private:
    const Dialect* DialectOf(const Request& request) const;
    void Finish(const Request& request, const Exchange& exchange, const std::string& request_id,
                Response& response);
    std::string RequestId(const Request& request);

    const Router& router_;
    Metrics& metrics_;
    const CorsPolicy& cors_;
    IdGenerator& ids_;
    PipelineOptions options_;
};

}  // namespace tb::http
