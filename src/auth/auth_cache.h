#pragma once
// Caches of the per-request authentication work (ARCHITECTURE.md "Request flow" step 2):
//  - verified access tokens: token text -> its claims, until the token's own expiry, so a
//    signature is checked once per token rather than once per request;
//  - sessions: session id -> the user and whether the session is live, for at most `ttl`.
// Every change on this node that can end a session or change a user invalidates at once
// (logout, password change, refresh reuse, profile update); another node's arrive through the
// change feed, and `ttl` (common/cache_lifetime.h) bounds what the feed may miss.
//
// Thread safety: every method locks mu_. Both maps are bounded: when one is full it is
// cleared (entries are cheap to rebuild).

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "auth/user_store.h"
#include "common/cache_lifetime.h"
#include "common/strings.h"

namespace tb::auth {

class AuthCache {
  public:
    struct Token {
        std::string sub, sid;
        std::optional<std::string> tid;
        int64_t exp_ms = 0;
    };
    struct SessionState {
        UserRef user = NoUser();
        bool live = false;  // exists, not revoked, not expired, belongs to user
        int64_t fetched_ms = 0;
    };

    explicit AuthCache(CacheLifetime session_ttl, size_t max_entries = 100'000)
        : ttl_(std::move(session_ttl)), max_(max_entries) {}

    std::optional<Token> FindToken(std::string_view token, int64_t now_ms);
    void PutToken(const std::string& token, Token entry);
    std::optional<SessionState> FindSession(const std::string& sid, int64_t now_ms);
    void PutSession(const std::string& sid, SessionState state);
    // Drops every cached session of the user.
    void InvalidateUser(const std::string& user_id);
    // Drops one session (revoked on another node).
    void InvalidateSession(const std::string& sid);
    // Drops every cached session (the token cache holds only signatures checked, kept).
    void ClearSessions();

  private:
    CacheLifetime ttl_;
    size_t max_;
    std::mutex mu_;
    // Looked up by string_view: tokens are ~600 bytes, not copied per request.
    TextMap<Token> tokens_;                                   // guarded by mu_
    std::unordered_map<std::string, SessionState> sessions_;  // guarded by mu_
};

}  // namespace tb::auth
