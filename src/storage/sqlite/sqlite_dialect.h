#pragma once
// SQLite's SQL (storage/dialect.h): JSON1 functions on TEXT bodies, tb_regexp (sqlite_functions.h).

#include "storage/dialect.h"

namespace tb::storage {

const Dialect& SqliteDialect();

}  // namespace tb::storage
