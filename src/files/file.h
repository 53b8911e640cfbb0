#pragma once
// A stored file's metadata (API.md §6): the row of `files`. Its content lives in a
// ContentStore (files/content_store.h), addressed by tenant and id only.

#include <cstdint>
#include <string>

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

}  // namespace tb::files
