#include "storage/migration.h"

#include "storage/database.h"

namespace tb::storage {

namespace {

Task<Status> CreateMigrationsTable(Session& tx) {
    co_return co_await tx.ExecuteScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
}

// Applies one migration unless it is recorded; sets `ran` when it applied it. The lock
// statement makes a second node starting at the same time wait, then see the version
// recorded and skip it.
Task<Status> ApplyOne(Session& tx, const Dialect& dialect, const Migration& m, int64_t now,
                      bool& ran) {
    std::string_view lock = dialect.MigrationLockStatement();
    if (!lock.empty()) {
        auto locked = co_await tx.Query(lock, {});
        if (!locked.ok()) co_return std::move(locked).error();
    }
    Params version{int64_t{m.version}};
    auto done = co_await tx.Query("SELECT 1 FROM schema_migrations WHERE version = ?", version);
    if (!done.ok()) co_return std::move(done).error();
    if (!done->empty()) co_return Status{};
    TB_CO_RETURN_IF_ERROR(co_await tx.ExecuteScript(m.sql));
    Params row{int64_t{m.version}, std::string(m.name), now};
    auto inserted = co_await tx.Execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", row);
    if (!inserted.ok()) co_return std::move(inserted).error();
    ran = true;
    co_return Status{};
}

}  // namespace

Task<Result<int>> Migrate(Database& db, std::span<const Migration> migrations, const Clock& clock) {
    const TransactionFn create = CreateMigrationsTable;
    TB_CO_RETURN_IF_ERROR(co_await db.Transaction(create));
    int applied = 0;
    for (const Migration& m : migrations) {
        bool ran = false;
        int64_t now = ToUnixMillis(clock.Now());
        const TransactionFn apply = [&](Session& tx) -> Task<Status> {
            ran = false;  // set by this run only: a transaction may run again
            co_return co_await ApplyOne(tx, db.dialect(), m, now, ran);
        };
        Status s = co_await db.Transaction(apply);
        if (!s.ok()) co_return std::move(s).error();
        if (ran) ++applied;
    }
    co_return applied;
}

}  // namespace tb::storage
