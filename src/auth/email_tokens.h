#pragma once
// One-time tokens sent by mail (password reset, email verification): 256 random bits, stored
// as a SHA-256 hash, usable once before they expire. A new token of a kind retires the user's
// older ones, so only the latest mail works.

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/task.h"
#include "storage/database.h"

namespace tb::auth::email_tokens {

inline constexpr std::string_view kPasswordReset = "password_reset";
inline constexpr std::string_view kVerifyEmail = "verify_email";

// The raw token, to be mailed; only its hash is stored.
Task<Result<std::string>> Create(storage::Session& tx, std::string_view kind,
                                 const std::string& user_id, int64_t now, int64_t ttl_ms);
// The user a live token belongs to, without using it; nullopt when it is unknown, used,
// expired or of another kind.
Task<Result<std::optional<std::string>>> Peek(storage::Session& s, std::string_view kind,
                                              const std::string& token, int64_t now);
// Uses the token (one statement: two concurrent uses cannot both succeed) and returns its
// user; BAD_REQUEST "Invalid or expired token" otherwise (API.md §13).
Task<Result<std::string>> Consume(storage::Session& tx, std::string_view kind,
                                  const std::string& token, int64_t now);

Error InvalidToken();

}  // namespace tb::auth::email_tokens
