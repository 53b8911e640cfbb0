#include "tenancy/tenant_service.h"

#include <algorithm>

#include "auth/email.h"
#include "common/encoding.h"
#include "common/strings.h"

namespace tb::tenancy {

using auth::TenantMembership;
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
constexpr const char* kMemberColumns =
    "u.id, u.email, u.name, u.email_verified, u.is_active, u.is_admin, u.created_at, "
    "u.updated_at, u.last_login_at, m.role, m.joined_at";
constexpr const char* kMemberFrom = "memberships m JOIN users u ON u.id = m.user_id";

Tenant TenantFromRow(const std::vector<storage::Value>& r) {
    Tenant t;
    t.id = AsText(r[0]);
    t.name = AsText(r[1]);
    t.slug = AsText(r[2]);
    t.plan = AsText(r[3]);
    t.status = AsText(r[4]);
    auto settings = ParseJson(AsText(r[5]));
    if (settings.ok() && settings->is_object()) t.settings = std::move(settings->as_object());
    t.member_count = AsInt(r[6]);
    t.created_at = AsInt(r[7]);
    t.updated_at = AsInt(r[8]);
    if (r.size() > 9 && !IsNull(r[9])) t.role = AsText(r[9]);
    return t;
}

Member MemberFromRow(const std::vector<storage::Value>& r) {
    Member m;
    m.user.id = AsText(r[0]);
    m.user.email = AsText(r[1]);
    m.user.name = AsText(r[2]);
    m.user.email_verified = AsInt(r[3]) != 0;
    m.user.is_active = AsInt(r[4]) != 0;
    m.user.is_admin = AsInt(r[5]) != 0;
    m.user.created_at = AsInt(r[6]);
    m.user.updated_at = AsInt(r[7]);
    if (!IsNull(r[8])) m.user.last_login_at = AsInt(r[8]);
    m.role = AsText(r[9]);
    m.joined_at = AsInt(r[10]);
    return m;
}

Error TenantNotFound() { return Error::NotFound("Tenant not found"); }
Error UserNotFound() { return Error::NotFound("User not found"); }

Status ValidateName(const std::string& name, std::string_view field = "name") {
    size_t n = Utf8Length(name);
    if (n == 0 || n > 100)
        return Error::Validation(std::string(field), std::string(field) + " must be 1 to 100 characters");
    return {};
}

Status ValidateSettings(const json::object& settings) {
    if (json::serialize(settings).size() > 16 * 1024)
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

bool IsSlug(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

std::string SlugFrom(std::string_view name) {
    std::string out;
    for (char c : name) {
        char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
        if (ok) {
            out += l;
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
        if (out.size() >= 48) break;
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "tenant" : out;
}

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
                                   {"purge"}};
    return r;
}

TenantService::TenantService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                             audit::AuditLog& audit, InvalidationBus& bus,
                             TenancySettings settings)
    : db_(db), ids_(ids), clock_(clock), audit_(audit), bus_(bus), settings_(std::move(settings)) {
    bus_.Subscribe("membership", [this](const std::string& user_id) { ForgetUser(user_id); });
    bus_.Subscribe("user", [this](const std::string& user_id) { ForgetUser(user_id); });
    bus_.Subscribe("tenant", [this](const std::string&) {
        // Tenant name, plan or status changed, or the tenant is gone: every user may hold it.
        std::lock_guard lock(mu_);
        cache_.clear();
    });
}

void TenantService::ForgetUser(const std::string& user_id) {
    std::lock_guard lock(mu_);
    cache_.erase(user_id);
}

audit::Event TenantService::Event(const Caller& who, std::string action, std::string target) const {
    audit::Event e;
    if (who.tenant) e.tenant_id = who.tenant->id();
    e.actor = who.user.id;
    e.action = std::move(action);
    e.target = std::move(target);
    e.ip = who.ip;
    e.user_agent = who.user_agent.substr(0, 512);
    if (who.api_key) e.details["via_key"] = who.api_key->id;
    return e;
}

// ---- Memberships and the request's tenant ------------------------------------------------

Task<Result<std::optional<TenantMembership>>> TenantService::MembershipIn(
    const std::string& user_id, const std::string& tenant_id) {
    int64_t now = Now();
    {
        std::lock_guard lock(mu_);
        auto u = cache_.find(user_id);
        if (u != cache_.end()) {
            auto it = u->second.in.find(tenant_id);
            if (it != u->second.in.end() && now - it->second.second < settings_.cache_ms)
                co_return it->second.first;
        }
    }
    auto rows = co_await db_.Query(
        "SELECT t.id, t.name, t.slug, t.plan, t.status, m.role, m.joined_at FROM memberships m "
        "JOIN tenants t ON t.id = m.tenant_id WHERE m.tenant_id = ? AND m.user_id = ?",
        Bind(tenant_id, user_id));
    if (!rows.ok()) co_return std::move(rows).error();
    std::optional<TenantMembership> found;
    if (!rows->empty()) {
        const auto& r = rows->rows[0];
        found = TenantMembership{AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3]),
                                 AsText(r[4]), AsText(r[5]), AsInt(r[6])};
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
        if (u != cache_.end() && u->second.all && now - u->second.all_ms < settings_.cache_ms)
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

Task<Result<Caller>> TenantService::Resolve(const auth::Principal& p, std::string_view header,
                                            bool require, std::string ip,
                                            std::string user_agent) {
    Caller c{p.user, p.api_key, std::nullopt, std::nullopt, std::move(ip), std::move(user_agent)};
    header = Trim(header);
    std::optional<TenantMembership> membership;
    if (p.api_key) {
        // A key is bound to its tenant (API.md §13): any other X-Tenant-ID is refused alike.
        const std::string& bound = p.api_key->tenant_id.value_or("");
        if (!header.empty() && header != bound)
            co_return Error::Forbidden("This API key is bound to another tenant");
        TB_CO_ASSIGN_OR_RETURN(membership, co_await MembershipIn(p.user.id, bound));
        // The owner left the tenant: the key acts for nobody there any more.
        if (!membership) co_return Error::Unauthorized("Invalid API key");
    } else {
        std::string wanted;
        if (!header.empty()) {
            wanted = std::string(header.substr(0, 64));
        } else if (p.tenant_id) {
            wanted = *p.tenant_id;
        } else {
            TB_CO_ASSIGN_OR_RETURN(auto all, co_await MembershipsOf(p.user.id));
            if (!all.empty()) wanted = all.front().tenant_id;
        }
        if (wanted.empty()) {
            if (require) co_return Error::NotFound("No tenant selected: send X-Tenant-ID");
            co_return c;
        }
        TB_CO_ASSIGN_OR_RETURN(membership, co_await MembershipIn(p.user.id, wanted));
        if (!membership) {
            if (!p.user.is_admin) co_return TenantNotFound();
            // A platform admin enters any existing tenant, with no role of their own.
            TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, wanted));
            if (!tenant) co_return TenantNotFound();
            c.tenant = TenantScope::Of(tenant->id);
            co_return c;
        }
    }
    if (membership->status != "active" && !c.platform_admin())
        co_return Error::Forbidden("Tenant suspended");
    c.tenant = TenantScope::Of(membership->tenant_id);
    c.role = ParseRole(membership->role);
    co_return c;
}

Task<Result<Caller>> TenantService::Enter(const Caller& who, const std::string& tenant_id) {
    if (who.tenant && who.tenant->id() == tenant_id) co_return who;
    // Another tenant than the request's: a key never leaves its own; a user enters tenants
    // they belong to; a platform admin any existing one.
    if (who.api_key) co_return TenantNotFound();
    Caller c = who;
    c.role.reset();
    TB_CO_ASSIGN_OR_RETURN(auto membership, co_await MembershipIn(who.user.id, tenant_id));
    if (membership) {
        if (membership->status != "active" && !who.platform_admin())
            co_return Error::Forbidden("Tenant suspended");
        c.tenant = TenantScope::Of(membership->tenant_id);
        c.role = ParseRole(membership->role);
        co_return c;
    }
    if (!who.platform_admin()) co_return TenantNotFound();
    TB_CO_ASSIGN_OR_RETURN(auto tenant, co_await FindTenant(db_, tenant_id));
    if (!tenant) co_return TenantNotFound();
    c.tenant = TenantScope::Of(tenant->id);
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
        std::string suffix = ToLower(RandomToken(6));
        std::erase_if(suffix, [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); });
        slug = SlugFrom(name).substr(0, 48) + "-" + suffix.substr(0, 6);
    }
    co_return Error::Conflict("Could not find a free slug", "slug");
}

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
    auto n = co_await tx.Execute(
        "UPDATE tenants SET member_count = member_count + 1 WHERE id = ?", Bind(scope.id()));
    if (!n.ok()) co_return std::move(n).error();
    co_return Status{};
}

Task<Result<std::optional<TenantMembership>>> TenantService::CreatePersonalTenant(
    Session& tx, const auth::User& user, const std::string& tenant_name) {
    if (!settings_.personal_on_register) co_return std::optional<TenantMembership>{};
    std::string name = tenant_name;
    if (name.empty()) {
        std::string who = user.name.empty() ? user.email.substr(0, user.email.find('@')) : user.name;
        name = who + "'s workspace";
    }
    TB_CO_RETURN_IF_ERROR(ValidateName(name, "tenant_name"));
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
    e.actor = e.target = user.id;
    e.action = "tenant.created";
    e.details["tenant_id"] = id;
    TB_CO_RETURN_IF_ERROR(co_await audit_.Record(tx, e));
    co_return std::optional<TenantMembership>(
        TenantMembership{id, name, slug, settings_.default_plan, "active", "owner", now});
}

Task<Result<Page<Tenant>>> TenantService::List(const Caller& who, const query::ListQuery& q) {
    std::string columns = std::string(kTenantColumns) + ", m.role";
    ListSource source;
    if (who.api_key) {  // a key sees its own tenant only
        source = ListSource::Platform(
            columns, "tenants t LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = ?",
            "t.id = ?", Bind(who.user.id, who.api_key->tenant_id.value_or("")));
    } else if (who.platform_admin()) {
        source = ListSource::Platform(
            columns, "tenants t LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = ?",
            "1 = 1", Bind(who.user.id));
        // The join adds the caller's role; it never adds or removes a tenant.
        source.unfiltered_count = "SELECT COUNT(*) FROM tenants";
    } else {
        source = ListSource::Platform(columns, "memberships m JOIN tenants t ON t.id = m.tenant_id",
                                      "m.user_id = ?", Bind(who.user.id));
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
    TB_CO_RETURN_IF_ERROR(ValidateName(in.name));
    if (in.slug && !IsSlug(*in.slug))
        co_return Error::Validation("slug",
                                    "slug must be 1-63 lower-case letters, digits and inner hyphens");
    if (in.plan) {
        if (!who.platform_admin()) co_return Error::Forbidden("Only platform admins set the plan");
        if (std::find(settings_.plans.begin(), settings_.plans.end(), *in.plan) ==
            settings_.plans.end())
            co_return Error::Validation("plan", "Unknown plan");
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
            co_await InsertMembership(tx, TenantScope::Of(t.id), who.user, Role::kOwner, now));
        audit::Event e = Event(who, "tenant.created", t.id);
        e.tenant_id = t.id;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", who.user.id);
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
        TB_CO_RETURN_IF_ERROR(ValidateName(*patch.name));
    }
    if (patch.slug && !IsSlug(*patch.slug))
        co_return Error::Validation("slug",
                                    "slug must be 1-63 lower-case letters, digits and inner hyphens");
    if (patch.plan && std::find(settings_.plans.begin(), settings_.plans.end(), *patch.plan) ==
                          settings_.plans.end())
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
            Bind(t.name, t.slug, t.plan, t.status, json::serialize(t.settings), t.updated_at, id));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("Slug already taken", "slug");
            co_return std::move(r).error();
        }
        co_return co_await audit_.Record(tx, Event(in, "tenant.updated", id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("tenant", id);
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
        auto rows = co_await tx.Query("SELECT user_id FROM memberships WHERE tenant_id = ?",
                                      Bind(id));
        if (!rows.ok()) co_return std::move(rows).error();
        for (const auto& r : rows->rows) members.push_back(AsText(r[0]));
        // Everything the tenant owns, children first; one transaction leaves no orphans.
        static constexpr const char* kPurge[] = {
            "DELETE FROM organization_members WHERE tenant_id = ?",
            "DELETE FROM organizations WHERE tenant_id = ?",
            "DELETE FROM api_keys WHERE tenant_id = ?",
            "DELETE FROM memberships WHERE tenant_id = ?",
            "DELETE FROM audit_log WHERE tenant_id = ?",
            "UPDATE sessions SET tenant_id = NULL WHERE tenant_id = ?",
            "DELETE FROM tenants WHERE id = ?",
        };
        for (const char* sql : kPurge) {
            auto r = co_await tx.Execute(sql, Bind(id));
            if (!r.ok()) co_return std::move(r).error();
        }
        audit::Event e = Event(in, "tenant.deleted", id);
        e.tenant_id.reset();  // the tenant's own log is gone with it
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("tenant", id);
    for (const auto& m : members) bus_.Publish("membership", m);
    co_return Status{};
}

// ---- Members --------------------------------------------------------------------------------

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

// Serialises the membership changes of one tenant: the first statement of their transaction
// takes the tenant row's lock (PostgreSQL; SQLite has one writer anyway), so that two owners
// stepping down at once cannot both see the other one still there (invariant 2).
namespace {
Task<Status> LockTenant(Session& tx, const TenantScope& scope) {
    auto r = co_await tx.Execute("UPDATE tenants SET member_count = member_count WHERE id = ?",
                                 Bind(scope.id()));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}
}  // namespace

Task<Status> TenantService::CheckChange(Session& tx, const Caller& who, const TenantScope& scope,
                                        const Member& target, std::optional<Role> next) {
    auto current = ParseRole(target.role).value_or(Role::kViewer);
    if (!who.platform_admin()) {
        Role mine = who.role.value_or(Role::kViewer);
        bool self = target.user.id == who.user.id;
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

Task<Result<Member>> TenantService::AddMember(const Caller& who, const std::string& tenant_id,
                                              const std::string& raw_email, Role role) {
    TB_CO_ASSIGN_OR_RETURN(Caller in, co_await Enter(who, tenant_id));
    TB_CO_RETURN_IF_ERROR(in.CanManage());
    TB_CO_ASSIGN_OR_RETURN(std::string email, auth::NormalizeEmail(raw_email));
    if (!in.platform_admin() && static_cast<int>(role) > static_cast<int>(*in.role))
        co_return Error::Forbidden("Cannot grant a role above your own");
    Member out;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto users = co_await tx.Query("SELECT id FROM users WHERE email = ?", Bind(email));
        if (!users.ok()) co_return std::move(users).error();
        if (users->empty()) co_return Error::NotFound("No account with this email");
        TB_CO_ASSIGN_OR_RETURN(auto user,
                               co_await auth::UserStore::FindById(tx, AsText(users->rows[0][0])));
        if (!user) co_return UserNotFound();
        int64_t now = Now();
        TB_CO_RETURN_IF_ERROR(co_await InsertMembership(tx, in.scope(), *user, role, now));
        out = Member{std::move(*user), std::string(RoleName(role)), now};
        audit::Event e = Event(in, "member.added", out.user.id);
        e.details["role"] = RoleName(role);
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", out.user.id);
    co_return out;
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
        audit::Event e = Event(in, "member.role_changed", user_id);
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
    bool self = user_id == in.user.id && !in.api_key;
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
        auto n = co_await tx.Execute(
            "UPDATE tenants SET member_count = member_count - 1 WHERE id = ?",
            Bind(in.scope().id()));
        if (!n.ok()) co_return std::move(n).error();
        co_return co_await audit_.Record(tx, Event(in, "member.removed", user_id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("membership", user_id);
    co_return Status{};
}

// ---- Users of the current tenant --------------------------------------------------------------

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
    TB_CO_ASSIGN_OR_RETURN(std::string email, auth::NormalizeEmail(in.email));
    if (Utf8Length(in.name) > 200)
        co_return Error::Validation("name", "Name must be at most 200 characters");
    if (!who.platform_admin() && static_cast<int>(in.role) > static_cast<int>(*who.role))
        co_return Error::Forbidden("Cannot grant a role above your own");
    Member out;
    bool created = false;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
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
            TB_CO_ASSIGN_OR_RETURN(auto found,
                                   co_await auth::UserStore::FindById(tx, AsText(users->rows[0][0])));
            if (!found) co_return UserNotFound();
            user = std::move(*found);
        }
        TB_CO_RETURN_IF_ERROR(co_await InsertMembership(tx, who.scope(), user, in.role, now));
        audit::Event e = Event(who, created ? "user.created" : "member.added", user.id);
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
    TB_CO_ASSIGN_OR_RETURN(auto existing, co_await FindMember(db_, who.scope(), user_id));
    if (!existing) co_return UserNotFound();
    bool self = user_id == who.user.id && !who.api_key;
    // API.md §3.1: self (name) · admin+ (role) · platform admin (is_active, email).
    if (patch.name && !self && !who.platform_admin())
        co_return Error::Forbidden("Only the user changes their own name");
    if ((patch.is_active || patch.email) && !who.platform_admin())
        co_return Error::Forbidden("Only platform admins change is_active or email");
    std::optional<Role> role;
    if (patch.role) {
        TB_CO_RETURN_IF_ERROR(who.CanManage());
        role = ParseRole(*patch.role);
        if (!role) co_return Error::Validation("role", "role must be owner, admin, member or viewer");
    }
    if (patch.name && Utf8Length(*patch.name) > 200)
        co_return Error::Validation("name", "Name must be at most 200 characters");
    if (patch.email) {
        TB_CO_ASSIGN_OR_RETURN(*patch.email, auth::NormalizeEmail(*patch.email));
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
            audit::Event e = Event(who, "member.role_changed", user_id);
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
            audit::Event e = Event(who, "user.updated", user_id);
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
    if (user_id == who.user.id) co_return Error::Conflict("You cannot purge your own account");
    std::vector<std::string> tenants;
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
        auto all = co_await tx.Query("SELECT tenant_id FROM memberships WHERE user_id = ?",
                                     Bind(user_id));
        if (!all.ok()) co_return std::move(all).error();
        for (const auto& r : all->rows) tenants.push_back(AsText(r[0]));
        auto counts = co_await tx.Execute(
            "UPDATE tenants SET member_count = member_count - 1 WHERE id IN (SELECT tenant_id "
            "FROM memberships WHERE user_id = ?)",
            Bind(user_id));
        if (!counts.ok()) co_return std::move(counts).error();
        auto orgs = co_await tx.Execute(
            "UPDATE organizations SET member_count = member_count - 1 WHERE id IN (SELECT "
            "organization_id FROM organization_members WHERE user_id = ?)",
            Bind(user_id));
        if (!orgs.ok()) co_return std::move(orgs).error();
        // Sessions, tokens, memberships and keys go with the account (foreign keys cascade).
        auto r = co_await tx.Execute("DELETE FROM users WHERE id = ?", Bind(user_id));
        if (!r.ok()) co_return std::move(r).error();
        co_return co_await audit_.Record(tx, Event(who, "user.deleted", user_id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    bus_.Publish("user", user_id);
    bus_.Publish("membership", user_id);
    co_return Status{};
}

}  // namespace tb::tenancy
