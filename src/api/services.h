#pragma once
// What the handlers may use: the services and shared state, wired by app/.

#include <atomic>
#include <chrono>
#include <string>

#include "audit/denial_log.h"
#include "auth/auth_service.h"
#include "billing/billing_service.h"
#include "collections/collection_service.h"
#include "collections/document_service.h"
#include "common/clock.h"
#include "common/ids.h"
#include "files/file_links.h"
#include "files/file_service.h"
#include "http/metrics.h"
#include "limits/plans.h"
#include "limits/rate_limiter.h"
#include "limits/usage_meter.h"
#include "mail/outbox.h"
#include "query/list_query.h"
#include "realtime/hub.h"
#include "storage/database.h"
#include "tenancy/org_service.h"
#include "tenancy/tenant_service.h"

namespace tb::api {

struct Brand {
    std::string name, short_name, description;
};

// The settings of the compatibility dialects (API.md §11).
struct CompatSettings {
    bool restdb_allow_query_key = false;
    std::string nile_workspace, nile_database;  // "": any
};

struct Services {
    storage::Database& db;
    const Clock& clock;
    IdGenerator& ids;
    http::Metrics& metrics;
    Brand brand;
    std::chrono::steady_clock::time_point started;
    // False while starting and once draining: /readyz answers 503.
    std::atomic<bool>& ready;
    auth::AuthService& auth;
    auth::ApiKeyService& api_keys;
    tenancy::TenantService& tenants;
    tenancy::OrgService& orgs;
    const query::CursorCodec& cursors;
    mail::Outbox& outbox;
    collections::CollectionService& collections;
    collections::DocumentService& documents;
    realtime::RealtimeHub& realtime;
    files::FileService& files;
    files::FileLinks& file_links;
    const limits::PlanCatalog& plans;
    limits::RateLimiter& rate_limiter;
    limits::UsageMeter& meter;
    billing::BillingService& billing;
    audit::DenialLog& denials;
    bool limits_enabled = true;    // limits.enabled: rate limits on (quotas apply regardless)
    bool metering_enabled = true;  // limits.metering
    // Why an acknowledged write could be lost under the database's settings ("" when none):
    // shown by /v1/health and /readyz (issue #29).
    std::string durability_warning;
    CompatSettings compat;
};

}  // namespace tb::api
