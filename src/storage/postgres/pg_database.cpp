#include "storage/postgres/pg_database.h"

#include <algorithm>
#include <random>

#include <boost/asio/steady_timer.hpp>

#include "common/await_callback.h"
#include "storage/postgres/pg_dialect.h"

namespace tb::storage {

namespace asio = boost::asio;

namespace {

class PgSession final : public Session {
  public:
    explicit PgSession(PgConnection& conn) : conn_(conn) {}
    uint32_t Slot() const override { return conn_.slot(); }
    Task<Result<Rows>> Query(std::string_view sql, Params params) override {
        co_return co_await conn_.Query(sql, params);
    }
    Task<Result<int64_t>> Execute(std::string_view sql, Params params) override {
        co_return co_await conn_.Execute(sql, params);
    }
    Task<Result<std::vector<Rows>>> QueryAll(std::vector<Statement> statements) override {
        co_return co_await conn_.QueryAll(statements);
    }
    // DDL (migrations): no statement deadline for the rest of this transaction.
    Task<Status> ExecuteScript(std::string_view sql) override {
        TB_CO_RETURN_IF_ERROR(co_await conn_.Script("SET LOCAL statement_timeout = 0"));
        co_return co_await conn_.Script(sql);
    }

  private:
    PgConnection& conn_;
};

}  // namespace

// Gives the connection back to the pool (or drops it when broken) at scope exit. A lease can
// outlive the pool: a coroutine suspended in a statement when the server stops is destroyed
// with its io_context, after the database (ASan saw ~Lease read the freed pool); it then just
// drops its connection.
class PgDatabase::Lease {
  public:
    Lease(PgDatabase& db, Conn conn) : db_(db), alive_(db.alive_), conn_(std::move(conn)) {}
    ~Lease() {
        if (alive_.lock()) db_.Release(std::move(conn_));
    }
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

  private:
    PgDatabase& db_;
    std::weak_ptr<int> alive_;
    Conn conn_;
};

PgDatabase::PgDatabase(boost::asio::any_io_executor ex, PostgresOptions options)
    : ex_(std::move(ex)), options_(std::move(options)), next_slot_(std::random_device{}()) {
    // Written into SQL text (SET tb.node): keep only what an id may hold.
    std::erase_if(options_.node_id, [](char c) {
        return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-');
    });
}

PgDatabase::~PgDatabase() { Close(); }

const Dialect& PgDatabase::dialect() const { return PostgresDialect(); }

Task<Result<PgDatabase::Conn>> PgDatabase::Acquire() {
    bool connect = false;
    {
        std::lock_guard lock(mu_);
        if (closed_) co_return Error::Unavailable("Database unavailable", "postgres: closed");
        if (!idle_.empty()) {
            Conn c = std::move(idle_.back());
            idle_.pop_back();
            co_return c;
        }
        if (total_ < options_.pool_size) {
            ++total_;
            connect = true;
        }
    }
    if (!connect) {
        // Wait for Release to hand over a connection, or a free slot (nullptr) to connect in;
        // past acquire_timeout the timer takes the waiter out of the queue instead (nullptr,
        // timed_out set, no slot).
        auto timed_out = std::make_shared<bool>(false);
        auto enqueue = [this, timed_out](std::function<void(Conn)> resume) {
            auto timer = std::make_shared<asio::steady_timer>(ex_, options_.acquire_timeout);
            // The wait starts under the lock that publishes the waiter: once Release can see
            // the waiter it may post the timer's cancel to another thread, and a timer must
            // not take a cancel and an async_wait at once (asio objects are not thread-safe).
            std::lock_guard lock(mu_);
            uint64_t id = ++next_waiter_;
            waiters_.push_back({id, std::move(resume), timer});
            timer->async_wait([this, id, timed_out,
                               alive = std::weak_ptr<int>(alive_)](boost::system::error_code ec) {
                if (ec || alive.expired()) return;  // cancelled: handed a connection
                std::function<void(Conn)> resume;
                {
                    std::lock_guard lock(mu_);
                    auto it = std::find_if(waiters_.begin(), waiters_.end(),
                                           [id](const Waiter& w) { return w.id == id; });
                    if (it == waiters_.end()) return;  // handed one just now
                    resume = std::move(it->resume);
                    waiters_.erase(it);
                    ++acquire_timeouts_;
                }
                *timed_out = true;
                resume(nullptr);
            });
        };
        Conn handed = co_await AwaitCallback<Conn>(std::move(enqueue));
        if (handed) co_return handed;
        if (*timed_out) {
            Error e =
                Error::Unavailable("The database is busy: try again shortly",
                                   "postgres: no connection free within acquire_timeout_ms (" +
                                       std::to_string(options_.acquire_timeout.count()) + " ms)");
            e.retry_after_seconds = 1;
            co_return e;
        }
        std::lock_guard lock(mu_);
        if (closed_) {
            --total_;
            co_return Error::Unavailable("Database unavailable", "postgres: closed");
        }
    }
    auto conn = co_await PgConnection::Connect(ex_, options_.url);
    if (!conn.ok()) {
        Release(nullptr);  // give the reserved slot back
        co_return conn;
    }
    if (Status st = co_await (*conn)->Script(TimeoutStatement()); !st.ok()) {
        Release(nullptr);
        co_return std::move(st).error();
    }
    // bytea columns come back in the hex format the driver decodes, whatever the server's
    // default (a cluster set to `escape` would otherwise hand back text it cannot read).
    if (Status st = co_await (*conn)->Script("SET bytea_output = hex"); !st.ok()) {
        Release(nullptr);
        co_return std::move(st).error();
    }
    {
        std::lock_guard lock(mu_);
        (*conn)->set_slot(next_slot_++);
    }
    if (!options_.node_id.empty()) {
        // Checked by the constructor to hold only [A-Za-z0-9-]: safe in the statement's text.
        std::string set_node = "SET tb.node = '" + options_.node_id + "'";
        if (Status st = co_await (*conn)->Script(set_node); !st.ok()) {
            Release(nullptr);
            co_return std::move(st).error();
        }
    }
    co_return conn;
}

void PgDatabase::Release(Conn conn) {
    std::function<void(Conn)> waiter;
    std::shared_ptr<asio::steady_timer> timer;
    {
        std::lock_guard lock(mu_);
        if (conn && (conn->broken() || closed_)) conn.reset();
        if (!conn) --total_;
        if (!waiters_.empty() && !closed_) {
            waiter = std::move(waiters_.front().resume);
            timer = std::move(waiters_.front().timer);
            waiters_.pop_front();
            if (!conn) ++total_;  // the slot passes to the waiter, which connects
        } else if (conn) {
            idle_.push_back(std::move(conn));
            return;
        }
    }
    // Its timeout is moot: stopped on the timer's own executor (timers are not thread-safe),
    // so that a busy pool does not keep a timer per request for acquire_timeout.
    if (timer) asio::post(ex_, [timer] { timer->cancel(); });
    if (waiter) waiter(std::move(conn));
}

Task<Result<Rows>> PgDatabase::Query(std::string_view sql, Params params) {
    TB_CO_ASSIGN_OR_RETURN(Conn conn, co_await Acquire());
    Lease lease(*this, std::move(conn));
    co_return co_await lease->Query(sql, params);
}

Task<Result<std::vector<Rows>>> PgDatabase::QueryAll(std::vector<Statement> statements) {
    TB_CO_ASSIGN_OR_RETURN(Conn conn, co_await Acquire());
    Lease lease(*this, std::move(conn));
    co_return co_await lease->QueryAll(statements);
}

Task<Result<int64_t>> PgDatabase::Execute(std::string_view sql, Params params) {
    TB_CO_ASSIGN_OR_RETURN(Conn conn, co_await Acquire());
    Lease lease(*this, std::move(conn));
    co_return co_await lease->Execute(sql, params);
}

std::string PgDatabase::TimeoutStatement() const {
    return "SET statement_timeout = " + std::to_string(options_.statement_timeout.count());
}

// DDL (index builds, CONCURRENTLY ones too, which may not run inside a transaction block):
// without a deadline, then the connection's own again.
Task<Status> PgDatabase::ExecuteScript(std::string_view sql) {
    TB_CO_ASSIGN_OR_RETURN(Conn conn, co_await Acquire());
    Lease lease(*this, std::move(conn));
    TB_CO_RETURN_IF_ERROR(co_await lease->Script("SET statement_timeout = 0"));
    Status st = co_await lease->Script(sql);
    Status restored = co_await lease->Script(TimeoutStatement());
    if (!restored.ok() && st.ok()) co_return restored;
    co_return st;
}

Task<Status> PgDatabase::Transaction(const TransactionFn& fn) {
    TB_CO_ASSIGN_OR_RETURN(Conn conn, co_await Acquire());
    Lease lease(*this, std::move(conn));
    lease->BeginWithNext();  // BEGIN goes out with the first statement
    PgSession session(*lease);
    Status result = co_await fn(session);
    if (result.ok()) {
        Status commit = co_await lease->Script("COMMIT");
        if (commit.ok()) co_return result;
        result = std::move(commit);
    }
    if (!lease->broken()) (void)co_await lease->Script("ROLLBACK");
    co_return result;
}

Task<Status> PgDatabase::Ping() {
    TB_CO_ASSIGN_OR_RETURN(Rows rows, co_await Query("SELECT 1", {}));
    if (rows.size() != 1) co_return Error::Unavailable("Database unavailable", "ping: no row");
    co_return Status{};
}

Task<Result<std::string>> PgDatabase::DurabilityWarning() {
    TB_CO_ASSIGN_OR_RETURN(
        Rows rows, co_await Query("SELECT current_setting('fsync'), current_setting("
                                  "'synchronous_commit'), current_setting('full_page_writes')",
                                  {}));
    if (rows.size() != 1) co_return std::string();
    std::string out;
    auto add = [&out](std::string text) { out += (out.empty() ? "" : "; ") + std::move(text); };
    if (AsText(rows.rows[0][0]) == "off")
        add("PostgreSQL fsync=off: committed writes can be lost, and the database corrupted, in "
            "a crash");
    if (AsText(rows.rows[0][1]) == "off")
        add("PostgreSQL synchronous_commit=off: the last committed writes can be lost in a "
            "crash");
    if (AsText(rows.rows[0][2]) == "off")
        add("PostgreSQL full_page_writes=off: a crash can corrupt the database");
    co_return out;
}

// A generic plan made while a table had no statistics (a new deployment, a table that just
// began to fill) can pick a secondary index that walks a whole collection for one id: both it
// and the primary key look like one row to a planner that knows nothing. ANALYZE as soon as a
// table changed by a tenth since its statistics were gathered, rather than when autovacuum
// next wakes (up to a minute, and its VACUUM may have the plans rebuilt before its ANALYZE
// lands). The new row count invalidates the plans that depend on the table; a statement's
// plan is also made again once a minute (pg_connection.h). Several nodes may ANALYZE one table
// at once: PostgreSQL runs them one after the other.
Task<Status> PgDatabase::RefreshStatistics() {
    TB_CO_ASSIGN_OR_RETURN(
        Rows rows, co_await Query("SELECT relname FROM pg_stat_user_tables WHERE schemaname = "
                                  "current_schema() AND n_mod_since_analyze > 50 + n_live_tup / 10",
                                  {}));
    for (const auto& row : rows.rows) {
        std::string table = AsText(row[0]);
        std::string quoted = "\"";
        for (char c : table) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        quoted += '"';
        TB_CO_RETURN_IF_ERROR(co_await ExecuteScript("ANALYZE " + quoted));
    }
    co_return Status{};
}

DatabaseStats PgDatabase::Stats() const {
    std::lock_guard lock(mu_);
    return DatabaseStats{static_cast<int64_t>(total_), static_cast<int64_t>(idle_.size()),
                         static_cast<int64_t>(waiters_.size()),
                         static_cast<int64_t>(options_.pool_size), acquire_timeouts_};
}

Status PgDatabase::Backup(const std::string&) {
    return Error::BadRequest(
        "backup is for the embedded SQLite database; back up PostgreSQL with pg_dump");
}

void PgDatabase::Close() {
    std::deque<Waiter> waiters;
    {
        std::lock_guard lock(mu_);
        if (closed_) return;
        closed_ = true;
        idle_.clear();
        waiters.swap(waiters_);
    }
    // Waiters get a null connection: they try to connect, see closed_ at the next Acquire.
    for (auto& w : waiters) w.resume(nullptr);
}

}  // namespace tb::storage
