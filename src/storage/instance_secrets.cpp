#include "storage/instance_secrets.h"

#include "common/encoding.h"

namespace tb::storage {

Task<Result<std::string>> InstanceSecret(Database& db, const std::string& name) {
    std::string fresh = RandomToken(32);
    const TransactionFn fn = [&](Session& tx) -> Task<Status> {
        auto r = co_await tx.Execute(
            "INSERT INTO instance_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO "
            "NOTHING",
            Bind(name, fresh));
        if (!r.ok()) co_return std::move(r).error();
        co_return Status{};
    };
    TB_CO_RETURN_IF_ERROR(co_await db.Transaction(fn));
    auto rows = co_await db.Query("SELECT value FROM instance_secrets WHERE name = ?", Bind(name));
    if (!rows.ok()) co_return std::move(rows).error();
    if (rows->empty()) co_return Error::Internal("instance secret vanished: " + name);
    co_return AsText(rows->rows[0][0]);
}

}  // namespace tb::storage
