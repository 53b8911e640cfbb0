#include "auth/session_store.h"

namespace tb::auth::session_store {

using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::Value;

namespace {
std::optional<std::string> OptText(const Value& v) {
    return IsNull(v) ? std::nullopt : std::optional<std::string>(AsText(v));
}
std::optional<int64_t> OptInt(const Value& v) {
    return IsNull(v) ? std::nullopt : std::optional<int64_t>(AsInt(v));
}
Value OrNull(const std::optional<std::string>& s) { return s ? Value(*s) : Value(); }

RefreshRow ToRefresh(const std::vector<Value>& r) {
    return RefreshRow{AsText(r[0]), AsText(r[1]), OptText(r[2]),
                      AsInt(r[3]),  AsInt(r[4]),  OptInt(r[5])};
}
constexpr const char* kRefreshColumns =
    "token_hash, session_id, parent_hash, created_at, expires_at, used_at";
}  // namespace

Task<Status> InsertSession(storage::Session& tx, const SessionRow& s, int64_t now,
                           const std::string& ip, const std::string& user_agent) {
    auto r = co_await tx.Execute(
        "INSERT INTO sessions (id, user_id, tenant_id, created_at, expires_at, ip, user_agent) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        Bind(s.id, s.user_id, OrNull(s.tenant_id), now, s.expires_at, ip, user_agent));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> SetTenant(storage::Session& tx, const std::string& id, const std::string& tenant_id) {
    auto r =
        co_await tx.Execute("UPDATE sessions SET tenant_id = ? WHERE id = ?", Bind(tenant_id, id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Result<std::optional<SessionRow>>> FindSession(storage::Session& tx, const std::string& id) {
    auto rows = co_await tx.Query(
        "SELECT id, user_id, tenant_id, expires_at, revoked_at FROM sessions WHERE id = ?",
        Bind(id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<SessionRow>{};
    const auto& r = rows->rows[0];
    co_return std::optional<SessionRow>(
        SessionRow{AsText(r[0]), AsText(r[1]), OptText(r[2]), AsInt(r[3]), OptInt(r[4])});
}

Task<Status> InsertRefresh(storage::Session& tx, const RefreshRow& t) {
    auto r = co_await tx.Execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, parent_hash, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        Bind(t.token_hash, t.session_id, OrNull(t.parent_hash), t.created_at, t.expires_at));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Result<std::optional<RefreshRow>>> FindRefresh(storage::Session& tx, const std::string& hash) {
    std::string sql =
        std::string("SELECT ") + kRefreshColumns + " FROM refresh_tokens WHERE token_hash = ?";
    auto rows = co_await tx.Query(sql, Bind(hash));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<RefreshRow>{};
    co_return std::optional<RefreshRow>(ToRefresh(rows->rows[0]));
}

Task<Result<bool>> MarkUsed(storage::Session& tx, const std::string& hash, int64_t now) {
    auto r = co_await tx.Execute(
        "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
        Bind(now, hash));
    if (!r.ok()) co_return std::move(r).error();
    co_return *r == 1;
}

Task<Status> RevokeSession(storage::Session& tx, const std::string& id, int64_t now) {
    auto r = co_await tx.Execute(
        "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", Bind(now, id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> RevokeUserSessions(storage::Session& tx, const std::string& user_id,
                                const std::string& keep, int64_t now) {
    auto r = co_await tx.Execute(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
        Bind(now, user_id, keep));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

}  // namespace tb::auth::session_store
