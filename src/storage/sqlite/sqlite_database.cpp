#include "storage/sqlite/sqlite_database.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "common/await_callback.h"
#include "common/strings.h"
#include "storage/migration.h"
#include "storage/sqlite/sqlite_dialect.h"

namespace tb::storage {

namespace {

// A Session over one connection, used synchronously: every call completes before it returns,
// so a transaction coroutine over it never suspends.
class ConnectionSession final : public Session {
  public:
    explicit ConnectionSession(SqliteConnection& conn) : conn_(conn) {}
    Task<Result<Rows>> Query(std::string_view sql, Params params) override {
        co_return conn_.Query(sql, params);
    }
    Task<Result<int64_t>> Execute(std::string_view sql, Params params) override {
        co_return conn_.Execute(sql, params);
    }
    Task<Status> ExecuteScript(std::string_view sql) override { co_return conn_.Script(sql); }

  private:
    SqliteConnection& conn_;
};

}  // namespace

// The idle read-only connections. Shared with the pending ends of pass snapshots, which hold
// a connection and may be destroyed after the database (with their io_context).
struct SqliteDatabase::ReaderPool {
    std::mutex mu;
    std::vector<std::unique_ptr<SqliteConnection>> idle;  // guarded by mu
    bool closed = false;                                  // guarded by mu
    std::atomic<int64_t> open{0};

    void Release(std::unique_ptr<SqliteConnection> conn) {
        if (!conn) return;
        {
            std::lock_guard lock(mu);
            if (!closed) {
                idle.push_back(std::move(conn));
                return;
            }
        }
        Discard(std::move(conn));
    }
    // Closes a connection instead of pooling it: the pool is closed, or its state is unknown.
    void Discard(std::unique_ptr<SqliteConnection> conn) {
        if (!conn) return;
        conn.reset();
        --open;
    }
};

// Returns a reader to the pool when it goes out of scope.
class SqliteDatabase::ReaderLease {
  public:
    ReaderLease(ReaderPool& pool, std::unique_ptr<SqliteConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    ~ReaderLease() { pool_.Release(std::move(conn_)); }
    SqliteConnection& operator*() { return *conn_; }
    SqliteConnection* operator->() { return conn_.get(); }

  private:
    ReaderPool& pool_;
    std::unique_ptr<SqliteConnection> conn_;
};

// The read transaction shared by the reads of one event-loop pass on one thread. Owned by the
// handler posted to end it; ended when that handler runs or, if its io_context is destroyed
// first, when it is destroyed.
struct SqliteDatabase::PassSnapshot {
    std::shared_ptr<ReaderPool> pool;
    std::unique_ptr<SqliteConnection> conn;  // null once ended

    PassSnapshot(std::shared_ptr<ReaderPool> p, std::unique_ptr<SqliteConnection> c)
        : pool(std::move(p)), conn(std::move(c)) {}
    PassSnapshot(const PassSnapshot&) = delete;
    PassSnapshot& operator=(const PassSnapshot&) = delete;
    ~PassSnapshot() { End(); }

    void End() {
        if (!conn) return;
        static const Params kNone;
        // An error may already have ended the transaction (SQLite rolls back on some).
        if (sqlite3_get_autocommit(conn->handle()) || conn->Execute("COMMIT", kNone).ok()) {
            pool->Release(std::move(conn));
        } else {
            pool->Discard(std::move(conn));
        }
    }
};

// Per thread: the pass snapshot in use, expired once its end has run.
thread_local std::weak_ptr<SqliteDatabase::PassSnapshot> SqliteDatabase::pass_;

SqliteDatabase::SqliteDatabase(SqliteOptions options)
    : options_(std::move(options)),
      slow_reads_(std::make_unique<WorkerPool>(2, 64, WorkerPool::Priority::kBackground)),
      readers_(std::make_shared<ReaderPool>()) {}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const SqliteOptions& options) {
    if (options.synchronous != "FULL" && options.synchronous != "NORMAL" &&
        options.synchronous != "OFF") {
        return Error::BadRequest("sqlite.synchronous must be FULL, NORMAL or OFF");
    }
    std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(options));
    TB_ASSIGN_OR_RETURN(db->writer_,
                        SqliteConnection::Open(options.path, SqliteConnection::Mode::kReadWrite));
    // temp_store=MEMORY on the writer: each transaction of a group commit runs in a savepoint,
    // whose sub-journal (the pages' content before it) outgrows SQLite's 64 KiB in-memory
    // threshold within a batch and then went to a temporary file, created, written and
    // deleted per batch. Measured on single-document POSTs: 133 -> 110 µs of CPU per request.
    // Readers keep file-backed temporaries, so a large unindexed sort does not grow memory.
    TB_RETURN_IF_ERROR(
        db->writer_->Script("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
                            "PRAGMA temp_store=MEMORY; PRAGMA synchronous=" +
                            options.synchronous + ";"));
    db->writer_->SetStatementBudget(options.statement_timeout);
    // Keep the WAL bounded (issue #29: under continuous reads it reached 111 MiB for 3 MB of
    // rows). SQLite's own auto-checkpoint is PASSIVE: it copies what no reader still needs,
    // but the WAL restarts from its beginning only once every frame is copied while no reader
    // holds one, which a read snapshot per event-loop pass rarely allows. This hook does the
    // PASSIVE copy every kWalCheckpointFrames, and past kWalTruncateFrames a TRUNCATE, which
    // waits (busy handler, at most 5 s) for the readers of the moment to finish their pass
    // (microseconds to milliseconds), then empties the file. journal_size_limit trims the file
    // after any reset.
    TB_RETURN_IF_ERROR(db->writer_->Script(
        "PRAGMA journal_size_limit=" + std::to_string(kWalSizeLimitBytes) + ";"));
    sqlite3_wal_hook(db->writer_->handle(), &SqliteDatabase::OnWalCommit, nullptr);
    db->writer_thread_ = std::thread([raw = db.get()] { raw->WriterLoop(); });
    return db;
}

SqliteDatabase::~SqliteDatabase() { Close(); }

int SqliteDatabase::OnWalCommit(void*, sqlite3* db, const char* name, int frames) {
    if (frames >= kWalTruncateFrames) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    } else if (frames >= kWalCheckpointFrames) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
}

const Dialect& SqliteDatabase::dialect() const { return SqliteDialect(); }

Result<std::unique_ptr<SqliteConnection>> SqliteDatabase::AcquireReader() {
    {
        std::lock_guard lock(readers_->mu);
        if (readers_->closed) return Error::Unavailable("Database unavailable", "sqlite: closed");
        if (!readers_->idle.empty()) {
            auto conn = std::move(readers_->idle.back());
            readers_->idle.pop_back();
            return conn;
        }
    }
    TB_ASSIGN_OR_RETURN(auto conn,
                        SqliteConnection::Open(options_.path, SqliteConnection::Mode::kReadOnly));
    // No mmap (SQLite's default, mmap_size=0). With it, a read transaction that finds the
    // database changed since its last one unmaps and maps the file again: two mmap_lock
    // writes on the I/O thread after every commit. A password hash holds that lock for reading
    // while it maps and pre-faults its 19 MiB (libsodium uses MAP_POPULATE), and hashing runs
    // under SCHED_IDLE, so the I/O thread waited on the lowest-priority thread of the process:
    // waits of 5-15 ms were traced (perf sched) during a login storm. Reads now go through
    // SQLite's page cache; get-by-id and list throughput did not move (docs/performance.md).
    TB_RETURN_IF_ERROR(conn->Script("PRAGMA foreign_keys=ON;"));
    ++readers_->open;
    return conn;
}

Result<SqliteDatabase::PassSnapshot*> SqliteDatabase::SnapshotForPass(
    const boost::asio::any_io_executor& executor) {
    if (auto current = pass_.lock(); current && current->pool == readers_ && current->conn) {
        return current.get();  // its end, which holds it, runs on this thread: not before we return
    }
    const auto* io = executor.target<boost::asio::io_context::executor_type>();
    if (io == nullptr || !io->running_in_this_thread()) return nullptr;
    TB_ASSIGN_OR_RETURN(auto conn, AcquireReader());
    static const Params kNone;
    if (auto begun = conn->Execute("BEGIN", kNone); !begun.ok()) {
        readers_->Discard(std::move(conn));
        return std::move(begun).error();
    }
    auto snapshot = std::make_shared<PassSnapshot>(readers_, std::move(conn));
    PassSnapshot* raw = snapshot.get();
    pass_ = snapshot;
    // Behind every handler queued so far: the requests already received share the snapshot,
    // and whatever is queued from now on (new requests, writes' completions) runs after it.
    boost::asio::post(*io, [snapshot = std::move(snapshot)]() mutable { snapshot.reset(); });
    return raw;
}

std::chrono::nanoseconds SqliteDatabase::InlineBudget() const {
    auto full = options_.statement_timeout;
    return full.count() == 0 ? kInlineReadBudget
                             : std::min<std::chrono::nanoseconds>(full, kInlineReadBudget);
}

Task<Result<Rows>> SqliteDatabase::Query(std::string_view sql, Params params) {
    const auto executor = co_await boost::asio::this_coro::executor;
    TB_CO_ASSIGN_OR_RETURN(PassSnapshot * pass, SnapshotForPass(executor));
    if (pass != nullptr) {
        pass->conn->SetStatementBudget(InlineBudget());
        auto rows = pass->conn->Query(sql, params);
        if (rows.ok()) co_return rows;
        pass->End();  // the pass's later reads start a fresh transaction
        bool more_time = options_.statement_timeout.count() == 0 ||
                         options_.statement_timeout > kInlineReadBudget;
        if (rows.error().code != ErrorCode::kQueryTimeout || !more_time) co_return rows;
        co_return co_await SlowRead(std::string(sql), std::move(params));
    }
    TB_CO_ASSIGN_OR_RETURN(auto conn, AcquireReader());
    ReaderLease lease(*readers_, std::move(conn));
    lease->SetStatementBudget(options_.statement_timeout);
    co_return lease->Query(sql, params);
}

Task<Result<Rows>> SqliteDatabase::SlowRead(std::string sql, Params params) {
    std::function<Result<Rows>()> job = [this, sql = std::move(sql),
                                         params = std::move(params)]() -> Result<Rows> {
        TB_ASSIGN_OR_RETURN(auto conn, AcquireReader());
        ReaderLease lease(*readers_, std::move(conn));
        lease->SetStatementBudget(options_.statement_timeout);
        return lease->Query(sql, params);
    };
    co_return co_await slow_reads_->Run<Rows>(std::move(job));
}

Task<Result<int64_t>> SqliteDatabase::Execute(std::string_view sql, Params params) {
    int64_t changed = 0;
    std::string text(sql);  // the caller's view may not outlive the hop to the writer
    TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(text, params);  // a copy: the transaction may run again
        if (!r.ok()) co_return std::move(r).error();
        changed = *r;
        co_return Status{};
    };
    Status s = co_await Transaction(fn);
    if (!s.ok()) co_return std::move(s).error();
    co_return changed;
}

Task<Status> SqliteDatabase::ExecuteScript(std::string_view sql) {
    std::string text(sql);
    TransactionFn fn = [&](Session& tx) -> Task<Status> {
        co_return co_await tx.ExecuteScript(text);
    };
    co_return co_await Transaction(fn);
}

Task<Status> SqliteDatabase::Transaction(const TransactionFn& fn) {
    // Named, not a temporary inside the co_await: GCC 12 destroys such temporaries twice.
    auto submit = [this, &fn](std::function<void(Status)> resume) {
        {
            std::lock_guard lock(queue_mu_);
            if (!stopping_) {
                queue_.push_back(Job{&fn, std::move(resume)});
                queue_depth_ = static_cast<int64_t>(queue_.size());
                queue_cv_.notify_one();
                return;
            }
        }
        resume(Error::Unavailable("Database unavailable", "sqlite: writer stopped"));
    };
    Status result = co_await AwaitCallback<Status>(std::move(submit));
    co_return result;
}

void SqliteDatabase::WriterLoop() {
    while (true) {
        std::vector<Job> batch;
        {
            std::unique_lock lock(queue_mu_);
            queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) break;  // stopping, and everything queued is done
            // Let the threads that submit transactions run first when they are ready to:
            // when they share a core with this one (a one-core deployment, the benchmark),
            // the batch then holds what they had in hand. Measured on single-document POSTs
            // at 32 connections: 16 -> 31 transactions per commit, 4-5% less CPU per request.
            // When nothing else is runnable this returns at once.
            if (queue_.size() < options_.max_batch) {
                lock.unlock();
                std::this_thread::yield();
                lock.lock();
            }
            while (!queue_.empty() && batch.size() < options_.max_batch) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
            queue_depth_ = static_cast<int64_t>(queue_.size());
        }
        RunBatch(batch);
    }
}

void SqliteDatabase::RunBatch(std::vector<Job>& batch) {
    // After a batch that had to be run again, the next ones go straight to savepoints.
    constexpr int kSavepointBatchesAfterFailure = 16;
    if (batch.size() == 1 || savepoint_batches_ == 0) {
        if (RunTransactions(batch, false)) return;
        savepoint_batches_ = kSavepointBatchesAfterFailure;
    } else {
        --savepoint_batches_;
    }
    (void)RunTransactions(batch, true);
}

Status SqliteDatabase::RunOne(Job& job) {
    // Every statement of the transaction runs to completion on this thread: it awaits only
    // the ConnectionSession, which never suspends.
    ConnectionSession session(*writer_);
    std::optional<Status> out;
    boost::asio::co_spawn(
        writer_ctx_, (*job.fn)(session), [&](const std::exception_ptr& e, Status s) {
            out = e ? Status(Error::Internal("exception in a transaction")) : std::move(s);
        });
    writer_ctx_.restart();
    writer_ctx_.run();
    // A transaction that awaited anything but its session breaks the contract in database.h;
    // it would hold the writer forever, so stop loudly.
    if (!out) std::abort();
    return std::move(*out);
}

bool SqliteDatabase::RunTransactions(std::vector<Job>& batch, bool savepoints) {
    static const Params kNone;
    auto begin = writer_->Execute("BEGIN IMMEDIATE", kNone);
    if (!begin.ok()) {
        for (Job& job : batch) job.done(begin.error());
        return true;
    }
    bool alone = batch.size() == 1;
    std::vector<Status> results;
    results.reserve(batch.size());
    for (Job& job : batch) {
        if (savepoints) (void)writer_->Execute("SAVEPOINT tb_tx", kNone);
        Status s = RunOne(job);
        if (savepoints) {
            if (!s.ok()) (void)writer_->Execute("ROLLBACK TO tb_tx", kNone);
            (void)writer_->Execute("RELEASE tb_tx", kNone);
        } else if (!s.ok()) {
            (void)writer_->Execute("ROLLBACK", kNone);
            if (!alone) {
                // Run again, with savepoints; a transaction stopped at its deadline is answered
                // now rather than run (and stopped) a second time.
                if (s.error().code == ErrorCode::kQueryTimeout) {
                    size_t i = static_cast<size_t>(&job - batch.data());
                    job.done(std::move(s));
                    batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(i));
                }
                return false;
            }
            job.done(std::move(s));
            return true;
        }
        results.push_back(std::move(s));
    }
    auto commit = writer_->Execute("COMMIT", kNone);
    if (!commit.ok()) {
        (void)writer_->Execute("ROLLBACK", kNone);
        for (Status& s : results) {
            if (s.ok()) s = commit.error();
        }
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
    return true;
}

Task<Status> SqliteDatabase::Ping() {
    TB_CO_ASSIGN_OR_RETURN(auto conn, AcquireReader());
    ReaderLease lease(*readers_, std::move(conn));
    co_return lease->Ping();
}

Task<Result<std::string>> SqliteDatabase::DurabilityWarning() {
    // In WAL mode, NORMAL syncs at checkpoints only: a power loss or an OS crash may roll back
    // the last committed transactions; OFF leaves it all to the OS.
    if (options_.synchronous == "FULL") co_return std::string();
    co_return "sqlite.synchronous=" + options_.synchronous +
        ": committed writes can be lost in a power failure or an operating system crash";
}

DatabaseStats SqliteDatabase::Stats() const {
    DatabaseStats s;
    std::lock_guard lock(readers_->mu);
    s.pool_connections = readers_->open.load() + 1;
    s.pool_idle = static_cast<int64_t>(readers_->idle.size());
    s.writer_queue = queue_depth_.load();
    return s;
}

Status CopySqliteDatabase(const std::string& from, const std::string& to) {
    TB_ASSIGN_OR_RETURN(auto src, SqliteConnection::Open(from, SqliteConnection::Mode::kReadOnly));
    TB_ASSIGN_OR_RETURN(auto dst, SqliteConnection::Open(to, SqliteConnection::Mode::kReadWrite));
    sqlite3_backup* b = sqlite3_backup_init(dst->handle(), "main", src->handle(), "main");
    if (!b) return Error::Internal(std::string("backup init: ") + sqlite3_errmsg(dst->handle()));
    int rc;
    // All pages in one step, that is one read transaction: in WAL mode it does not hold the
    // writer up, and it sees one snapshot. Copied in smaller steps, the copy starts over
    // whenever another connection writes, and under steady writes it never ends.
    while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED) {
        if (rc != SQLITE_OK) sqlite3_sleep(10);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return Error::Internal(std::string("backup: ") + sqlite3_errstr(rc));
    return {};
}

Status SqliteDatabase::Backup(const std::string& path) {
    return CopySqliteDatabase(options_.path, path);
}

void SqliteDatabase::Close() {
    if (closed_.exchange(true)) return;
    slow_reads_.reset();  // lets the running slow reads finish; they use the readers below
    {
        std::lock_guard lock(queue_mu_);
        stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
    std::vector<std::unique_ptr<SqliteConnection>> idle;
    {
        std::lock_guard lock(readers_->mu);
        readers_->closed = true;
        idle.swap(readers_->idle);
    }
    readers_->open -= static_cast<int64_t>(idle.size());
    idle.clear();
    writer_.reset();
}

}  // namespace tb::storage
