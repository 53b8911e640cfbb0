#pragma once
// List endpoints, the API side (API.md §1.1, §1.2): the query string through the one parser
// (query/), and the answer: items (projected by `fields`) with `meta` — page, per_page,
// total, total_pages in page mode; per_page, next_cursor (and total on count=true) in cursor
// mode.

#include <optional>
#include <vector>

#include "api/services.h"
#include "common/json.h"
#include "http/message.h"
#include "query/list_query.h"

namespace tb::api {

Result<query::ListQuery> ParseListQuery(const Services& s, const http::Request& request,
                                        const query::Resource& resource);

// Keeps only the fields asked for (all when `fields` is empty).
json::object Project(json::object item, const std::vector<std::string>& fields);

http::Response ListResponse(const Services& s, const query::Resource& resource,
                            const query::ListQuery& q, json::array items,
                            std::optional<int64_t> total,
                            const std::optional<std::vector<query::Literal>>& next_keys);

// As ListResponse, with items that are already JSON texts (documents), spliced as they are.
http::Response ListResponseRaw(const Services& s, const query::Resource& resource,
                               const query::ListQuery& q, const std::vector<std::string>& items,
                               std::optional<int64_t> total,
                               const std::optional<std::vector<query::Literal>>& next_keys);

// A page of any service: items rendered by `to_json`, then projected.
template <class Page, class ToJson>
http::Response RenderList(const Services& s, const query::Resource& resource,
                          const query::ListQuery& q, const Page& page, ToJson to_json) {
    json::array items;
    items.reserve(page.items.size());
    for (const auto& item : page.items) items.push_back(Project(to_json(item), q.fields));
    return ListResponse(s, resource, q, std::move(items), page.total, page.next_keys);
}

}  // namespace tb::api
