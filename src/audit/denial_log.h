#pragma once
// Refusals as audit events (issue #29): every 403, and every 404 that hides another tenant,
// becomes an `access.denied` event in the audit log of the tenant it was aimed at (or an
// instance-level one outside any tenant), so that an admin sees who probed what.
//
// An attacker must not be able to flood the log: each actor (a user, a key, or an anonymous
// client IP) has at most `per_actor_per_minute` events recorded in a fixed minute; the rest
// are only counted, and the next event recorded for that actor says how many were left out
// (`details.suppressed`). Events are queued in memory (at most `max_pending`) and written in
// one transaction by Flush, off the request path; an event naming a tenant that does not exist
// is dropped there, so a guessed id leaves nothing behind.
//
// Thread safety: Note may run on every I/O thread at once (one mutex); Flush runs on one
// coroutine at a time.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "storage/database.h"

namespace tb::audit {

class DenialLog {
  public:
    struct Limits {
        int64_t per_actor_per_minute = 10;
        size_t max_pending = 10'000;
        size_t max_actors = 100'000;  // actors tracked in one minute; past it, new ones suppressed
    };

    DenialLog(AuditLog& audit, const Clock& clock, Limits limits);

    // Queues one refusal, `actor_key` naming whose allowance it spends. False when it is
    // suppressed (the allowance or the queue is full): it is counted, not recorded.
    bool Note(Event event, std::string_view actor_key);

    // Writes the queued events (each in its tenant's log, if that tenant exists).
    Task<Status> Flush(storage::Database& db);
    // Hands over the queued events (Flush's first step).
    std::vector<Event> TakePending();

    // Refusals seen since start, recorded or not (for /metrics).
    int64_t total() const { return total_.load(std::memory_order_relaxed); }

  private:
    struct Allowance {
        int64_t used = 0, suppressed = 0;
        int64_t minute = 0;  // the last minute the actor was refused in
    };
    int64_t MinuteNow() const;

    AuditLog& audit_;
    const Clock& clock_;
    Limits limits_;
    std::atomic<int64_t> total_{0};
    std::mutex mu_;
    int64_t minute_ = 0;                                 // guarded by mu_
    std::unordered_map<std::string, Allowance> actors_;  // guarded by mu_
    std::vector<Event> pending_;                         // guarded by mu_
};

}  // namespace tb::audit
