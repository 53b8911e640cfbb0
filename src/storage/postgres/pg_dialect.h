#pragma once
// PostgreSQL's SQL (storage/dialect.h): JSONB operators, the C collation, row locks.

#include "storage/dialect.h"

namespace tb::storage {

const Dialect& PostgresDialect();

}  // namespace tb::storage
