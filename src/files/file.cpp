#include "files/file.h"

#include "common/clock.h"

namespace tb::files {

std::string ContentPath(const FileInfo& f) { return "/v1/files/" + f.id + "/content"; }

json::object FileJson(const FileInfo& f) {
    return {{"id", f.id},
            {"name", f.name},
            {"content_type", f.content_type},
            {"size", f.size},
            {"sha256", f.sha256},
            {"created_at", FormatRfc3339(FromUnixMillis(f.created_at))},
            {"created_by", f.created_by.empty() ? json::value(nullptr) : json::value(f.created_by)},
            {"url", ContentPath(f)}};
}

}  // namespace tb::files
