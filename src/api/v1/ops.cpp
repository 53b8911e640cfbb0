#include "api/authenticate.h"
#include "api/openapi.h"
#include "api/openapi30.h"
#include "api/render.h"
#include "api/v1/handlers.h"
#include "common/json.h"
#include "http/compression.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

// The body is written directly rather than built as a JSON tree: health checks run at high
// rates (load balancers, monitors) and only the timestamp, uptime and status vary. The
// constant part (brand, version) is escaped once. `bare`: the object itself (Nilux's
// /api/health), else in the envelope.
http::Handler HealthOf(Services& s, bool bare) {
    json::object brand{{"name", s.brand.name},
                       {"shortName", s.brand.short_name},
                       {"description", s.brand.description}};
    std::string tail = std::string(R"(,"version":)") + json::serialize(json::value(TB_VERSION)) +
                       R"(,"brand":)" + json::serialize(brand) + R"(,"checks":{"database":)";
    return [&s, bare, tail = std::move(tail)](Request&, RouteContext&) -> Task<Response> {
        Status db = co_await s.db.Ping();
        auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - s.started)
                          .count();
        std::string body;
        body.reserve(256 + tail.size());
        body += bare ? R"({"status":")" : R"({"success":true,"data":{"status":")";
        body += db.ok() ? "OK" : "DEGRADED";
        body += R"(","timestamp":")";
        body += FormatRfc3339(s.clock.Now());
        body += R"(","uptime":)";
        body += std::to_string(uptime);
        body += tail;
        body += db.ok() ? R"("ok")" : R"("unavailable")";
        if (s.durability_warning.empty()) {
            body += R"(,"durability":"ok"}})";
        } else {
            body += R"(,"durability":)";
            AppendJsonString(body, "at risk: " + s.durability_warning);
            body += "}}";
        }
        if (!bare) body += '}';
        co_return Response::Json(db.ok() ? 200 : 503, std::move(body));
    };
}

}  // namespace

http::Handler Health(Services& s) { return HealthOf(s, false); }
http::Handler BareHealth(Services& s) { return HealthOf(s, true); }

http::Handler Liveness(Services&) {
    return [](Request&, RouteContext&) -> Task<Response> { co_return Response::Text(200, "ok"); };
}

namespace {
// `in_use=14; idle=2; waiting=3; size=16` (size=0: no bound, SQLite): a balancer or an operator
// sees a node whose pool is saturated (waiting > 0) before its requests start to time out.
std::string PoolReport(const storage::DatabaseStats& st) {
    return "in_use=" + std::to_string(st.pool_connections - st.pool_idle) +
           "; idle=" + std::to_string(st.pool_idle) +
           "; waiting=" + std::to_string(st.writer_queue) +
           "; size=" + std::to_string(st.pool_size);
}
}  // namespace

http::Handler Readiness(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        if (!s.ready.load()) co_return Response::Text(503, "unavailable");
        Status db = co_await s.db.Ping();
        if (!db.ok()) co_return Response::Text(503, "unavailable");
        Response r = Response::Text(200, "ok");
        if (!s.durability_warning.empty())
            r.headers.Add("X-Durability-Warning", s.durability_warning);
        r.headers.Add("X-DB-Pool", PoolReport(s.db.Stats()));
        co_return r;
    };
}

namespace {
Response MetricsResponse(Services& s) {
    Response r = Response::Empty(200);
    r.headers.Add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = s.metrics.Render();
    return r;
}
}  // namespace

// On the main listener the metrics (which name every tenant) are a platform admin's to read
// (issue #29); a Prometheus scrapes the metrics.http listener instead (PublicMetricsText).
http::Handler MetricsText(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequirePrincipal(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        if (who->api_key || !who->user->is_admin) {
            co_return Fail(Error::Forbidden("Only platform admins read /metrics here; scrape the "
                                            "metrics.http listener"),
                           ctx);
        }
        co_return MetricsResponse(s);
    };
}

http::Handler PublicMetricsText(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> { co_return MetricsResponse(s); };
}

namespace {
std::string_view OpenApi31Text() { return OpenApiJson(); }
std::string_view OpenApi30Text() { return OpenApi30Json(); }
std::string_view CompatText() { return CompatOpenApiJson(); }

// The bare document, not the envelope: OpenAPI tools read it as is. Compressed once.
http::Handler Document(std::string_view (*text)()) {
    auto gzip = std::make_shared<http::StaticGzip>(text);
    return [gzip](Request& req, RouteContext&) -> Task<Response> {
        Response r;
        r.status = 200;
        gzip->Serve(req, r);
        r.headers.Add("Content-Type", std::string(http::kJsonContentType));
        r.headers.Add("Cache-Control", "public, max-age=300");
        co_return r;
    };
}
}  // namespace

http::Handler OpenApi(Services&) { return Document(OpenApi31Text); }

http::Handler OpenApi30(Services&) { return Document(OpenApi30Text); }

http::Handler CompatOpenApi(Services&) { return Document(CompatText); }

}  // namespace tb::api::v1
