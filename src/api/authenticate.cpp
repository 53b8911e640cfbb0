#include "api/authenticate.h"

#include "api/accounting.h"
#include "common/strings.h"

namespace tb::api {

std::string UserAgent(const http::Request& request) {
    return ToValidUtf8(request.headers.Get("user-agent"), 512);
}

auth::ClientInfo Client(const http::Request& request) {
    return {request.remote_ip, UserAgent(request)};
}

namespace {

// What a request presents: a session's access token or an API key (one of them non-empty).
struct Credentials {
    std::string_view bearer, key;
};

Result<Credentials> ReadCredentials(const http::Request& request) {
    std::string_view header = Trim(request.headers.Get("authorization"));
    Credentials c{{}, Trim(request.headers.Get("x-api-key"))};
    if (!header.empty()) {
        if (header.size() < 7 || !IEquals(header.substr(0, 7), "Bearer "))
            return Error::Unauthorized("Authorization must be a Bearer token");
        c.bearer = Trim(header.substr(7));
        if (auth::LooksLikeApiKey(c.bearer)) {
            c.key = c.bearer;
            c.bearer = {};
        }
    }
    if (c.bearer.empty() && c.key.empty()) return Error::Unauthorized("Authentication required");
    return c;
}

// The principal of a found key. The user and the key stay inside the cached credential
// (aliasing pointers).
Result<auth::Principal> KeyPrincipal(Result<std::shared_ptr<const auth::KeyCredential>> cred,
                                     http::RouteContext& ctx) {
    if (!cred.ok()) return std::move(cred).error();
    const std::shared_ptr<const auth::KeyCredential>& c = *cred;
    if (c->key.IsCorsKey()) ctx.cors_allowed = true;
    return auth::Principal{auth::UserRef(c, &c->owner), "", c->key.tenant_id,
                           std::shared_ptr<const auth::ApiKey>(c, &c->key)};
}

// Authenticate's answer when the caches decide it, without a coroutine; nullopt: ask
// Authenticate.
std::optional<Result<auth::Principal>> AuthenticateCached(Services& s, const http::Request& request,
                                                          http::RouteContext& ctx) {
    auto creds = ReadCredentials(request);
    if (!creds.ok()) return std::move(creds).error();
    if (!creds->bearer.empty()) return s.auth.AuthenticateCached(creds->bearer);
    auto cred = s.api_keys.AuthenticateCached(creds->key, request.headers.Get("origin"));
    if (!cred) return std::nullopt;
    return KeyPrincipal(std::move(*cred), ctx);
}

// The credentials of a request, resolved; nothing charged. The services try their caches
// first (the callers here have tried AuthenticateCached already).
Task<Result<auth::Principal>> Authenticate(Services& s, const http::Request& request,
                                           http::RouteContext& ctx) {
    auto creds = ReadCredentials(request);
    if (!creds.ok()) co_return std::move(creds).error();
    if (!creds->bearer.empty()) co_return co_await s.auth.Authenticate(creds->bearer);
    auto cred = co_await s.api_keys.Authenticate(creds->key, request.headers.Get("origin"));
    co_return KeyPrincipal(std::move(cred), ctx);
}

// Bad credentials count against the client IP's anonymous budget (API.md §13): past it the
// answer is 429, not 401, so that guessing keys or tokens is throttled too.
Task<Error> CredentialsRefused(Services& s, const http::Request& request, http::RouteContext& ctx,
                               Error error) {
    if (auto refused = co_await ChargeAnonymous(s, request, ctx)) co_return std::move(*refused);
    co_return error;
}

// An answer already in hand, as the awaitable the callers expect: one small frame.
template <class T>
Task<T> Ready(T value) {
    co_return value;
}

// The tenant a principal's credential names, for CORS on routes outside a tenant.
void NoteCorsTenant(const auth::Principal& who, http::RouteContext& ctx) {
    if (who.tenant_id) ctx.cors_tenant = *who.tenant_id;
}

Task<Result<auth::Principal>> RequirePrincipalFully(Services& s, const http::Request& request,
                                                    http::RouteContext& ctx) {
    auto who = co_await Authenticate(s, request, ctx);
    if (!who.ok()) co_return co_await CredentialsRefused(s, request, ctx, std::move(who).error());
    NoteCorsTenant(*who, ctx);
    // Outside a tenant context: the budget has the default plan's limit.
    if (auto refused = co_await ChargePrincipalFully(s, *who, ctx)) co_return std::move(*refused);
    co_return who;
}

}  // namespace

// Not a coroutine: the caches answer the common case; the full path runs otherwise.
Task<Result<auth::Principal>> RequirePrincipal(Services& s, const http::Request& request,
                                               http::RouteContext& ctx) {
    auto who = AuthenticateCached(s, request, ctx);
    if (!who || !who->ok()) return RequirePrincipalFully(s, request, ctx);
    Charged charged = ChargePrincipal(s, **who, ctx);
    if (!charged.decided) return RequirePrincipalFully(s, request, ctx);
    NoteCorsTenant(**who, ctx);
    if (charged.refusal) return Ready(Result<auth::Principal>(std::move(*charged.refusal)));
    return Ready(std::move(*who));
}

Task<Result<auth::Principal>> RequireSession(Services& s, const http::Request& request,
                                             http::RouteContext& ctx) {
    auto who = co_await RequirePrincipal(s, request, ctx);
    if (who.ok() && who->api_key)
        co_return Error::Forbidden("This endpoint needs a signed-in user, not an API key");
    co_return who;
}

namespace {

// RequireCaller's last step, once the budget is charged (whatever the answer; with the limit
// of the tenant's plan when the request entered one). The tenant's own allowed origins
// (settings.cors_origins) open its responses to them.
Result<tenancy::Caller> Admitted(Services& s, const http::Request& request, http::RouteContext& ctx,
                                 std::optional<Error> refused, Result<tenancy::Caller> caller) {
    if (refused) return std::move(*refused);
    std::string_view origin = request.headers.Get("origin");
    if (caller.ok() && caller->tenant && !origin.empty() &&
        s.tenants.TenantAllowsOrigin(caller->tenant->id(), origin))
        ctx.cors_allowed = true;
    return caller;
}

// RequireCaller when the caches answer every step, without its coroutines; nullopt: the full
// path, which also charges refused credentials and budgets that need the database.
std::optional<Result<tenancy::Caller>> CallerFromCaches(Services& s, const http::Request& request,
                                                        http::RouteContext& ctx) {
    auto who = AuthenticateCached(s, request, ctx);
    if (!who || !who->ok()) return std::nullopt;
    auto caller = s.tenants.ResolveCached(**who, request.headers.Get("x-tenant-id"),
                                          request.remote_ip, UserAgent(request));
    if (!caller) return std::nullopt;
    Charged charged =
        caller->ok() ? ChargeCaller(s, **caller, ctx) : ChargePrincipal(s, **who, ctx);
    if (!charged.decided) return std::nullopt;
    return Admitted(s, request, ctx, std::move(charged.refusal), std::move(*caller));
}

Task<Result<tenancy::Caller>> RequireCallerFully(Services& s, const http::Request& request,
                                                 http::RouteContext& ctx, bool require_tenant) {
    auto who = co_await Authenticate(s, request, ctx);
    if (!who.ok()) co_return co_await CredentialsRefused(s, request, ctx, std::move(who).error());
    auto caller = co_await s.tenants.Resolve(*who, request.headers.Get("x-tenant-id"),
                                             require_tenant, request.remote_ip, UserAgent(request));
    std::optional<Error> refused;
    if (caller.ok()) {
        refused = co_await ChargeCallerFully(s, *caller, ctx);
    } else {
        refused = co_await ChargePrincipalFully(s, *who, ctx);
    }
    co_return Admitted(s, request, ctx, std::move(refused), std::move(caller));
}

}  // namespace

// Not a coroutine: the common case is answered by the caches and handed over in one small
// frame; the full path runs otherwise.
Task<Result<tenancy::Caller>> RequireCaller(Services& s, const http::Request& request,
                                            http::RouteContext& ctx, bool require_tenant) {
    if (auto fast = CallerFromCaches(s, request, ctx)) return Ready(std::move(*fast));
    return RequireCallerFully(s, request, ctx, require_tenant);
}

namespace {

Task<Result<tenancy::Caller>> Visitor(Services& s, const http::Request& request,
                                      http::RouteContext& ctx) {
    auto visitor = co_await s.tenants.ResolveAnonymous(request.headers.Get("x-tenant-id"),
                                                       request.remote_ip, UserAgent(request));
    if (visitor.ok()) (void)ChargeCaller(s, *visitor, ctx);  // records the tenant
    co_return visitor;
}

}  // namespace

// Not a coroutine: it hands over the awaitable of the path it picks (one frame fewer).
Task<Result<tenancy::Caller>> RequireCallerOrVisitor(Services& s, const http::Request& request,
                                                     http::RouteContext& ctx) {
    bool credentials = !Trim(request.headers.Get("authorization")).empty() ||
                       !Trim(request.headers.Get("x-api-key")).empty();
    if (credentials) return RequireCaller(s, request, ctx, true);
    return Visitor(s, request, ctx);
}

Result<auth::KeyActor> KeyManager(const tenancy::Caller& who) {
    if (who.api_key && !who.api_key->HasScope("admin")) {
        return Error::Forbidden("Managing API keys needs the admin scope");
    }
    TB_RETURN_IF_ERROR(who.CanRead());
    auth::KeyActor actor{*who.user, std::nullopt, who.ip, who.user_agent, who.tenant, false, {}};
    if (who.api_key) actor.via_key_id = who.api_key->id;
    auto role = who.EffectiveRole();
    actor.sees_all = who.AtLeastRole(tenancy::Role::kAdmin);
    actor.rights = tenancy::ScopesOf(role.value_or(tenancy::Role::kViewer));
    if (who.api_key) {  // a key hands out no more than it holds
        std::erase_if(actor.rights,
                      [&](const std::string& sc) { return !who.api_key->HasScope(sc); });
    }
    return actor;
}

}  // namespace tb::api
