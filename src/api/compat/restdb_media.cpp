// The RestDB dialect's media archive (/media) and mail API (/mail) (002_a49d1998250bfe28.txt,
// API.md §11): the /v1 file and mail handlers themselves, their answers taken out of the
// envelope and named as RestDB names them. Errors are already RestDB's: the pipeline set this
// dialect's error body for the request before the /v1 handler ran.
#include "api/compat/handlers.h"
#include "api/v1/handlers.h"
#include "common/json.h"

namespace tb::api::compat {

using http::Request;
using http::Response;
using http::RouteContext;

namespace {

// The /v1 handler's answer with the envelope's `data` reshaped, bare; any other answer
// (an error, a download, a 204) as it is.
http::Handler Unwrapped(http::Handler v1, std::function<json::value(json::value)> reshape) {
    return [v1 = std::move(v1), reshape = std::move(reshape)](Request& req,
                                                              RouteContext& ctx) -> Task<Response> {
        Response r = co_await v1(req, ctx);
        if (r.status < 200 || r.status >= 300 || r.stream || r.body.empty()) co_return r;
        auto parsed = ParseJson(r.body);
        if (!parsed.ok() || !parsed->is_object()) co_return r;
        json::value* data = parsed->as_object().if_contains("data");
        if (!data) co_return r;
        r.body = WriteJson(reshape(std::move(*data)));
        co_return r;
    };
}

json::value Same(json::value v) { return v; }

// RestDB's upload answer: {"msg": "OK", "uploadid": <first id>, "ids": [ids]}.
json::value UploadAnswer(json::value data) {
    json::array ids;
    auto add = [&](const json::value& file) {
        if (const auto* id = file.as_object().if_contains("id")) ids.push_back(*id);
    };
    if (data.is_array()) {
        for (const auto& f : data.as_array()) add(f);
    } else if (data.is_object()) {
        add(data);
    }
    json::value first = ids.empty() ? json::value(nullptr) : ids.front();
    return json::object{{"msg", "OK"}, {"uploadid", first}, {"ids", std::move(ids)}};
}

}  // namespace

http::Handler MediaUpload(Services& s) {
    return Unwrapped(v1::UploadFilesAnyPart(s), UploadAnswer);
}
http::Handler MediaList(Services& s) { return Unwrapped(v1::ListFiles(s), Same); }
http::Handler MediaMeta(Services& s) { return Unwrapped(v1::GetFile(s), Same); }
http::Handler MediaContent(Services& s) { return v1::GetFileContent(s); }

http::Handler MediaDelete(Services& s) {
    http::Handler v1 = v1::DeleteFile(s);
    return [v1 = std::move(v1)](Request& req, RouteContext& ctx) -> Task<Response> {
        Response r = co_await v1(req, ctx);
        if (r.status != 204) co_return r;
        // As a RestDB delete answers: the ids deleted.
        Response out = Response::Json(
            200, WriteJson(json::object{
                     {"result", json::array{json::value(std::string(ctx.Param("id")))}}}));
        out.rate_limit = r.rate_limit;
        co_return out;
    };
}

http::Handler MailSend(Services& s) {
    http::Handler v1 = Unwrapped(v1::SendMail(s), Same);
    return [v1 = std::move(v1)](Request& req, RouteContext& ctx) -> Task<Response> {
        // RestDB's sender fields name the sender's display; ours is the instance's mail.from,
        // so they are accepted and not used (API.md §11).
        if (ctx.body.is_object()) {
            ctx.body.as_object().erase("sendername");
            ctx.body.as_object().erase("company");
        }
        co_return co_await v1(req, ctx);
    };
}

http::Handler MailStatus(Services& s) { return Unwrapped(v1::GetMail(s), Same); }

}  // namespace tb::api::compat
