#include "auth/auth_service.h"

#include <algorithm>

#include "auth/password_policy.h"
#include "auth/session_store.h"
#include "common/email.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tb::auth {

using storage::Bind;
using storage::Session;
using storage::TransactionFn;

namespace {

Error InvalidCredentials() { return Error::Unauthorized("Invalid credentials"); }
Error InvalidRefresh() { return Error::Unauthorized("Invalid refresh token"); }

Error TooMany(int seconds) {
    return Error::RateLimited("Too many attempts, try again later", seconds);
}

// Reads the signing keys, newest last.
Task<Result<std::vector<SigningKey>>> ReadKeys(storage::Database& db) {
    auto rows = co_await db.Query(
        "SELECT kid, algorithm, secret, created_at FROM signing_keys ORDER BY created_at, kid", {});
    if (!rows.ok()) co_return std::move(rows).error();
    std::vector<SigningKey> keys;
    for (const auto& r : rows->rows) {
        auto alg = ParseAlgorithm(storage::AsText(r[1]));
        if (!alg.ok()) co_return std::move(alg).error();
        keys.push_back({storage::AsText(r[0]), *alg, storage::AsText(r[2]), storage::AsInt(r[3])});
    }
    co_return keys;
}

}  // namespace

AuthService::AuthService(storage::Database& db, const PasswordHasher& hasher, WorkerPool& workers,
                         IdGenerator& ids, const Clock& clock, audit::AuditLog& audit,
                         AuthSettings settings)
    : db_(db),
      hasher_(hasher),
      workers_(workers),
      ids_(ids),
      clock_(clock),
      audit_(audit),
      settings_(std::move(settings)),
      codec_(settings_.jwt),
      dummy_hash_(hasher.Hash(RandomToken(16)).value()),
      email_failures_(clock, settings_.login_failures,
                      std::chrono::seconds(settings_.login_window_seconds)),
      ip_failures_(clock, settings_.login_failures,
                   std::chrono::seconds(settings_.login_window_seconds)),
      registrations_(clock, settings_.register_per_hour, std::chrono::hours(1)),
      cache_(settings_.session_cache),
      mail_requests_(clock, settings_.mails_per_hour, std::chrono::hours(1)) {}

void AuthService::Attach(TenantDirectory& tenants, InvalidationBus& bus) {
    tenants_ = &tenants;
    bus_ = &bus;
    bus.Subscribe("user", [this](const std::string& user_id) { cache_.InvalidateUser(user_id); });
    bus.Subscribe("session", [this](const std::string& sid) { cache_.InvalidateSession(sid); });
    bus.Subscribe("*", [this](const std::string&) { cache_.ClearSessions(); });
}

Status AuthService::CheckNewPassword(const std::string& password, std::string_view field) const {
    return CheckPassword(password, settings_.password_min_length, std::string(field));
}

std::shared_ptr<const KeyRing> AuthService::ring() const {
    std::lock_guard lock(ring_mu_);
    return ring_;
}

json::object AuthService::Jwks() const {
    auto r = ring();
    return r ? r->Jwks() : json::object{{"keys", json::array{}}};
}

Task<Result<std::string>> AuthService::RotateKey(storage::Database& db, IdGenerator& ids,
                                                 const Clock& clock, JwtAlgorithm algorithm) {
    int64_t now = ToUnixMillis(clock.Now());
    auto key = GenerateSigningKey(algorithm, ids.Next(), now);
    if (!key.ok()) co_return std::move(key).error();
    auto r = co_await db.Execute(
        "INSERT INTO signing_keys (kid, algorithm, secret, created_at) VALUES (?, ?, ?, ?)",
        Bind(key->kid, AlgorithmName(algorithm), key->secret_pem, now));
    if (!r.ok()) co_return std::move(r).error();
    co_return key->kid;
}

Task<Status> AuthService::LoadKeys() {
    auto keys = co_await ReadKeys(db_);
    if (!keys.ok()) co_return std::move(keys).error();
    // Keep only keys of the configured algorithm: the verifier pins it anyway.
    std::erase_if(*keys,
                  [&](const SigningKey& k) { return k.algorithm != settings_.jwt.algorithm; });
    if (keys->empty()) {
        auto kid = co_await RotateKey(db_, ids_, clock_, settings_.jwt.algorithm);
        if (!kid.ok()) co_return std::move(kid).error();
        co_return co_await LoadKeys();
    }
    auto loaded = KeyRing::Load(std::move(*keys));
    if (!loaded.ok()) co_return std::move(loaded).error();
    {
        std::lock_guard lock(ring_mu_);
        ring_ = std::move(*loaded);
    }
    last_reload_ms_ = Now();
    co_return Status{};
}

// Another node (or `tenantbase keys rotate`) may have added a key: look again, at most once a
// second, when a token names a kid we do not hold.
Task<Status> AuthService::ReloadKeysIfStale() {
    int64_t now = Now();
    int64_t last = last_reload_ms_.load();
    if (now - last < 1000 || !last_reload_ms_.compare_exchange_strong(last, now))
        co_return Status{};
    co_return co_await LoadKeys();
}

Task<Status> AuthService::ReloadKeysIfRotated() {
    auto rows = co_await db_.Query(
        "SELECT kid FROM signing_keys WHERE algorithm = ? ORDER BY created_at DESC, kid DESC LIMIT "
        "1",
        Bind(AlgorithmName(settings_.jwt.algorithm)));
    if (!rows.ok()) co_return std::move(rows).error();
    auto r = ring();
    if (rows->empty() || (r && r->current().kid == storage::AsText(rows->rows[0][0])))
        co_return Status{};
    co_return co_await LoadKeys();
}

audit::Event AuthService::Event(std::string action, const ClientInfo& client) const {
    audit::Event e;
    e.action = std::move(action);
    e.ip = client.ip;
    e.user_agent = client.user_agent.substr(0, 512);
    return e;
}

Task<void> AuthService::RecordLoginEvent(std::string action, const std::string& email,
                                         const std::optional<User>& user,
                                         const ClientInfo& client) {
    audit::Event e = Event(std::move(action), client);
    e.target = email;
    std::vector<audit::Event> events;
    if (user) {
        e.actor = user->id;
        if (tenants_) {  // the user's tenants see the attempt too (API.md §9)
            auto memberships = co_await tenants_->MembershipsOf(user->id);
            if (memberships.ok()) {
                for (const auto& m : *memberships) {
                    audit::Event in_tenant = e;
                    in_tenant.tenant_id = m.tenant_id;
                    events.push_back(std::move(in_tenant));
                }
            }
        }
    }
    events.push_back(std::move(e));  // instance level, known email or not
    // One transaction: one commit whether the email is known or not (no timing difference
    // worth a wait on the disk).
    const storage::TransactionFn fn = [&](storage::Session& tx) -> Task<Status> {
        for (const auto& event : events) TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, event));
        co_return Status{};
    };
    (void)co_await db_.Transaction(fn);
}

Task<Result<bool>> AuthService::VerifyPassword(std::string hash, std::string password) {
    std::function<Result<bool>()> job = [this, hash = std::move(hash),
                                         password = std::move(password)] {
        return Result<bool>(hasher_.Verify(hash, password));
    };
    Result<bool> ok = co_await workers_.Run<bool>(std::move(job));
    co_return ok;
}

Task<Result<std::string>> AuthService::HashPassword(std::string password) {
    std::function<Result<std::string>()> job = [this, password = std::move(password)] {
        return hasher_.Hash(password);
    };
    Result<std::string> hash = co_await workers_.Run<std::string>(std::move(job));
    co_return hash;
}

Result<TokenPair> AuthService::IssueTokens(const User& user, const std::string& session_id,
                                           const std::optional<std::string>& tenant_id,
                                           const std::string& refresh_token) {
    int64_t now_s = Now() / 1000;
    json::object claims{{"sub", user.id},
                        {"sid", session_id},
                        {"email", user.email},
                        // The claims Nile's sample token shows (API.md §11): its clients read them.
                        {"name", user.name},
                        {"scope", "user"},
                        {"iat", now_s},
                        {"exp", now_s + settings_.access_ttl_seconds},
                        {"jti", ids_.Next()}};
    if (tenant_id) claims["tid"] = *tenant_id;
    auto r = ring();
    if (!r) return Error::Unavailable("Server starting", "no signing keys loaded");
    TB_ASSIGN_OR_RETURN(std::string access, codec_.Sign(*r, std::move(claims)));
    return TokenPair{std::move(access), refresh_token, settings_.access_ttl_seconds,
                     settings_.refresh_ttl_seconds};
}

Task<Result<TokenPair>> AuthService::SignTokens(const User& user, const NewSession& session) {
    std::function<Result<TokenPair>()> job = [this, user, session] {
        return IssueTokens(user, session.session_id, session.tenant_id, session.refresh_token);
    };
    Result<TokenPair> pair = co_await workers_.Run<TokenPair>(std::move(job));
    co_return pair;
}

Task<Result<AuthService::NewSession>> AuthService::StartSession(
    Session& tx, const User& user, const ClientInfo& client, std::optional<std::string> tenant_id,
    std::string_view action) {
    int64_t now = Now();
    SessionRow session{
        ids_.Next(), user.id, std::move(tenant_id), now + settings_.refresh_ttl_seconds * 1000, {}};
    TB_CO_RETURN_IF_ERROR(co_await session_store::InsertSession(tx, session, now, client.ip,
                                                                client.user_agent.substr(0, 512)));
    std::string refresh = RandomToken(32);
    RefreshRow row{Sha256Hex(refresh), session.id, std::nullopt, now, session.expires_at, {}};
    TB_CO_RETURN_IF_ERROR(co_await session_store::InsertRefresh(tx, row));
    audit::Event e = Event(std::string(action), client);
    e.tenant_id = session.tenant_id;
    e.actor = e.target = user.id;
    TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
    co_return NewSession{session.id, session.tenant_id, std::move(refresh)};
}

Task<Result<SignedIn>> AuthService::Register(RegisterInput in, ClientInfo client) {
    TB_CO_ASSIGN_OR_RETURN(std::string email, NormalizeEmail(in.email));
    TB_CO_RETURN_IF_ERROR(CheckPassword(in.password, settings_.password_min_length));
    if (Utf8Length(in.name) > 200)
        co_return Error::Validation("name", "Name must be at most 200 characters");
    // Counted before the insert: a 409 also tells whether an email is taken.
    if (settings_.limits_enabled) {
        if (auto wait = registrations_.Take(client.ip)) co_return TooMany(*wait);
    }
    auto hash = co_await HashPassword(in.password);
    if (!hash.ok()) co_return std::move(hash).error();

    TB_CO_RETURN_IF_ERROR(co_await ReloadKeysIfRotated());
    User user;
    user.id = ids_.Next();
    user.email = email;
    user.name = in.name;
    user.password_hash = std::move(*hash);
    user.created_at = user.updated_at = Now();
    SignedIn out;
    NewSession started;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        out.tenants.clear();  // this run's tenant only: a transaction may run again
        TB_CO_RETURN_IF_ERROR(co_await UserStore::Insert(tx, user));
        std::optional<std::string> tid;
        if (tenants_) {
            // The personal tenant (API.md §2.2), in the same transaction as the account.
            auto personal =
                co_await tenants_->CreatePersonalTenant(tx, user, in.tenant_name, client);
            if (!personal.ok()) co_return std::move(personal).error();
            if (*personal) {
                tid = (*personal)->tenant_id;
                out.tenants.push_back(std::move(**personal));
            }
        }
        out.primary_key.reset();
        if (in.primary_key && tid && keys_) {
            TB_CO_ASSIGN_OR_RETURN(out.primary_key,
                                   co_await keys_->CreatePrimary(tx, user, *tid, client));
        }
        TB_CO_ASSIGN_OR_RETURN(started,
                               co_await StartSession(tx, user, client, tid, "user.registered"));
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    TB_CO_ASSIGN_OR_RETURN(out.tokens, co_await SignTokens(user, started));
    out.user = user;
    co_return out;
}

Task<Result<SignedIn>> AuthService::Login(std::string raw_email, std::string password,
                                          std::optional<std::string> tenant_id, ClientInfo client) {
    std::string email = ToLower(Trim(raw_email));
    TB_CO_RETURN_IF_ERROR(CheckPasswordLength(password));  // never hash megabytes
    UserStore users(db_);
    auto found = co_await users.FindByEmail(email);
    if (!found.ok()) co_return std::move(found).error();
    if (settings_.limits_enabled) {
        auto by_email = email_failures_.BlockedFor("e:" + email);
        auto by_ip = ip_failures_.BlockedFor("i:" + client.ip);
        if (by_email || by_ip) {
            co_await RecordLoginEvent("login.throttled", email, *found, client);
            co_return TooMany(std::max(by_email.value_or(0), by_ip.value_or(0)));
        }
    }
    // Same work for an unknown email as for a known one (invariant 3).
    std::string hash =
        *found && !(*found)->password_hash.empty() ? (*found)->password_hash : dummy_hash_;
    auto verified = co_await VerifyPassword(hash, password);
    if (!verified.ok()) co_return std::move(verified).error();
    if (!*found || !*verified) {
        if (settings_.limits_enabled) {
            email_failures_.RecordFailure("e:" + email);
            ip_failures_.RecordFailure("i:" + client.ip);
        }
        co_await RecordLoginEvent("login.failed", email, *found, client);
        co_return InvalidCredentials();
    }
    User user = std::move(**found);
    if (!user.is_active) co_return Error::Forbidden("Inactive user");
    // The token's tenant: the one asked for (a member only), else the first membership.
    std::vector<TenantMembership> memberships;
    if (tenants_) {
        auto all = co_await tenants_->MembershipsOf(user.id);
        if (!all.ok()) co_return std::move(all).error();
        memberships = std::move(*all);
    }
    std::optional<std::string> tid;
    if (tenant_id) {
        auto it =
            std::find_if(memberships.begin(), memberships.end(),
                         [&](const TenantMembership& m) { return m.tenant_id == *tenant_id; });
        if (it == memberships.end()) co_return Error::NotFound("Tenant not found");
        tid = *tenant_id;
    } else if (!memberships.empty()) {
        tid = memberships.front().tenant_id;
    }
    if (settings_.limits_enabled) email_failures_.Clear("e:" + email);

    std::optional<std::string> rehashed;
    if (hasher_.NeedsRehash(user.password_hash)) {
        auto h = co_await HashPassword(password);
        if (h.ok()) rehashed = std::move(*h);
    }
    TB_CO_RETURN_IF_ERROR(co_await ReloadKeysIfRotated());
    SignedIn out;
    NewSession started;
    int64_t now = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await UserStore::SetLastLogin(tx, user.id, now));
        if (rehashed)
            TB_CO_RETURN_IF_ERROR(co_await UserStore::SetPasswordHash(tx, user.id, *rehashed, now));
        TB_CO_ASSIGN_OR_RETURN(started,
                               co_await StartSession(tx, user, client, tid, "login.succeeded"));
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    TB_CO_ASSIGN_OR_RETURN(out.tokens, co_await SignTokens(user, started));
    user.last_login_at = now;
    out.user = std::move(user);
    out.tenants = std::move(memberships);
    co_return out;
}

Task<Result<TokenPair>> AuthService::Refresh(std::string token,
                                             std::optional<std::string> tenant_id,
                                             ClientInfo client) {
    if (token.empty() || token.size() > 256) co_return InvalidRefresh();
    std::string hash = Sha256Hex(token);
    TB_CO_RETURN_IF_ERROR(co_await ReloadKeysIfRotated());
    int64_t now = Now();
    std::optional<Error> refused;  // committed, but answered with this error
    std::optional<std::string> revoked_user;
    NewSession issue;  // what to sign once the refresh is committed
    User owner;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        refused.reset();  // set by this run only: a transaction may run again
        revoked_user.reset();
        auto found = co_await session_store::FindRefresh(tx, hash);
        if (!found.ok()) co_return std::move(found).error();
        if (!*found) {
            refused = InvalidRefresh();
            co_return Status{};
        }
        RefreshRow row = **found;
        auto session = co_await session_store::FindSession(tx, row.session_id);
        if (!session.ok()) co_return std::move(session).error();
        if (!*session || (*session)->revoked_at || (*session)->expires_at <= now ||
            row.expires_at <= now) {
            refused = InvalidRefresh();
            co_return Status{};
        }
        // Idle: the token was issued by the session's last refresh (or its login) longer ago
        // than the idle limit (issue #29). A retired token within the grace window is recent.
        if (settings_.session_idle_seconds > 0 && !row.used_at &&
            now - row.created_at > settings_.session_idle_seconds * 1000) {
            refused = InvalidRefresh();
            co_return Status{};
        }
        auto user = co_await UserStore::FindById(tx, (*session)->user_id);
        if (!user.ok()) co_return std::move(user).error();
        if (!*user) {
            refused = InvalidRefresh();
            co_return Status{};
        }
        if (!(*user)->is_active) {  // as login and /me answer it (API.md §2.2)
            refused = Error::Forbidden("Inactive user");
            co_return Status{};
        }
        // Invariant 1: a token retired within the grace window gets a fresh child of its
        // own, and nothing is retired or revoked: several tabs refreshing the same token at
        // once, or a client whose response was lost, all stay signed in, each with a token
        // of the same session. Only a reuse after the window is theft.
        bool grace = settings_.refresh_grace_seconds > 0;
        if (row.used_at) {
            if (!grace || now - *row.used_at > settings_.refresh_grace_seconds * 1000) {
                TB_CO_RETURN_IF_ERROR(
                    co_await session_store::RevokeSession(tx, row.session_id, now));
                audit::Event e = Event("refresh.reuse_detected", client);
                e.tenant_id = (*session)->tenant_id;
                e.actor = e.target = (*user)->id;
                e.details["session_id"] = row.session_id;
                TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
                revoked_user = (*user)->id;
                refused = InvalidRefresh();
                co_return Status{};
            }
        } else {
            auto marked = co_await session_store::MarkUsed(tx, hash, now);
            if (!marked.ok()) co_return std::move(marked).error();
            // A concurrent refresh retired it a moment ago (PostgreSQL): within the window by
            // definition; with no window, this one loses, and nothing is revoked.
            if (!*marked && !grace) {
                refused = InvalidRefresh();
                co_return Status{};
            }
        }
        std::optional<std::string> tid = (*session)->tenant_id;
        if (tenant_id && tid != tenant_id) {
            // Moving the session to another tenant: a member only (a refused move retires
            // nothing: the transaction rolls back).
            bool member = false;
            if (tenants_) {
                auto is = co_await tenants_->IsMember(tx, (*user)->id, *tenant_id);
                if (!is.ok()) co_return std::move(is).error();
                member = *is;
            }
            if (!member) co_return Error::NotFound("Tenant not found");
            TB_CO_RETURN_IF_ERROR(
                co_await session_store::SetTenant(tx, row.session_id, *tenant_id));
            tid = tenant_id;
        }
        std::string next = RandomToken(32);
        RefreshRow child{Sha256Hex(next), row.session_id, hash, now, (*session)->expires_at, {}};
        TB_CO_RETURN_IF_ERROR(co_await session_store::InsertRefresh(tx, child));
        issue = NewSession{row.session_id, tid, std::move(next)};
        owner = std::move(**user);
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    if (revoked_user) cache_.InvalidateUser(*revoked_user);
    if (refused) co_return std::move(*refused);
    co_return co_await SignTokens(owner, issue);
}

Task<Status> AuthService::Logout(const Principal& who, std::optional<std::string> refresh_token,
                                 bool all, ClientInfo client) {
    int64_t now = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        if (all) {
            TB_CO_RETURN_IF_ERROR(
                co_await session_store::RevokeUserSessions(tx, who.user->id, "", now));
        } else {
            TB_CO_RETURN_IF_ERROR(co_await session_store::RevokeSession(tx, who.session_id, now));
        }
        if (refresh_token && !refresh_token->empty()) {
            // Also end the session of the given refresh token, when it is the caller's.
            auto found = co_await session_store::FindRefresh(tx, Sha256Hex(*refresh_token));
            if (!found.ok()) co_return std::move(found).error();
            if (*found) {
                auto s = co_await session_store::FindSession(tx, (*found)->session_id);
                if (!s.ok()) co_return std::move(s).error();
                if (*s && (*s)->user_id == who.user->id) {
                    TB_CO_RETURN_IF_ERROR(co_await session_store::RevokeSession(tx, (*s)->id, now));
                }
            }
        }
        audit::Event e = Event(all ? "logout.all" : "logout", client);
        e.tenant_id = who.tenant_id;
        e.actor = e.target = who.user->id;
        co_return co_await audit_.Record(tx, e);
    };
    Status st = co_await db_.Transaction(fn);
    cache_.InvalidateUser(who.user->id);
    // Whatever else holds the session (realtime streams) lets go too: one session, or every
    // session of the user.
    if (st.ok() && bus_) {
        if (all) {
            bus_->Publish("user", who.user->id);
        } else if (!who.session_id.empty()) {
            bus_->Publish("session", who.session_id);
        }
    }
    co_return st;
}

namespace {

// Invariant 2: the session and the user are checked on every request.
Result<Principal> SessionPrincipal(const AuthCache::Token& claims, AuthCache::SessionState state) {
    if (!state.live || state.user->id != claims.sub) return Error::Unauthorized("Session revoked");
    if (!state.user->is_active) return Error::Forbidden("Inactive user");
    return Principal{std::move(state.user), claims.sid, claims.tid, nullptr};
}

}  // namespace

std::optional<Result<Principal>> AuthService::AuthenticateCached(std::string_view bearer) {
    int64_t now = Now();
    std::optional<AuthCache::Token> claims = cache_.FindToken(bearer, now);
    if (!claims) return std::nullopt;
    std::optional<AuthCache::SessionState> state = cache_.FindSession(claims->sid, now);
    if (!state) return std::nullopt;
    return SessionPrincipal(*claims, std::move(*state));
}

Task<Result<Principal>> AuthService::Authenticate(std::string_view bearer) {
    if (auto hit = AuthenticateCached(bearer)) co_return std::move(*hit);
    int64_t now = Now();
    std::optional<AuthCache::Token> claims = cache_.FindToken(bearer, now);
    if (!claims) {
        auto r = ring();
        if (!r) co_return Error::Unavailable("Server starting", "no signing keys loaded");
        auto verified = codec_.Verify(*r, bearer, clock_.Now());
        if (!verified.ok() && verified.error().message == "Invalid token") {
            // Perhaps a key added since we loaded ours.
            (void)co_await ReloadKeysIfStale();
            if (auto again = ring(); again != r)
                verified = codec_.Verify(*again, bearer, clock_.Now());
        }
        if (!verified.ok()) co_return std::move(verified).error();
        auto sid = verified->if_contains("sid");
        auto sub = verified->if_contains("sub");
        auto exp = verified->if_contains("exp");
        if (!sid || !sid->is_string() || !sub || !sub->is_string() || !exp || !exp->is_int64()) {
            co_return Error::Unauthorized("Invalid token");
        }
        AuthCache::Token entry{std::string(sub->as_string()), std::string(sid->as_string()),
                               std::nullopt, exp->as_int64() * 1000};
        if (auto tid = verified->if_contains("tid"); tid && tid->is_string())
            entry.tid = std::string(tid->as_string());
        cache_.PutToken(std::string(bearer), entry);
        claims = std::move(entry);
    }
    // Invariant 2: the session and the user are checked on every request (through a cache
    // that this node's changes invalidate at once).
    std::optional<AuthCache::SessionState> state = cache_.FindSession(claims->sid, now);
    if (!state) {
        auto session = co_await session_store::FindSession(db_, claims->sid);
        if (!session.ok()) co_return std::move(session).error();
        AuthCache::SessionState fresh;
        fresh.fetched_ms = now;
        if (*session && !(*session)->revoked_at && (*session)->expires_at > now) {
            auto user = co_await UserStore::FindById(db_, (*session)->user_id);
            if (!user.ok()) co_return std::move(user).error();
            if (*user) {
                fresh.user = std::make_shared<const User>(std::move(**user));
                fresh.live = true;
            }
        }
        cache_.PutSession(claims->sid, fresh);
        state = std::move(fresh);
    }
    co_return SessionPrincipal(*claims, std::move(*state));
}

Task<Result<User>> AuthService::UpdateName(const Principal& who, std::string name) {
    if (Utf8Length(name) > 200)
        co_return Error::Validation("name", "Name must be at most 200 characters");
    int64_t now = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        co_return co_await UserStore::SetName(tx, who.user->id, name, now);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    cache_.InvalidateUser(who.user->id);
    User user = *who.user;
    user.name = name;
    user.updated_at = now;
    co_return user;
}

Task<Status> AuthService::ChangePassword(const Principal& who, std::string current,
                                         std::string next, ClientInfo client) {
    TB_CO_RETURN_IF_ERROR(CheckPassword(next, settings_.password_min_length, "new_password"));
    TB_CO_RETURN_IF_ERROR(CheckPasswordLength(current, "current_password"));
    auto ok = co_await VerifyPassword(who.user->password_hash, current);
    if (!ok.ok()) co_return std::move(ok).error();
    if (!*ok) co_return Error::Validation("current_password", "Current password is incorrect");
    auto hash = co_await HashPassword(next);
    if (!hash.ok()) co_return std::move(hash).error();
    int64_t now = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_RETURN_IF_ERROR(co_await UserStore::SetPasswordHash(tx, who.user->id, *hash, now));
        TB_CO_RETURN_IF_ERROR(
            co_await session_store::RevokeUserSessions(tx, who.user->id, who.session_id, now));
        audit::Event e = Event("password.changed", client);
        e.tenant_id = who.tenant_id;
        e.actor = e.target = who.user->id;
        co_return co_await audit_.Record(tx, e);
    };
    Status st = co_await db_.Transaction(fn);
    cache_.InvalidateUser(who.user->id);
    co_return st;
}

}  // namespace tb::auth
