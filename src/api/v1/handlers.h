#pragma once
// Handler factories, one group per resource file under api/v1/.

#include "api/services.h"
#include "http/router.h"

namespace tb::api::v1 {

// ops.cpp: health, liveness, readiness, metrics (API.md §10).
http::Handler Health(Services& s);
// The same object without the envelope (the Nilux dialect's /api/health, API.md §13).
http::Handler BareHealth(Services& s);
http::Handler Liveness(Services& s);
http::Handler Readiness(Services& s);
http::Handler MetricsText(Services& s);
// The OpenAPI document (API.md §10).
http::Handler OpenApi(Services& s);
http::Handler OpenApi30(Services& s);
// The document of the compatibility dialects (GET /compat/openapi.json, API.md §11).
http::Handler CompatOpenApi(Services& s);
http::Handler PublicMetricsText(Services& s);
http::Handler DocsInitScript(Services& s);

// docs.cpp: interactive documentation at /docs and its assets.
http::Handler DocsPage(Services& s);
http::Handler SwaggerUiScript(Services& s);
http::Handler SwaggerUiStyles(Services& s);

// auth.cpp: accounts and sessions (API.md §2).
http::Handler Register(Services& s);
http::Handler Login(Services& s);
http::Handler Refresh(Services& s);
http::Handler Logout(Services& s);
http::Handler Me(Services& s);
http::Handler UpdateMe(Services& s);
http::Handler ChangePassword(Services& s);
http::Handler Jwks(Services& s);
http::Handler RequestPasswordReset(Services& s);
http::Handler ConfirmPasswordReset(Services& s);
http::Handler RequestEmailVerification(Services& s);
http::Handler ConfirmEmail(Services& s);
http::Handler AcceptInvitation(Services& s);

// collections.cpp: collections and their meta data (API.md §5.1).
http::Handler ListCollections(Services& s);
http::Handler CreateCollection(Services& s);
http::Handler GetCollection(Services& s);
http::Handler UpdateCollection(Services& s);
http::Handler DeleteCollection(Services& s);
http::Handler GetMeta(Services& s);

// documents.cpp: documents (API.md §5.2).
http::Handler ListDocuments(Services& s);
http::Handler CreateDocuments(Services& s);
http::Handler GetDocument(Services& s);
http::Handler ReplaceDocument(Services& s);
http::Handler PatchDocument(Services& s);
http::Handler DeleteDocument(Services& s);
http::Handler DeleteDocuments(Services& s);

// realtime.cpp: server-sent events of document changes (API.md §5.6).
http::Handler OpenRealtime(Services& s);
http::Handler SetRealtimeSubscriptions(Services& s);

// files.cpp: files (API.md §6).
http::Handler UploadFiles(Services& s);
// The same, taking every multipart part with a filename (RestDB's /media, API.md §11).
http::Handler UploadFilesAnyPart(Services& s);
http::Handler ListFiles(Services& s);
http::Handler GetFile(Services& s);
http::Handler DeleteFile(Services& s);
http::Handler GetFileContent(Services& s);
http::Handler CreateFileLink(Services& s);

// mail.cpp: the mail API (API.md §7).
http::Handler SendMail(Services& s);
http::Handler GetMail(Services& s);

// audit.cpp: the audit log (API.md §9).
http::Handler ListAuditLogs(Services& s);

// api_keys.cpp: API keys (API.md §4).
http::Handler ListApiKeys(Services& s);
http::Handler CreateApiKey(Services& s);
http::Handler GetApiKey(Services& s);
http::Handler UpdateApiKey(Services& s);
http::Handler DeleteApiKey(Services& s);
http::Handler RotateApiKey(Services& s);

// tenants.cpp: tenants and their members (API.md §3).
http::Handler ListTenants(Services& s);
http::Handler CreateTenant(Services& s);
http::Handler GetTenant(Services& s);
http::Handler UpdateTenant(Services& s);
http::Handler DeleteTenant(Services& s);
http::Handler ListMembers(Services& s);
http::Handler AddMember(Services& s);
http::Handler UpdateMember(Services& s);
http::Handler RemoveMember(Services& s);

// users.cpp: users of the current tenant (API.md §3.1).
http::Handler ListUsers(Services& s);
http::Handler CreateUser(Services& s);
http::Handler GetUser(Services& s);
http::Handler UpdateUser(Services& s);
http::Handler DeleteUser(Services& s);

// organizations.cpp: organizations (API.md §3.2).
http::Handler ListOrganizations(Services& s);
http::Handler CreateOrganization(Services& s);
http::Handler GetOrganization(Services& s);
http::Handler UpdateOrganization(Services& s);
http::Handler DeleteOrganization(Services& s);
http::Handler ListOrganizationMembers(Services& s);
http::Handler AddOrganizationMember(Services& s);
http::Handler RemoveOrganizationMember(Services& s);

// usage.cpp: usage, plans and billing (API.md §8).
http::Handler GetUsage(Services& s);
http::Handler GetBilling(Services& s);
http::Handler ListPlans(Services& s);
http::Handler GetTenantUsage(Services& s);

}  // namespace tb::api::v1
