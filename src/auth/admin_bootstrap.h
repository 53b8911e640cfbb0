#pragma once
// Platform admins outside the API (API.md §12): `tenantbase admin create` and the first start.

#include <optional>
#include <string>

#include "audit/audit_log.h"
#include "auth/password.h"
#include "auth/user_store.h"
#include "common/clock.h"
#include "common/ids.h"

namespace tb::auth {

struct AdminDeps {
    storage::Database& db;
    const PasswordHasher& hasher;
    IdGenerator& ids;
    const Clock& clock;
    audit::AuditLog* audit = nullptr;  // records admin.created when set
};

// Creates a platform admin. VALIDATION_ERROR for a bad email or a password under 8
// characters; CONFLICT when the email is taken.
Task<Status> CreateAdmin(AdminDeps deps, std::string email, std::string password);

// On a start with no platform admin: creates `email`/`password` when both are given, else
// admin@localhost with a random password, which is returned so the caller can print it once.
// Returns nullopt when nothing was generated (an admin existed, or the config named one).
Task<Result<std::optional<std::string>>> EnsurePlatformAdmin(AdminDeps deps, std::string email,
                                                             std::string password);

}  // namespace tb::auth
