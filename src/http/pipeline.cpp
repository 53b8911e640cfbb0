#include "http/pipeline.h"

#include <algorithm>
#include <exception>
#include <memory>

#include "common/log.h"
#include "common/strings.h"
#include "http/compression.h"
#include "http/errors.h"
#include "http/target.h"

namespace tb::http {

namespace {

// A client's X-Request-ID is kept when it is short and plain, so it can't inject into logs.
bool SaneRequestId(std::string_view id) {
    if (id.empty() || id.size() > 128) return false;
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == ':';
        if (!ok) return false;
    }
    return true;
}

bool IsJsonContentType(std::string_view type) {
    std::string_view media = Trim(type.substr(0, type.find(';')));
    return IEquals(media, "application/json") || IEquals(media, "application/merge-patch+json");
}

// What every request must satisfy before routing, answered after its body like a bad method
// override: its query parameters are UTF-8 text (http/target.h), and a body carries no
// Content-Encoding we would have to decode (RFC 9110 §8.4.1: 415; read as plain, a gzip body
// would be taken for something it is not).
std::optional<Error> CheckRequestText(const Request& head) {
    if (!head.query.empty()) {
        if (Status st = CheckQueryText(head.query); !st.ok()) return std::move(st).error();
    }
    // One header scan on the common path: most requests name no coding at all.
    std::string_view coding = Trim(head.headers.Get("content-encoding"));
    if (coding.empty() || IEquals(coding, "identity")) return std::nullopt;
    bool has_body =
        head.headers.Has("transfer-encoding") ||
        (head.headers.Has("content-length") && head.headers.Get("content-length") != "0");
    if (has_body)
        return Error::UnsupportedMediaType(
            "Content-Encoding is not supported on request bodies: send them uncompressed");
    return std::nullopt;
}

// Authorization or X-API-Key, in one pass over the headers (every answer asks).
bool HasCredentials(const Request& request) {
    for (const Header& h : request.headers.items()) {
        if (h.name.size() == 13 && IEquals(h.name, "authorization")) return true;
        if (h.name.size() == 9 && IEquals(h.name, "x-api-key")) return true;
    }
    return false;
}

}  // namespace

Pipeline::Pipeline(const Router& router, Metrics& metrics, const CorsPolicy& cors, IdGenerator& ids,
                   PipelineOptions options)
    : router_(router), metrics_(metrics), cors_(cors), ids_(ids), options_(std::move(options)) {}

std::string Pipeline::RequestId(const Request& request) {
    std::string_view given = request.headers.Get("x-request-id");
    return SaneRequestId(given) ? std::string(given) : ids_.Next();
}

const Dialect* Pipeline::DialectOf(const Request& request) const {
    if (options_.dialects.empty() || request.segments.empty()) return nullptr;
    for (const Dialect& d : options_.dialects)
        if (request.segments[0] == d.segment) return &d;
    return nullptr;
}

Exchange Pipeline::Prepare(Request& head) {
    Exchange ex;
    ex.dialect = DialectOf(head);
    ex.start = std::chrono::steady_clock::now();
    metrics_.in_flight().fetch_add(1, std::memory_order_relaxed);
    if (!options_.trusted_proxies.empty()) {
        head.remote_ip =
            options_.trusted_proxies.ClientIp(head.remote_ip, head.headers.Get("x-forwarded-for"));
    }
    if (head.method == Method::kPost) {
        std::string_view override = head.headers.Get("x-http-method-override");
        if (!override.empty()) {
            // Only PUT, PATCH and DELETE may be tunnelled through a POST (any case).
            Method m = Method::kOther;
            for (Method allowed : {Method::kPut, Method::kPatch, Method::kDelete}) {
                if (IEquals(override, MethodName(allowed))) m = allowed;
            }
            if (m == Method::kOther) {
                ex.early_error =
                    Error::BadRequest("X-HTTP-Method-Override must be PUT, PATCH or DELETE",
                                      "X-HTTP-Method-Override");
            } else {
                head.method = m;
                head.method_text = std::string(MethodName(m));
            }
        }
    }
    if (!ex.early_error) ex.early_error = CheckRequestText(head);
    if (!ex.early_error && ex.dialect && ex.dialect->prepare)
        ex.early_error = ex.dialect->prepare(head);
    ex.match = router_.Find(head.method, head.segments);
    // A route's own limit only lowers the server's, except a streamed route's (uploads), whose
    // handler reads the body in pieces. A request refused before its handler (an early error)
    // is read whole like any other: with the server's limit, never the upload's.
    const Route* route = ex.match.route;
    if (route && route->body == BodyKind::kStream && route->max_body && !ex.early_error) {
        ex.body_limit = route->max_body;
    } else {
        ex.body_limit = route && route->max_body
                            ? std::min(route->max_body, options_.max_body_bytes)
                            : options_.max_body_bytes;
    }
    return ex;
}

Task<Response> Pipeline::Handle(Request& request, Exchange& ex) {
    std::string request_id = RequestId(request);
    Response response;
    bool cors_allowed = false;
    ErrorBody error_body = ex.dialect ? ex.dialect->error_body : nullptr;
    try {
        if (cors_.IsPreflight(request)) {
            response = cors_.Preflight(request);
        } else if (ex.early_error) {
            response = ErrorResponse(*ex.early_error, request_id, error_body);
        } else if (!ex.match.path_exists) {
            response = ErrorResponse(Error::NotFound("No route for " + request.path), request_id,
                                     error_body);
        } else if (!ex.match.route) {
            Error e;
            e.code = ErrorCode::kMethodNotAllowed;
            e.message = "Method " + request.method_text + " not allowed on " + request.path;
            response = ErrorResponse(e, request_id, error_body);
            response.headers.Add("Allow", ex.match.allow);
        } else {
            const Route& route = *ex.match.route;
            RouteContext ctx;
            ctx.request_id = request_id;
            ctx.route = route.path;
            ctx.route_index = route.index;
            ctx.params = std::move(ex.match.params);
            ctx.error_body = error_body;
            if (route.body == BodyKind::kJson && !request.body.empty()) {
                if (!IsJsonContentType(request.headers.Get("content-type"))) {
                    ctx.body_error =
                        Error::UnsupportedMediaType("Content-Type must be application/json");
                } else if (auto parsed = ParseJson(request.body, {}, JsonArena()); !parsed.ok()) {
                    ctx.body_error = std::move(parsed).error();
                } else {
                    // Constructed in place, not assigned: a value assigned to one of another
                    // memory resource is copied into its own (the default), arena lost.
                    std::destroy_at(&ctx.body);
                    std::construct_at(&ctx.body, std::move(parsed).value());
                }
            }
            Interceptor* around = options_.interceptor;
            std::optional<Response> early;
            if (around && around->Wants(request, ctx))
                early = co_await around->Before(request, ctx);
            if (early) {
                response = std::move(*early);
            } else {
                response = co_await route.handler(request, ctx);
            }
            if (around) around->After(request, ctx, response);
            cors_allowed = ctx.cors_allowed || (route.tenantless && cors_.AllowsOutsideTenant(
                                                                        request, ctx.cors_tenant));
        }
    } catch (const std::exception& e) {
        log::Error("unhandled exception", {{"request_id", request_id}, {"what", e.what()}});
        response = ErrorResponse(Error::Internal(e.what()), request_id, error_body);
    }
    if (!cors_.IsPreflight(request)) cors_.Decorate(request, response, cors_allowed);
    Finish(request, ex, request_id, response);
    co_return response;
}

Response Pipeline::Reject(const Request* head, const Error& error, Exchange* prepared) {
    Exchange ex;
    if (prepared) {
        ex = std::move(*prepared);
    } else {
        ex.start = std::chrono::steady_clock::now();
        metrics_.in_flight().fetch_add(1, std::memory_order_relaxed);
    }
    Request empty;
    const Request& request = head ? *head : empty;
    std::string request_id = head ? RequestId(*head) : ids_.Next();
    const Dialect* dialect = ex.dialect ? ex.dialect : head ? DialectOf(*head) : nullptr;
    Response response = ErrorResponse(error, request_id, dialect ? dialect->error_body : nullptr);
    response.close = true;
    cors_.Decorate(request, response, false);
    Finish(request, ex, request_id, response);
    return response;
}

void Pipeline::Abandon(Exchange&) { metrics_.in_flight().fetch_sub(1, std::memory_order_relaxed); }

void Pipeline::Finish(const Request& request, const Exchange& ex, const std::string& request_id,
                      Response& response) {
    CompressResponse(request, response);
    // An answer to credentials is the caller's alone: no cache keeps it (issue #29).
    if (HasCredentials(request) && !response.headers.Has("cache-control")) response.no_store = true;
    response.headers.Add("X-Request-ID", request_id);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.start).count();
    int route = ex.match.route ? ex.match.route->index : -1;
    metrics_.Record(route, request.method, response.status, seconds);
    metrics_.in_flight().fetch_sub(1, std::memory_order_relaxed);
    if (options_.access_log) {
        options_.access_log->Append({request.method_text, request.target, response.status,
                                     seconds * 1000, request_id, request.remote_ip});
    }
}

}  // namespace tb::http
