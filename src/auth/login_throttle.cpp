#include "auth/login_throttle.h"

namespace tb::auth {

namespace {
constexpr size_t kMaxKeys = 100'000;  // bound memory under a spray of distinct keys
}

void LoginThrottle::Prune(std::deque<Timestamp>& events, Timestamp now) const {
    while (!events.empty() && events.front() + window_ <= now) events.pop_front();
}

std::optional<int> LoginThrottle::BlockedFor(const std::string& key) {
    std::lock_guard lock(mu_);
    return BlockedForLocked(key, clock_.Now());
}

void LoginThrottle::RecordFailure(const std::string& key) {
    std::lock_guard lock(mu_);
    RecordLocked(key, clock_.Now());
}

std::optional<int> LoginThrottle::Take(const std::string& key) {
    std::lock_guard lock(mu_);
    Timestamp now = clock_.Now();
    if (auto wait = BlockedForLocked(key, now)) return wait;
    RecordLocked(key, now);
    return std::nullopt;
}

std::optional<int> LoginThrottle::BlockedForLocked(const std::string& key, Timestamp now) {
    auto it = failures_.find(key);
    if (it == failures_.end()) return std::nullopt;
    Prune(it->second, now);
    if (static_cast<int>(it->second.size()) < limit_) return std::nullopt;
    auto wait =
        std::chrono::duration_cast<std::chrono::seconds>(it->second.front() + window_ - now);
    return std::max<int>(1, static_cast<int>(wait.count()) + 1);
}

void LoginThrottle::RecordLocked(const std::string& key, Timestamp now) {
    if (failures_.size() >= kMaxKeys && !failures_.count(key)) {
        // Drop keys whose windows have passed; if none, the oldest arbitrary one.
        for (auto it = failures_.begin(); it != failures_.end();) {
            Prune(it->second, now);
            it = it->second.empty() ? failures_.erase(it) : std::next(it);
        }
        if (failures_.size() >= kMaxKeys) failures_.erase(failures_.begin());
    }
    auto& events = failures_[key];
    Prune(events, now);
    events.push_back(now);
    while (static_cast<int>(events.size()) > limit_) events.pop_front();
}

void LoginThrottle::Clear(const std::string& key) {
    std::lock_guard lock(mu_);
    failures_.erase(key);
}

}  // namespace tb::auth
