#pragma once
// If-Match and If-None-Match values (RFC 9110 §13.1.1, §13.1.2): `*`, or a list of entity
// tags, `"opaque"` or weak `W/"opaque"`, separated by commas and optional spaces. The one
// parser for both headers on every resource (documents by version, file contents by digest).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tb::http {

struct EntityTag {
    std::string opaque;  // between the quotes
    bool weak = false;
    bool operator==(const EntityTag&) const = default;
};

struct EntityTagList {
    bool any = false;    // `*` is a member
    size_t members = 0;  // every member read, `*` included
    std::vector<EntityTag> tags;
    // A member that is neither `*` nor a tag: what follows it is not read, and nothing in a
    // malformed list can match (If-Match then always fails).
    bool malformed = false;
    bool operator==(const EntityTagList&) const = default;
};

EntityTagList ParseEntityTags(std::string_view header);

// The list written back as a header value (members in order, `*` first when present).
std::string FormatEntityTags(const EntityTagList& list);

// Weak comparison (RFC 9110 §8.8.3.2, what If-None-Match uses): whether the list is `*` or
// names the tag `etag` (as an ETag header writes it), W/ ignored on both sides.
bool ListsTagWeakly(const EntityTagList& list, std::string_view etag);

}  // namespace tb::http
