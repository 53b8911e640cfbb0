#pragma once
// One SQLite connection with a cache of prepared statements. Synchronous: it is used by one
// thread at a time (a reader checked out of the pool, or the writer thread).

#include <sqlite3.h>

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
    // Several statements, no parameters.
    Status Script(std::string_view sql);
    // Runs `SELECT 1` without building a result: the health check's probe.
    Status Ping();
    sqlite3* handle() { return db_; }

  private:
    explicit SqliteConnection(sqlite3* db) : db_(db) {}
    Result<sqlite3_stmt*> Prepare(std::string_view sql, const Params& params);
    Error ToError(int rc, std::string_view what) const;

    sqlite3* db_;
    // Bounded: cleared when it grows past kMaxCached (generated queries vary).
    // Looked up by view: statement texts run to kilobytes, not copied per call.
    TextMap<sqlite3_stmt*> cache_;
};

}  // namespace tb::storage
