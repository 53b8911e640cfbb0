#include "auth/email_tokens.h"

#include "common/encoding.h"

namespace tb::auth::email_tokens {

using storage::AsText;
using storage::Bind;

Error InvalidToken() { return Error::BadRequest("Invalid or expired token"); }

Task<Result<std::string>> Create(storage::Session& tx, std::string_view kind,
                                 const std::string& user_id, int64_t now, int64_t ttl_ms) {
    // Lock the user's row first: two requests at once on PostgreSQL would otherwise each
    // retire the tokens they see and both leave a live one.
    auto locked =
        co_await tx.Execute("UPDATE users SET updated_at = updated_at WHERE id = ?", Bind(user_id));
    if (!locked.ok()) co_return std::move(locked).error();
    auto retired = co_await tx.Execute(
        "UPDATE email_tokens SET used_at = ? WHERE user_id = ? AND kind = ? AND used_at IS NULL",
        Bind(now, user_id, kind));
    if (!retired.ok()) co_return std::move(retired).error();
    std::string token = RandomToken(32);
    auto r = co_await tx.Execute(
        "INSERT INTO email_tokens (token_hash, kind, user_id, created_at, expires_at) VALUES "
        "(?, ?, ?, ?, ?)",
        Bind(Sha256Hex(token), kind, user_id, now, now + ttl_ms));
    if (!r.ok()) co_return std::move(r).error();
    co_return token;
}

Task<Result<std::optional<std::string>>> Peek(storage::Session& s, std::string_view kind,
                                              const std::string& token, int64_t now) {
    auto rows = co_await s.Query(
        "SELECT user_id FROM email_tokens WHERE token_hash = ? AND kind = ? AND used_at IS NULL "
        "AND expires_at > ?",
        Bind(Sha256Hex(token), kind, now));
    if (!rows.ok()) co_return std::move(rows).error();
    // One return of a named optional: GCC 12 warns (maybe-uninitialized, ASan builds) on a
    // co_return of an empty std::optional<std::string> temporary.
    std::optional<std::string> user;
    if (!rows->empty()) user = AsText(rows->rows[0][0]);
    co_return user;
}

Task<Result<std::string>> Consume(storage::Session& tx, std::string_view kind,
                                  const std::string& token, int64_t now) {
    auto rows = co_await tx.Query(
        "UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND kind = ? AND used_at IS "
        "NULL AND expires_at > ? RETURNING user_id",
        Bind(now, Sha256Hex(token), kind, now));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return InvalidToken();
    co_return AsText(rows->rows[0][0]);
}

}  // namespace tb::auth::email_tokens
