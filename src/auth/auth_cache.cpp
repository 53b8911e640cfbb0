#include "auth/auth_cache.h"

namespace tb::auth {

std::optional<AuthCache::Token> AuthCache::FindToken(std::string_view token, int64_t now_ms) {
    std::lock_guard lock(mu_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    if (it->second.exp_ms <= now_ms) {
        tokens_.erase(it);
        return std::nullopt;
    }
    return it->second;
}

void AuthCache::PutToken(const std::string& token, Token entry) {
    std::lock_guard lock(mu_);
    if (tokens_.size() >= max_) tokens_.clear();
    tokens_[token] = std::move(entry);
}

std::optional<AuthCache::SessionState> AuthCache::FindSession(const std::string& sid,
                                                              int64_t now_ms) {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(sid);
    if (it == sessions_.end()) return std::nullopt;
    if (now_ms - it->second.fetched_ms >= ttl_.ms()) {
        sessions_.erase(it);
        return std::nullopt;
    }
    return it->second;
}

void AuthCache::PutSession(const std::string& sid, SessionState state) {
    std::lock_guard lock(mu_);
    if (sessions_.size() >= max_) sessions_.clear();
    sessions_[sid] = std::move(state);
}

void AuthCache::InvalidateUser(const std::string& user_id) {
    std::lock_guard lock(mu_);
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user->id == user_id; });
}

void AuthCache::InvalidateSession(const std::string& sid) {
    std::lock_guard lock(mu_);
    sessions_.erase(sid);
}

void AuthCache::ClearSessions() {
    std::lock_guard lock(mu_);
    sessions_.clear();
}

}  // namespace tb::auth
