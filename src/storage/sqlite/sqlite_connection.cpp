#include "storage/sqlite/sqlite_connection.h"

#include <string>
#include <utility>

#include "storage/sqlite/sqlite_functions.h"

namespace tb::storage {

namespace {
constexpr size_t kMaxCached = 512;
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                 Mode mode) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_NOMUTEX |
                (mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY
                                         : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close(db);
        return Error::Unavailable("Database unavailable", "sqlite open " + path + ": " + msg);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    if (Status st = RegisterSqliteFunctions(db); !st.ok()) {
        sqlite3_close(db);
        return std::move(st).error();
    }
    std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
    sqlite3_progress_handler(db, kProgressSteps, &SqliteConnection::OnProgress, conn.get());
    return conn;
}

int SqliteConnection::OnProgress(void* self) {
    auto* c = static_cast<SqliteConnection*>(self);
    if (c->budget_.count() == 0) return 0;
    auto now = std::chrono::steady_clock::now();
    if (!c->armed_) {  // the first check of this statement: its clock starts (a few µs late)
        c->deadline_ = now + c->budget_;
        c->armed_ = true;
        return 0;
    }
    if (now < c->deadline_) return 0;
    c->timed_out_ = true;
    return 1;  // SQLITE_INTERRUPT for the statement
}

SqliteConnection::~SqliteConnection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
}

Error SqliteConnection::ToError(int rc, std::string_view what) const {
    std::string detail = std::string(what) + ": " + sqlite3_errmsg(db_);
    if (rc == SQLITE_INTERRUPT && timed_out_) return Error::QueryTimeout("sqlite " + detail);
    switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY: {
            Error e = Error::Conflict("Already exists");
            e.internal = detail;
            return e;
        }
        case SQLITE_FULL:
            return Error::StorageFull("sqlite " + detail);
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN:
            return Error::Unavailable("Database unavailable", detail);
        default:
            if ((rc & 0xFF) == SQLITE_IOERR)
                return Error::Unavailable("Database unavailable", detail);
            return Error::Internal(detail);
    }
}

Result<sqlite3_stmt*> SqliteConnection::Prepare(std::string_view sql, const Params& params) {
    armed_ = timed_out_ = false;  // a new statement, a new deadline
    sqlite3_stmt* stmt = nullptr;
    if (auto it = cache_.find(sql); it != cache_.end()) {
        stmt = it->second;
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    } else {
        int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK) return ToError(rc, "prepare");
        if (cache_.size() >= kMaxCached) {
            for (auto& [s, old] : cache_) sqlite3_finalize(old);
            cache_.clear();
        }
        cache_.emplace(std::string(sql), stmt);
    }
    if (static_cast<size_t>(sqlite3_bind_parameter_count(stmt)) != params.size()) {
        return Error::Internal("parameter count mismatch for: " + std::string(sql));
    }
    for (size_t i = 0; i < params.size(); ++i) {
        int idx = static_cast<int>(i + 1);
        const Value& v = params[i];
        int rc = SQLITE_OK;
        if (auto* n = std::get_if<int64_t>(&v)) {
            rc = sqlite3_bind_int64(stmt, idx, *n);
        } else if (auto* d = std::get_if<double>(&v)) {
            rc = sqlite3_bind_double(stmt, idx, *d);
        } else if (auto* s = std::get_if<std::string>(&v)) {
            rc =
                sqlite3_bind_text(stmt, idx, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
        } else if (auto* b = std::get_if<Blob>(&v)) {
            rc = sqlite3_bind_blob64(stmt, idx, b->bytes.data(), b->bytes.size(), SQLITE_STATIC);
        } else {
            rc = sqlite3_bind_null(stmt, idx);
        }
        if (rc != SQLITE_OK) return ToError(rc, "bind");
    }
    return stmt;
}

Result<Rows> SqliteConnection::Query(std::string_view sql, const Params& params) {
    TB_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    Rows out;
    int ncol = sqlite3_column_count(stmt);
    while (true) {
        int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) break;
        if (rc != SQLITE_ROW) {
            Error e = ToError(rc, "step");
            sqlite3_reset(stmt);
            return e;
        }
        std::vector<Value>& row = out.rows.emplace_back();
        row.reserve(ncol);
        for (int c = 0; c < ncol; ++c) {
            switch (sqlite3_column_type(stmt, c)) {
                case SQLITE_INTEGER:
                    row.emplace_back(int64_t{sqlite3_column_int64(stmt, c)});
                    break;
                case SQLITE_FLOAT:
                    row.emplace_back(sqlite3_column_double(stmt, c));
                    break;
                case SQLITE_NULL:
                    row.emplace_back(kNull);
                    break;
                case SQLITE_BLOB: {
                    auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, c));
                    int n = sqlite3_column_bytes(stmt, c);
                    row.emplace_back(n > 0 ? std::string(bytes, n) : std::string());
                    break;
                }
                default: {
                    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
                    row.emplace_back(std::string(text, sqlite3_column_bytes(stmt, c)));
                }
            }
        }
    }
    sqlite3_reset(stmt);
    return out;
}

Result<int64_t> SqliteConnection::Execute(std::string_view sql, const Params& params) {
    TB_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return ToError(rc, "step");
    return int64_t{sqlite3_changes64(db_)};
}

Status SqliteConnection::Ping() {
    static const Params kNone;
    TB_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare("SELECT 1", kNone));
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW) return ToError(rc, "ping");
    return {};
}

Status SqliteConnection::Script(std::string_view sql) {
    std::string text(sql);
    char* err = nullptr;
    auto budget = std::exchange(budget_, std::chrono::nanoseconds{0});  // DDL: no deadline
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    budget_ = budget;
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        rc = sqlite3_extended_errcode(db_);
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return ToError(rc, "sqlite script");  // e.g. CREATE UNIQUE INDEX over duplicates
        return Error::Internal("sqlite script: " + msg);
    }
    return {};
}

}  // namespace tb::storage
