#include "audit/audit_log.h"

#include "common/strings.h"

namespace tb::audit {

namespace {
constexpr const char* kColumns =
    "id, tenant_id, ts, actor, action, target, ip, user_agent, details";
}  // namespace

Task<Status> AuditLog::Record(storage::Session& tx, const Event& e) {
    storage::Params p = storage::Bind(
        ids_.Next(), e.tenant_id ? storage::Value(*e.tenant_id) : storage::Value(),
        ToUnixMillis(clock_.Now()), ToValidUtf8(e.actor), e.action, ToValidUtf8(e.target, 1024),
        ToValidUtf8(e.ip, 64), ToValidUtf8(e.user_agent, 512), WriteJson(e.details));
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

const query::Resource& AuditLog::Resource() {
    using query::Type;
    static const query::Resource r{"audit_logs",
                                   "id",
                                   {{"id", "id", Type::kId},
                                    {"ts", "ts", Type::kTime},
                                    {"actor", "actor", Type::kText},
                                    {"action", "action", Type::kText},
                                    {"target", "target", Type::kText},
                                    {"ip", "ip", Type::kText}}};
    return r;
}

Task<Result<AuditLog::Page>> AuditLog::List(storage::Database& db,
                                            const storage::ListSource& source,
                                            const query::ListQuery& q) {
    auto result = co_await storage::RunList(db, db.dialect(), Resource(), q, source);
    if (!result.ok()) co_return std::move(result).error();
    Page out{{}, result->total, std::move(result->next_keys)};
    for (const auto& r : result->rows.rows) {
        Entry e;
        e.id = storage::AsText(r[0]);
        if (!storage::IsNull(r[1])) e.tenant_id = storage::AsText(r[1]);
        e.ts = storage::AsInt(r[2]);
        e.actor = storage::AsText(r[3]);
        e.action = storage::AsText(r[4]);
        e.target = storage::AsText(r[5]);
        e.ip = storage::AsText(r[6]);
        e.user_agent = storage::AsText(r[7]);
        auto details = ParseStoredJson(storage::AsText(r[8]));
        if (details.ok() && details->is_object()) e.details = std::move(details->as_object());
        out.items.push_back(std::move(e));
    }
    co_return out;
}

Task<Result<AuditLog::Page>> AuditLog::ListTenant(storage::Database& db,
                                                  const storage::TenantScope& tenant,
                                                  bool with_instance_events,
                                                  const query::ListQuery& q) {
    storage::ListSource source =
        storage::ListSource::ForTenant(tenant, "tenant_id", kColumns, "audit_log");
    if (with_instance_events) source.scope = "(" + source.scope + " OR tenant_id IS NULL)";
    co_return co_await List(db, source, q);
}

Task<Result<AuditLog::Page>> AuditLog::ListAll(storage::Database& db, const query::ListQuery& q) {
    co_return co_await List(db, storage::ListSource::Platform(kColumns, "audit_log"), q);
}

}  // namespace tb::audit
