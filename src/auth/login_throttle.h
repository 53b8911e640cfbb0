#pragma once
// Counts failures per key (an email, a client IP) in a sliding window and says when a key is
// blocked and for how long (API.md §2.2: 10 failures in 15 minutes by default). Also used as a
// plain budget (registrations per IP per hour). In memory on this node; the shared counters of
// the rate-limit issue replace it when several nodes share PostgreSQL.
//
// Thread safety: all methods lock mu_.

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace tb::auth {

class LoginThrottle {
  public:
    LoginThrottle(const Clock& clock, int limit, std::chrono::seconds window)
        : clock_(clock), limit_(limit), window_(window) {}

    // Seconds until the key may try again, or nullopt when it is not blocked.
    std::optional<int> BlockedFor(const std::string& key);
    void RecordFailure(const std::string& key);
    // A budget's check and spend in one step: nullopt and one event recorded, or the seconds to
    // wait and nothing recorded. Two threads calling BlockedFor then RecordFailure could both
    // pass at the last free slot.
    std::optional<int> Take(const std::string& key);
    void Clear(const std::string& key);

  private:
    void Prune(std::deque<Timestamp>& events, Timestamp now) const;
    std::optional<int> BlockedForLocked(const std::string& key, Timestamp now);
    void RecordLocked(const std::string& key, Timestamp now);

    const Clock& clock_;
    int limit_;
    std::chrono::seconds window_;
    std::mutex mu_;
    std::unordered_map<std::string, std::deque<Timestamp>> failures_;  // guarded by mu_
};

}  // namespace tb::auth
