#pragma once
// Totals of filtered lists, kept per node while the rows they count have not changed.
//
// A filtered `total` is a COUNT over every matching row: over 100,000 documents with 1,000
// matches, 85% of a list request's CPU. Such a count is cached under its exact statement and
// parameters (tenant, collection, filter and rule values included: no entry is shared beyond
// what the statement itself selects) together with a version: a number that every write to
// the counted rows changes in its own transaction (for documents, the collection's write
// sequence, collections/collection_counters.h).
// A cached total is used only while the version read now is the one it was counted under.
// RunList reads the version before and after counting and keeps the total only if both reads
// agree, so a total is never filed under a version it was not counted at, on SQLite or
// PostgreSQL (read committed), with one node or many.
//
// Thread safety: all methods may be called from any thread (one mutex).

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "storage/database.h"

namespace tb::storage {

class CountCache {
  public:
    // Entries kept before the cache starts over (a key is a statement text, about 1-2 KB).
    static constexpr size_t kMaxEntries = 1024;

    // The key of a count statement and its parameters.
    static std::string KeyOf(const std::string& sql, const Params& params);

    std::optional<int64_t> Find(const std::string& key, int64_t version) const;
    void Store(std::string key, int64_t version, int64_t count);
    size_t size() const;

  private:
    struct Entry {
        int64_t version = 0;
        int64_t count = 0;
    };
    mutable std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;  // guarded by mu_
};

}  // namespace tb::storage
