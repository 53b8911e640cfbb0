// /v1/collections/{name}/documents (API.md §5.2). Stored documents are JSON texts, spliced
// into the envelope without being parsed again.
#include <charconv>

#include "api/authenticate.h"
#include "api/documents.h"
#include "api/list.h"
#include "api/render.h"
#include "api/v1/handlers.h"
#include "http/entity_tags.h"

namespace tb::api::v1 {

using collections::DocumentsResource;
using collections::StoredDocument;
using http::Request;
using http::Response;
using http::RouteContext;

namespace {

std::string ETag(int64_t version) { return "\"" + std::to_string(version) + "\""; }

// The stored JSON spliced into the envelope as it is: one allocation, no parse.
Response DocumentResponse(const StoredDocument& d, int status) {
    constexpr std::string_view kPrefix = "{\"success\":true,\"data\":";
    std::string body;
    body.reserve(kPrefix.size() + d.body.size() + 1);
    body += kPrefix;
    body += d.body;
    body += '}';
    Response r = Response::Json(status, std::move(body));
    r.headers.Add("ETag", ETag(d.version));
    return r;
}

// The versions an If-Match / If-None-Match list names. Tags compare as strings (RFC 9110
// §8.8.3): only our own form "<n>" can match a version.
std::vector<int64_t> Versions(const http::EntityTagList& list) {
    std::vector<int64_t> out;
    for (const auto& t : list.tags) {
        int64_t v = 0;
        auto [p, ec] = std::from_chars(t.opaque.data(), t.opaque.data() + t.opaque.size(), v);
        if (ec == std::errc() && p == t.opaque.data() + t.opaque.size() &&
            std::to_string(v) == t.opaque)
            out.push_back(v);
    }
    return out;
}

// If-Match as the services take it: nullopt (absent or `*`), or the one version required
// (-1 when the header names nothing that can match: always 412).
std::optional<int64_t> ExpectedVersion(const Request& req) {
    auto header = req.headers.Get("if-match");
    if (header.empty()) return std::nullopt;
    const http::EntityTagList tags = http::ParseEntityTags(header);
    if (tags.malformed || tags.members != 1) return int64_t{-1};  // a list never matches
    if (tags.any) return std::nullopt;
    const auto versions = Versions(tags);
    if (versions.size() != 1) return int64_t{-1};
    return versions[0];
}

std::string Name(const RouteContext& ctx) { return std::string(ctx.Param("name")); }

}  // namespace

http::Handler ListDocuments(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto q = ParseListQuery(s, req, DocumentsResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        auto page = co_await s.documents.List(*who, Name(ctx), *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        if (!q->fields.empty()) {
            // Projection: `_id` always kept (API.md §1.2).
            for (auto& item : page->items) {
                auto parsed = ParseStoredJson(item, {.max_depth = 256});
                if (parsed.ok() && parsed->is_object())
                    item = WriteJson(ProjectPaths(parsed->as_object(), q->fields));
            }
        }
        co_return ListResponseRaw(s, DocumentsResource(), *q, page->items, page->total,
                                  page->next_keys);
    };
}

http::Handler CreateDocuments(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        bool batch = ctx.body.is_array();
        std::string name = Name(ctx);
        auto bodies = co_await DocumentsToCreate(s, *who, name, ctx);
        if (!bodies.ok()) co_return Fail(bodies.error(), ctx);
        auto created = co_await s.documents.Create(*who, name, std::move(*bodies), batch);
        if (!created.ok()) co_return Fail(created.error(), ctx);
        ctx.account.documents_written = static_cast<int64_t>(created->size());
        if (!batch) co_return DocumentResponse(created->front(), 201);
        std::string body = "{\"success\":true,\"data\":[";
        for (size_t i = 0; i < created->size(); ++i) {
            if (i) body += ',';
            body += (*created)[i].body;
        }
        body += "]}";
        co_return Response::Json(201, std::move(body));
    };
}

http::Handler GetDocument(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto doc = co_await s.documents.Get(*who, Name(ctx), std::string(ctx.Param("id")));
        if (!doc.ok()) co_return Fail(doc.error(), ctx);
        auto none_match = req.headers.Get("if-none-match");
        if (!none_match.empty()) {
            const http::EntityTagList tags = http::ParseEntityTags(none_match);
            const auto versions = Versions(tags);
            if ((tags.any && !tags.malformed) ||
                std::find(versions.begin(), versions.end(), doc->version) != versions.end()) {
                Response r = Response::Empty(304);
                r.headers.Add("ETag", ETag(doc->version));
                co_return r;
            }
        }
        co_return DocumentResponse(*doc, 200);
    };
}

// PUT (replace) and PATCH (RFC 7396 merge patch) differ only in what the service does.
http::Handler RewriteDocument(Services& s, bool merge) {
    return [&s, merge](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        std::string name = Name(ctx);
        auto body = ctx.JsonObject();
        if (!body.ok()) {
            co_return Fail(co_await BodyErrorAfterAccess(
                               s, *who, name, id, collections::Operation::kUpdate, body.error()),
                           ctx);
        }
        std::optional<int64_t> expected = ExpectedVersion(req);
        // if/else, not ?: around co_await (GCC 12 and temporaries in conditionals).
        Result<collections::StoredDocument> doc = Error::Internal("unset");
        if (merge) {
            json::value patch(std::move(**body));
            doc = co_await s.documents.Patch(*who, name, id, std::move(patch), expected);
        } else {
            doc = co_await s.documents.Replace(*who, name, id, std::move(**body), expected);
        }
        if (!doc.ok()) co_return Fail(doc.error(), ctx);
        ctx.account.documents_written = 1;
        co_return DocumentResponse(*doc, 200);
    };
}

http::Handler ReplaceDocument(Services& s) { return RewriteDocument(s, false); }

http::Handler PatchDocument(Services& s) { return RewriteDocument(s, true); }

http::Handler DeleteDocument(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        Status st = co_await s.documents.Delete(*who, Name(ctx), std::string(ctx.Param("id")),
                                                ExpectedVersion(req));
        if (!st.ok()) co_return Fail(st.error(), ctx);
        ctx.account.documents_written = 1;
        co_return Response::Empty(204);
    };
}

http::Handler DeleteDocuments(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCallerOrVisitor(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto body = ctx.JsonObject();
        Result<json::value> q = Error::BadRequest("A bulk delete needs q (use {} for all)", "q");
        if (body.ok()) {
            if (Status st = RejectUnknownFields(**body, {"q"}); !st.ok()) {
                q = std::move(st).error();
            } else if (const json::value* given = (*body)->if_contains("q")) {
                q = *given;
            }
        } else {
            q = body.error();
        }
        std::string name = Name(ctx), no_document;
        if (!q.ok()) {
            co_return Fail(
                co_await BodyErrorAfterAccess(s, *who, name, no_document,
                                              collections::Operation::kDelete, q.error()),
                ctx);
        }
        auto deleted = co_await s.documents.DeleteMatching(*who, name, *q);
        if (!deleted.ok()) co_return Fail(deleted.error(), ctx);
        ctx.account.documents_written = *deleted;
        co_return Ok(json::object{{"deleted", *deleted}});
    };
}

}  // namespace tb::api::v1
