#include "tenancy/org_service.h"

#include "tenancy/names.h"

#include "common/encoding.h"
#include "common/strings.h"

namespace tb::tenancy {

using storage::AsInt;
using storage::AsText;
using storage::Bind;
using storage::IsNull;
using storage::ListSource;
using storage::Session;
using storage::TenantScope;
using storage::TransactionFn;

namespace {

constexpr const char* kOrgColumns =
    "o.id, o.tenant_id, o.name, o.slug, o.description, o.member_count, o.created_at, "
    "o.updated_at";
constexpr const char* kOrgMemberColumns = "u.id, u.email, u.name, om.role, om.joined_at";
constexpr const char* kOrgMemberFrom = "organization_members om JOIN users u ON u.id = om.user_id";

Organization FromRow(const std::vector<storage::Value>& r) {
    return Organization{AsText(r[0]), AsText(r[1]), AsText(r[2]), AsText(r[3]),
                        AsText(r[4]), AsInt(r[5]),  AsInt(r[6]),  AsInt(r[7])};
}

Member MemberFromRow(const std::vector<storage::Value>& r) {
    Member m;
    m.user.id = AsText(r[0]);
    m.user.email = AsText(r[1]);
    m.user.name = AsText(r[2]);
    m.role = AsText(r[3]);
    m.joined_at = AsInt(r[4]);
    return m;
}

Error OrgNotFound() { return Error::NotFound("Organization not found"); }

Status Validate(const std::optional<std::string>& name, const std::optional<std::string>& slug,
                const std::optional<std::string>& description) {
    if (name) TB_RETURN_IF_ERROR(CheckName(*name));
    TB_RETURN_IF_ERROR(CheckSlug(slug));
    if (description && Utf8Length(*description) > 1000)
        return Error::Validation("description", "description must be at most 1000 characters");
    return {};
}

}  // namespace

const query::Resource& OrganizationsResource() {
    using query::Type;
    static const query::Resource r{"organizations",
                                   "o.id",
                                   {{"id", "o.id", Type::kId},
                                    {"name", "o.name", Type::kText},
                                    {"slug", "o.slug", Type::kText},
                                    {"description", "o.description", Type::kText},
                                    {"member_count", "o.member_count", Type::kInt},
                                    {"created_at", "o.created_at", Type::kTime},
                                    {"updated_at", "o.updated_at", Type::kTime}}};
    return r;
}

const query::Resource& OrganizationMembersResource() {
    using query::Type;
    static const query::Resource r{"organization_members",
                                   "om.user_id",
                                   {{"user_id", "om.user_id", Type::kId},
                                    {"email", "u.email", Type::kText},
                                    {"name", "u.name", Type::kText},
                                    {"role", "om.role", Type::kText},
                                    {"joined_at", "om.joined_at", Type::kTime}}};
    return r;
}

OrgService::OrgService(storage::Database& db, IdGenerator& ids, const Clock& clock,
                       audit::AuditLog& audit)
    : db_(db), ids_(ids), clock_(clock), audit_(audit) {}

Task<Result<std::optional<Organization>>> OrgService::Find(Session& s, const TenantScope& scope,
                                                           const std::string& id) {
    std::string sql = std::string("SELECT ") + kOrgColumns +
                      " FROM organizations o WHERE o.tenant_id = ? AND o.id = ?";
    auto rows = co_await s.Query(sql, Bind(scope.id(), id));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return std::optional<Organization>{};
    co_return std::optional<Organization>(FromRow(rows->rows[0]));
}

Task<Status> OrgService::CanManageOrg(const Caller& who, const std::string& org_id) {
    if (who.api_key && !who.api_key->HasScope("admin"))
        co_return Error::Forbidden("This API key lacks the admin scope");
    if (who.AtLeastRole(Role::kAdmin)) co_return Status{};
    if (!who.api_key && who.AtLeastRole(Role::kMember)) {
        auto rows = co_await db_.Query(
            "SELECT role FROM organization_members WHERE tenant_id = ? AND organization_id = ? "
            "AND user_id = ?",
            Bind(who.scope().id(), org_id, who.user->id));
        if (!rows.ok()) co_return std::move(rows).error();
        if (!rows->empty() && AsText(rows->rows[0][0]) == "admin") co_return Status{};
    }
    co_return Error::Forbidden("Needs the tenant admin role or the organization admin role");
}

Task<Status> OrgService::AuthorizeManage(const Caller& who, const std::string& org_id) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(db_, who.scope(), org_id));
    if (!found) co_return OrgNotFound();
    co_return co_await CanManageOrg(who, org_id);
}

Task<Result<Page<Organization>>> OrgService::List(const Caller& who, const query::ListQuery& q) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    ListSource source =
        ListSource::ForTenant(who.scope(), "o.tenant_id", kOrgColumns, "organizations o");
    auto result = co_await storage::RunList(db_, db_.dialect(), OrganizationsResource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    Page<Organization> page{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) page.items.push_back(FromRow(r));
    co_return page;
}

Task<Result<Organization>> OrgService::Create(const Caller& who, NewOrganization in) {
    TB_CO_RETURN_IF_ERROR(who.CanManage());
    TB_CO_RETURN_IF_ERROR(Validate(in.name, in.slug, in.description));
    Organization o;
    o.id = ids_.Next();
    o.tenant_id = who.scope().id();
    o.name = in.name;
    o.description = in.description;
    o.created_at = o.updated_at = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        if (in.slug) {
            o.slug = *in.slug;
        } else {
            o.slug = SlugFrom(o.name, "org");
            auto taken =
                co_await tx.Query("SELECT 1 FROM organizations WHERE tenant_id = ? AND slug = ?",
                                  Bind(o.tenant_id, o.slug));
            if (!taken.ok()) co_return std::move(taken).error();
            if (!taken->empty()) o.slug = SlugWithSuffix(o.slug);
        }
        auto r = co_await tx.Execute(
            "INSERT INTO organizations (id, tenant_id, name, slug, description, member_count, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
            Bind(o.id, o.tenant_id, o.name, o.slug, o.description, o.created_at, o.updated_at));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("Slug already taken in this tenant", "slug");
            co_return std::move(r).error();
        }
        co_return co_await audit_.Record(tx, who.AuditEvent("org.created", o.id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    co_return o;
}

Task<Result<Organization>> OrgService::Get(const Caller& who, const std::string& id) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto o, co_await Find(db_, who.scope(), id));
    if (!o) co_return OrgNotFound();
    co_return std::move(*o);
}

Task<Result<Organization>> OrgService::Update(const Caller& who, const std::string& id,
                                              OrganizationPatch patch) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(db_, who.scope(), id));
    if (!found) co_return OrgNotFound();
    TB_CO_RETURN_IF_ERROR(co_await CanManageOrg(who, id));
    TB_CO_RETURN_IF_ERROR(Validate(patch.name, patch.slug, patch.description));
    Organization o = std::move(*found);
    if (patch.name) o.name = *patch.name;
    if (patch.slug) o.slug = *patch.slug;
    if (patch.description) o.description = *patch.description;
    o.updated_at = Now();
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "UPDATE organizations SET name = ?, slug = ?, description = ?, updated_at = ? WHERE "
            "tenant_id = ? AND id = ?",
            Bind(o.name, o.slug, o.description, o.updated_at, who.scope().id(), id));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("Slug already taken in this tenant", "slug");
            co_return std::move(r).error();
        }
        if (*r == 0) co_return OrgNotFound();
        co_return co_await audit_.Record(tx, who.AuditEvent("org.updated", id));
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    co_return o;
}

Task<Status> OrgService::Delete(const Caller& who, const std::string& id) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(db_, who.scope(), id));
    if (!found) co_return OrgNotFound();
    TB_CO_RETURN_IF_ERROR(co_await CanManageOrg(who, id));
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto m = co_await tx.Execute(
            "DELETE FROM organization_members WHERE tenant_id = ? AND organization_id = ?",
            Bind(who.scope().id(), id));
        if (!m.ok()) co_return std::move(m).error();
        auto r = co_await tx.Execute("DELETE FROM organizations WHERE tenant_id = ? AND id = ?",
                                     Bind(who.scope().id(), id));
        if (!r.ok()) co_return std::move(r).error();
        if (*r == 0) co_return OrgNotFound();
        co_return co_await audit_.Record(tx, who.AuditEvent("org.deleted", id));
    };
    co_return co_await db_.Transaction(fn);
}

Task<Result<Page<Member>>> OrgService::ListMembers(const Caller& who, const std::string& org_id,
                                                   const query::ListQuery& q) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(db_, who.scope(), org_id));
    if (!found) co_return OrgNotFound();
    ListSource source =
        ListSource::ForTenant(who.scope(), "om.tenant_id", kOrgMemberColumns, kOrgMemberFrom);
    source.scope += " AND om.organization_id = ?";
    source.params.emplace_back(org_id);
    auto result =
        co_await storage::RunList(db_, db_.dialect(), OrganizationMembersResource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    Page<Member> page{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) page.items.push_back(MemberFromRow(r));
    co_return page;
}

Task<Result<Member>> OrgService::AddMember(const Caller& who, const std::string& org_id,
                                           const std::string& user_id, const std::string& role) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(db_, who.scope(), org_id));
    if (!found) co_return OrgNotFound();
    TB_CO_RETURN_IF_ERROR(co_await CanManageOrg(who, org_id));
    if (role != "admin" && role != "member")
        co_return Error::Validation("role", "role must be admin or member");
    Member out;
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        // Only members of the tenant can join (API.md §3.2).
        auto rows = co_await tx.Query(
            "SELECT u.id, u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.tenant_id = ? AND m.user_id = ?",
            Bind(who.scope().id(), user_id));
        if (!rows.ok()) co_return std::move(rows).error();
        if (rows->empty())
            co_return Error::Validation("user_id", "The user is not a member of this tenant");
        int64_t now = Now();
        auto r = co_await tx.Execute(
            "INSERT INTO organization_members (tenant_id, organization_id, user_id, role, "
            "joined_at) VALUES (?, ?, ?, ?, ?)",
            Bind(who.scope().id(), org_id, user_id, role, now));
        if (!r.ok()) {
            if (r.error().code == ErrorCode::kConflict)
                co_return Error::Conflict("Already a member of this organization", "user_id");
            co_return std::move(r).error();
        }
        auto n = co_await tx.Execute(
            "UPDATE organizations SET member_count = member_count + 1 WHERE tenant_id = ? AND id "
            "= ?",
            Bind(who.scope().id(), org_id));
        if (!n.ok()) co_return std::move(n).error();
        const auto& u = rows->rows[0];
        out.user.id = AsText(u[0]);
        out.user.email = AsText(u[1]);
        out.user.name = AsText(u[2]);
        out.role = role;
        out.joined_at = now;
        audit::Event e = who.AuditEvent("org.member_added", user_id);
        e.details["organization_id"] = org_id;
        e.details["role"] = role;
        co_return co_await audit_.Record(tx, e);
    };
    TB_CO_RETURN_IF_ERROR(co_await db_.Transaction(fn));
    co_return out;
}

Task<Status> OrgService::RemoveMember(const Caller& who, const std::string& org_id,
                                      const std::string& user_id) {
    TB_CO_RETURN_IF_ERROR(who.CanRead());
    TB_CO_ASSIGN_OR_RETURN(auto found, co_await Find(db_, who.scope(), org_id));
    if (!found) co_return OrgNotFound();
    auto exists = co_await db_.Query(
        "SELECT 1 FROM organization_members WHERE tenant_id = ? AND organization_id = ? AND "
        "user_id = ?",
        Bind(who.scope().id(), org_id, user_id));
    if (!exists.ok()) co_return std::move(exists).error();
    if (exists->empty()) co_return Error::NotFound("Member not found");
    bool self = user_id == who.user->id && !who.api_key;
    if (!self) TB_CO_RETURN_IF_ERROR(co_await CanManageOrg(who, org_id));
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "DELETE FROM organization_members WHERE tenant_id = ? AND organization_id = ? AND "
            "user_id = ?",
            Bind(who.scope().id(), org_id, user_id));
        if (!r.ok()) co_return std::move(r).error();
        if (*r == 0) co_return Error::NotFound("Member not found");
        auto n = co_await tx.Execute(
            "UPDATE organizations SET member_count = member_count - 1 WHERE tenant_id = ? AND id "
            "= ?",
            Bind(who.scope().id(), org_id));
        if (!n.ok()) co_return std::move(n).error();
        audit::Event e = who.AuditEvent("org.member_removed", user_id);
        e.details["organization_id"] = org_id;
        co_return co_await audit_.Record(tx, e);
    };
    co_return co_await db_.Transaction(fn);
}

}  // namespace tb::tenancy
