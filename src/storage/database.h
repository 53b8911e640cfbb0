#pragma once
// The Database interface: asynchronous, awaitable statements and transactions over SQLite or
// PostgreSQL. Library errors become our Error inside the drivers.
//
// Thread safety: a Database is safe to use from every I/O thread at once. A Session handed to
// a transaction function belongs to that function only.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/task.h"
#include "storage/dialect.h"
#include "storage/value.h"

namespace tb::storage {

// One statement with its parameters (Session::QueryAll).
struct Statement {
    std::string sql;
    Params params;
};

// Something that runs statements: the database itself or one open transaction.
class Session {
  public:
    virtual ~Session() = default;
    // Runs one statement and returns its rows. On the Database (outside a transaction) the
    // statement must not write: writes go through Execute or Transaction.
    virtual Task<Result<Rows>> Query(std::string_view sql, Params params = {}) = 0;
    // Runs one statement; returns the number of rows it changed.
    virtual Task<Result<int64_t>> Execute(std::string_view sql, Params params = {}) = 0;
    // Runs several statements without parameters (migrations).
    virtual Task<Status> ExecuteScript(std::string_view sql) = 0;
    // Runs statements that do not depend on each other's results, as Query does, and returns
    // their rows in order; the first error is the result. PostgreSQL sends them in one
    // pipeline: one round trip (and, outside a transaction, one connection) for all.
    virtual Task<Result<std::vector<Rows>>> QueryAll(std::vector<Statement> statements) {
        std::vector<Rows> out;
        out.reserve(statements.size());
        for (Statement& s : statements) {
            auto rows = co_await Query(s.sql, std::move(s.params));
            if (!rows.ok()) co_return std::move(rows).error();
            out.push_back(std::move(*rows));
        }
        co_return out;
    }
    // Tells apart the transactions that may run at the same time: the pool connection's number
    // on PostgreSQL; 0 where writes run one at a time anyway (SQLite, or outside a
    // transaction). Counters kept on several rows pick their row by it, so that concurrent
    // writers do not queue on one row's lock (collections/collection_counters.h).
    virtual uint32_t Slot() const { return 0; }
};

struct DatabaseStats {
    int64_t pool_connections = 0;  // open connections
    int64_t pool_idle = 0;         // of which idle
    int64_t writer_queue = 0;      // transactions waiting for the writer (SQLite) or a connection
    int64_t pool_size = 0;         // the most connections open at once; 0: no bound (SQLite)
    int64_t acquire_timeouts = 0;  // callers that gave up waiting for a connection, since start
};

using TransactionFn = std::function<Task<Status>(Session&)>;

class Database : public Session {
  public:
    // Runs fn inside one transaction: committed when fn returns ok and the commit succeeds,
    // rolled back otherwise; the result is fn's error, or the commit's.
    // REQUIRES: fn awaits nothing but statements on the Session it is given. fn is taken by
    // reference: await the call at once (GCC 12 destroys by-value std::function parameters of
    // coroutines twice). fn may run more than once, each run on a rolled-back state (SQLite
    // runs a group-commit batch again after one of its transactions failed); only the last
    // run counts. So fn assigns what it hands out rather than accumulating it, and has no
    // effect outside the database.
    virtual Task<Status> Transaction(const TransactionFn& fn) = 0;
    virtual const Dialect& dialect() const = 0;
    // Answers ok when the database answers a trivial query.
    virtual Task<Status> Ping() = 0;
    // Why an acknowledged (committed) write could be lost under the database's settings, in
    // words that name the setting; "" when it could not (issue #29: an unsafe configuration
    // must not start silently).
    virtual Task<Result<std::string>> DurabilityWarning() = 0;
    virtual DatabaseStats Stats() const = 0;
    // Brings the planner's statistics up to date where tables changed much since they were
    // last gathered (PostgreSQL; nothing on SQLite). Run every few seconds by each node.
    virtual Task<Status> RefreshStatistics() { co_return Status{}; }
    // A consistent copy of the whole database into `path` while it is in use.
    virtual Status Backup(const std::string& path) = 0;
    // Finishes queued work and closes every connection. Idempotent.
    virtual void Close() = 0;
};

}  // namespace tb::storage
