#include "api/documents.h"

namespace tb::api {

json::object ProjectPaths(const json::object& doc, const std::vector<std::string>& paths) {
    json::object out;
    if (auto* id = doc.if_contains("_id")) out["_id"] = *id;
    for (const auto& path : paths) {
        const json::object* from = &doc;
        json::object* to = &out;
        std::string_view rest = path;
        while (true) {
            size_t dot = rest.find('.');
            std::string_view key = rest.substr(0, dot);
            const json::value* v = from->if_contains(key);
            if (!v) break;
            if (dot == std::string_view::npos) {
                (*to)[key] = *v;
                break;
            }
            if (!v->is_object()) break;
            json::value& slot = (*to)[key];
            if (!slot.is_object()) slot = json::object{};
            from = &v->get_object();
            to = &slot.as_object();
            rest.remove_prefix(dot + 1);
        }
    }
    return out;
}

Result<std::vector<json::object>> TakeDocuments(json::value& body) {
    std::vector<json::object> bodies;
    if (body.is_array()) {
        auto& items = body.as_array();
        bodies.reserve(items.size());
        for (size_t i = 0; i < items.size(); ++i) {
            if (!items[i].is_object())
                return Error::Validation(std::to_string(i), "A document is an object");
            bodies.push_back(std::move(items[i].as_object()));
        }
        return bodies;
    }
    if (body.is_object()) {
        bodies.push_back(std::move(body.as_object()));
        return bodies;
    }
    return Error::Validation("", "The body is a document (an object) or an array of documents");
}

Task<Error> BodyErrorAfterAccess(Services& s, const tenancy::Caller& who,
                                 const std::string& collection, const std::string& id,
                                 collections::Operation op, Error body_error) {
    Status access = co_await s.documents.Authorize(who, collection, op, id);
    if (!access.ok()) co_return std::move(access).error();
    co_return body_error;
}

Task<Result<std::vector<json::object>>> DocumentsToCreate(Services& s, const tenancy::Caller& who,
                                                          const std::string& collection,
                                                          http::RouteContext& ctx) {
    if (ctx.body_error || ctx.body.is_null()) {
        Error e =
            ctx.body_error ? *ctx.body_error : Error::Validation("", "A document is required");
        const std::string no_document;  // named: no temporaries inside co_await (GCC 12)
        co_return co_await BodyErrorAfterAccess(s, who, collection, no_document,
                                                collections::Operation::kCreate, std::move(e));
    }
    co_return TakeDocuments(ctx.body);
}

}  // namespace tb::api
