// TenantService, part 2: the members of a tenant (API.md §3 /v1/tenants/{id}/members).
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

Task<Status> TenantService::InsertMembership(Session& tx, const TenantScope& scope,
                                             const auth::User& user, Role role, int64_t now) {
    auto r = co_await tx.Execute(
        "INSERT INTO memberships (tenant_id, user_id, role, joined_at, user_created_at) VALUES "
        "(?, ?, ?, ?, ?)",
        Bind(scope.id(), user.id, RoleName(role), now, user.created_at));
    if (!r.ok()) {
        if (r.error().code == ErrorCode::kConflict)
            co_return Error::Conflict("Already a member of this tenant", "email");
        co_return std::move(r).error();
    }
    // The count and the plan's quota in one step: concurrent joins queue on the tenant's row.
    auto n = co_await tx.Query(
        "UPDATE tenants SET member_count = member_count + 1 WHERE id = ? RETURNING member_count, "
        "plan",
        Bind(scope.id()));
    if (!n.ok()) co_return std::move(n).error();
    if (!n->empty()) {
        const limits::Plan& plan = Plans().Get(AsText(n->rows[0][1]));
        TB_CO_RETURN_IF_ERROR(limits::CheckQuota(plan.max_members, AsInt(n->rows[0][0]) - 1, 1,
                                                 "max_members", "members"));
    }
    co_return Status{};
}

Task<Result<std::optional<Member>>> TenantService::FindMember(Session& s, const TenantScope& scope,
                                                              const std::string& user_id) {
    std::string sql = std::string("SELECT ") + kMemberColumns + " FROM " + kMemberFrom +
                      " WHERE m.tenant_id = ? AND m.user_id = ?";
    auto rows = co_await s.Query(sql, Bind(scope.id(), user_id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<Member>{};
    co_return std::optional<Member>(MemberFromRow(rows->rows[0]));
}

Task<Result<Page<Member>>> TenantService::ListMembersIn(const TenantScope& scope,
                                                        const query::ListQuery& q,
                                                        bool users_view) {
    ListSource source = ListSource::ForTenant(scope, "m.tenant_id", kMemberColumns, kMemberFrom);
    // Unfiltered, the total is the tenant's counter (invariant 4), not a count of 10,000 rows.
    source.unfiltered_count = "SELECT member_count FROM tenants WHERE id = ?";
    source.unfiltered_count_params = Bind(scope.id());
    const query::Resource& resource = users_view ? UsersResource() : MembersResource();
    auto result = co_await storage::RunList(db_, db_.dialect(), resource, q, source);
    if (!result.ok()) co_return std::move(result).error();
    Page<Member> page{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) page.items.push_back(MemberFromRow(r));
    co_return page;
}

Task<Result<Page<Member>>> TenantService::ListMembers(const Caller& who,
                                                      const std::string& tenant_id,
                                                      const query::ListQuery& q) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, tenant_id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    co_return co_await ListMembersIn(in.scope(), q, false);
}

namespace detail {
Task<Status> LockTenant(Session& tx, const TenantScope& scope) {
    auto r = co_await tx.Execute("UPDATE tenants SET member_count = member_count WHERE id = ?",
                                 Bind(scope.id()));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}
}  // namespace detail

Task<Status> TenantService::CheckChange(Session& tx, const Caller& who, const TenantScope& scope,
                                        const Member& target, std::optional<Role> next) {
    auto current = ParseRole(target.role).value_or(Role::kViewer);
    if (!who.platform_admin()) {
        Role mine = who.role.value_or(Role::kViewer);
        bool self = target.user.id == who.user->id;
        // Invariant 3: an admin neither touches an owner nor makes one.
        if (current == Role::kOwner && mine != Role::kOwner && !self)
            co_return Error::Forbidden("Only an owner can change or remove an owner");
        if (next && static_cast<int>(*next) > static_cast<int>(mine))
            co_return Error::Forbidden("Cannot grant a role above your own");
    }
    if (current == Role::kOwner && (!next || *next != Role::kOwner)) {
        // Invariant 2.
        auto rows = co_await tx.Query(
            "SELECT COUNT(*) FROM memberships WHERE tenant_id = ? AND role = 'owner'",
            Bind(scope.id()));
        if (!rows.ok()) co_return std::move(rows).error();
        if (AsInt(rows->rows.at(0).at(0)) <= 1)
            co_return Error::Conflict("The last owner cannot be demoted or removed", "role");
    }
    co_return Status{};
}

Task<Result<AddedMember>> TenantService::AddMember(const Caller& who, const std::string& tenant_id,
                                                   const std::string& raw_email, Role role) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, tenant_id));
    TB_CO_RETURN_IF_ERROR(in.CanManage());
    TB_CO_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
    if (!in.platform_admin() && static_cast<int>(role) > static_cast<int>(*in.role))
        co_return Error::Forbidden("Cannot grant a role above your own");
    auth::UserStore users(db_);
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await users.FindByEmail(email));
    if (!existing) {
        if (!outbox_) co_return Error::NotFound("No account with this email");
        TB_CO_ASSIGN_OR_RETURN(auto invitation, co_await Invite(in, email, role));
        co_return AddedMember{std::nullopt, std::move(invitation)};
    }
    Member out;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        int64_t now = Now();
        TB_CO_RETURN_IF_ERROR(co_await InsertMembership(tx, in.scope(), *existing, role, now));
        auto retired = co_await tx.Execute(
            "DELETE FROM invitations WHERE tenant_id = ? AND email = ? AND accepted_at IS NULL",
            Bind(in.scope().id(), email));
        if (!retired.ok()) co_return std::move(retired).error();
        out = Member{*existing, std::string(RoleName(role)), now};
        audit::Event e = in.AuditEvent("member.added", out.user.id);
        e.details["role"] = RoleName(role);
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", out.user.id);
    co_return AddedMember{std::move(out), std::nullopt};
}

Task<Result<Member>> TenantService::SetRole(const Caller& who, const std::string& tenant_id,
                                            const std::string& user_id, Role role) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, tenant_id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    // 404 for someone who is not a member, before the caller's own rights (API.md §13).
    TB_CO_ASSIGN_OR_RETURN(auto visible, co_await FindMember(db_, in.scope(), user_id));
    if (!visible) co_return Error::NotFound("Member not found");
    TB_CO_RETURN_IF_ERROR(in.CanManage());
    Member out;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await LockTenant(tx, in.scope()));
        TB_CO_ASSIGN_OR_RETURN(auto target, co_await FindMember(tx, in.scope(), user_id));
        if (!target) co_return Error::NotFound("Member not found");
        TB_CO_RETURN_IF_ERROR(co_await CheckChange(tx, in, in.scope(), *target, role));
        auto r = co_await tx.Execute(
            "UPDATE memberships SET role = ? WHERE tenant_id = ? AND user_id = ?",
            Bind(RoleName(role), in.scope().id(), user_id));
        if (!r.ok()) co_return std::move(r).error();
        audit::Event e = in.AuditEvent("member.role_changed", user_id);
        e.details["from"] = target->role;
        e.details["to"] = RoleName(role);
        out = std::move(*target);
        out.role = RoleName(role);
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", user_id);
    co_return out;
}

Task<Status> TenantService::RemoveMember(const Caller& who, const std::string& tenant_id,
                                         const std::string& user_id) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, tenant_id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto visible, co_await FindMember(db_, in.scope(), user_id));
    if (!visible) co_return Error::NotFound("Member not found");
    bool self = user_id == in.user->id && !in.api_key;
    if (!self) TB_CO_RETURN_IF_ERROR(in.CanManage());
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await LockTenant(tx, in.scope()));
        TB_CO_ASSIGN_OR_RETURN(auto target, co_await FindMember(tx, in.scope(), user_id));
        if (!target) co_return Error::NotFound("Member not found");
        TB_CO_RETURN_IF_ERROR(co_await CheckChange(tx, in, in.scope(), *target, std::nullopt));
        static constexpr const char* kLeave[] = {
            "DELETE FROM organization_members WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM api_keys WHERE tenant_id = ? AND owner_user_id = ?",
            "DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?",
        };
        // Organization counts first, while the rows still say which organizations.
        auto orgs = co_await tx.Execute(
            "UPDATE organizations SET member_count = member_count - 1 WHERE tenant_id = ? AND id "
            "IN (SELECT organization_id FROM organization_members WHERE tenant_id = ? AND "
            "user_id = ?)",
            Bind(in.scope().id(), in.scope().id(), user_id));
        if (!orgs.ok()) co_return std::move(orgs).error();
        for (const char* sql : kLeave) {
            auto r = co_await tx.Execute(sql, Bind(in.scope().id(), user_id));
            if (!r.ok()) co_return std::move(r).error();
        }
        auto n =
            co_await tx.Execute("UPDATE tenants SET member_count = member_count - 1 WHERE id = ?",
                                Bind(in.scope().id()));
        if (!n.ok()) co_return std::move(n).error();
        co_return co_await audit_.Record(tx, in.AuditEvent("member.removed", user_id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", user_id);
    co_return Status{};
}

}  // namespace tb::tenancy
