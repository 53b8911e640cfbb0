#pragma once
// Concurrent single-document creates in one collection, written together (PostgreSQL; the
// SQLite writer groups its commits itself). Each POST of one document on PostgreSQL was its own
// transaction: BEGIN, the quota read, the INSERT, the counter row, COMMIT and its WAL flush,
// about 0.3 ms of the database's CPU per document. Here the first create of a collection writes
// at once; creates that arrive while it is in flight queue, and the next of them, once it is
// done, writes all the queued ones in one transaction (a multi-row INSERT, one quota read, one
// counter update, one commit): a group commit whose batches grow with the load and add no wait
// when there is none. When a batch fails (a unique index, the quota), each of its creates is
// written again alone, so every request gets the answer it would have had by itself.
//
// Thread safety: Write may run on every I/O thread at once (one mutex over the queues).

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "collections/document_rows.h"
#include "common/result.h"
#include "common/task.h"
#include "tenancy/caller.h"

namespace tb::collections {

class CreateCombiner {
  public:
    struct Item {
        NewRow row;
        int64_t bytes = 0;
        const tenancy::Caller* who = nullptr;
        const std::string* collection_id = nullptr;
        Status result;  // set by the write of its batch
    };
    // Writes a batch (one item or more, one tenant and collection) and sets each item's result.
    using WriteFn = std::function<Task<void>(const std::vector<Item*>& batch)>;

    explicit CreateCombiner(WriteFn write) : write_(std::move(write)) {}

    // Writes `item` (in a batch with the creates queued for `key`, the tenant and collection)
    // and returns its result. `key` and `item` must outlive the call.
    Task<Status> Write(const std::string& key, Item& item);

  private:
    struct Waiting {
        Item* item;
        std::function<void(bool)> resume;  // true: lead the next batch; false: written
    };
    struct Queue {
        bool busy = false;  // a batch is being written
        std::vector<Waiting> waiting;
    };

    WriteFn write_;
    std::mutex mu_;
    std::unordered_map<std::string, Queue> queues_;  // guarded by mu_
};

}  // namespace tb::collections
