#pragma once
// SQL functions the project adds to every SQLite connection.
//
//   tb_regexp(text, pattern): 1 when RE2 finds `pattern` in `text`, 0 when not, NULL for a
//   NULL text. The documents' `$regex` (query/doc_regex.h makes the pattern canonical, so RE2
//   here and PostgreSQL's engine agree). Linear time; the compiled pattern is kept for the
//   statement while the parameter stays bound.
//
//   tb_null_non_finite(text): the JSON text with the non-finite number tokens that older
//   versions stored replaced by null (common/json.h NullNonFiniteTokens), for migration 0010.

#include <sqlite3.h>

#include "common/result.h"

namespace tb::storage {

Status RegisterSqliteFunctions(sqlite3* db);

}  // namespace tb::storage
