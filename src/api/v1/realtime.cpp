// /v1/realtime (API.md §5.6): a server-sent event stream of document changes, and the
// authenticated call that sets what it carries. The stream itself needs no credentials
// (browsers' EventSource cannot send them); what a client hears is decided by the principal
// that subscribed it.
#include <boost/asio/this_coro.hpp>

#include "api/authenticate.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

Result<std::vector<realtime::SubscriptionSpec>> ParseSubscriptions(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"subscriptions"}));
    auto it = o->find("subscriptions");
    if (it == o->end() || !it->value().is_array())
        return Error::Validation("subscriptions", "subscriptions is a list (empty for none)");
    std::vector<realtime::SubscriptionSpec> out;
    const json::array& items = it->value().get_array();
    for (size_t i = 0; i < items.size(); ++i) {
        const std::string at = "subscriptions." + std::to_string(i);
        if (!items[i].is_object())
            return Error::Validation(at, "A subscription is an object: {collection, id?, q?}");
        const json::object& item = items[i].get_object();
        Status known = RejectUnknownFields(item, {"collection", "id", "q"});
        if (!known.ok()) {
            Error e = std::move(known).error();
            return std::move(e).WithDetail("field", json::value(at));
        }
        realtime::SubscriptionSpec spec;
        auto prefixed = [&at](Error e) {
            std::string field = at;
            if (auto f = e.details.find("field"); f != e.details.end() && f->value().is_string())
                field += "." + std::string(f->value().get_string());
            return std::move(e).WithDetail("field", json::value(field));
        };
        auto collection = RequiredString(item, "collection");
        if (!collection.ok()) return prefixed(std::move(collection).error());
        spec.collection = std::move(*collection);
        auto id = MaybeString(item, "id");
        if (!id.ok()) return prefixed(std::move(id).error());
        spec.id = std::move(*id);
        auto q = MaybeString(item, "q");
        if (!q.ok()) return prefixed(std::move(q).error());
        spec.q = std::move(*q);
        out.push_back(std::move(spec));
    }
    return out;
}

json::object SubscriptionJson(const realtime::SubscriptionSpec& spec) {
    json::object o{{"collection", spec.collection}};
    o["id"] = spec.id ? json::value(*spec.id) : json::value(nullptr);
    o["q"] = spec.q ? json::value(*spec.q) : json::value(nullptr);
    return o;
}

}  // namespace

http::Handler OpenRealtime(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto executor = co_await boost::asio::this_coro::executor;
        std::string last(req.headers.Get("last-event-id"));
        auto opened = s.realtime.Open(executor, last);
        if (!opened.ok()) co_return Fail(opened.error(), ctx);
        Response r;
        r.status = 200;
        r.headers.Add("Content-Type", "text/event-stream; charset=utf-8");
        r.headers.Add("Cache-Control", "no-cache");
        r.headers.Add("X-Accel-Buffering", "no");  // proxies: pass each event on at once
        r.stream = std::move(opened->stream);
        r.stream_size = Response::kOpenEnded;
        r.close = true;
        co_return r;
    };
}

http::Handler SetRealtimeSubscriptions(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        // A key needs `read` before anything else is looked at (a visitor is checked per
        // collection: only `public` ones).
        if (!who->anonymous) {
            if (Status st = who->CanRead(); !st.ok()) co_return Fail(st.error(), ctx);
        }
        const std::string client_id(ctx.Param("client_id"));
        // Whose client it is (404, 403) comes before the body (API.md §13).
        if (Status st = s.realtime.MaySubscribe(*who, client_id); !st.ok())
            co_return Fail(st.error(), ctx);
        auto specs = ParseSubscriptions(ctx);
        if (!specs.ok()) co_return Fail(specs.error(), ctx);
        auto kept = co_await s.realtime.Subscribe(*who, client_id, std::move(*specs));
        if (!kept.ok()) co_return Fail(kept.error(), ctx);
        json::array list;
        for (const auto& spec : *kept) list.push_back(SubscriptionJson(spec));
        co_return Ok(json::object{{"client_id", client_id}, {"subscriptions", std::move(list)}});
    };
}

}  // namespace tb::api::v1
