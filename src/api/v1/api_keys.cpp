// /v1/api-keys (API.md §4).
#include "api/authenticate.h"
#include "api/list.h"
#include "api/render.h"
#include "api/v1/handlers.h"

namespace tb::api::v1 {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

json::array Strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.emplace_back(s);
    return a;
}

json::object KeyJson(const auth::ApiKey& k) {
    return {{"id", k.id},
            {"name", k.name},
            {"preview", k.preview},
            {"scopes", Strings(k.scopes)},
            {"collections", Strings(k.collections)},
            {"allowed_origins", Strings(k.allowed_origins)},
            {"owner_user_id", k.owner_user_id},
            {"tenant_id", k.tenant_id ? json::value(*k.tenant_id) : json::value(nullptr)},
            {"is_active", k.is_active},
            {"created_at", TimeJson(k.created_at)},
            {"expires_at", TimeJson(k.expires_at)},
            {"last_used_at", TimeJson(k.last_used_at)}};
}

// An optional array of strings; a wrong type -> VALIDATION_ERROR naming the field.
Result<std::optional<std::vector<std::string>>> StringList(const json::object& o,
                                                           std::string_view field) {
    auto it = o.find(field);
    if (it == o.end() || it->value().is_null()) return std::optional<std::vector<std::string>>{};
    if (!it->value().is_array())
        return Error::Validation(std::string(field),
                                 std::string(field) + " must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : it->value().as_array()) {
        if (!item.is_string())
            return Error::Validation(std::string(field),
                                     std::string(field) + " must be an array of strings");
        out.emplace_back(item.as_string());
    }
    return std::optional<std::vector<std::string>>(std::move(out));
}

// Resolves the caller and its tenant, and checks they may manage keys.
Task<Result<auth::KeyActor>> Manager(Services& s, Request& req, RouteContext& ctx) {
    auto who = co_await RequireCaller(s, req, ctx);
    if (!who.ok()) co_return std::move(who).error();
    auto actor = KeyManager(*who);
    if (actor.ok()) actor->max_keys = s.plans.Get(who->plan).max_api_keys;
    co_return actor;
}

Result<auth::NewApiKey> ParseNewKey(RouteContext& ctx) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(
        *o, {"name", "scopes", "collections", "allowed_origins", "expires_at"}));
    auth::NewApiKey in;
    TB_ASSIGN_OR_RETURN(in.name, RequiredString(*o, "name"));
    TB_ASSIGN_OR_RETURN(in.scopes, StringList(*o, "scopes"));
    TB_ASSIGN_OR_RETURN(auto collections, StringList(*o, "collections"));
    in.collections = collections.value_or(std::vector<std::string>{});
    TB_ASSIGN_OR_RETURN(auto origins, StringList(*o, "allowed_origins"));
    in.allowed_origins = origins.value_or(std::vector<std::string>{});
    TB_ASSIGN_OR_RETURN(std::string expires, OptionalString(*o, "expires_at"));
    if (!expires.empty()) {
        auto t = ParseRfc3339(expires);
        if (!t) return Error::Validation("expires_at", "expires_at must be an RFC 3339 time");
        in.expires_at = ToUnixMillis(*t);
    }
    return in;
}

Result<auth::ApiKeyPatch> ParsePatch(RouteContext& ctx, const auth::ApiKey& existing) {
    TB_ASSIGN_OR_RETURN(json::object * o, ctx.JsonObject());
    TB_RETURN_IF_ERROR(RejectUnknownFields(*o, {"name", "scopes", "is_active"}));
    auth::ApiKeyPatch patch;
    if (o->contains("name")) {
        TB_ASSIGN_OR_RETURN(patch.name, RequiredString(*o, "name"));
    }
    TB_ASSIGN_OR_RETURN(patch.scopes, StringList(*o, "scopes"));
    if (o->contains("is_active")) {
        TB_ASSIGN_OR_RETURN(patch.is_active, OptionalBool(*o, "is_active", existing.is_active));
    }
    return patch;
}

}  // namespace

http::Handler ListApiKeys(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto actor = co_await Manager(s, req, ctx);
        if (!actor.ok()) co_return Fail(actor.error(), ctx);
        auto q = ParseListQuery(s, req, auth::ApiKeysResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        auto page = co_await s.api_keys.List(*actor, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, auth::ApiKeysResource(), *q, *page, KeyJson);
    };
}

http::Handler CreateApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto actor = co_await Manager(s, req, ctx);
        if (!actor.ok()) co_return Fail(actor.error(), ctx);
        auto in = ParseNewKey(ctx);
        if (!in.ok()) co_return Fail(in.error(), ctx);
        auto created = co_await s.api_keys.Create(*actor, std::move(*in));
        if (!created.ok()) co_return Fail(created.error(), ctx);
        json::object data = KeyJson(created->first);
        data["key"] = created->second;
        co_return Ok(std::move(data), 201);
    };
}

http::Handler GetApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto actor = co_await Manager(s, req, ctx);
        if (!actor.ok()) co_return Fail(actor.error(), ctx);
        auto key = co_await s.api_keys.Get(*actor, std::string(ctx.Param("id")));
        if (!key.ok()) co_return Fail(key.error(), ctx);
        co_return Ok(KeyJson(*key));
    };
}

http::Handler UpdateApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto actor = co_await Manager(s, req, ctx);
        if (!actor.ok()) co_return Fail(actor.error(), ctx);
        // 404 before 422 (API.md §13).
        auto existing = co_await s.api_keys.Get(*actor, std::string(ctx.Param("id")));
        if (!existing.ok()) co_return Fail(existing.error(), ctx);
        auto patch = ParsePatch(ctx, *existing);
        if (!patch.ok()) co_return Fail(patch.error(), ctx);
        auto key = co_await s.api_keys.Update(*actor, existing->id, std::move(*patch));
        if (!key.ok()) co_return Fail(key.error(), ctx);
        co_return Ok(KeyJson(*key));
    };
}

http::Handler DeleteApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto actor = co_await Manager(s, req, ctx);
        if (!actor.ok()) co_return Fail(actor.error(), ctx);
        Status st = co_await s.api_keys.Delete(*actor, std::string(ctx.Param("id")));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

http::Handler RotateApiKey(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto actor = co_await Manager(s, req, ctx);
        if (!actor.ok()) co_return Fail(actor.error(), ctx);
        auto rotated = co_await s.api_keys.Rotate(*actor, std::string(ctx.Param("id")));
        if (!rotated.ok()) co_return Fail(rotated.error(), ctx);
        json::object data = KeyJson(rotated->first);
        data["key"] = rotated->second;
        co_return Ok(std::move(data));
    };
}

}  // namespace tb::api::v1
