#include "audit/denial_log.h"

#include <utility>

namespace tb::audit {

DenialLog::DenialLog(AuditLog& audit, const Clock& clock, Limits limits)
    : audit_(audit), clock_(clock), limits_(limits) {}

int64_t DenialLog::MinuteNow() const { return ToUnixMillis(clock_.Now()) / 60'000; }

bool DenialLog::Note(Event event, std::string_view actor_key) {
    total_.fetch_add(1, std::memory_order_relaxed);
    int64_t minute = MinuteNow();
    std::lock_guard lock(mu_);
    if (minute != minute_) {
        // A new minute: every allowance starts afresh. The count of what was left out is kept
        // for an actor refused in the minute just ended, so that its next recorded event
        // reports it; older ones are dropped, so the table only holds recent actors.
        std::erase_if(actors_, [minute](const auto& kv) {
            return kv.second.suppressed == 0 || kv.second.minute < minute - 1;
        });
        for (auto& [key, a] : actors_) a.used = 0;
        minute_ = minute;
    }
    // A full queue records nothing: no new actor is tracked for it either.
    if (pending_.size() >= limits_.max_pending) return false;
    std::string key(actor_key);
    auto it = actors_.find(key);
    if (it == actors_.end()) {
        if (actors_.size() >= limits_.max_actors) return false;
        it = actors_.emplace(std::move(key), Allowance{}).first;
    }
    Allowance& a = it->second;
    a.minute = minute;
    if (a.used >= limits_.per_actor_per_minute) {
        ++a.suppressed;
        return false;
    }
    ++a.used;
    if (a.suppressed > 0) {
        event.details["suppressed"] = a.suppressed;
        a.suppressed = 0;
    }
    pending_.push_back(std::move(event));
    return true;
}

std::vector<Event> DenialLog::TakePending() {
    std::lock_guard lock(mu_);
    return std::exchange(pending_, {});
}

Task<Status> DenialLog::Flush(storage::Database& db) {
    std::vector<Event> events = TakePending();
    if (events.empty()) co_return Status{};
    const storage::TransactionFn fn = [&](storage::Session& tx) -> Task<Status> {
        for (const Event& e : events) {
            if (e.tenant_id) {
                auto found = co_await tx.Query("SELECT 1 FROM tenants WHERE id = ?",
                                               storage::Bind(*e.tenant_id));
                if (!found.ok()) co_return std::move(found).error();
                if (found->empty()) continue;  // a guessed or deleted tenant: nothing to record
            }
            TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
        }
        co_return Status{};
    };
    // A failed write drops the batch: refusals are evidence, not state, and retrying an
    // unbounded backlog would let a flood outlive the database's trouble.
    co_return co_await db.Transaction(fn);
}

}  // namespace tb::audit
