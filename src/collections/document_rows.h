#pragma once
// New documents into the documents table, many rows per statement: a batch of 1,000 documents
// is two INSERTs instead of 1,000 (on PostgreSQL each statement is a round trip). The rows go
// in statements of 500, 100, 10 or 1, so that a connection prepares at most four shapes.

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/task.h"
#include "storage/database.h"

namespace tb::collections {

// A new document's row; the pointers are the caller's, alive until the insert returns.
struct NewRow {
    const std::string* id = nullptr;
    const std::string* body = nullptr;
    const std::optional<std::string>* org = nullptr;
    const std::string* by = nullptr;  // the creating user ("" for none)
    int64_t now = 0;                  // created and changed at (Unix ms; as the body's _created)
};

// Inserts `rows` (version 1) into the collection, after locking its row against a concurrent
// delete (Dialect::ShareRowLock); not found when the collection is gone, else the database's
// error as is (a unique index's conflict included). The lock and the INSERTs go out together
// (Session::QueryAll: one round trip on PostgreSQL).
Task<Status> InsertDocuments(storage::Session& tx, const storage::Dialect& dialect,
                             const std::string& tenant_id, const std::string& collection_id,
                             const std::vector<NewRow>& rows);

}  // namespace tb::collections
