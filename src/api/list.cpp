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

http::Response ListResponse(const Services& s, const query::Resource& resource,
                            const query::ListQuery& q, json::array items,
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
    json::object body{{"success", true}, {"data", std::move(items)}, {"meta", std::move(meta)}};
    return http::Response::Json(200, json::serialize(body));
}

}  // namespace tb::api
