#pragma once
// The audit log of security events (API.md §9): who did what to what, from where. Written in
// the same transaction as the change it records when there is one, so that neither exists
// without the other.

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/json.h"
#include "storage/database.h"
#include "storage/list_sql.h"

namespace tb::audit {

struct Event {
    std::optional<std::string> tenant_id;  // nullopt: instance-level
    std::string actor;                     // user id, key id, or "" for anonymous
    std::string action;                    // e.g. "login.failed", "refresh.reuse_detected"
    std::string target;
    std::string ip;
    std::string user_agent;
    json::object details;  // never a password, token or key
};

class AuditLog {
  public:
    AuditLog(IdGenerator& ids, const Clock& clock) : ids_(ids), clock_(clock) {}
    // Inside the caller's transaction.
    Task<Status> Record(storage::Session& tx, const Event& event);
    // On its own (the change it records, if any, is already committed or was refused).
    Task<Status> Record(storage::Database& db, const Event& event);

    struct Entry {
        std::string id;
        std::optional<std::string> tenant_id;
        int64_t ts = 0;
        std::string actor, action, target, ip, user_agent;
        json::object details;
    };
    struct Page {
        std::vector<Entry> items;
        std::optional<int64_t> total;
        std::optional<std::vector<query::Literal>> next_keys;
    };
    static const query::Resource& Resource();
    // A tenant's events (and, for platform admins, the instance-level ones beside them).
    static Task<Result<Page>> ListTenant(storage::Database& db, const storage::TenantScope& tenant,
                                         bool with_instance_events, const query::ListQuery& q);
    // Every event (platform admins with no tenant selected).
    static Task<Result<Page>> ListAll(storage::Database& db, const query::ListQuery& q);

  private:
    static Task<Result<Page>> List(storage::Database& db, const storage::ListSource& source,
                                   const query::ListQuery& q);
    IdGenerator& ids_;
    const Clock& clock_;
};

}  // namespace tb::audit
