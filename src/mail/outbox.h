#pragma once
// The durable mail outbox (API.md §7, ARCHITECTURE.md "Work queues"). A mail is a row written
// in the same transaction as whatever caused it (an invitation, a reset token), so it is sent
// if and only if that commits; a restart loses none. A delivery loop claims due rows with a
// lease, hands them to the transport on a worker pool, and records sent / retry with
// exponential backoff / failed after the last attempt.
//
// Invariants:
//  1. A row is delivered by one claimer at a time: the claim sets claimed_until under
//     SKIP LOCKED (PostgreSQL) or the single writer (SQLite), and re-checks it in the UPDATE.
//  2. Delivery is at-least-once: a node that dies mid-send leaves the lease to expire and the
//     mail is sent again (SMTP offers no better without a server-side de-duplication).
//  3. A delivered or failed row keeps no message text (it may hold a sign-in token).
//
// Thread safety: Enqueue, Find and Wake may be called from any thread; Run is one coroutine.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/task.h"
#include "common/worker_pool.h"
#include "mail/message.h"
#include "mail/transport.h"
#include "storage/database.h"

namespace tb::mail {

struct OutboxSettings {
    Sender from;
    int max_attempts = 8;
    double retry_base_seconds = 30;  // attempt n waits base * 2^(n-1), at most an hour
    double poll_seconds = 1;         // how soon another node's or a retried mail is seen
    int64_t lease_ms = 120'000;      // longer than the SMTP timeout
};

// What GET /v1/mail/{id} shows.
struct Entry {
    std::string id, kind, to, subject, status;
    int64_t attempts = 0;
    std::optional<std::string> last_error;
    int64_t created_at = 0, updated_at = 0;
    std::optional<int64_t> sent_at;
};

class Outbox {
  public:
    Outbox(storage::Database& db, IdGenerator& ids, const Clock& clock, OutboxSettings settings);
    ~Outbox();

    // Queues a checked mail inside the caller's transaction; tenant_id empty for account mail.
    // Call Wake() after the commit.
    Task<Result<Entry>> Enqueue(storage::Session& tx, const std::string& tenant_id,
                                std::string kind, const Mail& mail);
    // Queues a mail on its own (the mail API) and wakes the loop.
    Task<Result<Entry>> Send(const std::string& tenant_id, std::string kind, const Mail& mail);
    // A tenant's mail by id; nullopt when it is not that tenant's.
    Task<Result<std::optional<Entry>>> Find(const std::string& tenant_id, const std::string& id);
    const Sender& from() const { return settings_.from; }

    // The delivery loop, on the executor it is spawned on; returns after Stop().
    Task<void> Run(const Transport& transport, WorkerPool& workers);
    // Delivers what is due now; returns how many rows it settled.
    Task<Result<int>> DeliverDue(const Transport& transport, WorkerPool& workers);
    // Deliver soon: ends the loop's wait (any thread).
    void Wake();
    void Stop();
    // True from Run's start until it returns: shutdown waits for it (within its bound) so that
    // no query of the loop is left suspended when the I/O contexts stop.
    bool running() const { return running_; }

  private:
    struct Claimed {
        std::string id, to, message;
        int64_t attempts = 0;
    };
    Task<Result<std::vector<Claimed>>> Claim();
    Task<Status> Settle(const Claimed& mail, const Delivery& outcome);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }

    storage::Database& db_;
    IdGenerator& ids_;
    const Clock& clock_;
    OutboxSettings settings_;
    std::atomic<bool> wake_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> running_{false};
    struct Waiter;                    // the loop's timer and executor (Asio, in the .cpp)
    std::shared_ptr<Waiter> waiter_;  // set while Run runs
    std::mutex waiter_mu_;            // guards waiter_
};

}  // namespace tb::mail
