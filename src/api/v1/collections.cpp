// /v1/collections and /v1/meta (API.md §5.1).
#include "api/authenticate.h"
#include "api/list.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using collections::CollectionsResource;
using http::Request;
using http::Response;
using http::RouteContext;

namespace {

json::value Member(const json::object& o, std::string_view field) {
    const json::value* v = o.if_contains(field);
    return v ? *v : json::value(nullptr);
}

Result<collections::NewCollection> ParseNewCollection(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "schema", "indexes", "rules"}));
    collections::NewCollection in;
    TB_ASSIGN_OR_RETURN(in.name, RequiredString(*o, "name"));
    in.schema = Member(*o, "schema");
    in.indexes = Member(*o, "indexes");
    in.rules = Member(*o, "rules");
    return in;
}

Result<collections::CollectionPatch> ParseCollectionPatch(RouteContext& ctx,
                                                          const std::string& name) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "schema", "indexes", "rules"}));
    // The name is the path's; sending it back unchanged is fine, changing it is not.
    TB_ASSIGN_OR_RETURN(auto sent_name, MaybeString(*o, "name"));
    if (sent_name && *sent_name != name)
        return Error::Validation("name", "A collection cannot be renamed");
    collections::CollectionPatch p;
    if (o->contains("schema")) p.schema = o->at("schema");
    if (o->contains("indexes")) p.indexes = o->at("indexes");
    if (o->contains("rules")) p.rules = o->at("rules");
    return p;
}

}  // namespace

json::object CollectionJson(const collections::Collection& c) {
    return {{"name", c.name},
            {"schema", c.schema ? *c.schema : json::value(nullptr)},
            {"indexes", collections::IndexesJson(c.indexes)},
            {"rules", collections::RulesJson(c.rules)},
            {"document_count", c.document_count},
            {"created_at", TimeJson(c.created_at)},
            {"updated_at", TimeJson(c.updated_at)}};
}

http::Handler ListCollections(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto q = ParseListQuery(s, req, CollectionsResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        auto page = co_await s.collections.List(*who, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, CollectionsResource(), *q, *page, CollectionJson);
    };
}

http::Handler CreateCollection(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        if (Status st = who->CanManage(); !st.ok()) co_return Fail(st.error(), ctx);
        auto in = ParseNewCollection(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto c = co_await s.collections.Create(*who, std::move(*in));
        if (!c.ok()) co_return Fail(c.error(), ctx);
        co_return Ok(CollectionJson(*c), 201);
    };
}

http::Handler GetCollection(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto c = co_await s.collections.Get(*who, std::string(ctx.Param("name")));
        if (!c.ok()) co_return Fail(c.error(), ctx);
        co_return Ok(CollectionJson(*c));
    };
}

http::Handler UpdateCollection(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string name(ctx.Param("name"));
        auto patch = ParseCollectionPatch(ctx, name);
        if (!patch.ok()) {
            // 404/403 come before a body error (API.md §13 "Precedence of errors").
            auto visible = co_await s.collections.Get(*who, name);
            if (!visible.ok()) co_return Fail(visible.error(), ctx);
            if (Status st = who->CanManage(); !st.ok()) co_return Fail(st.error(), ctx);
            co_return Fail(patch.error(), ctx);
        }
        auto c = co_await s.collections.Update(*who, name, std::move(*patch));
        if (!c.ok()) co_return Fail(c.error(), ctx);
        co_return Ok(CollectionJson(*c));
    };
}

http::Handler DeleteCollection(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status st = co_await s.collections.Delete(*who, std::string(ctx.Param("name")));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

http::Handler GetMeta(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto meta = co_await s.collections.Meta(*who);
        if (!meta.ok()) co_return Fail(meta.error(), ctx);
        co_return Ok(json::object{{"collections", std::move(*meta)}});
    };
}

}  // namespace tb::api::v1
