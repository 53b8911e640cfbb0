#include "common/json.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

http::Handler Health(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        Status db = co_await s.db.Ping();
        auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now() - s.started)
                          .count();
        json::object data;
        data["status"] = db.ok() ? "OK" : "DEGRADED";
        data["timestamp"] = FormatRfc3339(s.clock.Now());
        data["uptime"] = uptime;
        data["version"] = TB_VERSION;
        data["brand"] = {{"name", s.brand.name},
                         {"shortName", s.brand.short_name},
                         {"description", s.brand.description}};
        data["checks"] = {{"database", db.ok() ? "ok" : "unavailable"}};
        json::object body{{"success", true}, {"data", std::move(data)}};
        co_return Response::Json(db.ok() ? 200 : 503, json::serialize(body));
    };
}

http::Handler Liveness(Services&) {
    return [](Request&, RouteContext&) -> Task<Response> { co_return Response::Text(200, "ok"); };
}

http::Handler Readiness(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        if (!s.ready.load()) co_return Response::Text(503, "unavailable");
        Status db = co_await s.db.Ping();
        co_return db.ok() ? Response::Text(200, "ok") : Response::Text(503, "unavailable");
    };
}

http::Handler MetricsText(Services& s) {
    return [&s](Request&, RouteContext&) -> Task<Response> {
        Response r = Response::Empty(200);
        r.headers.Add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        r.body = s.metrics.Render();
        co_return r;
    };
}

}  // namespace tb::api::v1
