#include "api/list.h"

namespace tb::api {

Result<query::ListQuery> ParseListQuery(const Services& s, const http::Request& request,
                                        const query::Resource& resource) {
    return query::ParseList(request.query, resource, s.cursors);
}

json::object Project(json::object item, const std::vector<std::string>& fields) {
    if (fields.empty()) return item;
    json::object out;
    for (const auto& f : fields) {
        if (auto* v = item.if_contains(f)) out[f] = std::move(*v);
    }
    return out;
}

namespace {
json::object Meta(const Services& s, const query::Resource& resource, const query::ListQuery& q,
                  std::optional<int64_t> total,
                  const std::optional<std::vector<query::Literal>>& next_keys) {
    json::object meta;
    if (q.cursor_mode) {
        meta["per_page"] = q.per_page;
        meta["next_cursor"] = next_keys ? json::value(s.cursors.Encode(resource, q, *next_keys))
                                        : json::value(nullptr);
        if (total) meta["total"] = *total;
    } else {
        meta["page"] = q.page;
        meta["per_page"] = q.per_page;
        if (total) {
            meta["total"] = *total;
            meta["total_pages"] = (*total + q.per_page - 1) / q.per_page;
        }
    }
    return meta;
}
}  // namespace

http::Response ListResponse(const Services& s, const query::Resource& resource,
                            const query::ListQuery& q, json::array items,
                            std::optional<int64_t> total,
                            const std::optional<std::vector<query::Literal>>& next_keys) {
    json::object body{{"success", true},
                      {"data", std::move(items)},
                      {"meta", Meta(s, resource, q, total, next_keys)}};
    return http::Response::Json(200, WriteJson(body));
}

http::Response ListResponseRaw(const Services& s, const query::Resource& resource,
                               const query::ListQuery& q, const std::vector<std::string>& items,
                               std::optional<int64_t> total,
                               const std::optional<std::vector<query::Literal>>& next_keys) {
    size_t size = 64;
    for (const auto& item : items) size += item.size() + 1;
    std::string body;
    body.reserve(size);
    body += "{\"success\":true,\"data\":[";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) body += ',';
        body += items[i];
    }
    body += "],\"meta\":";
    body += WriteJson(Meta(s, resource, q, total, next_keys));
    body += '}';
    return http::Response::Json(200, std::move(body));
}

}  // namespace tb::api
