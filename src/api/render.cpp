#include "api/render.h"

#include "http/errors.h"

namespace tb::api {

http::Response Ok(json::value data, int status) {
    json::object body{{"success", true}, {"data", std::move(data)}};
    return http::Response::Json(status, WriteJson(body));
}

http::Response Fail(const Error& error, const http::RouteContext& ctx) {
    // A validation error shows the value it refused (the Nanostack seed's example), unless the
    // field may hold a secret (common/json.h WithValueShown).
    if (error.code == ErrorCode::kValidation && !ctx.body.is_null() &&
        !error.details.contains("value")) {
        const auto* field = error.details.if_contains("field");
        if (field && field->is_string()) {
            if (const json::value* v = ValueAt(ctx.body, field->get_string())) {
                Error shown = error;
                WithValueShown(shown, *v);
                return http::ErrorResponse(shown, ctx.request_id, ctx.error_body);
            }
        }
    }
    return http::ErrorResponse(error, ctx.request_id, ctx.error_body);
}

json::value TimeJson(std::optional<int64_t> ms) {
    if (!ms) return nullptr;
    return json::value(FormatRfc3339(FromUnixMillis(*ms)));
}

json::object UserJson(const auth::User& u) {
    return {{"id", u.id},
            {"email", u.email},
            {"name", u.name},
            {"email_verified", u.email_verified},
            {"is_active", u.is_active},
            {"is_admin", u.is_admin},
            {"created_at", TimeJson(u.created_at)},
            {"updated_at", TimeJson(u.updated_at)},
            {"last_login_at", TimeJson(u.last_login_at)}};
}

namespace {

void AppendTime(std::string& out, std::optional<int64_t> ms) {
    if (!ms) {
        out += "null";
        return;
    }
    out += '"';
    AppendRfc3339(out, FromUnixMillis(*ms));  // digits, '-', ':', '.', 'T', 'Z': no escapes
    out += '"';
}

void AppendField(std::string& out, std::string_view key, std::string_view value) {
    out += key;
    AppendJsonString(out, value);
}

void AppendField(std::string& out, std::string_view key, bool value) {
    out += key;
    out += value ? "true" : "false";
}

}  // namespace

void AppendUserJson(std::string& out, const auth::User& u) {
    AppendField(out, R"({"id":)", u.id);
    AppendField(out, R"(,"email":)", u.email);
    AppendField(out, R"(,"name":)", u.name);
    AppendField(out, R"(,"email_verified":)", u.email_verified);
    AppendField(out, R"(,"is_active":)", u.is_active);
    AppendField(out, R"(,"is_admin":)", u.is_admin);
    out += R"(,"created_at":)";
    AppendTime(out, u.created_at);
    out += R"(,"updated_at":)";
    AppendTime(out, u.updated_at);
    out += R"(,"last_login_at":)";
    AppendTime(out, u.last_login_at);
    out += '}';
}

void AppendMembershipsJson(std::string& out, const std::vector<auth::TenantMembership>& tenants) {
    out += '[';
    for (size_t i = 0; i < tenants.size(); ++i) {
        const auto& t = tenants[i];
        if (i > 0) out += ',';
        AppendField(out, R"({"id":)", t.tenant_id);
        AppendField(out, R"(,"name":)", t.name);
        AppendField(out, R"(,"slug":)", t.slug);
        AppendField(out, R"(,"role":)", t.role);
        AppendField(out, R"(,"plan":)", t.plan);
        out += '}';
    }
    out += ']';
}

json::object TokensJson(const auth::TokenPair& t) {
    return {{"access_token", t.access_token},
            {"refresh_token", t.refresh_token},
            {"token_type", "Bearer"},
            {"expires_in", t.expires_in},
            {"refresh_expires_in", t.refresh_expires_in}};
}

json::array MembershipsJson(const std::vector<auth::TenantMembership>& tenants) {
    json::array out;
    for (const auto& t : tenants) {
        out.push_back(json::object{{"id", t.tenant_id},
                                   {"name", t.name},
                                   {"slug", t.slug},
                                   {"role", t.role},
                                   {"plan", t.plan}});
    }
    return out;
}

json::object TenantJson(const tenancy::Tenant& t) {
    return {{"id", t.id},
            {"name", t.name},
            {"slug", t.slug},
            {"plan", t.plan},
            {"status", t.status},
            {"settings", t.settings},
            {"member_count", t.member_count},
            {"role", t.role ? json::value(*t.role) : json::value(nullptr)},
            {"created_at", TimeJson(t.created_at)},
            {"updated_at", TimeJson(t.updated_at)}};
}

json::object MemberJson(const tenancy::Member& m) {
    return {{"user_id", m.user.id},
            {"email", m.user.email},
            {"name", m.user.name},
            {"role", m.role},
            {"joined_at", TimeJson(m.joined_at)}};
}

json::object TenantUserJson(const tenancy::Member& m) {
    json::object o = UserJson(m.user);
    o["role"] = m.role;
    o["joined_at"] = TimeJson(m.joined_at);
    return o;
}

json::object OrganizationJson(const tenancy::Organization& o) {
    return {{"id", o.id},
            {"tenant_id", o.tenant_id},
            {"name", o.name},
            {"slug", o.slug},
            {"description", o.description},
            {"member_count", o.member_count},
            {"created_at", TimeJson(o.created_at)},
            {"updated_at", TimeJson(o.updated_at)}};
}

json::object InvitationJson(const tenancy::PendingInvitation& i) {
    return {
        {"id", i.id}, {"email", i.email}, {"role", i.role}, {"expires_at", TimeJson(i.expires_at)}};
}

json::object MailJson(const mail::Entry& m) {
    json::value error = nullptr;
    if (m.last_error) error = *m.last_error;
    return {{"id", m.id},
            {"to", m.to},
            {"subject", m.subject},
            {"status", m.status},
            {"attempts", m.attempts},
            {"last_error", error},
            {"created_at", TimeJson(m.created_at)},
            {"updated_at", TimeJson(m.updated_at)},
            {"sent_at", TimeJson(m.sent_at)}};
}

}  // namespace tb::api
