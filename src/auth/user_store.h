#pragma once
// Accounts in the `users` table (global: users join tenants through memberships).

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/task.h"
#include "storage/database.h"

namespace tb::auth {

struct User {
    std::string id;
    std::string email;
    std::string name;
    std::string password_hash;
    bool email_verified = false;
    bool is_active = true;
    bool is_admin = false;
    int64_t created_at = 0;
    int64_t updated_at = 0;
    std::optional<int64_t> last_login_at;
};

// A user as the request path holds it: shared and immutable, so that the caches hand the same
// object to every request instead of copying its strings (and the coroutine frames that carry
// a caller stay small). Never null: a visitor without an account holds NoUser().
using UserRef = std::shared_ptr<const User>;
const UserRef& NoUser();

class UserStore {
  public:
    explicit UserStore(storage::Database& db) : db_(db) {}

    // The user with this (normalised) email; nullopt when there is none.
    Task<Result<std::optional<User>>> FindByEmail(const std::string& email);
    Task<Result<int64_t>> CountAdmins();
    // Inserts in the given transaction; CONFLICT when the email is taken.
    static Task<Status> Insert(storage::Session& tx, const User& user);
    // The user with this id, in any session; nullopt when there is none.
    static Task<Result<std::optional<User>>> FindById(storage::Session& s, const std::string& id);
    // Updates the given columns (name, password_hash, last_login_at) and updated_at.
    static Task<Status> SetName(storage::Session& tx, const std::string& id,
                                const std::string& name, int64_t now);
    static Task<Status> SetPasswordHash(storage::Session& tx, const std::string& id,
                                        const std::string& hash, int64_t now);
    static Task<Status> SetEmailVerified(storage::Session& tx, const std::string& id, int64_t now);
    static Task<Status> SetLastLogin(storage::Session& tx, const std::string& id, int64_t now);

  private:
    storage::Database& db_;
};

}  // namespace tb::auth
