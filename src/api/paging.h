#pragma once
// Page parameters of list endpoints (API.md §1.2): page (from 1), per_page (1..100, default
// 20). The tenancy issue grows this into the one list-query parser (filters, sort, cursors);
// until then any other parameter is refused as unknown.

#include <string_view>

#include "common/result.h"

namespace tb::api {

struct Paging {
    int64_t page = 1;
    int64_t per_page = 20;
};

// BAD_REQUEST with details.field naming the parameter.
Result<Paging> ParsePaging(std::string_view query);

}  // namespace tb::api
