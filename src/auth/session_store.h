#pragma once
// Sessions and refresh tokens (tables `sessions`, `refresh_tokens`). Refresh tokens are stored
// only as SHA-256 hashes. Every function runs in the caller's transaction.

#include <optional>
#include <string>

#include "auth/user_store.h"
#include "storage/database.h"

namespace tb::auth {

struct SessionRow {
    std::string id;
    std::string user_id;
    std::optional<std::string> tenant_id;
    int64_t expires_at = 0;
    std::optional<int64_t> revoked_at;
};

struct RefreshRow {
    std::string token_hash;
    std::string session_id;
    std::optional<std::string> parent_hash;
    int64_t created_at = 0;
    int64_t expires_at = 0;
    std::optional<int64_t> used_at;
};

namespace session_store {

Task<Status> InsertSession(storage::Session& tx, const SessionRow& s, int64_t now,
                           const std::string& ip, const std::string& user_agent);
Task<Result<std::optional<SessionRow>>> FindSession(storage::Session& tx, const std::string& id);
Task<Status> InsertRefresh(storage::Session& tx, const RefreshRow& r);
Task<Result<std::optional<RefreshRow>>> FindRefresh(storage::Session& tx, const std::string& hash);
// Marks a token used; false when it was already used (a concurrent refresh won).
Task<Result<bool>> MarkUsed(storage::Session& tx, const std::string& hash, int64_t now);
// Moves a session (and the tokens refreshed from it) to another tenant.
Task<Status> SetTenant(storage::Session& tx, const std::string& id, const std::string& tenant_id);
Task<Status> RevokeSession(storage::Session& tx, const std::string& id, int64_t now);
// Revokes every live session of a user, except `keep` when it is not empty.
Task<Status> RevokeUserSessions(storage::Session& tx, const std::string& user_id,
                                const std::string& keep, int64_t now);

}  // namespace session_store
}  // namespace tb::auth
