#pragma once
// One SQLite connection with a cache of prepared statements. Synchronous: it is used by one
// thread at a time (a reader checked out of the pool, or the writer thread).

#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "common/strings.h"
#include "storage/value.h"

namespace tb::storage {

class SqliteConnection {
  public:
    enum class Mode { kReadOnly, kReadWrite };
    static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, Mode mode);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    Result<Rows> Query(std::string_view sql, const Params& params);
    Result<int64_t> Execute(std::string_view sql, const Params& params);
    // Several statements, no parameters; no deadline (DDL: migrations, index builds).
    Status Script(std::string_view sql);
    // The deadline of each statement from now on (0: none): a statement still running that
    // long after it started is interrupted and answers QUERY_TIMEOUT. Checked by SQLite's
    // progress handler every kProgressSteps virtual-machine steps, so a short statement never
    // reads the clock.
    void SetStatementBudget(std::chrono::nanoseconds budget) { budget_ = budget; }
    // Runs `SELECT 1` without building a result: the health check's probe.
    Status Ping();
    sqlite3* handle() { return db_; }

  private:
    static constexpr int kProgressSteps = 1000;
    explicit SqliteConnection(sqlite3* db) : db_(db) {}
    static int OnProgress(void* self);
    Result<sqlite3_stmt*> Prepare(std::string_view sql, const Params& params);
    Error ToError(int rc, std::string_view what) const;

    sqlite3* db_;
    std::chrono::nanoseconds budget_{0};
    // The running statement's deadline, set on its first progress call (armed_).
    std::chrono::steady_clock::time_point deadline_;
    bool armed_ = false;
    bool timed_out_ = false;
    // Bounded: cleared when it grows past kMaxCached (generated queries vary).
    // Looked up by view: statement texts run to kilobytes, not copied per call.
    TextMap<sqlite3_stmt*> cache_;
};

}  // namespace tb::storage
