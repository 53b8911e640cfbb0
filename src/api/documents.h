#pragma once
// What the document routes of /v1 and of the RestDB dialect share (API.md §5.2, §11).

#include <string>
#include <vector>

#include "api/services.h"
#include "common/json.h"
#include "common/result.h"
#include "http/router.h"

namespace tb::api {

// Keeps the listed paths (dotted paths reach into objects) and `_id`.
json::object ProjectPaths(const json::object& doc, const std::vector<std::string>& paths);

// A create's body: one document (an object) or a batch (an array of objects), moved out of
// `body`. VALIDATION_ERROR otherwise (naming the position of an item that is not an object).
Result<std::vector<json::object>> TakeDocuments(json::value& body);

// A body error, unless the caller may not see or do the operation at all: then that 404/403
// comes first (API.md §13 "Precedence of errors"). `id` empty: no document.
Task<Error> BodyErrorAfterAccess(Services& s, const tenancy::Caller& who,
                                 const std::string& collection, const std::string& id,
                                 collections::Operation op, Error body_error);

// The documents a create sends (TakeDocuments of the request's JSON body), or the error to
// answer: an unreadable or absent body after the access checks.
Task<Result<std::vector<json::object>>> DocumentsToCreate(Services& s, const tenancy::Caller& who,
                                                          const std::string& collection,
                                                          http::RouteContext& ctx);

}  // namespace tb::api
