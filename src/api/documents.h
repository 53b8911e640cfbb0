#pragma once
// What the document routes of /v1 and of the RestDB dialect share (API.md §5.2, §11).

#include <string>
#include <vector>

#include "common/json.h"
#include "common/result.h"

namespace tb::api {

// Keeps the listed paths (dotted paths reach into objects) and `_id`.
json::object ProjectPaths(const json::object& doc, const std::vector<std::string>& paths);

// A create's body: one document (an object) or a batch (an array of objects), moved out of
// `body`. VALIDATION_ERROR otherwise (naming the position of an item that is not an object).
Result<std::vector<json::object>> TakeDocuments(json::value& body);

}  // namespace tb::api
