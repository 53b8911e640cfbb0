#include "auth/user_store.h"

namespace tb::auth {

const UserRef& NoUser() {
    static const UserRef kNone = std::make_shared<const User>();
    return kNone;
}

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
    storage::Params p =
        storage::Bind(u.id, u.email, u.name,
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

namespace tb::auth {

Task<Result<std::optional<User>>> UserStore::FindById(storage::Session& s, const std::string& id) {
    std::string sql = "SELECT " + std::string(kColumns) + " FROM users WHERE id = ?";
    auto rows = co_await s.Query(sql, storage::Bind(id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<User>{};
    co_return std::optional<User>(FromRow(rows->rows[0]));
}

Task<Status> UserStore::SetName(storage::Session& tx, const std::string& id,
                                const std::string& name, int64_t now) {
    auto r = co_await tx.Execute("UPDATE users SET name = ?, updated_at = ? WHERE id = ?",
                                 storage::Bind(name, now, id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> UserStore::SetEmailVerified(storage::Session& tx, const std::string& id, int64_t now) {
    auto r = co_await tx.Execute("UPDATE users SET email_verified = 1, updated_at = ? WHERE id = ?",
                                 storage::Bind(now, id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> UserStore::SetPasswordHash(storage::Session& tx, const std::string& id,
                                        const std::string& hash, int64_t now) {
    auto r = co_await tx.Execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
                                 storage::Bind(hash, now, id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> UserStore::SetLastLogin(storage::Session& tx, const std::string& id, int64_t now) {
    auto r = co_await tx.Execute("UPDATE users SET last_login_at = ? WHERE id = ?",
                                 storage::Bind(now, id));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

}  // namespace tb::auth
