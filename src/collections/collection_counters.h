#pragma once
// The counters of a collection: its documents, their bytes (the plan's quotas, API.md §8) and
// its write sequence (the version filtered totals are cached under, storage/count_cache.h).
//
// Every document write raises them in its own transaction. They are kept on up to kShards rows
// per collection (table collection_counters): a write raises the row of its transaction's
// Session::Slot, a read sums the rows. On PostgreSQL one row would be locked by each write
// until its commit, so that the writes of one collection ran one at a time; spread over the
// pool's connections they run side by side. The sums stay exact: each committed write moves
// exactly one row, so the sum of write_seq grows by one per committed write, as the single
// counter did.

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/task.h"
#include "storage/database.h"

namespace tb::collections {

inline constexpr uint32_t kCounterShards = 16;

// Adds `documents` and `bytes` (either may be negative or 0) and one write to the collection.
Task<Status> AddToCounters(storage::Session& tx, const std::string& tenant_id,
                           const std::string& collection_id, int64_t documents, int64_t bytes);

// SQL with two parameters (tenant id, collection id) reading one BIGINT: the number of documents,
// and the write sequence.
extern const char* const kDocumentCountSql;
extern const char* const kWriteSequenceSql;

// An SQL expression for the document count of the collection row aliased `c`.
extern const char* const kDocumentCountOfRow;

}  // namespace tb::collections
