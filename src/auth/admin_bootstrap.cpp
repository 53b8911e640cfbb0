#include "auth/admin_bootstrap.h"

#include "common/email.h"
#include "common/encoding.h"

namespace tb::auth {

Task<Status> CreateAdmin(AdminDeps deps, std::string raw_email, std::string password) {
    TB_CO_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
    if (password.size() < 8) {
        co_return Error::Validation("password", "Password must be at least 8 characters");
    }
    User user;
    user.id = deps.ids.Next();
    user.email = email;
    user.name = "Administrator";
    TB_CO_ASSIGN_OR_RETURN(user.password_hash, deps.hasher.Hash(password));
    user.is_admin = true;
    user.email_verified = true;
    user.created_at = user.updated_at = ToUnixMillis(deps.clock.Now());
    const storage::TransactionFn insert = [&](storage::Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await UserStore::Insert(tx, user));
        if (!deps.audit) co_return Status{};
        audit::Event e;
        e.action = "admin.created";
        e.target = user.id;
        e.details["email"] = user.email;
        co_return co_await deps.audit->Record(tx, e);
    };
    co_return co_await deps.db.Transaction(insert);
}

Task<Result<std::optional<std::string>>> EnsurePlatformAdmin(AdminDeps deps, std::string email,
                                                             std::string password) {
    UserStore users(deps.db);
    TB_CO_ASSIGN_OR_RETURN(int64_t admins, co_await users.CountAdmins());
    if (admins > 0) co_return std::optional<std::string>{};
    if (!email.empty() && !password.empty()) {
        TB_CO_RETURN_IF_ERROR(co_await CreateAdmin(deps, email, password));
        co_return std::optional<std::string>{};
    }
    std::string generated = RandomToken(18);
    TB_CO_RETURN_IF_ERROR(co_await CreateAdmin(deps, "admin@localhost", generated));
    co_return std::optional<std::string>(generated);
}

}  // namespace tb::auth
