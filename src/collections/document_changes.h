#pragma once
// What a committed document write tells the realtime layer (issue #25): the service publishes
// a change after its transaction commits, never before and never for one that rolled back.
// The sink decides who hears of it; the service does not know who listens.
//
// Thread safety: Published may be called from any thread, concurrently; a sink must not block
// (it queues and returns: writers are never slowed by subscribers).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tb::collections {

// File changes are announced as changes of this collection, a name no collection can have
// (names start with a letter): subscriptions name it like a collection (API.md §5.6).
inline constexpr std::string_view kFilesCollection = "_files";

struct DocumentChange {
    enum class Kind { kCreate, kUpdate, kDelete };
    Kind kind = Kind::kCreate;
    std::string tenant_id;
    std::string collection;  // the name, as subscriptions and URLs say it
    std::string id;
    int64_t version = 0;
    // The stored body: after the write (create, update), or the last one (delete), for the
    // subscription filters. What a reader is sent of it is decided per reader.
    std::string body;
    // What the collection's read rule looks at: the owner ("" for none) and the organization.
    std::string created_by;
    std::optional<std::string> org;
};

class DocumentChangeSink {
  public:
    virtual ~DocumentChangeSink() = default;
    virtual void Published(std::vector<DocumentChange> changes) = 0;
};

}  // namespace tb::collections
