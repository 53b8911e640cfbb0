#include "tenancy/tenant_service.h"

#include <algorithm>
#include <array>

#include "common/email.h"
#include "common/encoding.h"
#include "common/strings.h"
#include "tenancy/member_rows.h"
#include "tenancy/names.h"

namespace tb::tenancy {

using auth::TenantMembership;
using detail::kMemberColumns;
using detail::kMemberFrom;
using detail::MemberFromRow;
using detail::TenantHidden;
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

namespace {

constexpr const char* kTenantColumns =
    "t.id, t.name, t.slug, t.plan, t.status, t.settings, t.member_count, t.created_at, "
    "t.updated_at";

Tenant TenantFromRow(const std::vector<storage::Value>& r) {
    Tenant t;
    t.id = AsText(r[0]);
    t.name = AsText(r[1]);
    t.slug = AsText(r[2]);
    t.plan = AsText(r[3]);
    t.status = AsText(r[4]);
    auto settings = ParseStoredJson(AsText(r[5]));
    if (settings.ok() && settings->is_object()) t.settings = std::move(settings->as_object());
    t.member_count = AsInt(r[6]);
    t.created_at = AsInt(r[7]);
    t.updated_at = AsInt(r[8]);
    if (r.size() > 9 && !IsNull(r[9])) t.role = AsText(r[9]);
    return t;
}

Status ValidateSettings(const json::object& settings) {
    if (WriteJson(settings).size() > size_t{16} * 1024)
        return Error::Validation("settings", "settings must be at most 16 KiB");
    if (auto it = settings.find("cors_origins"); it != settings.end()) {
        if (!it->value().is_array())
            return Error::Validation("settings.cors_origins", "cors_origins must be an array");
        std::vector<std::string> origins;
        for (const auto& o : it->value().as_array()) {
            if (!o.is_string())
                return Error::Validation("settings.cors_origins", "cors_origins must be strings");
            origins.emplace_back(o.as_string());
        }
        Status st = auth::ValidateOrigins(origins);
        if (!st.ok()) return Error::Validation("settings.cors_origins", st.error().message);
    }
    return {};
}

}  // namespace

const query::Resource& TenantsResource() {
    using query::Type;
    static const query::Resource r{"tenants",
                                   "t.id",
                                   {{"id", "t.id", Type::kId},
                                    {"name", "t.name", Type::kText},
                                    {"slug", "t.slug", Type::kText},
                                    {"plan", "t.plan", Type::kText},
                                    {"status", "t.status", Type::kText},
                                    {"member_count", "t.member_count", Type::kInt},
                                    {"created_at", "t.created_at", Type::kTime},
                                    {"updated_at", "t.updated_at", Type::kTime},
                                    {"role", "m.role", Type::kText, true}}};
    return r;
}

const query::Resource& MembersResource() {
    using query::Type;
    static const query::Resource r{"members",
                                   "m.user_id",
                                   {{"user_id", "m.user_id", Type::kId},
                                    {"email", "u.email", Type::kText},
                                    {"name", "u.name", Type::kText},
                                    {"role", "m.role", Type::kText},
                                    {"joined_at", "m.joined_at", Type::kTime}}};
    return r;
}

const query::Resource& UsersResource() {
    using query::Type;
    static const query::Resource r{"users",
                                   "m.user_id",
                                   {{"id", "m.user_id", Type::kId},
                                    {"email", "u.email", Type::kText},
                                    {"name", "u.name", Type::kText},
                                    {"role", "m.role", Type::kText},
                                    {"email_verified", "u.email_verified", Type::kBool},
                                    {"is_active", "u.is_active", Type::kBool},
                                    {"is_admin", "u.is_admin", Type::kBool},
                                    // The membership's copy: sorted from an index.
                                    {"created_at", "m.user_created_at", Type::kTime},
                                    {"updated_at", "u.updated_at", Type::kTime},
                                    {"last_login_at", "u.last_login_at", Type::kTime, true},
                                    {"joined_at", "m.joined_at", Type::kTime}},
                                   {"purge"},
                                   false,
                                   false,
                                   false,
                                   {{"active", "is_active"}}};
    return r;
}

TenantService::TenantService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                             audit::AuditLog& audit, InvalidationBus& bus, TenancySettings settings)
    : db_(db), ids_(ids), clock_(clock), audit_(audit), bus_(bus), settings_(std::move(settings)) {
    bus_.Subscribe("membership", [this](const std::string& user_id) { ForgetUser(user_id); });
    bus_.Subscribe("user", [this](const std::string& user_id) { ForgetUser(user_id); });
    auto forget_all = [this](const std::string&) {
        // Tenant name, plan or status changed, or the tenant is gone: every user may hold it.
        std::lock_guard lock(mu_);
        cache_.clear();
        plans_.clear();
    };
    bus_.Subscribe("tenant", forget_all);
    bus_.Subscribe("*", forget_all);
}

const limits::PlanCatalog& TenantService::Plans() const {
    static const limits::PlanCatalog kBuiltIn(limits::DefaultPlans(), "free", {});
    return settings_.catalog ? *settings_.catalog : kBuiltIn;
}

void TenantService::ForgetUser(const std::string& user_id) {
    std::lock_guard lock(mu_);
    cache_.erase(user_id);
}

// ---- Memberships and the request's tenant ------------------------------------------------

std::optional<std::shared_ptr<const TenantMembership>> TenantService::CachedMembership(
    std::string_view user_id, std::string_view tenant_id) {
    int64_t now = Now();
    std::lock_guard lock(mu_);
    auto u = cache_.find(user_id);
    if (u == cache_.end()) return std::nullopt;
    auto it = u->second.in.find(tenant_id);
    if (it == u->second.in.end() || now - it->second.second >= settings_.cache.ms())
        return std::nullopt;
    return it->second.first;
}

Task<Result<std::shared_ptr<const TenantMembership>>> TenantService::MembershipIn(
    const std::string& user_id, const std::string& tenant_id) {
    if (auto hit = CachedMembership(user_id, tenant_id)) co_return std::move(*hit);
    int64_t now = Now();
    auto rows = co_await db_.Query(
        "SELECT t.id, t.name, t.slug, t.plan, t.status, m.role, m.joined_at FROM memberships m "
        "JOIN tenants t ON t.id = m.tenant_id WHERE m.tenant_id = ? AND m.user_id = ?",
        Bind(tenant_id, user_id));
    if (!rows.ok()) co_return std::move(rows).error();
    std::shared_ptr<const TenantMembership> found;
    if (!rows->empty()) {
        const auto& r = rows->rows[0];
        found = std::make_shared<const TenantMembership>(
            TenantMembership{AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3]), AsText(r[4]),
                             AsText(r[5]), AsInt(r[6])});
    }
    std::lock_guard lock(mu_);
    if (cache_.size() >= 100'000) cache_.clear();
    auto& entry = cache_[user_id];
    if (entry.in.size() >= 1000) entry.in.clear();
    entry.in[tenant_id] = {found, now};
    co_return found;
}

Task<Result<std::vector<TenantMembership>>> TenantService::MembershipsOf(
    const std::string& user_id) {
    int64_t now = Now();
    {
        std::lock_guard lock(mu_);
        auto u = cache_.find(user_id);
        if (u != cache_.end() && u->second.all && now - u->second.all_ms < settings_.cache.ms())
            co_return *u->second.all;
    }
    auto rows = co_await db_.Query(
        "SELECT t.id, t.name, t.slug, t.plan, t.status, m.role, m.joined_at FROM memberships m "
        "JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = ? ORDER BY m.joined_at, t.id "
        "LIMIT 1000",
        Bind(user_id));
    if (!rows.ok()) co_return std::move(rows).error();
    std::vector<TenantMembership> all;
    for (const auto& r : rows->rows) {
        all.push_back({AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3]), AsText(r[4]),
                       AsText(r[5]), AsInt(r[6])});
    }
    std::lock_guard lock(mu_);
    if (cache_.size() >= 100'000) cache_.clear();
    auto& entry = cache_[user_id];
    entry.all = all;
    entry.all_ms = now;
    co_return all;
}

Task<Result<bool>> TenantService::IsMember(Session& s, const std::string& user_id,
                                           const std::string& tenant_id) {
    auto rows = co_await s.Query("SELECT 1 FROM memberships WHERE tenant_id = ? AND user_id = ?",
                                 Bind(tenant_id, user_id));
    if (!rows.ok()) co_return std::move(rows).error();
    co_return !rows->empty();
}

Task<Result<std::string>> TenantService::PlanOf(const std::string& tenant_id) {
    int64_t now = Now();
    {
        std::lock_guard lock(mu_);
        auto it = plans_.find(tenant_id);
        if (it != plans_.end() && now - it->second.second < settings_.cache.ms())
            co_return it->second.first;
    }
    TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, tenant_id));
    std::string plan = tenant ? tenant->plan : "";
    std::lock_guard lock(mu_);
    if (plans_.size() > 10'000) plans_.clear();  // ids nobody asked for again must not pile up
    plans_[tenant_id] = {plan, now};
    co_return plan;
}

Task<Result<Caller>> TenantService::ResolveAnonymous(std::string_view header, std::string ip,
                                                     std::string user_agent) {
    std::string wanted(Trim(header).substr(0, 64));
    // Not an id (invalid UTF-8 among them): no tenant has it, and it never reaches SQL.
    if (wanted.empty() || !IsUuid(wanted)) co_return Error::Unauthorized("Authentication required");
    TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, wanted));
    if (!tenant || tenant->status != "active")
        co_return Error::Unauthorized("Authentication required");
    Caller c;
    c.tenant = TenantScope::Of(tenant->id);
    c.plan = tenant->plan;
    c.ip = std::move(ip);
    c.user_agent = std::move(user_agent);
    c.anonymous = true;
    co_return c;
}

namespace {

// The tenant a request names for its principal: an API key's own (API.md §13: an X-Tenant-ID
// naming another is refused alike), else X-Tenant-ID, else the token's tid. "" for a user
// who names none (Resolve then takes the first membership).
Result<std::string_view> NamedTenant(const auth::Principal& p, std::string_view header) {
    if (p.api_key) {
        std::string_view bound =
            p.api_key->tenant_id ? std::string_view(*p.api_key->tenant_id) : std::string_view();
        if (!header.empty() && header != bound)
            return Error::Forbidden("This API key is bound to another tenant");
        return bound;
    }
    // Not an id (invalid UTF-8 among them): no tenant has it, and it never reaches SQL.
    if (!header.empty())
        return IsUuid(header) ? header : Result<std::string_view>(TenantNotFound());
    if (p.tenant_id) return std::string_view(*p.tenant_id);
    return std::string_view();
}

// The caller inside a tenant it is a member of.
Result<Caller> AdmitMember(Caller c, const TenantMembership& m) {
    if (m.status != "active" && !c.platform_admin()) return Error::Forbidden("Tenant suspended");
    c.tenant = TenantScope::Of(m.tenant_id);
    c.plan = m.plan;
    c.role = ParseRole(m.role);
    return c;
}

}  // namespace

std::optional<Result<Caller>> TenantService::ResolveCached(const auth::Principal& p,
                                                           std::string_view header,
                                                           const std::string& ip,
                                                           const std::string& user_agent) {
    header = Trim(header);
    auto named = NamedTenant(p, header);
    if (!named.ok()) return std::move(named).error();
    if (named->empty() && !p.api_key) return std::nullopt;  // the first membership: Resolve
    auto hit = CachedMembership(p.user->id, *named);
    if (!hit) return std::nullopt;
    if (!*hit) {
        if (p.api_key) return Error::Unauthorized("Invalid API key");
        return std::nullopt;  // not a member: Resolve answers (a platform admin may enter)
    }
    Caller c{p.user, p.api_key, std::nullopt, std::nullopt, ip, user_agent};
    c.session_id = p.session_id;
    return AdmitMember(std::move(c), **hit);
}

Task<Result<Caller>> TenantService::Resolve(const auth::Principal& p, std::string_view header,
                                            bool require, std::string ip, std::string user_agent) {
    if (auto hit = ResolveCached(p, header, ip, user_agent)) co_return std::move(*hit);
    Caller c{p.user, p.api_key, std::nullopt, std::nullopt, std::move(ip), std::move(user_agent)};
    c.session_id = p.session_id;
    TB_CO_ASSIGN_OR_RETURN(std::string_view named, NamedTenant(p, Trim(header)));
    std::string wanted(named);
    if (!p.api_key && wanted.empty()) {
        TB_CO_ASSIGN_OR_RETURN(auto all, co_await MembershipsOf(p.user->id));
        if (!all.empty()) wanted = all.front().tenant_id;
        if (wanted.empty()) {
            if (require) co_return Error::NotFound("No tenant selected: send X-Tenant-ID");
            co_return c;
        }
    }
    TB_CO_ASSIGN_OR_RETURN(auto membership, co_await MembershipIn(p.user->id, wanted));
    if (membership) co_return AdmitMember(std::move(c), *membership);
    // The owner of a key left the tenant: the key acts for nobody there any more.
    if (p.api_key) co_return Error::Unauthorized("Invalid API key");
    if (!p.user->is_admin) co_return TenantHidden();
    // A platform admin enters any existing tenant, with no role of their own.
    TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, wanted));
    if (!tenant) co_return TenantNotFound();
    c.tenant = TenantScope::Of(tenant->id);
    c.plan = tenant->plan;
    co_return c;
}

Task<Result<Caller>> TenantService::Enter(const Caller& who, const std::string& tenant_id) {
    if (who.tenant && who.tenant->id() == tenant_id) co_return who;
    // Another tenant than the request's: a key never leaves its own; a user enters tenants
    // they belong to; a platform admin any existing one.
    if (who.api_key) co_return TenantHidden();
    Caller c = who;
    c.role.reset();
    TB_CO_ASSIGN_OR_RETURN(auto membership, co_await MembershipIn(who.user->id, tenant_id));
    if (membership) {
        if (membership->status != "active" && !who.platform_admin())
            co_return Error::Forbidden("Tenant suspended");
        c.tenant = TenantScope::Of(membership->tenant_id);
        c.plan = membership->plan;
        c.role = ParseRole(membership->role);
        co_return c;
    }
    if (!who.platform_admin()) co_return TenantHidden();
    TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, tenant_id));
    if (!tenant) co_return TenantNotFound();
    c.tenant = TenantScope::Of(tenant->id);
    c.plan = tenant->plan;
    co_return c;
}

Task<Status> TenantService::Authorize(const Caller& who, const std::string& tenant_id,
                                      Access access) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, tenant_id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    if (access == Access::kManage) TB_CO_RETURN_IF_ERROR(in.CanManage());
    if (access == Access::kOwner) {
        if (in.api_key && !in.api_key->HasScope("admin"))
            co_return Error::Forbidden("This API key lacks the admin scope");
        if (!in.AtLeastRole(Role::kOwner)) co_return Error::Forbidden("Needs the owner role");
    }
    co_return Status{};
}

// ---- CORS origins of tenants -------------------------------------------------------------------

bool TenantService::AnyTenantAllowsOrigin(std::string_view origin) const {
    std::lock_guard lock(cors_mu_);
    return cors_ && cors_->all.count(origin) > 0;
}

bool TenantService::TenantAllowsOrigin(const std::string& tenant_id,
                                       std::string_view origin) const {
    std::lock_guard lock(cors_mu_);
    if (!cors_) return false;
    auto it = cors_->by_tenant.find(tenant_id);
    if (it == cors_->by_tenant.end()) return false;
    return std::find(it->second.begin(), it->second.end(), origin) != it->second.end();
}

Task<Status> TenantService::RefreshCorsOrigins() {
    // Only tenants whose settings name cors_origins at all (a cheap text filter first).
    auto rows = co_await db_.Query(
        "SELECT id, settings FROM tenants WHERE settings LIKE '%cors_origins%'", {});
    if (!rows.ok()) co_return std::move(rows).error();
    auto index = std::make_shared<CorsIndex>();
    for (const auto& r : rows->rows) {
        auto settings = ParseStoredJson(AsText(r[1]));
        if (!settings.ok() || !settings->is_object()) continue;
        auto* origins = settings->as_object().if_contains("cors_origins");
        if (!origins || !origins->is_array()) continue;
        auto& list = index->by_tenant[AsText(r[0])];
        for (const auto& o : origins->as_array()) {
            if (!o.is_string()) continue;
            list.emplace_back(o.as_string());
            index->all.emplace(o.as_string());
        }
    }
    std::lock_guard lock(cors_mu_);
    cors_ = std::move(index);
    co_return Status{};
}

// ---- Tenants --------------------------------------------------------------------------------

Task<Result<std::optional<Tenant>>> TenantService::FindTenant(Session& s, const std::string& id) {
    std::string sql = std::string("SELECT ") + kTenantColumns + " FROM tenants t WHERE t.id = ?";
    auto rows = co_await s.Query(sql, Bind(id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<Tenant>{};
    co_return std::optional<Tenant>(TenantFromRow(rows->rows[0]));
}

Task<Result<std::string>> TenantService::UniqueSlug(Session& tx, const std::string& name) {
    std::string slug = SlugFrom(name);
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto rows = co_await tx.Query("SELECT 1 FROM tenants WHERE slug = ?", Bind(slug));
        if (!rows.ok()) co_return std::move(rows).error();
        if (rows->empty()) co_return slug;
        slug = SlugWithSuffix(SlugFrom(name));
    }
    co_return Error::Conflict("Could not find a free slug", "slug");
}

Task<Result<std::optional<TenantMembership>>> TenantService::CreatePersonalTenant(
    Session& tx, const auth::User& user, const std::string& tenant_name,
    const auth::ClientInfo& client) {
    if (!settings_.personal_on_register) co_return std::optional<TenantMembership>{};
    std::string name = tenant_name;
    if (name.empty()) {
        std::string who =
            user.name.empty() ? user.email.substr(0, user.email.find('@')) : user.name;
        name = who + "'s workspace";
    }
    TB_CO_RETURN_IF_ERROR(CheckName(name, "tenant_name"));
    TB_CO_ASSIGN_OR_RETURN(std::string slug, co_await UniqueSlug(tx, name));
    int64_t now = Now();
    std::string id = ids_.Next();
    auto r = co_await tx.Execute(
        "INSERT INTO tenants (id, name, slug, plan, status, settings, member_count, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'active', '{}', 0, ?, ?)",
        Bind(id, name, slug, settings_.default_plan, now, now));
    if (!r.ok()) co_return std::move(r).error();
    TB_CO_RETURN_IF_ERROR(
        co_await InsertMembership(tx, TenantScope::Of(id), user, Role::kOwner, now));
    audit::Event e;
    e.tenant_id = id;
    e.actor = user.id;
    e.target = id;
    e.action = "tenant.created";
    e.ip = client.ip;
    e.user_agent = client.user_agent.substr(0, 512);
    TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
    co_return std::optional<TenantMembership>(
        TenantMembership{id, name, slug, settings_.default_plan, "active", "owner", now});
}

Task<Result<Page<Tenant>>> TenantService::List(const Caller& who, const query::ListQuery& q) {
    std::string columns = std::string(kTenantColumns) + ", m.role";
    ListSource source;
    if (who.api_key) {  // a key sees its own tenant only, and only with `read` (or `admin`)
        TB_CO_RETURN_IF_ERROR(who.CanRead());
        source = ListSource::Platform(
            columns, "tenants t LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = ?",
            "t.id = ?", Bind(who.user->id, who.api_key->tenant_id.value_or("")));
    } else if (who.platform_admin()) {
        source = ListSource::Platform(
            columns, "tenants t LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = ?",
            "1 = 1", Bind(who.user->id));
        // The join adds the caller's role; it never adds or removes a tenant.
        source.unfiltered_count = "SELECT COUNT(*) FROM tenants";
    } else {
        source = ListSource::Platform(columns, "memberships m JOIN tenants t ON t.id = m.tenant_id",
                                      "m.user_id = ?", Bind(who.user->id));
    }
    auto result = co_await storage::RunList(db_, db_.dialect(), TenantsResource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    Page<Tenant> page{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) page.items.push_back(TenantFromRow(r));
    co_return page;
}

Task<Result<Tenant>> TenantService::Create(const Caller& who, NewTenant in) {
    if (who.api_key) co_return Error::Forbidden("API keys cannot create tenants");
    if (!settings_.self_service && !who.platform_admin())
        co_return Error::Forbidden("Only platform admins create tenants on this instance");
    TB_CO_RETURN_IF_ERROR(CheckName(in.name));
    TB_CO_RETURN_IF_ERROR(CheckSlug(in.slug));
    if (in.plan) {
        if (!who.platform_admin()) co_return Error::Forbidden("Only platform admins set the plan");
        if (!Plans().Find(*in.plan)) co_return Error::Validation("plan", "Unknown plan");
    }
    int64_t now = Now();
    Tenant t;
    t.id = ids_.Next();
    t.name = in.name;
    t.plan = in.plan.value_or(settings_.default_plan);
    t.status = "active";
    t.member_count = 1;
    t.created_at = t.updated_at = now;
    t.role = "owner";
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        if (in.slug) {
            t.slug = *in.slug;
        } else {
            TB_CO_ASSIGN_OR_RETURN(t.slug, co_await UniqueSlug(tx, t.name));
        }
        auto r = co_await tx.Execute(
            "INSERT INTO tenants (id, name, slug, plan, status, settings, member_count, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 'active', '{}', 0, ?, ?)",
            Bind(t.id, t.name, t.slug, t.plan, now, now));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("Slug already taken", "slug");
            co_return std::move(r).error();
        }
        TB_CO_RETURN_IF_ERROR(
            co_await InsertMembership(tx, TenantScope::Of(t.id), *who.user, Role::kOwner, now));
        audit::Event e = who.AuditEvent("tenant.created", t.id);
        e.tenant_id = t.id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", who.user->id);
    co_return t;
}

Task<Result<Tenant>> TenantService::Get(const Caller& who, const std::string& id) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto t, co_await FindTenant(db_, id));
    if (!t) co_return TenantNotFound();
    if (in.role) t->role = std::string(RoleName(*in.role));
    co_return std::move(*t);
}

Task<Result<Tenant>> TenantService::Update(const Caller& who, const std::string& id,
                                           TenantPatch patch) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    // Owner (or a key of an owner with the admin scope, for settings), or a platform admin.
    if (in.api_key && !in.api_key->HasScope("admin"))
        co_return Error::Forbidden("This API key lacks the admin scope");
    if (!in.AtLeastRole(Role::kOwner)) co_return Error::Forbidden("Needs the owner role");
    if ((patch.plan || patch.status) && !in.platform_admin())
        co_return Error::Forbidden("Only platform admins change plan or status");
    if (patch.name) {
        TB_CO_RETURN_IF_ERROR(CheckName(*patch.name));
    }
    TB_CO_RETURN_IF_ERROR(CheckSlug(patch.slug));
    if (patch.plan && !Plans().Find(*patch.plan))
        co_return Error::Validation("plan", "Unknown plan");
    if (patch.status && *patch.status != "active" && *patch.status != "suspended")
        co_return Error::Validation("status", "status must be active or suspended");
    if (patch.settings) {
        TB_CO_RETURN_IF_ERROR(ValidateSettings(*patch.settings));
    }

    Tenant t;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        TB_CO_ASSIGN_OR_RETURN(auto found, co_await FindTenant(tx, id));
        if (!found) co_return TenantNotFound();
        t = std::move(*found);
        if (patch.name) t.name = *patch.name;
        if (patch.slug) t.slug = *patch.slug;
        if (patch.plan) t.plan = *patch.plan;
        if (patch.status) t.status = *patch.status;
        if (patch.settings) t.settings = *patch.settings;
        t.updated_at = Now();
        auto r = co_await tx.Execute(
            "UPDATE tenants SET name = ?, slug = ?, plan = ?, status = ?, settings = ?, "
            "updated_at = ? WHERE id = ?",
            Bind(t.name, t.slug, t.plan, t.status, WriteJson(t.settings), t.updated_at, id));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("Slug already taken", "slug");
            co_return std::move(r).error();
        }
        co_return co_await audit_.Record(tx, in.AuditEvent("tenant.updated", id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("tenant", id);
    if (patch.settings) (void)co_await RefreshCorsOrigins();
    if (in.role) t.role = std::string(RoleName(*in.role));
    co_return t;
}

Task<Status> TenantService::Delete(const Caller& who, const std::string& id) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, id));
    TB_CO_RETURN_IF_ERROR(in.CanRead());
    // Never through an API key, whatever its scopes (API.md §13).
    if (in.api_key) co_return Error::Forbidden("API keys cannot delete tenants");
    if (!in.AtLeastRole(Role::kOwner)) co_return Error::Forbidden("Needs the owner role");
    std::vector<std::string> members;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto rows =
            co_await tx.Query("SELECT user_id FROM memberships WHERE tenant_id = ?", Bind(id));
        if (!rows.ok()) co_return std::move(rows).error();
        members.clear();  // this run's members only: a transaction may run again
        for (const auto& r : rows->rows) members.push_back(AsText(r[0]));
        // Everything the tenant owns, children first; one transaction leaves no orphans.
        static constexpr const char* kPurge[] = {
            "DELETE FROM documents WHERE tenant_id = ?",
            "DELETE FROM collections WHERE tenant_id = ?",
            // File rows and contents kept in the database; contents on disk are removed by the
            // local store's sweep.
            "DELETE FROM file_chunks WHERE tenant_id = ?",
            "DELETE FROM file_uploads WHERE tenant_id = ?",
            "DELETE FROM files WHERE tenant_id = ?",
            "DELETE FROM invitations WHERE tenant_id = ?",
            // Its queued mail (invitations) must not go out once the tenant is gone.
            "DELETE FROM mail_outbox WHERE tenant_id = ?",
            "DELETE FROM organization_members WHERE tenant_id = ?",
            "DELETE FROM organizations WHERE tenant_id = ?",
            "DELETE FROM api_keys WHERE tenant_id = ?",
            "DELETE FROM memberships WHERE tenant_id = ?",
            "DELETE FROM audit_log WHERE tenant_id = ?",
            "DELETE FROM usage_counters WHERE tenant_id = ?",
            "UPDATE sessions SET tenant_id = NULL WHERE tenant_id = ?",
            "DELETE FROM tenants WHERE id = ?",
        };
        // Before the purge: a transaction making a collection (a key share on the tenant) or
        // inserting documents (on their collection, Dialect::ShareRowLock) has committed, and
        // what it wrote goes below, or waits and then finds its parent gone.
        const std::string lock(db_.dialect().ExclusiveRowLock());
        const std::array<std::string, 2> locks = {
            "SELECT 1 FROM tenants WHERE id = ?" + lock,
            "SELECT 1 FROM collections WHERE tenant_id = ?" + lock};
        for (const std::string& sql : locks) {
            auto locked = co_await tx.Query(sql, Bind(id));
            if (!locked.ok()) co_return std::move(locked).error();
        }
        for (const char* sql : kPurge) {
            auto r = co_await tx.Execute(sql, Bind(id));
            if (!r.ok()) co_return std::move(r).error();
        }
        audit::Event e = in.AuditEvent("tenant.deleted", id);
        e.tenant_id.reset();  // the tenant's own log is gone with it
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("tenant", id);
    for (const auto& m : members) bus_.Publish("membership", m);
    (void)co_await RefreshCorsOrigins();
    co_return Status{};
}

}  // namespace tb::tenancy
