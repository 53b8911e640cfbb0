#pragma once
// `tenantbase tenant export ID FILE` and `tenantbase tenant import FILE` (issue #24): one
// tenant as JSON lines, to move it between instances or from SQLite to PostgreSQL.
//
// The file: a header line `{"format": "tenantbase-tenant", "version": 1, "tenant": ID,
// "columns": {table: [column…]}}`; then one line per row, `{"table": T, "row": [value…]}`,
// in the order of the header's columns, for the tenant, its members' user accounts (password
// hashes included, so that they sign in on the new instance; never platform-admin rights),
// memberships, organizations and their members, collections with their counters, documents
// and files; then each file's content as `{"content": FILE_ID, "data": BASE64URL}` lines; and
// a last line `{"end": true, "rows": N}`, so that a cut file is refused. What stays behind:
// sessions (members sign in again), API keys (issue new ones), invitations, mail, the audit
// log and usage history.
//
// Export reads every row in one transaction (on SQLite the server's writes wait meanwhile:
// seconds for a tenant of a million documents), then the contents.
// Import is all or nothing: the contents are written to the configured file store first (a
// failed import leaves only contents without rows, which the store's sweep removes), then
// every row in one transaction, then the collections' indexes. A tenant whose id or slug
// exists → CONFLICT. A member whose email already has an account on the target is that
// account: the member's rows and documents name it instead.

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "common/result.h"
#include "common/task.h"
#include "files/content_store.h"
#include "storage/database.h"

namespace tb::app {

struct TransferReport {
    int64_t rows = 0;
    int64_t documents = 0;
    int64_t files = 0;
    int64_t users_matched = 0;  // members who had an account on the target already
};

Task<Result<TransferReport>> ExportTenant(storage::Database& db, files::ContentStore& store,
                                          std::string tenant_id, std::ostream& out);
Task<Result<TransferReport>> ImportTenant(storage::Database& db, files::ContentStore& store,
                                          std::istream& in);

}  // namespace tb::app
