// AuthService, part 2: what travels by mail — password reset, email verification and the
// acceptance of an invitation (API.md §2.2, §7, §13 "Single-use tokens").
#include "auth/auth_service.h"
#include "auth/email_tokens.h"
#include "auth/password_policy.h"
#include "auth/session_store.h"
#include "common/email.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tb::auth {

using storage::Session;
using storage::TransactionFn;

namespace {

mail::Mail ResetMail(const User& user, const std::string& link) {
    mail::Mail m;
    m.to = user.email;
    m.subject = "Reset your password";
    m.text = "Someone asked to reset the password of the account " + user.email +
             ".\n\nTo choose a new password, open this link within an hour:\n" + link +
             "\n\nIf it was not you, ignore this mail: your password stays as it is.\n";
    return m;
}

mail::Mail VerifyMail(const User& user, const std::string& link) {
    mail::Mail m;
    m.to = user.email;
    m.subject = "Verify your email";
    m.text = "Please confirm that " + user.email +
             " is your address by opening this link within 24 hours:\n" + link + "\n";
    return m;
}

}  // namespace

void AuthService::AttachMail(mail::Outbox& outbox, std::string link_base) {
    outbox_ = &outbox;
    link_base_ = std::move(link_base);
}

Task<Status> AuthService::RequestPasswordReset(std::string raw_email, ClientInfo client) {
    if (!outbox_) co_return Error::Unavailable("Mail is not configured");
    TB_CO_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(raw_email));
    UserStore users(db_);
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await users.FindByEmail(email));
    bool send = found && (*found).is_active;
    if (settings_.limits_enabled) {
        if (mail_requests_.Take("reset:" + email)) send = false;
    }
    int64_t now = Now();
    bool queued = false;
    // One transaction either way, so that the answer takes about the same time.
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        audit::Event e = Event("password.reset_requested", client);
        e.target = email;
        if (send) {
            e.actor = found->id;
            TB_CO_ASSIGN_OR_RETURN(
                std::string token,
                co_await email_tokens::Create(tx, email_tokens::kPasswordReset, found->id, now,
                                              settings_.reset_ttl_seconds * 1000));
            auto link = mail::TokenLink(link_base_, "reset-password", token);
            // Named arguments: GCC 12 mishandles temporaries bound to references in co_await.
            const std::string no_tenant;
            const mail::Mail message = ResetMail(*found, link);
            auto queued_mail = co_await outbox_->Enqueue(tx, no_tenant, "password_reset", message);
            if (!queued_mail.ok()) co_return std::move(queued_mail).error();
            queued = true;
        }
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (queued) outbox_->Wake();
    co_return Status{};
}

Task<Status> AuthService::ConfirmPasswordReset(std::string token, std::string new_password,
                                               ClientInfo client) {
    if (token.empty() || token.size() > 256) co_return email_tokens::InvalidToken();
    TB_CO_RETURN_IF_ERROR(
        CheckPassword(new_password, settings_.password_min_length, "new_password"));
    // Peek first: a bad token costs no Argon2id.
    TB_CO_ASSIGN_OR_RETURN(
        auto owner, co_await email_tokens::Peek(db_, email_tokens::kPasswordReset, token, Now()));
    if (!owner) co_return email_tokens::InvalidToken();
    auto hash = co_await HashPassword(new_password);
    if (!hash.ok()) co_return std::move(hash).error();
    int64_t now = Now();
    std::string user_id;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_ASSIGN_OR_RETURN(
            user_id, co_await email_tokens::Consume(tx, email_tokens::kPasswordReset, token, now));
        TB_CO_RETURN_IF_ERROR(co_await UserStore::SetPasswordHash(tx, user_id, *hash, now));
        TB_CO_RETURN_IF_ERROR(co_await UserStore::SetEmailVerified(tx, user_id, now));
        TB_CO_RETURN_IF_ERROR(co_await session_store::RevokeUserSessions(tx, user_id, "", now));
        audit::Event e = Event("password.reset", client);
        e.actor = e.target = user_id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    cache_.InvalidateUser(user_id);
    if (bus_) bus_->Publish("user", user_id);
    co_return Status{};
}

Task<Status> AuthService::RequestEmailVerification(const Principal& who, ClientInfo client) {
    if (!outbox_) co_return Error::Unavailable("Mail is not configured");
    if (who.user->email_verified) co_return Status{};
    if (settings_.limits_enabled) {
        if (auto wait = mail_requests_.Take("verify:" + who.user->id)) {
            co_return Error::RateLimited("Too many verification mails, try again later", *wait);
        }
    }
    int64_t now = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_ASSIGN_OR_RETURN(std::string token, co_await email_tokens::Create(
                                                      tx, email_tokens::kVerifyEmail, who.user->id,
                                                      now, settings_.verify_ttl_seconds * 1000));
        auto link = mail::TokenLink(link_base_, "verify-email", token);
        const std::string no_tenant;
        const mail::Mail message = VerifyMail(*who.user, link);
        auto queued = co_await outbox_->Enqueue(tx, no_tenant, "verify_email", message);
        if (!queued.ok()) co_return std::move(queued).error();
        audit::Event e = Event("email.verification_requested", client);
        e.tenant_id = who.tenant_id;
        e.actor = e.target = who.user->id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    outbox_->Wake();
    co_return Status{};
}

Task<Result<User>> AuthService::ConfirmEmail(std::string token, ClientInfo client) {
    if (token.empty() || token.size() > 256) co_return email_tokens::InvalidToken();
    int64_t now = Now();
    std::optional<User> user;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_ASSIGN_OR_RETURN(std::string id, co_await email_tokens::Consume(
                                                   tx, email_tokens::kVerifyEmail, token, now));
        TB_CO_RETURN_IF_ERROR(co_await UserStore::SetEmailVerified(tx, id, now));
        TB_CO_ASSIGN_OR_RETURN(user, co_await UserStore::FindById(tx, id));
        if (!user) co_return email_tokens::InvalidToken();
        audit::Event e = Event("email.verified", client);
        e.actor = e.target = id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    cache_.InvalidateUser(user->id);
    if (bus_) bus_->Publish("user", user->id);
    co_return std::move(*user);
}

Task<Result<SignedIn>> AuthService::AcceptInvitation(AcceptInput in, ClientInfo client) {
    if (!tenants_) co_return Error::Unavailable("Tenancy is not configured");
    if (in.token.empty() || in.token.size() > 256) co_return email_tokens::InvalidToken();
    std::string token_hash = Sha256Hex(in.token);
    TB_CO_ASSIGN_OR_RETURN(auto invitation,
                           co_await tenants_->FindInvitation(db_, token_hash, Now()));
    if (!invitation) co_return email_tokens::InvalidToken();
    UserStore users(db_);
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await users.FindByEmail(invitation->email));
    User user;
    bool create = !existing;
    if (existing) {
        user = std::move(*existing);
        if (!user.is_active) co_return Error::Forbidden("Inactive user");
    } else {
        if (in.password.empty())
            co_return Error::Validation("password", "A password is required for a new account");
        TB_CO_RETURN_IF_ERROR(CheckPassword(in.password, settings_.password_min_length));
        if (Utf8Length(in.name) > 200)
            co_return Error::Validation("name", "Name must be at most 200 characters");
        auto hash = co_await HashPassword(in.password);
        if (!hash.ok()) co_return std::move(hash).error();
        user.id = ids_.Next();
        user.email = invitation->email;
        user.name = in.name;
        user.password_hash = std::move(*hash);
        user.email_verified = true;  // the invitation reached this mailbox
        user.created_at = user.updated_at = Now();
    }
    TB_CO_RETURN_IF_ERROR(co_await ReloadKeysIfRotated());
    int64_t now = Now();
    NewSession started;
    // Decided before the transaction, which sets the flag and may run again.
    const bool verify = !create && !user.email_verified;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await tenants_->ClaimInvitation(tx, *invitation, now));
        if (create) {
            TB_CO_RETURN_IF_ERROR(co_await UserStore::Insert(tx, user));
        } else if (verify) {
            // The invitation reached this mailbox: as good a proof as a verification mail.
            TB_CO_RETURN_IF_ERROR(co_await UserStore::SetEmailVerified(tx, user.id, now));
            user.email_verified = true;
        }
        TB_CO_RETURN_IF_ERROR(co_await tenants_->JoinInvited(tx, *invitation, user, client, now));
        TB_CO_RETURN_IF_ERROR(co_await UserStore::SetLastLogin(tx, user.id, now));
        TB_CO_ASSIGN_OR_RETURN(
            started,
            co_await StartSession(tx, user, client, invitation->tenant_id, "invitation.accepted"));
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (bus_) bus_->Publish("membership", user.id);
    SignedIn out;
    TB_CO_ASSIGN_OR_RETURN(out.tokens, co_await SignTokens(user, started));
    TB_CO_ASSIGN_OR_RETURN(out.tenants, co_await tenants_->MembershipsOf(user.id));
    user.last_login_at = now;
    out.user = std::move(user);
    co_return out;
}

}  // namespace tb::auth
