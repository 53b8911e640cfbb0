// TenantService, part 3: the users of the current tenant (API.md §3.1 /v1/users).
#include "tenancy/tenant_service.h"

#include <algorithm>

#include "common/email.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "tenancy/member_rows.h"

namespace tb::tenancy {

using auth::TenantMembership;
using detail::kMemberColumns;
using detail::kMemberFrom;
using detail::LockTenant;
using detail::MemberFromRow;
using detail::TenantNotFound;
using detail::UserNotFound;
using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::ListSource;
using storage::Session;
using storage::TenantScope;
using storage::TransactionFn;

Task<Result<Page<Member>>> TenantService::ListUsers(const Caller& who, const query::ListQuery& q) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    co_return co_await ListMembersIn(who.scope(), q, true);
}

Task<Result<Member>> TenantService::GetUser(const Caller& who, const std::string& user_id) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto m, co_await FindMember(db_, who.scope(), user_id));
    if (!m) co_return UserNotFound();
    co_return std::move(*m);
}

Task<Result<Member>> TenantService::CreateUser(const Caller& who, NewUser in) {
    TB_CO_RETURN_IF_ERROR(who.CanManage());
    TB_CO_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(in.email));
    if (Utf8Length(in.name) > 200)
        co_return Error::Validation("name", "Name must be at most 200 characters");
    if (!who.platform_admin() && static_cast<int>(in.role) > static_cast<int>(*who.role))
        co_return Error::Forbidden("Cannot grant a role above your own");
    Member out;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        bool created = false;
        int64_t now = Now();
        auto users = co_await tx.Query("SELECT id FROM users WHERE email = ?", Bind(email));
        if (!users.ok()) co_return std::move(users).error();
        auth::User user;
        if (users->empty()) {
            // A new account; an existing one keeps its own name and password.
            user.id = ids_.Next();
            user.email = email;
            user.name = in.name;
            user.password_hash = in.password_hash;
            user.created_at = user.updated_at = now;
            TB_CO_RETURN_IF_ERROR(co_await auth::UserStore::Insert(tx, user));
            created = true;
        } else {
            TB_CO_ASSIGN_OR_RETURN(
                auto found, co_await auth::UserStore::FindById(tx, AsText(users->rows[0][0])));
            if (!found) co_return UserNotFound();
            user = std::move(*found);
        }
        TB_CO_RETURN_IF_ERROR(co_await InsertMembership(tx, who.scope(), user, in.role, now));
        audit::Event e = who.AuditEvent(created ? "user.created" : "member.added", user.id);
        e.details["role"] = RoleName(in.role);
        out = Member{std::move(user), std::string(RoleName(in.role)), now};
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", out.user.id);
    out.user.password_hash.clear();
    co_return out;
}

Task<Result<Member>> TenantService::UpdateUser(const Caller& who, const std::string& user_id,
                                               UserPatch patch) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    // A change through a key is management whatever it changes (API.md §13 "API key scopes").
    if (who.api_key && !who.api_key->HasScope("admin"))
        co_return Error::Forbidden("This API key lacks the admin scope");
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await FindMember(db_, who.scope(), user_id));
    if (!existing) co_return UserNotFound();
    bool self = user_id == who.user->id && !who.api_key;
    // API.md §3.1: self (name) · admin+ (role) · platform admin (is_active, email).
    if (patch.name && !self && !who.platform_admin())
        co_return Error::Forbidden("Only the user changes their own name");
    if ((patch.is_active || patch.email) && !who.platform_admin())
        co_return Error::Forbidden("Only platform admins change is_active or email");
    std::optional<Role> role;
    if (patch.role) {
        TB_CO_RETURN_IF_ERROR(who.CanManage());
        TB_CO_ASSIGN_OR_RETURN(role, RoleField(*patch.role));
    }
    if (patch.name && Utf8Length(*patch.name) > 200)
        co_return Error::Validation("name", "Name must be at most 200 characters");
    if (patch.email) {
        TB_CO_ASSIGN_OR_RETURN(*patch.email, NormalizeEmail(*patch.email));
    }

    Member out = std::move(*existing);
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        int64_t now = Now();
        if (role) {
            TB_CO_RETURN_IF_ERROR(co_await LockTenant(tx, who.scope()));
            TB_CO_ASSIGN_OR_RETURN(auto current, co_await FindMember(tx, who.scope(), user_id));
            if (!current) co_return UserNotFound();
            out.role = current->role;
            TB_CO_RETURN_IF_ERROR(co_await CheckChange(tx, who, who.scope(), out, role));
            auto r = co_await tx.Execute(
                "UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?",
                Bind(RoleName(*role), who.scope().id(), user_id));
            if (!r.ok()) co_return std::move(r).error();
            audit::Event e = who.AuditEvent("member.role_changed", user_id);
            e.details["from"] = out.role;
            e.details["to"] = RoleName(*role);
            TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
            out.role = RoleName(*role);
        }
        if (patch.name || patch.email || patch.is_active) {
            if (patch.name) out.user.name = *patch.name;
            if (patch.email) out.user.email = *patch.email;
            if (patch.is_active) out.user.is_active = *patch.is_active;
            out.user.updated_at = now;
            auto r = co_await tx.Execute(
                "UPDATE users SET name = ?, email = ?, is_active = ?, updated_at = ? WHERE id = ?",
                Bind(out.user.name, out.user.email, out.user.is_active, now, user_id));
            if (!r.ok()) {
                if (r.error().code == ErrorCode::kConflict)
                    co_return Error::Conflict("Email already registered", "email");
                co_return std::move(r).error();
            }
            audit::Event e = who.AuditEvent("user.updated", user_id);
            if (patch.is_active) e.details["is_active"] = *patch.is_active;
            if (patch.email) e.details["email_changed"] = true;
            TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
        }
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (role) bus_.Publish("membership", user_id);
    if (patch.name || patch.email || patch.is_active) bus_.Publish("user", user_id);
    co_return out;
}

Task<Status> TenantService::DeleteUser(const Caller& who, const std::string& user_id, bool purge) {
    if (!purge) co_return co_await RemoveMember(who, who.scope().id(), user_id);
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await FindMember(db_, who.scope(), user_id));
    if (!existing) co_return UserNotFound();
    if (!who.platform_admin()) co_return Error::Forbidden("Only platform admins purge accounts");
    if (user_id == who.user->id) co_return Error::Conflict("You cannot purge your own account");
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        // The last owner of any tenant with other members cannot vanish (invariant 2).
        auto owned = co_await tx.Query(
            "SELECT m.tenant_id, t.member_count FROM memberships m JOIN tenants t ON t.id = "
            "m.tenant_id WHERE m.user_id = ? AND m.role = 'owner' AND (SELECT COUNT(*) FROM "
            "memberships o WHERE o.tenant_id = m.tenant_id AND o.role = 'owner') = 1",
            Bind(user_id));
        if (!owned.ok()) co_return std::move(owned).error();
        for (const auto& r : owned->rows) {
            if (AsInt(r[1]) > 1)
                co_return Error::Conflict("The user is the last owner of a tenant with members");
        }
        auto counts = co_await tx.Execute(
            "UPDATE tenants SET member_count = member_count - 1 WHERE id IN (SELECT tenant_id "
            "FROM memberships WHERE user_id = ?)",
            Bind(user_id));
        if (!counts.ok()) co_return std::move(counts).error();
        // tenant-scope: purging an account leaves every tenant it was in (platform admins).
        auto orgs = co_await tx.Execute(
            "UPDATE organizations SET member_count = member_count - 1 WHERE id IN (SELECT "
            "organization_id FROM organization_members WHERE user_id = ?)",
            Bind(user_id));
        if (!orgs.ok()) co_return std::move(orgs).error();
        // Sessions, tokens, memberships and keys go with the account (foreign keys cascade).
        auto r = co_await tx.Execute("DELETE FROM users WHERE id = ?", Bind(user_id));
        if (!r.ok()) co_return std::move(r).error();
        co_return co_await audit_.Record(tx, who.AuditEvent("user.deleted", user_id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("user", user_id);
    bus_.Publish("membership", user_id);
    co_return Status{};
}

}  // namespace tb::tenancy
