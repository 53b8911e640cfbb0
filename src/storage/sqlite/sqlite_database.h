#pragma once
// The SQLite backend. WAL mode; reads run inline on the calling thread over a pool of
// read-only connections (microseconds, no thread hop); every write transaction goes to one
// writer thread that commits many of them together (group commit): BEGIN, the batch's
// transactions one after another, then one COMMIT (one fsync) for the batch.
//
// A transaction that fails must leave no trace while the others in its batch commit. Running
// each inside a SAVEPOINT does that, but the savepoint's sub-journal copies every page the
// transaction touches (for a document insert, ~30 KB of copying: a fifth of the request).
// So a batch first runs without savepoints; if one of its transactions fails, the whole batch
// is rolled back and run again, each transaction in its own savepoint, and the next batches
// use savepoints too for a while (failures tend to come in runs). A batch of one needs no
// savepoint: its transaction's failure rolls back the transaction. Hence the contract in
// database.h: a transaction function may run more than once; only its last run counts.
//
// Reads on an I/O thread share one read transaction per pass of its event loop: the first
// read of a pass opens it (BEGIN) and posts its end (COMMIT) behind the handlers already
// queued, and the pass's other reads run in it. A read transaction of its own costs each
// statement two fcntl() calls (taking and dropping a WAL read mark) and SQLite's begin and end
// work: ~22% of a get-by-id's CPU (22 -> 17 us). It cannot hide a write from a later request: a
// request whose bytes arrived after the snapshot was taken is queued behind its end, and a write's
// completion reaches its coroutine through the queue too; see docs/architecture.md.
//
// Thread safety: every public method is safe from any thread. The writer connection is used
// only by the writer thread; a reader connection by one thread at a time (ReaderPool::mu).

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/worker_pool.h"
#include "storage/database.h"
#include "storage/migration.h"
#include "storage/sqlite/sqlite_connection.h"

namespace tb::storage {

struct SqliteOptions {
    std::string path;
    std::string synchronous = "FULL";  // FULL | NORMAL | OFF
    size_t max_batch = 512;            // transactions per group commit
    // Every statement's deadline (query.timeout_ms; 0: none). A read that runs inline on an
    // I/O thread gets kInlineReadBudget only: past it, it is stopped and run again on a
    // slow-read thread with the full deadline, so that one slow query never holds up the
    // other requests of its I/O thread (issue #29).
    std::chrono::milliseconds statement_timeout{2000};
};

// A consistent copy of the database file `from` into `to` (a new file), by SQLite's online
// backup API: safe while `from` is being written (backup) and for a copy that may have its
// write-ahead log beside it (restore).
Status CopySqliteDatabase(const std::string& from, const std::string& to);

class SqliteDatabase final : public Database {
  public:
    static Result<std::unique_ptr<SqliteDatabase>> Open(const SqliteOptions& options);
    ~SqliteDatabase() override;

    Task<Result<Rows>> Query(std::string_view sql, Params params) override;
    Task<Result<int64_t>> Execute(std::string_view sql, Params params) override;
    Task<Status> ExecuteScript(std::string_view sql) override;
    Task<Status> Transaction(const TransactionFn& fn) override;
    const Dialect& dialect() const override;
    Task<Status> Ping() override;
    Task<Result<std::string>> DurabilityWarning() override;
    DatabaseStats Stats() const override;
    Status Backup(const std::string& path) override;
    void Close() override;

  private:
    struct Job {
        const TransactionFn* fn;  // the caller awaits the result, so it outlives the job
        std::function<void(Status)> done;
    };
    struct ReaderPool;
    class ReaderLease;
    struct PassSnapshot;

    explicit SqliteDatabase(SqliteOptions options);
    Result<std::unique_ptr<SqliteConnection>> AcquireReader();
    // The read transaction of the current event-loop pass on this thread, opened if needed;
    // null when the caller does not run on an io_context of this thread (then a statement
    // runs in a transaction of its own).
    Result<PassSnapshot*> SnapshotForPass(const boost::asio::any_io_executor& executor);
    // A read stopped inline (past kInlineReadBudget), run again on a slow-read thread in a
    // transaction of its own, with the full statement_timeout.
    Task<Result<Rows>> SlowRead(std::string sql, Params params);
    std::chrono::nanoseconds InlineBudget() const;
    void WriterLoop();
    void RunBatch(std::vector<Job>& batch);
    // Runs the batch's transactions in one SQLite transaction, each in a savepoint or not.
    // Without savepoints it stops at the first failure, rolls back and returns false (nothing
    // delivered); otherwise it commits and delivers every result.
    bool RunTransactions(std::vector<Job>& batch, bool savepoints);
    Status RunOne(Job& job);

    // How long a read may hold an I/O thread before it moves to a slow-read thread: the
    // latency one slow query may add to the other requests of its thread.
    static constexpr std::chrono::milliseconds kInlineReadBudget{5};
    // The WAL's bounds (pages of 4 KiB): a PASSIVE checkpoint every 1,000 frames (SQLite's
    // default), a TRUNCATE past 4,096 (16 MiB), and the file trimmed to 64 MiB at most.
    static constexpr int kWalCheckpointFrames = 1000;
    static constexpr int kWalTruncateFrames = 4096;
    static constexpr int64_t kWalSizeLimitBytes = int64_t{64} * 1024 * 1024;
    // The writer's wal_hook: runs after each commit on the writer thread.
    static int OnWalCommit(void* self, sqlite3* db, const char* name, int frames);

    SqliteOptions options_;
    // Slow reads: two threads (this machine kind has two cores), a bounded queue (503 past it),
    // under SCHED_IDLE like password hashing (common/worker_pool.h): they take only the CPU the
    // I/O threads leave, so a slow query delays itself, not the requests of other tenants.
    std::unique_ptr<WorkerPool> slow_reads_;
    std::unique_ptr<SqliteConnection> writer_;  // writer thread only (after Open)
    int savepoint_batches_ = 0;  // batches still to run with savepoints (writer thread only)
    boost::asio::io_context writer_ctx_{1};  // runs each transaction's coroutine (writer thread)

    // Shared with the pending ends of pass snapshots, which may outlive this object (they are
    // destroyed with their io_context).
    std::shared_ptr<ReaderPool> readers_;
    static thread_local std::weak_ptr<PassSnapshot> pass_;

    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    std::deque<Job> queue_;  // guarded by queue_mu_
    bool stopping_ = false;  // guarded by queue_mu_
    std::atomic<int64_t> queue_depth_{0};
    std::thread writer_thread_;
    std::atomic<bool> closed_{false};
};

// The migrations shipped for SQLite (generated from migrations/*.sql).
std::span<const Migration> SqliteMigrations();

}  // namespace tb::storage
