#pragma once
// The compatibility dialects (API.md §11) as the pipeline sees them: which path segment is
// whose, how each writes its errors, and what RestDB's credentials become before routing.
// The handlers of each dialect are in this folder, one file per dialect (handlers.h).

#include <string>
#include <string_view>
#include <vector>

#include "api/services.h"
#include "http/pipeline.h"

namespace tb::api::compat {

// Nilux (/api), Nile (/workspaces) and RestDB (/rest, /media, /mail).
std::vector<http::Dialect> Dialects(const CompatSettings& settings);

// The error bodies (exposed for unit tests).
// Nilux: {"detail": "…"}.
std::string NiluxErrorBody(const Error& error, std::string_view request_id, int& status);
// Nile: {"errorCode": "bad_request", "message": "…", "statusCode": 400}.
std::string NileErrorBody(const Error& error, std::string_view request_id, int& status);
// RestDB: {"name": "…", "message": "…", "status": N}; a validation error is 400
// {"name": "ValidationError", "list": [{"field": "…", "message": ["…"]}], …}.
std::string RestDbErrorBody(const Error& error, std::string_view request_id, int& status);

// RestDB's credentials as ours, before routing: `x-apikey: K` and a bare `Authorization: K`
// become the API key; `?apikey=K` too when `allow_query_key` (then removed from the query the
// handlers read; the access log redacts it), else 401.
std::optional<Error> PrepareRestDb(http::Request& request, bool allow_query_key);

}  // namespace tb::api::compat
