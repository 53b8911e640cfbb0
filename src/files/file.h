#pragma once
// A stored file's metadata (API.md §6): the row of `files`. Its content lives in a
// ContentStore (files/content_store.h), addressed by tenant and id only.

#include <cstdint>
#include <string>

#include "common/json.h"

namespace tb::files {

struct FileInfo {
    std::string id, tenant_id;
    std::string name;          // sanitised (files/names.h)
    std::string content_type;  // as sent, cleaned
    int64_t size = 0;
    std::string sha256;  // hex
    int64_t created_at = 0;
    std::string created_by;  // user id
};

// Where its content is downloaded: /v1/files/<id>/content.
std::string ContentPath(const FileInfo& f);

// A file as the API shows it (GET /v1/files/{id}) and realtime announces it:
// {id, name, content_type, size, sha256, created_at, created_by, url}.
json::object FileJson(const FileInfo& f);

}  // namespace tb::files
