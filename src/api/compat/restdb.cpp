// The RestDB dialect's database: /rest/{collection}[/{id}] and /rest/_meta
// (002_a49d1998250bfe28.txt, API.md §11). Credentials arrive as `x-apikey`, a bare
// `Authorization: <key>` or (when allowed) `?apikey=`, turned into ours before routing
// (dialects.cpp). Bare bodies: a document, an array of them; errors as RestDB writes them.
#include <charconv>

#include <boost/url/encode.hpp>
#include <boost/url/parse_query.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "api/authenticate.h"
#include "api/compat/handlers.h"
#include "api/documents.h"
#include "api/params.h"
#include "api/render.h"
#include "query/doc_filter.h"

namespace tb::api::compat {

using collections::DocumentsResource;
using http::Request;
using http::Response;
using http::RouteContext;

namespace {

// RestDB answers up to 1000 documents a request (its default `max`); /v1 pages by 100.
constexpr int64_t kMaxDocuments = 1000;

// The system fields RestDB shows only with metafields=true (`_id` is always there).
constexpr std::string_view kMetaFields[] = {"_created", "_changed", "_createdby", "_changedby",
                                            "_version"};

struct RestQuery {
    query::ListQuery list;
    bool totals = false;
    bool metafields = false;
    int64_t max = kMaxDocuments;
    int64_t skip = 0;
};

std::string Encode(std::string_view text) {
    return boost::urls::encode(text, boost::urls::unreserved_chars);
}

Result<int64_t> Number(std::string_view field, std::string_view text, int64_t min, int64_t max) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max)
        return Error::BadRequest(std::string(field) + " must be an integer from " +
                                     std::to_string(min) + " to " + std::to_string(max),
                                 std::string(field));
    return v;
}

Result<bool> Flag(std::string_view field, std::string_view text) {
    if (text == "true" || text == "1" || text.empty()) return true;
    if (text == "false" || text == "0") return false;
    return Error::BadRequest(std::string(field) + " must be true or false", std::string(field));
}

Result<int64_t> HintNumber(const json::object& h, std::string_view name, int64_t max) {
    const json::value& v = h.at(name);
    if (!v.is_int64() || v.as_int64() < 0 || v.as_int64() > max)
        return Error::BadRequest(
            "h." + std::string(name) + " must be an integer from 0 to " + std::to_string(max), "h");
    return v.as_int64();
}

// RestDB's parameters, read as RestDB reads them: a hint in `h` wins over the plain parameter
// (on /v1 both together answer 400); `sort` repeats, each with its `dir`. The result goes
// through the one list parser as a /v1 query (q, and h with $orderby, $fields, $skip), so
// every check of /v1 applies; then the page is RestDB's size and `filter` is added.
Result<RestQuery> ParseRestQuery(const Services& s, const Request& req) {
    RestQuery out;
    std::optional<std::string> q, h, filter, max, skip;
    std::vector<std::string> sort, dir;
    if (!req.query.empty()) {
        auto params = boost::urls::parse_query(req.query);
        if (!params) return Error::BadRequest("Malformed query string", "query");
        for (auto param : *params) {
            std::string key = param.key.decode();
            std::string value = param.has_value ? param.value.decode() : std::string();
            auto once = [&](std::optional<std::string>& slot) -> Status {
                if (slot) return Error::BadRequest("Repeated query parameter: " + key, key);
                slot = std::move(value);
                return {};
            };
            if (key == "q") {
                TB_RETURN_IF_ERROR(once(q));
            } else if (key == "h") {
                TB_RETURN_IF_ERROR(once(h));
            } else if (key == "filter") {
                TB_RETURN_IF_ERROR(once(filter));
            } else if (key == "max") {
                TB_RETURN_IF_ERROR(once(max));
            } else if (key == "skip") {
                TB_RETURN_IF_ERROR(once(skip));
            } else if (key == "sort") {
                sort.push_back(std::move(value));
            } else if (key == "dir") {
                dir.push_back(std::move(value));
            } else if (key == "totals") {
                TB_ASSIGN_OR_RETURN(out.totals, Flag(key, value));
            } else if (key == "metafields") {
                TB_ASSIGN_OR_RETURN(out.metafields, Flag(key, value));
            } else {
                return Error::BadRequest("Unknown query parameter: " + key.substr(0, 64),
                                         key.substr(0, 64));
            }
        }
    }
    if (dir.size() > sort.size()) return Error::BadRequest("dir without a sort", "dir");
    json::object hints;
    if (h) {
        if (h->size() > 4096) return Error::BadRequest("h is too long (at most 4096 bytes)", "h");
        auto parsed = ParseJson(*h);
        if (!parsed.ok() || !parsed->is_object())
            return Error::BadRequest("h must be a JSON object", "h");
        hints = std::move(parsed->as_object());
        for (const auto& [name, value] : hints) {
            if (name != "$orderby" && name != "$fields" && name != "$max" && name != "$skip")
                return Error::BadRequest("Unsupported hint: h." + std::string(name).substr(0, 64),
                                         "h");
        }
    }
    if (hints.contains("$max")) {
        TB_ASSIGN_OR_RETURN(out.max, HintNumber(hints, "$max", kMaxDocuments));
        hints.erase("$max");
    } else if (max) {
        TB_ASSIGN_OR_RETURN(out.max, Number("max", *max, 0, kMaxDocuments));
    }
    if (!hints.contains("$skip") && skip) {
        TB_ASSIGN_OR_RETURN(out.skip, Number("skip", *skip, 0, 1'000'000'000));
        hints["$skip"] = out.skip;
    } else if (hints.contains("$skip")) {
        TB_ASSIGN_OR_RETURN(out.skip, HintNumber(hints, "$skip", 1'000'000'000));
    }
    if (!hints.contains("$orderby") && !sort.empty()) {
        json::object orderby;
        for (size_t i = 0; i < sort.size(); ++i) {
            int direction = 1;
            if (i < dir.size()) {
                if (dir[i] == "-1") {
                    direction = -1;
                } else if (dir[i] != "1") {
                    return Error::BadRequest("dir must be 1 or -1", "dir");
                }
            }
            orderby[sort[i]] = direction;
        }
        hints["$orderby"] = std::move(orderby);
    }
    std::string v1;
    if (q) v1 += "q=" + Encode(*q);
    if (!hints.empty()) v1 += std::string(v1.empty() ? "" : "&") + "h=" + Encode(WriteJson(hints));
    TB_ASSIGN_OR_RETURN(out.list, query::ParseList(v1, DocumentsResource(), s.cursors));
    out.list.per_page = out.max;
    out.list.count = out.totals;
    if (filter) {
        if (auto checked = query::TextSearchFilter(*filter); !checked.ok())
            return std::move(checked).error();
        out.list.text_search = std::move(*filter);
    }
    return out;
}

// A stored document as RestDB shows it: without the system fields but `_id` (all of them with
// metafields=true), projected to `fields` when given.
// An `_org` of null (no organization) is left out too.
std::string Shown(std::string stored, bool metafields, const std::vector<std::string>& fields) {
    if (metafields && fields.empty()) return stored;
    auto parsed = ParseStoredJson(stored, {.max_depth = 256});
    if (!parsed.ok() || !parsed->is_object()) return stored;
    json::object doc = std::move(parsed->as_object());
    if (!metafields) {
        for (std::string_view f : kMetaFields) doc.erase(f);
        if (const auto* org = doc.if_contains("_org"); org && org->is_null()) doc.erase("_org");
    }
    if (!fields.empty()) doc = ProjectPaths(doc, fields);
    return WriteJson(doc);
}

// The one parameter of the routes on one document: read by the parser of every such route.
Result<bool> MetafieldsOnly(const Request& req) {
    TB_ASSIGN_OR_RETURN(auto params, QueryParams(req, {"metafields"}));
    auto it = params.find("metafields");
    if (it == params.end()) return false;
    return Flag("metafields", it->second);
}

// Stored documents as a RestDB array: "[<shown>,…]".
std::string ShownArray(std::vector<std::string> stored, bool metafields,
                       const std::vector<std::string>& fields) {
    std::string out = "[";
    for (size_t i = 0; i < stored.size(); ++i) {
        if (i) out += ',';
        out += Shown(std::move(stored[i]), metafields, fields);
    }
    out += ']';
    return out;
}

std::string Collection(const RouteContext& ctx) { return std::string(ctx.Param("collection")); }

Response Document(std::string shown, int status = 200) {
    return Response::Json(status, std::move(shown));
}

}  // namespace

http::Handler RestList(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto rq = ParseRestQuery(s, req);
        if (!rq.ok()) co_return Fail(rq.error(), ctx);
        std::vector<std::string> items;
        std::optional<int64_t> total;
        std::string collection = Collection(ctx);
        if (rq->max > 0 || rq->totals) {
            if (rq->max == 0) rq->list.per_page = 1;  // max=0: only the count
            auto page = co_await s.documents.List(*who, collection, rq->list);
            if (!page.ok()) co_return Fail(page.error(), ctx);
            if (rq->max > 0) items = std::move(page->items);
            total = page->total;
        }
        size_t count = items.size();
        std::string body = rq->totals ? R"({"data":)" : "";
        body += ShownArray(std::move(items), rq->metafields, rq->list.fields);
        if (rq->totals) {
            body += R"(,"totals":)";
            body += WriteJson(json::object{{"total", total.value_or(0)},
                                           {"count", static_cast<int64_t>(count)},
                                           {"skip", rq->skip},
                                           {"max", rq->max}});
            body += '}';
        }
        co_return Response::Json(200, std::move(body));
    };
}

http::Handler RestGet(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto metafields = MetafieldsOnly(req);
        if (!metafields.ok()) co_return Fail(metafields.error(), ctx);
        std::string collection = Collection(ctx), id(ctx.Param("id"));
        auto doc = co_await s.documents.Get(*who, collection, id);
        if (!doc.ok()) co_return Fail(doc.error(), ctx);
        co_return Document(Shown(std::move(doc->body), *metafields, {}));
    };
}

http::Handler RestCreate(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto metafields = MetafieldsOnly(req);
        if (!metafields.ok()) co_return Fail(metafields.error(), ctx);
        bool batch = ctx.body.is_array();
        std::string collection = Collection(ctx);
        auto bodies = co_await DocumentsToCreate(s, *who, collection, ctx);
        if (!bodies.ok()) co_return Fail(bodies.error(), ctx);
        auto created = co_await s.documents.Create(*who, collection, std::move(*bodies), batch);
        if (!created.ok()) co_return Fail(created.error(), ctx);
        ctx.account.documents_written = static_cast<int64_t>(created->size());
        if (!batch)
            co_return Document(Shown(std::move(created->front().body), *metafields, {}), 201);
        std::vector<std::string> stored;
        stored.reserve(created->size());
        for (auto& d : *created) stored.push_back(std::move(d.body));
        co_return Response::Json(201, ShownArray(std::move(stored), *metafields, {}));
    };
}

// PUT and PATCH both update the fields sent (RFC 7396 merge), as RestDB's do: a RestDB
// client sends only what changed, and a replace would drop the rest.
http::Handler RestUpdate(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto metafields = MetafieldsOnly(req);
        if (!metafields.ok()) co_return Fail(metafields.error(), ctx);
        std::string collection = Collection(ctx), id(ctx.Param("id"));
        auto body = ctx.JsonObject();
        if (!body.ok()) {
            co_return Fail(
                co_await BodyErrorAfterAccess(s, *who, collection, id,
                                              collections::Operation::kUpdate, body.error()),
                ctx);
        }
        json::value patch(std::move(**body));
        auto doc = co_await s.documents.Patch(*who, collection, id, std::move(patch), std::nullopt);
        if (!doc.ok()) co_return Fail(doc.error(), ctx);
        ctx.account.documents_written = 1;
        co_return Document(Shown(std::move(doc->body), *metafields, {}));
    };
}

http::Handler RestDelete(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        std::string collection = Collection(ctx);
        Status st = co_await s.documents.Delete(*who, collection, id, std::nullopt);
        if (!st.ok()) co_return Fail(st.error(), ctx);
        ctx.account.documents_written = 1;
        // RestDB's answer names the deleted ids.
        co_return Response::Json(200,
                                 WriteJson(json::object{{"result", json::array{json::value(id)}}}));
    };
}

http::Handler RestMeta(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto meta = co_await s.collections.Meta(*who);
        if (!meta.ok()) co_return Fail(meta.error(), ctx);
        co_return Response::Json(200, WriteJson(json::object{{"collections", std::move(*meta)}}));
    };
}

}  // namespace tb::api::compat
