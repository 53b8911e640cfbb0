#include "http/entity_tags.h"

namespace tb::http {

EntityTagList ParseEntityTags(std::string_view header) {
    EntityTagList out;
    size_t i = 0;
    while (i < header.size()) {
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ','))
            ++i;
        if (i >= header.size()) break;
        ++out.members;
        if (header[i] == '*') {
            out.any = true;
            ++i;
            continue;
        }
        EntityTag tag;
        if (header.compare(i, 2, "W/") == 0) {
            tag.weak = true;
            i += 2;
        }
        if (i >= header.size() || header[i] != '"') {
            out.malformed = true;
            break;
        }
        size_t end = header.find('"', i + 1);
        if (end == std::string_view::npos) {
            out.malformed = true;
            break;
        }
        tag.opaque = std::string(header.substr(i + 1, end - i - 1));
        out.tags.push_back(std::move(tag));
        i = end + 1;
    }
    return out;
}

std::string FormatEntityTags(const EntityTagList& list) {
    std::string out = list.any ? "*" : "";
    for (const auto& t : list.tags) {
        if (!out.empty()) out += ", ";
        out += t.weak ? "W/\"" : "\"";
        out += t.opaque;
        out += '"';
    }
    return out;
}

bool ListsTagWeakly(const EntityTagList& list, std::string_view etag) {
    if (list.malformed) return false;
    if (list.any) return true;
    if (etag.starts_with("W/")) etag.remove_prefix(2);
    if (etag.size() < 2 || etag.front() != '"' || etag.back() != '"') return false;
    etag = etag.substr(1, etag.size() - 2);
    for (const auto& t : list.tags)
        if (t.opaque == etag) return true;
    return false;
}

}  // namespace tb::http
