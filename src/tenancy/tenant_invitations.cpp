// TenantService, part 4: invitations by mail (API.md §3 POST /v1/tenants/{id}/members with an
// email that has no account, §7, §13 "Mail defaults"). The invitation row, its mail and the
// audit event commit together; the token is mailed and only its hash is kept.
#include "common/encoding.h"
#include "common/strings.h"
#include "tenancy/member_rows.h"
#include "tenancy/tenant_service.h"

namespace tb::tenancy {

using storage::AsText;
using storage::Bind;
using storage::Session;
using storage::TransactionFn;

namespace {

mail::Mail InvitationMail(const std::string& email, const std::string& tenant_name,
                          const std::string& inviter, Role role, const std::string& link) {
    mail::Mail m;
    m.to = email;
    m.subject = "You're invited to " + tenant_name;
    m.text = inviter + " invited you to join " + tenant_name + " as " +
             std::string(RoleName(role)) + ".\n\nTo accept, open this link within 7 days:\n" +
             link + "\n\nIf you did not expect this invitation, ignore this mail.\n";
    return m;
}

}  // namespace

Task<Result<PendingInvitation>> TenantService::Invite(const Caller& in, const std::string& email,
                                                      Role role) {
    TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, in.scope().id()));
    if (!tenant) co_return detail::TenantNotFound();
    // A full tenant is told now, not when the invitation is accepted (which checks again).
    TB_CO_RETURN_IF_ERROR(limits::CheckQuota(Plans().Get(tenant->plan).max_members,
                                             tenant->member_count, 1, "max_members", "members"));
    PendingInvitation out{ids_.Next(), email, std::string(RoleName(role)), 0};
    int64_t now = Now();
    out.expires_at = now + settings_.invitation_ttl_ms;
    std::string token = RandomToken(32);
    std::string inviter = in.user->name.empty() ? in.user->email : in.user->name;
    // Names are checked when set, but a subject must hold no line break whatever happens.
    std::string tenant_name = tenant->name;
    for (char& c : tenant_name) {
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        // Only the newest invitation for an email stays live; the tenant row's lock orders
        // concurrent invitations (PostgreSQL).
        TB_CO_RETURN_IF_ERROR(co_await detail::LockTenant(tx, in.scope()));
        auto retired = co_await tx.Execute(
            "DELETE FROM invitations WHERE tenant_id = ? AND email = ? AND accepted_at IS NULL",
            Bind(in.scope().id(), email));
        if (!retired.ok()) co_return std::move(retired).error();
        auto r = co_await tx.Execute(
            "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, "
            "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            Bind(out.id, in.scope().id(), email, out.role, Sha256Hex(token), in.user->id, now,
                 out.expires_at));
        if (!r.ok()) co_return std::move(r).error();
        auto link = mail::TokenLink(settings_.link_base, "accept-invitation", token);
        // Named, not a temporary: GCC 12 mishandles temporaries bound to references in co_await.
        const mail::Mail message = InvitationMail(email, tenant_name, inviter, role, link);
        auto queued = co_await outbox_->Enqueue(tx, in.scope().id(), "invitation", message);
        if (!queued.ok()) co_return std::move(queued).error();
        audit::Event e = in.AuditEvent("member.invited", email);
        e.details["role"] = out.role;
        e.details["invitation_id"] = out.id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    outbox_->Wake();
    co_return out;
}

Task<Result<std::optional<auth::Invitation>>> TenantService::FindInvitation(
    Session& s, const std::string& token_hash, int64_t now) {
    // tenant-scope: the token names its invitation (and so its tenant); no tenant is known yet.
    auto rows = co_await s.Query(
        "SELECT i.id, i.tenant_id, i.email, i.role FROM invitations i JOIN tenants t ON t.id = "
        "i.tenant_id WHERE i.token_hash = ? AND i.accepted_at IS NULL AND i.expires_at > ? AND "
        "t.status = 'active'",
        Bind(token_hash, now));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<auth::Invitation>{};
    const auto& r = rows->rows[0];
    co_return std::optional<auth::Invitation>(
        auth::Invitation{AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3])});
}

Task<Status> TenantService::ClaimInvitation(Session& tx, const auth::Invitation& invitation,
                                            int64_t now) {
    // One statement: of two concurrent acceptances, the second finds it taken.
    auto taken = co_await tx.Execute(
        "UPDATE invitations SET accepted_at = ? WHERE tenant_id = ? AND id = ? AND accepted_at "
        "IS NULL AND expires_at > ?",
        Bind(now, invitation.tenant_id, invitation.id, now));
    if (!taken.ok()) co_return std::move(taken).error();
    if (*taken == 0) co_return Error::BadRequest("Invalid or expired token");
    co_return Status{};
}

Task<Status> TenantService::JoinInvited(Session& tx, const auth::Invitation& invitation,
                                        const auth::User& user, const auth::ClientInfo& client,
                                        int64_t now) {
    storage::TenantScope scope = storage::TenantScope::Of(invitation.tenant_id);
    TB_CO_ASSIGN_OR_RETURN(auto member, co_await FindMember(tx, scope, user.id));
    if (!member) {
        Role role = ParseRole(invitation.role).value_or(Role::kMember);
        TB_CO_RETURN_IF_ERROR(co_await InsertMembership(tx, scope, user, role, now));
    }
    audit::Event e;
    e.tenant_id = scope.id();
    e.actor = user.id;
    e.action = "member.joined";
    e.target = user.id;
    e.ip = client.ip;
    e.user_agent = client.user_agent.substr(0, 512);
    e.details["invitation_id"] = invitation.id;
    e.details["role"] = invitation.role;
    co_return co_await audit_.Record(tx, e);
}

}  // namespace tb::tenancy
