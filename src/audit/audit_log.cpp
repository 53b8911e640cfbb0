#include "audit/audit_log.h"

namespace tb::audit {

Task<Status> AuditLog::Record(storage::Session& tx, const Event& e) {
    storage::Params p = storage::Bind(
        ids_.Next(), e.tenant_id ? storage::Value(*e.tenant_id) : storage::Value(), ToUnixMillis(clock_.Now()),
        e.actor, e.action, e.target, e.ip, e.user_agent, json::serialize(e.details));
    auto r = co_await tx.Execute(
        "INSERT INTO audit_log (id, tenant_id, ts, actor, action, target, ip, user_agent, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        std::move(p));
    if (!r.ok()) co_return std::move(r).error();
    co_return Status{};
}

Task<Status> AuditLog::Record(storage::Database& db, const Event& e) {
    const storage::TransactionFn fn = [&](storage::Session& tx) -> Task<Status> {
        co_return co_await Record(tx, e);
    };
    co_return co_await db.Transaction(fn);
}

}  // namespace tb::audit
