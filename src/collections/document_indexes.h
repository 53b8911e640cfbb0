#pragma once
// The SQL indexes behind a collection's declared `indexes` (API.md §5.1): one partial index
// per declaration over the collection's documents (storage/doc_sql.h CreateDocIndex), named
// `dx_<collection id>_<hash of the declaration>`, so that a declaration maps to one index on
// every node and a changed declaration is a new index.
//
// Building one does not lock readers out: PostgreSQL builds CONCURRENTLY (no lock on reads or
// writes); SQLite holds its one write lock while it builds and WAL readers go on reading.
// These statements run outside transactions (CONCURRENTLY must), before the definition that
// needs them is committed and, for removed ones, after.
//
// Thread safety: stateless beyond the database; IF [NOT] EXISTS makes races between nodes
// harmless.

#include <string>
#include <vector>

#include "collections/collection.h"
#include "storage/database.h"

namespace tb::collections {

class DocumentIndexes {
  public:
    explicit DocumentIndexes(storage::Database& db) : db_(db) {}

    // Creates the declared indexes the collection lacks and returns their names. A unique
    // index the documents already violate → CONFLICT naming `indexes.<i>`; the indexes this
    // call made are dropped again.
    Task<Result<std::vector<std::string>>> CreateMissing(const std::string& collection_id,
                                                         const std::vector<IndexSpec>& specs);
    // Drops the collection's indexes that `specs` does not declare (all, with none).
    Task<Status> DropOthers(const std::string& collection_id, const std::vector<IndexSpec>& specs);
    Task<Status> Drop(const std::vector<std::string>& names);

    static std::string Name(const std::string& collection_id, const IndexSpec& spec);

  private:
    Task<Result<std::vector<std::string>>> Existing(const std::string& collection_id);

    storage::Database& db_;
};

}  // namespace tb::collections
