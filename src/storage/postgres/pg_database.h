#pragma once
// The PostgreSQL backend: a bounded pool of asynchronous connections (pg_connection.h).
// A caller that finds the pool exhausted waits for a connection to come back instead of
// opening more than pool_size.
//
// Thread safety: every public method is safe from any thread; the pool is guarded by mu_.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include "storage/database.h"
#include "storage/migration.h"

#include "storage/postgres/pg_connection.h"

namespace tb::storage {

struct PostgresOptions {
    std::string url;  // postgres://user:pass@host:port/db
    size_t pool_size = 16;
    // Every statement's deadline (query.timeout_ms; 0: none): the session's statement_timeout,
    // set on each new connection. Scripts (migrations, index builds) run without it.
    std::chrono::milliseconds statement_timeout{2000};
    // The longest a caller waits for a connection when all pool_size are busy
    // (postgres.acquire_timeout_ms): then UNAVAILABLE with Retry-After 1, rather than a queue
    // that grows without bound.
    std::chrono::milliseconds acquire_timeout{2000};
    // This node's id, set on every connection as `tb.node`: the change feed's triggers put it
    // in each notification, so that a node skips its own changes (pg_listener.h). Letters,
    // digits and '-' only; empty: not set.
    std::string node_id;
};

class PgDatabase final : public Database {
  public:
    PgDatabase(boost::asio::any_io_executor ex, PostgresOptions options);
    ~PgDatabase() override;

    Task<Result<Rows>> Query(std::string_view sql, Params params) override;
    Task<Result<int64_t>> Execute(std::string_view sql, Params params) override;
    Task<Result<std::vector<Rows>>> QueryAll(std::vector<Statement> statements) override;
    Task<Status> ExecuteScript(std::string_view sql) override;
    Task<Status> Transaction(const TransactionFn& fn) override;
    const Dialect& dialect() const override;
    Task<Status> Ping() override;
    Task<Result<std::string>> DurabilityWarning() override;
    DatabaseStats Stats() const override;
    Task<Status> RefreshStatistics() override;
    Status Backup(const std::string& path) override;
    void Close() override;

  private:
    // `SET statement_timeout = <query.timeout_ms>`: every connection's own deadline.
    std::string TimeoutStatement() const;
    using Conn = std::unique_ptr<PgConnection>;
    class Lease;
    Task<Result<Conn>> Acquire();
    void Release(Conn conn);

    boost::asio::any_io_executor ex_;
    PostgresOptions options_;
    mutable std::mutex mu_;
    std::vector<Conn> idle_;  // guarded by mu_
    size_t total_ = 0;        // guarded by mu_: idle + leased + connecting
    // Callers waiting for a connection, oldest first; each gives up after acquire_timeout.
    struct Waiter {
        uint64_t id = 0;
        std::function<void(Conn)> resume;
        std::shared_ptr<boost::asio::steady_timer> timer;  // its acquire timeout
    };
    std::deque<Waiter> waiters_;    // guarded by mu_
    uint64_t next_waiter_ = 0;      // guarded by mu_
    int64_t acquire_timeouts_ = 0;  // guarded by mu_
    // Held weakly by the acquire timers' handlers and by leases: none touches a destroyed pool.
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    bool closed_ = false;  // guarded by mu_
    // The next connection's Session::Slot. Starts at a random number, so that the
    // connections of two nodes rarely share slots (and so counter rows).
    uint32_t next_slot_;  // guarded by mu_
};

std::span<const Migration> PostgresMigrations();

}  // namespace tb::storage
