#pragma once
// Accounts and sessions (API.md §2): register, login, refresh with rotation and reuse
// detection, logout, the current user, password change, and the authentication of a Bearer
// access token on every request.
//
// Invariants:
//  1. A refresh token is used at most once. Presenting a used one again revokes its whole
//     session (every token descended from the same login) — except within the grace window
//     after it was retired: then it gets a fresh pair of the same session and nothing is
//     retired or revoked (tabs refreshing the same token at once, a lost response).
//  2. Access tokens carry `sid`; every request checks that the session is live and the user
//     active, so logout and deactivation take effect at once.
//  3. Unknown email and wrong password answer the same 401 after the same work (a dummy hash
//     is verified for an unknown email).
//
// Thread safety: all methods may run concurrently; the key ring is swapped atomically.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "auth/api_key_service.h"
#include "auth/auth_cache.h"
#include "auth/jwt.h"
#include "auth/login_throttle.h"
#include "auth/password.h"
#include "auth/tenant_directory.h"
#include "auth/user_store.h"
#include "common/invalidation.h"
#include "common/worker_pool.h"
#include "mail/outbox.h"

namespace tb::auth {

struct AuthSettings {
    JwtSettings jwt;
    int64_t access_ttl_seconds = 900;
    int64_t refresh_ttl_seconds = int64_t{30} * 24 * 3600;
    int64_t refresh_grace_seconds = 10;
    // A refresh token older than this (no refresh for that long: an idle session) is refused;
    // 0: no idle limit.
    int64_t session_idle_seconds = int64_t{7} * 86400;
    size_t password_min_length = 8;
    bool limits_enabled = true;
    int login_failures = 10;
    int64_t login_window_seconds = 900;
    int register_per_hour = 60;
    int mails_per_hour = 5;  // reset / verification mails per email, an hour (quietly capped)
    int64_t reset_ttl_seconds = 3600;
    int64_t verify_ttl_seconds = int64_t{24} * 3600;
    CacheLifetime session_cache;  // bound on another node's revoke going unseen
};

struct TokenPair {
    std::string access_token;
    std::string refresh_token;
    int64_t expires_in = 0;
    int64_t refresh_expires_in = 0;
};

struct SignedIn {
    User user;
    TokenPair tokens;
    std::vector<TenantMembership> tenants;
    // Registration with primary_key: the key and its full secret (shown once).
    std::optional<std::pair<ApiKey, std::string>> primary_key;
};

// Who is calling, once a credential checked out: a user's session, or an API key acting for
// its owner (then session_id is empty and api_key is set).
struct Principal {
    UserRef user = NoUser();
    std::string session_id;
    std::optional<std::string> tenant_id;
    std::shared_ptr<const ApiKey> api_key;  // null: a session
};

struct RegisterInput {
    std::string email, password, name, tenant_name;
    // Also create the user's primary key in the personal tenant, in the same transaction
    // (the Nilux dialect's registration, API.md §11).
    bool primary_key = false;
};

// POST /v1/invitations/accept: password and name are used only when the account is new.
struct AcceptInput {
    std::string token, password, name;
};

class AuthService {
  public:
    AuthService(storage::Database& db, const PasswordHasher& hasher, WorkerPool& workers,
                IdGenerator& ids, const Clock& clock, audit::AuditLog& audit,
                AuthSettings settings);

    // Wiring: the tenant directory (registration, login, refresh) and the invalidation bus
    // ("user" changes drop cached sessions). Call once before serving.
    void Attach(TenantDirectory& tenants, InvalidationBus& bus);
    // Wiring: the outbox for reset and verification mails, whose links start with link_base.
    void AttachMail(mail::Outbox& outbox, std::string link_base);
    // Wiring: the key service that makes primary keys at registration.
    void AttachKeys(ApiKeyService& keys) { keys_ = &keys; }
    // Argon2id on the worker pool (never on an I/O thread).
    Task<Result<std::string>> HashPassword(std::string password);
    // Checks a new password against the policy; VALIDATION_ERROR on `field`.
    Status CheckNewPassword(const std::string& password, std::string_view field) const;

    // Loads the signing keys, creating the first one on a new instance.
    Task<Status> LoadKeys();
    // Adds a new current signing key (tenantbase keys rotate); returns its kid.
    static Task<Result<std::string>> RotateKey(storage::Database& db, IdGenerator& ids,
                                               const Clock& clock, JwtAlgorithm algorithm);
    json::object Jwks() const;

    Task<Result<SignedIn>> Register(RegisterInput input, ClientInfo client);
    Task<Result<SignedIn>> Login(std::string email, std::string password,
                                 std::optional<std::string> tenant_id, ClientInfo client);
    Task<Result<TokenPair>> Refresh(std::string refresh_token, std::optional<std::string> tenant_id,
                                    ClientInfo client);
    Task<Status> Logout(const Principal& who, std::optional<std::string> refresh_token, bool all,
                        ClientInfo client);
    Task<Result<Principal>> Authenticate(std::string_view bearer_token);
    // Authenticate's answer when the token and session caches decide it, without a coroutine;
    // nullopt: ask Authenticate.
    std::optional<Result<Principal>> AuthenticateCached(std::string_view bearer_token);
    Task<Result<User>> UpdateName(const Principal& who, std::string name);
    Task<Status> ChangePassword(const Principal& who, std::string current, std::string next,
                                ClientInfo client);

    // Account mail (auth_mail.cpp). A reset request answers the same whether or not the email
    // has an account (and does the same work: one transaction); a few requests per email an
    // hour are mailed, the rest are dropped silently.
    Task<Status> RequestPasswordReset(std::string email, ClientInfo client);
    // Sets the password, marks the email verified (the mailbox is proven) and signs out every
    // session.
    Task<Status> ConfirmPasswordReset(std::string token, std::string new_password,
                                      ClientInfo client);
    Task<Status> RequestEmailVerification(const Principal& who, ClientInfo client);
    Task<Result<User>> ConfirmEmail(std::string token, ClientInfo client);
    // Joins the invited tenant, creating the account (verified email, no personal tenant)
    // when the invited email has none, and signs in with the token's tid set to that tenant.
    Task<Result<SignedIn>> AcceptInvitation(AcceptInput in, ClientInfo client);

  private:
    // A new session with its first refresh token, and an access token for it.
    // The rows of a new session (inside the caller's transaction); the tokens are signed after
    // the commit, on the worker pool (SignTokens): an RSA signature costs about a millisecond,
    // too long for an I/O thread or the SQLite writer.
    struct NewSession {
        std::string session_id;
        std::optional<std::string> tenant_id;
        std::string refresh_token;
    };
    // The session's rows, and `action` (user.registered, login.succeeded) in the audit log.
    Task<Result<NewSession>> StartSession(storage::Session& tx, const User& user,
                                          const ClientInfo& client,
                                          std::optional<std::string> tenant_id,
                                          std::string_view action);
    Task<Result<TokenPair>> SignTokens(const User& user, const NewSession& session);
    Result<TokenPair> IssueTokens(const User& user, const std::string& session_id,
                                  const std::optional<std::string>& tenant_id,
                                  const std::string& refresh_token);
    Task<Result<bool>> VerifyPassword(std::string hash, std::string password);
    std::shared_ptr<const KeyRing> ring() const;
    Task<Status> ReloadKeysIfStale();
    // Before signing for a new session or a refresh: reload when another node or
    // `tenantbase keys rotate` added a newer key (one small query).
    Task<Status> ReloadKeysIfRotated();
    audit::Event Event(std::string action, const ClientInfo& client) const;
    // A failed or throttled login, recorded at the instance level and, when the email is a
    // user's, in every tenant of that user (nothing more for an unknown email).
    Task<void> RecordLoginEvent(std::string action, const std::string& email,
                                const std::optional<User>& user, const ClientInfo& client);
    int64_t Now() const { return ToUnixMillis(clock_.Now()); }

    storage::Database& db_;
    const PasswordHasher& hasher_;
    WorkerPool& workers_;
    IdGenerator& ids_;
    const Clock& clock_;
    audit::AuditLog& audit_;
    AuthSettings settings_;
    JwtCodec codec_;
    std::string dummy_hash_;  // verified for unknown emails (invariant 3)
    LoginThrottle email_failures_;
    LoginThrottle ip_failures_;
    LoginThrottle registrations_;
    AuthCache cache_;
    TenantDirectory* tenants_ = nullptr;
    ApiKeyService* keys_ = nullptr;
    InvalidationBus* bus_ = nullptr;
    mail::Outbox* outbox_ = nullptr;
    std::string link_base_;
    LoginThrottle mail_requests_;  // reset / verification mails per email or user, an hour

    mutable std::mutex ring_mu_;
    std::shared_ptr<const KeyRing> ring_;  // guarded by ring_mu_
    std::atomic<int64_t> last_reload_ms_{0};
};

}  // namespace tb::auth
