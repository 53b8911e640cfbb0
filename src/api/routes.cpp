#include "api/routes.h"

#include "api/compat/handlers.h"
#include "api/v1/handlers.h"

namespace tb::api {

using http::BodyKind;
using http::Method;

namespace {

struct Entry {
    Method method;
    const char* path;
    http::Handler (*make)(Services&);
    BodyKind body = BodyKind::kNone;
    size_t max_body = 0;  // 0: the server's limit
    bool asset = false;   // a static file of a page (not an API operation: not in the document)
};

// The body limit of routes whose bodies are a few small fields (credentials, tokens, names):
// a login has no business sending megabytes (issue #29: one hashed a 9 MiB password).
constexpr size_t kSmallBody = size_t{16} * 1024;
// Uploads are streamed, not held: the plan's max_file_bytes and storage quota are their real
// bounds (the service stops an upload as soon as it passes either).
constexpr size_t kUploadBody = size_t{1} << 40;

// The prefix of the Nile dialect's routes.
#define kNile "/workspaces/{workspace}/databases/{database}"

// One line per route: method, path template, handler, body kind, body limit.
const std::vector<Entry>& Table() {
    static const std::vector<Entry> kTable = {
        {Method::kGet, "/v1/health", v1::Health},
        {Method::kGet, "/healthz", v1::Liveness},
        {Method::kGet, "/readyz", v1::Readiness},
        {Method::kGet, "/metrics", v1::MetricsText},
        {Method::kGet, "/.well-known/jwks.json", v1::Jwks},
        {Method::kGet, "/v1/openapi.json", v1::OpenApi},
        {Method::kGet, "/v1/openapi-3.0.json", v1::OpenApi30},
        {Method::kGet, "/compat/openapi.json", v1::CompatOpenApi},
        {Method::kGet, "/docs", v1::DocsPage},
        {Method::kGet, "/docs/swagger-ui-bundle.js", v1::SwaggerUiScript, BodyKind::kNone, 0, true},
        {Method::kGet, "/docs/docs-init.js", v1::DocsInitScript, BodyKind::kNone, 0, true},
        {Method::kGet, "/docs/swagger-ui.css", v1::SwaggerUiStyles, BodyKind::kNone, 0, true},
        {Method::kPost, "/v1/auth/register", v1::Register, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/login", v1::Login, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/refresh", v1::Refresh, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/logout", v1::Logout, BodyKind::kJson, kSmallBody},
        {Method::kGet, "/v1/auth/me", v1::Me},
        {Method::kPatch, "/v1/auth/me", v1::UpdateMe, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/password", v1::ChangePassword, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/password-reset/request", v1::RequestPasswordReset,
         BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/password-reset/confirm", v1::ConfirmPasswordReset,
         BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/verify-email/request", v1::RequestEmailVerification,
         BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/auth/verify-email/confirm", v1::ConfirmEmail, BodyKind::kJson,
         kSmallBody},
        {Method::kPost, "/v1/invitations/accept", v1::AcceptInvitation, BodyKind::kJson,
         kSmallBody},
        {Method::kGet, "/v1/collections", v1::ListCollections},
        {Method::kPost, "/v1/collections", v1::CreateCollection, BodyKind::kJson},
        {Method::kGet, "/v1/collections/{name}", v1::GetCollection},
        {Method::kPut, "/v1/collections/{name}", v1::UpdateCollection, BodyKind::kJson},
        {Method::kPatch, "/v1/collections/{name}", v1::UpdateCollection, BodyKind::kJson},
        {Method::kDelete, "/v1/collections/{name}", v1::DeleteCollection},
        {Method::kGet, "/v1/meta", v1::GetMeta},
        {Method::kGet, "/v1/collections/{name}/documents", v1::ListDocuments},
        {Method::kPost, "/v1/collections/{name}/documents", v1::CreateDocuments, BodyKind::kJson},
        {Method::kGet, "/v1/collections/{name}/documents/{id}", v1::GetDocument},
        {Method::kPut, "/v1/collections/{name}/documents/{id}", v1::ReplaceDocument,
         BodyKind::kJson},
        {Method::kPatch, "/v1/collections/{name}/documents/{id}", v1::PatchDocument,
         BodyKind::kJson},
        {Method::kDelete, "/v1/collections/{name}/documents/{id}", v1::DeleteDocument},
        {Method::kGet, "/v1/realtime", v1::OpenRealtime},
        {Method::kPost, "/v1/realtime/{client_id}/subscriptions", v1::SetRealtimeSubscriptions,
         BodyKind::kJson},
        {Method::kPost, "/v1/collections/{name}/documents:delete", v1::DeleteDocuments,
         BodyKind::kJson},
        {Method::kPost, "/v1/files", v1::UploadFiles, BodyKind::kStream, kUploadBody},
        {Method::kGet, "/v1/files", v1::ListFiles},
        {Method::kGet, "/v1/files/{id}", v1::GetFile},
        {Method::kDelete, "/v1/files/{id}", v1::DeleteFile},
        {Method::kGet, "/v1/files/{id}/content", v1::GetFileContent},
        {Method::kPost, "/v1/files/{id}/link", v1::CreateFileLink, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/v1/mail", v1::SendMail, BodyKind::kJson},
        {Method::kGet, "/v1/mail/{id}", v1::GetMail},
        {Method::kGet, "/v1/audit-logs", v1::ListAuditLogs},
        {Method::kGet, "/v1/api-keys", v1::ListApiKeys},
        {Method::kPost, "/v1/api-keys", v1::CreateApiKey, BodyKind::kJson, kSmallBody},
        {Method::kGet, "/v1/api-keys/{id}", v1::GetApiKey},
        {Method::kPut, "/v1/api-keys/{id}", v1::UpdateApiKey, BodyKind::kJson, kSmallBody},
        {Method::kPatch, "/v1/api-keys/{id}", v1::UpdateApiKey, BodyKind::kJson, kSmallBody},
        {Method::kDelete, "/v1/api-keys/{id}", v1::DeleteApiKey},
        {Method::kPost, "/v1/api-keys/{id}/rotate", v1::RotateApiKey},
        {Method::kGet, "/v1/tenants", v1::ListTenants},
        {Method::kPost, "/v1/tenants", v1::CreateTenant, BodyKind::kJson},
        {Method::kGet, "/v1/tenants/{id}", v1::GetTenant},
        {Method::kPut, "/v1/tenants/{id}", v1::UpdateTenant, BodyKind::kJson},
        {Method::kPatch, "/v1/tenants/{id}", v1::UpdateTenant, BodyKind::kJson},
        {Method::kDelete, "/v1/tenants/{id}", v1::DeleteTenant},
        {Method::kGet, "/v1/tenants/{id}/members", v1::ListMembers},
        {Method::kPost, "/v1/tenants/{id}/members", v1::AddMember, BodyKind::kJson},
        {Method::kPatch, "/v1/tenants/{id}/members/{user_id}", v1::UpdateMember, BodyKind::kJson},
        {Method::kPut, "/v1/tenants/{id}/members/{user_id}", v1::UpdateMember, BodyKind::kJson},
        {Method::kDelete, "/v1/tenants/{id}/members/{user_id}", v1::RemoveMember},
        {Method::kGet, "/v1/users", v1::ListUsers},
        {Method::kPost, "/v1/users", v1::CreateUser, BodyKind::kJson},
        {Method::kGet, "/v1/users/{id}", v1::GetUser},
        {Method::kPut, "/v1/users/{id}", v1::UpdateUser, BodyKind::kJson},
        {Method::kPatch, "/v1/users/{id}", v1::UpdateUser, BodyKind::kJson},
        {Method::kDelete, "/v1/users/{id}", v1::DeleteUser},
        {Method::kGet, "/v1/organizations", v1::ListOrganizations},
        {Method::kPost, "/v1/organizations", v1::CreateOrganization, BodyKind::kJson},
        {Method::kGet, "/v1/organizations/{id}", v1::GetOrganization},
        {Method::kPut, "/v1/organizations/{id}", v1::UpdateOrganization, BodyKind::kJson},
        {Method::kPatch, "/v1/organizations/{id}", v1::UpdateOrganization, BodyKind::kJson},
        {Method::kDelete, "/v1/organizations/{id}", v1::DeleteOrganization},
        {Method::kGet, "/v1/organizations/{id}/members", v1::ListOrganizationMembers},
        {Method::kPost, "/v1/organizations/{id}/members", v1::AddOrganizationMember,
         BodyKind::kJson},
        {Method::kDelete, "/v1/organizations/{id}/members/{user_id}", v1::RemoveOrganizationMember},
        {Method::kGet, "/v1/usage", v1::GetUsage},
        {Method::kGet, "/v1/billing", v1::GetBilling},
        {Method::kGet, "/v1/plans", v1::ListPlans},
        {Method::kGet, "/v1/tenants/{id}/usage", v1::GetTenantUsage},
        // The compatibility dialects (API.md §11): src/api/compat/, one file per dialect.
        {Method::kGet, "/api/health", v1::BareHealth},
        {Method::kPost, "/api/auth/register", compat::NiluxRegister, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/api/auth/login", compat::NiluxLogin, BodyKind::kJson, kSmallBody},
        {Method::kPost, "/api/auth/refresh", compat::NiluxRefresh, BodyKind::kJson, kSmallBody},
        {Method::kGet, "/api/auth/me", compat::NiluxMe},
        {Method::kGet, "/api/auth/api-key", compat::NiluxGetApiKey},
        {Method::kPost, "/api/auth/api-key/rotate", compat::NiluxRotateApiKey},
        {Method::kPost, "/api/auth/logout", compat::NiluxLogout, BodyKind::kJson, kSmallBody},
        {Method::kPost, kNile "/users/login", compat::NileLogin, BodyKind::kJson, kSmallBody},
        {Method::kPost, kNile "/users", compat::NileSignUp, BodyKind::kJson, kSmallBody},
        {Method::kGet, kNile "/users/me", compat::NileMe},
        {Method::kGet, kNile "/tenants", compat::NileListTenants},
        {Method::kPost, kNile "/tenants", compat::NileCreateTenant, BodyKind::kJson, kSmallBody},
        {Method::kGet, kNile "/tenants/{id}", compat::NileGetTenant},
        {Method::kGet, kNile "/tenants/{id}/users", compat::NileTenantUsers},
        {Method::kPost, kNile "/tenants/{id}/users", compat::NileAddTenantUser, BodyKind::kJson,
         kSmallBody},
        {Method::kDelete, kNile "/tenants/{id}/users/{user_id}", compat::NileRemoveTenantUser},
        {Method::kGet, "/rest/_meta", compat::RestMeta},
        {Method::kGet, "/rest/{collection}", compat::RestList},
        {Method::kPost, "/rest/{collection}", compat::RestCreate, BodyKind::kJson},
        {Method::kGet, "/rest/{collection}/{id}", compat::RestGet},
        {Method::kPut, "/rest/{collection}/{id}", compat::RestUpdate, BodyKind::kJson},
        {Method::kPatch, "/rest/{collection}/{id}", compat::RestUpdate, BodyKind::kJson},
        {Method::kDelete, "/rest/{collection}/{id}", compat::RestDelete},
        {Method::kPost, "/media", compat::MediaUpload, BodyKind::kStream, kUploadBody},
        {Method::kGet, "/media", compat::MediaList},
        {Method::kGet, "/media/{id}", compat::MediaContent},
        {Method::kGet, "/media/{id}/meta", compat::MediaMeta},
        {Method::kDelete, "/media/{id}", compat::MediaDelete},
        {Method::kPost, "/mail", compat::MailSend, BodyKind::kJson},
        {Method::kGet, "/mail/{id}", compat::MailStatus},
    };
    return kTable;
}

}  // namespace

std::vector<std::string> RouteNames() {
    std::vector<std::string> names;
    for (const Entry& e : Table()) names.emplace_back(e.path);
    return names;
}

bool IsCompatRoute(std::string_view path) {
    for (std::string_view prefix : {"/api/", "/workspaces/", "/rest/", "/media", "/mail"})
        if (path.starts_with(prefix)) return true;
    return false;
}

namespace {

std::vector<std::string> OperationsWhere(bool compat) {
    std::vector<std::string> out;
    for (const Entry& e : Table()) {
        if (!e.asset && IsCompatRoute(e.path) == compat)
            out.push_back(std::string(http::MethodName(e.method)) + " " + e.path);
    }
    return out;
}

}  // namespace

std::vector<std::string> Operations() { return OperationsWhere(false); }
std::vector<std::string> CompatOperations() { return OperationsWhere(true); }

namespace {

// Routes that act on no tenant's data: accounts (a user may belong to several tenants),
// invitations (the token names the tenant), the plan table, health, keys and docs. Every other
// route acts in the request's tenant (API.md §13 "CORS").
bool ActsOnNoTenant(std::string_view path) {
    for (std::string_view prefix :
         {"/v1/auth/", "/v1/invitations/", "/.well-known/", "/docs", "/api/"})
        if (path.starts_with(prefix)) return true;
    // Nile's user routes are its /v1/auth (its tenant routes act in a tenant, as /v1/tenants).
    if (path.starts_with("/workspaces/") &&
        path.find("/{database}/users") != std::string_view::npos)
        return true;
    for (std::string_view exact :
         {"/v1/plans", "/v1/health", "/healthz", "/readyz", "/metrics", "/v1/openapi.json",
          "/v1/openapi-3.0.json", "/compat/openapi.json"})
        if (path == exact) return true;
    return false;
}

}  // namespace

void RegisterRoutes(http::Router& router, Services& services) {
    for (const Entry& e : Table()) {
        http::Route route{e.method, e.path, e.make(services), e.body, e.max_body};
        route.tenantless = ActsOnNoTenant(e.path);
        router.Add(std::move(route));
    }
}

void RegisterMetricsRoutes(http::Router& router, Services& services) {
    router.Add({Method::kGet, "/metrics", v1::PublicMetricsText(services), BodyKind::kNone, 0});
    router.Add({Method::kGet, "/healthz", v1::Liveness(services), BodyKind::kNone, 0});
}

}  // namespace tb::api
