#include "audit/audit_log.h"

namespace tb::audit {

Task<Status> AuditLog::Record(storage::Session& tx, const Event& e) {
    storage::Params p =
        storage::Bind(ids_.Next(), e.tenant_id ? storage::Value(*e.tenant_id) : storage::Value(),
                      ToUnixMillis(clock_.Now()), e.actor, e.action, e.target, e.ip, e.user_agent,
                      json::serialize(e.details));
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

Task<Result<AuditLog::Page>> AuditLog::ListAll(storage::Database& db, int64_t page,
                                               int64_t per_page) {
    auto count = co_await db.Query("SELECT COUNT(*) FROM audit_log", {});
    if (!count.ok()) co_return std::move(count).error();
    auto rows = co_await db.Query(
        "SELECT id, tenant_id, ts, actor, action, target, ip, user_agent, details FROM audit_log "
        "ORDER BY id LIMIT ? OFFSET ?",
        storage::Bind(per_page, (page - 1) * per_page));
    if (!rows.ok()) co_return std::move(rows).error();
    Page out;
    out.total = storage::AsInt(count->rows.at(0).at(0));
    for (const auto& r : rows->rows) {
        Entry e;
        e.id = storage::AsText(r[0]);
        if (!storage::IsNull(r[1])) e.tenant_id = storage::AsText(r[1]);
        e.ts = storage::AsInt(r[2]);
        e.actor = storage::AsText(r[3]);
        e.action = storage::AsText(r[4]);
        e.target = storage::AsText(r[5]);
        e.ip = storage::AsText(r[6]);
        e.user_agent = storage::AsText(r[7]);
        auto details = ParseJson(storage::AsText(r[8]));
        if (details.ok() && details->is_object()) e.details = std::move(details->as_object());
        out.items.push_back(std::move(e));
    }
    co_return out;
}

}  // namespace tb::audit
