// /v1/files (API.md §6): streamed uploads, lists, metadata, ranged downloads and signed links.
#include <charconv>

#include "api/authenticate.h"
#include "api/list.h"
#include "api/params.h"
#include "api/render.h"
#include "api/v1/handlers.h"
#include "common/strings.h"
#include "files/names.h"
#include "http/content.h"
#include "http/multipart.h"

namespace tb::api::v1 {

using files::FileInfo;
using files::FileJson;
using files::FilesResource;
using http::Request;
using http::Response;
using http::RouteContext;

namespace {

std::optional<uint64_t> DeclaredLength(const Request& req) {
    std::string_view v = Trim(req.headers.Get("content-length"));
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size()) return std::nullopt;
    return n;
}

// A raw body: one file named by ?name= (default "file"), typed by its Content-Type.
Task<Result<FileInfo>> UploadRaw(Services& s, const Request& req, const tenancy::Caller& who,
                                 const std::map<std::string, std::string>& params) {
    // Named locals, not temporaries, in the co_await: GCC 12 mishandles temporaries there.
    auto it = params.find("name");
    std::string name = it == params.end() ? std::string("file") : it->second;
    std::string_view type = req.headers.Get("content-type");
    if (type.empty()) type = "application/octet-stream";
    auto f = co_await s.files.Upload(who, name, type, *req.body_stream, DeclaredLength(req));
    co_return f;
}

// multipart/form-data: every part named `file` (other fields are ignored), or with
// `any_part` every part that carries a filename, whatever its name (RestDB's media archive).
// All or nothing: when a part fails, the files of the parts before it are deleted again.
Task<Result<std::vector<FileInfo>>> UploadParts(Services& s, const Request& req,
                                                const tenancy::Caller& who, std::string boundary,
                                                bool any_part) {
    http::MultipartReader reader(*req.body_stream, std::move(boundary));
    std::vector<FileInfo> stored;
    std::optional<Error> failed;
    while (!failed) {
        auto part = co_await reader.Next();
        if (!part.ok()) {
            failed = std::move(part).error();
            break;
        }
        if (!*part) break;
        bool wanted = any_part ? (*part)->filename.has_value() : (*part)->name == "file";
        if (!wanted) continue;
        std::string name = (*part)->filename.value_or("file");
        auto f = co_await s.files.Upload(who, name, (*part)->content_type, reader.content());
        if (!f.ok()) {
            failed = std::move(f).error();
            break;
        }
        stored.push_back(std::move(*f));
    }
    if (!failed && stored.empty())
        failed = Error::BadRequest(any_part ? "No file in the body: send parts with a filename"
                                            : "No file in the body: send one or more parts named "
                                              "\"file\"",
                                   "file");
    if (failed) {
        for (const FileInfo& f : stored) (void)co_await s.files.Delete(who, f.id);
        co_return std::move(*failed);
    }
    co_return stored;
}

// The answer of a download: 304, 206, 416 or 200 with the content streamed from the store.
Task<Response> ServeContent(Services& s, const Request& req, const RouteContext& ctx,
                            const FileInfo& f) {
    std::string etag = "\"" + f.sha256 + "\"";
    int64_t modified = f.created_at / 1000;
    std::string last_modified = http::HttpDate(modified);
    bool active = files::IsActiveContentType(f.content_type);
    bool in_place = files::IsInlineSafe(f.content_type);
    auto describe = [&](Response& r) {
        r.headers.Add("ETag", etag);
        r.headers.Add("Last-Modified", last_modified);
        r.headers.Add("Accept-Ranges", "bytes");
    };
    if (http::NotModified(req.headers.Get("if-none-match"), req.headers.Get("if-modified-since"),
                          etag, modified)) {
        Response r = Response::Empty(304);
        describe(r);
        co_return r;
    }
    uint64_t size = static_cast<uint64_t>(f.size);
    http::RangeDecision range = http::DecideRange(req.headers.Get("range"), size,
                                                  req.headers.Get("if-range"), etag, last_modified);
    if (range.kind == http::RangeDecision::kUnsatisfiable) {
        Error e;
        e.code = ErrorCode::kRangeNotSatisfiable;
        e.message =
            "The range starts past the end of the file (" + std::to_string(size) + " bytes)";
        Response r = Fail(e, ctx);
        r.headers.Add("Content-Range", "bytes */" + std::to_string(size));
        describe(r);
        co_return r;
    }
    uint64_t offset = range.kind == http::RangeDecision::kPartial ? range.offset : 0;
    uint64_t length = range.kind == http::RangeDecision::kPartial ? range.length : size;
    auto content = co_await s.files.OpenContent(f, offset, length);
    if (!content.ok()) co_return Fail(content.error(), ctx);
    Response r;
    r.status = range.kind == http::RangeDecision::kPartial ? 206 : 200;
    // An upload must never run script on our origin: only types on an allow-list are shown in
    // place; anything else is a download in a sandbox, a type a browser would render as a page
    // is not even named, and nothing is sniffed (the serializer's nosniff).
    r.headers.Add("Content-Type", active ? "application/octet-stream" : f.content_type);
    r.headers.Add("Content-Disposition", http::ContentDisposition(f.name, !in_place));
    if (!in_place) r.headers.Add("Content-Security-Policy", "sandbox; default-src 'none'");
    if (r.status == 206) {
        r.headers.Add("Content-Range", "bytes " + std::to_string(offset) + "-" +
                                           std::to_string(offset + length - 1) + "/" +
                                           std::to_string(size));
    }
    describe(r);
    r.stream = std::shared_ptr<ByteSource>(std::move(*content));
    r.stream_size = length;
    co_return r;
}

Result<int64_t> ParseSeconds(std::string_view v, std::string_view field) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size())
        return Error::BadRequest(std::string(field) + " must be an integer", std::string(field));
    return n;
}

// A request with ?tenant=&expires=&signature=: a signed link (no credentials needed).
Task<Result<FileInfo>> LinkedFile(Services& s, RouteContext& ctx,
                                  const std::map<std::string, std::string>& params) {
    auto get = [&](const char* k) -> std::string_view {
        auto it = params.find(k);
        return it == params.end() ? std::string_view() : std::string_view(it->second);
    };
    std::string_view tenant = get("tenant"), sig = get("signature"), id = ctx.Param("id");
    auto expires = ParseSeconds(get("expires"), "expires");
    Error refused = Error::Forbidden("Invalid or expired link");
    if (!expires.ok() || !IsUuid(tenant) || !IsUuid(id) ||
        !s.file_links.Verify(tenant, id, *expires, sig))
        co_return refused;
    if (*expires < ToUnixMillis(s.clock.Now()) / 1000) co_return refused;
    storage::TenantScope scope = storage::TenantScope::Of(std::string(tenant));
    std::string file_id(id);
    auto f = co_await s.files.Find(scope, file_id);
    if (f.ok()) ctx.account.SetIds(tenant, "", "");  // metered in the file's tenant
    co_return f;
}

}  // namespace

namespace {

http::Handler Upload(Services& s, bool any_part) {
    return [&s, any_part](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string_view type = req.headers.Get("content-type");
        std::string_view media = Trim(type.substr(0, type.find(';')));
        bool multipart = IEquals(media, "multipart/form-data");
        // Rights, then the declared size (413) before a byte of the body is read; the storage
        // left (402) is the upload's own first check.
        Status may = s.files.MayUpload(*who, multipart ? std::nullopt : DeclaredLength(req));
        if (!may.ok()) co_return Fail(may.error(), ctx);
        if (multipart) {
            auto none = QueryParams(req, {});
            if (!none.ok()) co_return Fail(none.error(), ctx);
            auto boundary = http::MultipartBoundary(type);
            if (!boundary.ok()) co_return Fail(boundary.error(), ctx);
            auto stored = co_await UploadParts(s, req, *who, std::move(*boundary), any_part);
            if (!stored.ok()) co_return Fail(stored.error(), ctx);
            json::array items;
            for (const FileInfo& f : *stored) items.push_back(FileJson(f));
            co_return Ok(std::move(items), 201);
        }
        auto params = QueryParams(req, {"name"});
        if (!params.ok()) co_return Fail(params.error(), ctx);
        auto f = co_await UploadRaw(s, req, *who, *params);
        if (!f.ok()) co_return Fail(f.error(), ctx);
        Response r = Ok(FileJson(*f), 201);
        r.headers.Add("Location", "/v1/files/" + f->id);
        co_return r;
    };
}

}  // namespace

http::Handler UploadFiles(Services& s) { return Upload(s, false); }
http::Handler UploadFilesAnyPart(Services& s) { return Upload(s, true); }

http::Handler ListFiles(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        auto q = ParseListQuery(s, req, FilesResource());
        if (!q.ok()) co_return Fail(q.error(), ctx);
        auto page = co_await s.files.List(*who, *q);
        if (!page.ok()) co_return Fail(page.error(), ctx);
        co_return RenderList(s, FilesResource(), *q, *page, FileJson);
    };
}

http::Handler GetFile(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto f = co_await s.files.Get(*who, id);
        if (!f.ok()) co_return Fail(f.error(), ctx);
        co_return Ok(FileJson(*f));
    };
}

http::Handler DeleteFile(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        Status st = co_await s.files.Delete(*who, id);
        if (!st.ok()) co_return Fail(st.error(), ctx);
        co_return Response::Empty(204);
    };
}

http::Handler GetFileContent(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto params = QueryParams(req, {"tenant", "expires", "signature"});
        if (!params.ok()) co_return Fail(params.error(), ctx);
        Result<FileInfo> f = Error::Internal("unset");
        if (params->contains("signature")) {
            f = co_await LinkedFile(s, ctx, *params);
        } else {
            auto who = co_await RequireCaller(s, req, ctx);
            if (!who.ok()) co_return Fail(who.error(), ctx);
            std::string id(ctx.Param("id"));
            f = co_await s.files.Get(*who, id);
        }
        if (!f.ok()) co_return Fail(f.error(), ctx);
        Response r = co_await ServeContent(s, req, ctx, *f);
        // A link is a capability anyone holding it may use: a browser may keep the bytes,
        // revalidating; an answer to credentials is never cached (the pipeline's no-store).
        if (params->contains("signature")) r.headers.Add("Cache-Control", "private, no-cache");
        co_return r;
    };
}

http::Handler CreateFileLink(Services& s) {
    return [&s](Request& req, RouteContext& ctx) -> Task<Response> {
        auto who = co_await RequireCaller(s, req, ctx);
        if (!who.ok()) co_return Fail(who.error(), ctx);
        std::string id(ctx.Param("id"));
        auto f = co_await s.files.Get(*who, id);
        if (!f.ok()) co_return Fail(f.error(), ctx);
        int64_t seconds = files::FileLinks::kDefaultSeconds;
        if (ctx.body_error) co_return Fail(*ctx.body_error, ctx);
        if (!ctx.body.is_null()) {
            auto o = ctx.JsonObject();
            if (!o.ok()) co_return Fail(o.error(), ctx);
            if (Status st = RejectUnknownFields(**o, {"expires_in"}); !st.ok())
                co_return Fail(st.error(), ctx);
            if (const json::value* v = (*o)->if_contains("expires_in")) {
                if (!v->is_int64() && !v->is_uint64())
                    co_return Fail(Error::Validation("expires_in", "Must be an integer (seconds)"),
                                   ctx);
                int64_t n = v->is_int64() ? v->as_int64() : files::FileLinks::kMaxSeconds + 1;
                if (n < 1 || n > files::FileLinks::kMaxSeconds)
                    co_return Fail(Error::Validation("expires_in",
                                                     "Must be between 1 and 604800 seconds (7 "
                                                     "days)"),
                                   ctx);
                seconds = n;
            }
        }
        int64_t expires = ToUnixMillis(s.clock.Now()) / 1000 + seconds;
        std::string sig = s.file_links.Sign(f->tenant_id, f->id, expires);
        std::string url = files::ContentPath(*f) + "?tenant=" + f->tenant_id +
                          "&expires=" + std::to_string(expires) + "&signature=" + sig;
        co_return Ok(json::object{{"url", url}, {"expires_at", TimeJson(expires * 1000)}});
    };
}

}  // namespace tb::api::v1
