#pragma once
// Embedded schema migrations (generated from storage/<backend>/migrations/NNNN_name.sql) and the
// migrator that applies the pending ones, each in its own transaction, recording them in
// schema_migrations.

#include <span>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"
#include "common/task.h"

namespace tb::storage {

class Database;

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Applies every migration not yet recorded; returns how many it applied.
Task<Result<int>> Migrate(Database& db, std::span<const Migration> migrations, const Clock& clock);

}  // namespace tb::storage
