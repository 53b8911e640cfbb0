#pragma once
// SQL functions the project adds to every SQLite connection.
//
//   tb_regexp(text, pattern): 1 when RE2 finds `pattern` in `text`, 0 when not, NULL for a
//   NULL text. The documents' `$regex` (query/doc_regex.h makes the pattern canonical, so RE2
//   here and PostgreSQL's engine agree). Linear time; the compiled pattern is kept for the
//   statement while the parameter stays bound.

#include <sqlite3.h>

#include "common/result.h"

namespace tb::storage {

Status RegisterSqliteFunctions(sqlite3* db);

}  // namespace tb::storage
