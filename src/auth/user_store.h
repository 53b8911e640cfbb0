#pragma once
// Accounts in the `users` table (global: users join tenants through memberships).

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

class UserStore {
public:
    explicit UserStore(storage::Database& db) : db_(db) {}

    // The user with this (normalised) email; nullopt when there is none.
    Task<Result<std::optional<User>>> FindByEmail(const std::string& email);
    Task<Result<int64_t>> CountAdmins();
    // Inserts in the given transaction; CONFLICT when the email is taken.
    static Task<Status> Insert(storage::Session& tx, const User& user);

private:
    storage::Database& db_;
};

}  // namespace tb::auth
