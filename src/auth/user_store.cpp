#include "auth/user_store.h"

namespace tb::auth {

namespace {
constexpr std::string_view kColumns =
    "id, email, name, password_hash, email_verified, is_active, is_admin, created_at, "
    "updated_at, last_login_at";

User FromRow(const std::vector<storage::Value>& r) {
    User u;
    u.id = storage::AsText(r[0]);
    u.email = storage::AsText(r[1]);
    u.name = storage::AsText(r[2]);
    u.password_hash = storage::AsText(r[3]);
    u.email_verified = storage::AsInt(r[4]) != 0;
    u.is_active = storage::AsInt(r[5]) != 0;
    u.is_admin = storage::AsInt(r[6]) != 0;
    u.created_at = storage::AsInt(r[7]);
    u.updated_at = storage::AsInt(r[8]);
    if (!storage::IsNull(r[9])) u.last_login_at = storage::AsInt(r[9]);
    return u;
}
}  // namespace

Task<Result<std::optional<User>>> UserStore::FindByEmail(const std::string& email) {
    std::string sql = "SELECT " + std::string(kColumns) + " FROM users WHERE email = ?";
    TB_CO_ASSIGN_OR_RETURN(storage::Rows rows, co_await db_.Query(sql, storage::Bind(email)));
    if (rows.empty()) co_return std::optional<User>{};
    co_return std::optional<User>(FromRow(rows.rows[0]));
}

Task<Result<int64_t>> UserStore::CountAdmins() {
    TB_CO_ASSIGN_OR_RETURN(storage::Rows rows,
                           co_await db_.Query("SELECT COUNT(*) FROM users WHERE is_admin = 1", {}));
    co_return storage::AsInt(rows.rows.at(0).at(0));
}

Task<Status> UserStore::Insert(storage::Session& tx, const User& u) {
    storage::Params p = storage::Bind(
        u.id, u.email, u.name,
        u.password_hash.empty() ? storage::Value{} : storage::Value{u.password_hash},
        u.email_verified, u.is_active, u.is_admin, u.created_at, u.updated_at);
    auto r = co_await tx.Execute(
        "INSERT INTO users (id, email, name, password_hash, email_verified, is_active, is_admin, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        std::move(p));
    if (!r.ok()) {
        Error e = std::move(r).error();
        if (e.code == ErrorCode::kConflict) {
            co_return Error::Conflict("Email already registered", "email");
        }
        co_return e;
    }
    co_return Status{};
}

}  // namespace tb::auth
