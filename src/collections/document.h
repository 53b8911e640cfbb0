#pragma once
// A document's body as a client sends it and as it is stored (API.md §5.2, §13 "System fields
// in a body"), and RFC 7396 JSON Merge Patch.

#include <optional>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/result.h"

namespace tb::collections {

struct DocumentLimits {
    size_t max_bytes = size_t{1024} * 1024;  // the stored document, system fields included
};

// What a client sent, ready to store: the server's system fields dropped (so a fetched
// document can be sent back as it is), `_org` taken out, any other `_` name → 422, NUL in a
// string or a key → 422 (PostgreSQL's JSONB cannot hold it). `at` prefixes error paths (the
// position in a batch).
struct ClientBody {
    json::object data;
    // Absent: keep (or none on create); nullopt inside: cleared; a value: that organization.
    std::optional<std::optional<std::string>> org;
};
Result<ClientBody> TakeClientBody(json::object body, const std::string& at = "");

// The system fields of a stored document.
struct SystemFields {
    std::string id;
    int64_t created_at = 0, changed_at = 0;
    std::string created_by, changed_by;  // "" for anonymous writers: null
    int64_t version = 1;
    std::optional<std::string> org;
};

// The stored (and served) JSON text: `_id` first, then the client's fields, then the other
// system fields. Over the size limit → 413 PAYLOAD_TOO_LARGE naming the document (`at`).
Result<std::string> RenderDocument(const json::object& data, const SystemFields& system,
                                   const DocumentLimits& limits, const std::string& at = "");

// The client's fields of a stored document (system fields removed).
json::object ClientFields(const json::object& stored);

// RFC 7396: objects merge recursively, null removes, anything else replaces.
json::value MergePatch(json::value target, const json::value& patch);

}  // namespace tb::collections
