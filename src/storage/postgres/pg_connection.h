#pragma once
// One PostgreSQL connection driven asynchronously: libpq in non-blocking mode, its socket
// watched by Asio, so waiting for the server never blocks an I/O thread.
//
// Thread safety: used by one coroutine at a time (the pool hands it out).

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/task.h"
#include "storage/database.h"
#include "storage/value.h"

namespace tb::storage {

class PgConnection {
  public:
    static Task<Result<std::unique_ptr<PgConnection>>> Connect(boost::asio::any_io_executor ex,
                                                               std::string conninfo);
    ~PgConnection();
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    // `?` placeholders, numbered for PostgreSQL here.
    Task<Result<Rows>> Query(std::string_view sql, const Params& params);
    Task<Result<int64_t>> Execute(std::string_view sql, const Params& params);
    // Session::QueryAll: every statement in one pipeline with one sync.
    Task<Result<std::vector<Rows>>> QueryAll(const std::vector<Statement>& statements);
    Task<Status> Script(std::string_view sql);
    // Opens a transaction with the next statement: BEGIN goes out with it in one pipeline (one
    // round trip fewer per transaction), or in front of it when it is a script. A COMMIT or
    // ROLLBACK script with no statement in between ends the empty transaction at once.
    void BeginWithNext() { begin_pending_ = true; }
    // True once the connection failed; the pool then drops it.
    bool broken() const;
    // The number the pool gave this connection (Session::Slot).
    uint32_t slot() const { return slot_; }
    void set_slot(uint32_t slot) { slot_ = slot; }

    // A notification of LISTEN/NOTIFY: the channel and the payload.
    struct Notification {
        std::string channel, payload;
    };
    // Waits until the server sends notifications (the connection LISTENs on some channel and
    // runs nothing else) and returns those that arrived; an error when the connection fails or
    // `Cancel` was called.
    Task<Result<std::vector<Notification>>> WaitNotifications();
    // Ends a pending WaitNotifications (from the connection's executor).
    void Cancel();

  private:
    PgConnection(boost::asio::any_io_executor ex, PGconn* conn);
    Task<Status> Flush();
    // Reads every result of the statement sent; the caller owns (PQclear) them.
    Task<Result<std::vector<PGresult*>>> ReadResults();
    // The results of `queries` statements sent in a pipeline with one sync, one group per
    // statement (the caller owns them); the connection leaves pipeline mode.
    Task<Result<std::vector<std::vector<PGresult*>>>> ReadPipeline(size_t queries);
    // A statement ready to send: its text with numbered placeholders, its parameters in
    // libpq's form, and the prepared statement's name (empty: sent unnamed).
    struct Encoded {
        std::string_view sql;  // as written, with `?` placeholders
        std::string text;      // numbered ($1, $2, ...), made only when sent unprepared
        // The text of numbers (values point into it); a text or binary parameter is not
        // copied: values point into the Params, which outlive the send.
        std::vector<std::string> storage;
        std::vector<const char*> values;
        std::vector<Oid> types;
        std::vector<int> lengths, formats;  // empty unless a parameter is binary
        std::string name;
    };
    // `params` must stay unchanged until SendEncoded has returned.
    static Encoded Encode(std::string_view sql, const Params& params);
    bool SendEncoded(const Encoded& e);
    // Enters pipeline mode, with the BEGIN of BeginWithNext first when one is pending.
    bool StartPipeline(bool begin);
    Task<Result<std::vector<PGresult*>>> Send(std::string_view sql, const Params& params);
    Status ResetDescriptor();
    Error ConnectionError(std::string_view what);

    // The name of the prepared statement for (sql, parameter types), preparing it on first
    // use; empty when the cache is full (the caller sends the statement unnamed).
    // The name of `sql` (with `?` placeholders) prepared on this connection, preparing it on
    // first use; empty when the connection holds as many as it keeps (then it is sent
    // unprepared, its text numbered by Unprepared).
    Task<Result<std::string>> Prepared(std::string_view sql, const std::vector<Oid>& types);
    static void Unprepared(Encoded& e);

    boost::asio::any_io_executor ex_;
    PGconn* conn_;
    // Statements prepared on this connection, by SQL text and parameter types: planning a
    // document query (long CASE expressions matched against expression indexes) costs about
    // a millisecond, more than running it. Bounded; never deallocated while the connection
    // lives. Needs a direct connection or session pooling (not transaction pooling).
    // Each is prepared again once older than kReplanAfter (Prepared).
    struct PreparedStatement {
        std::string name;
        std::chrono::steady_clock::time_point at;
    };
    static constexpr std::chrono::seconds kReplanAfter{60};
    std::unordered_map<std::string, PreparedStatement> prepared_;
    uint64_t prepared_count_ = 0;  // names tb_1, tb_2, … are never reused
    boost::asio::posix::stream_descriptor socket_;
    bool failed_ = false;
    bool begin_pending_ = false;  // BeginWithNext
    uint32_t slot_ = 0;
};

// Rewrites `?` placeholders to $1, $2, … (outside quoted strings and identifiers).
std::string NumberPlaceholders(std::string_view sql);

}  // namespace tb::storage
