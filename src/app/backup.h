#pragma once
// `tenantbase backup` and `tenantbase restore` for the embedded database (issue #24).
//
// A backup is FILE, a consistent copy of the SQLite database taken while the server runs, and
// FILE.files/, the local file store's contents for the files in that copy (absent when there
// are none: with files.backend = "database" they are inside FILE). Contents are immutable once
// written, so they are hard-linked (copied across file systems) before the database is copied
// and completed after it: a file deleted while the backup runs keeps its content for the rows
// that name it. PostgreSQL is backed up with pg_dump (docs/deploy.md).

#include <cstdint>
#include <string>

#include "app/config.h"
#include "common/result.h"
#include "storage/database.h"

namespace tb::app {

struct BackupReport {
    int64_t files = 0;    // contents in FILE.files/
    int64_t missing = 0;  // rows whose content was gone (deleted while the backup ran)
};
// Refuses (BAD_REQUEST) on PostgreSQL and when FILE or FILE.files already exists.
Result<BackupReport> BackupData(storage::Database& db, const Config& config,
                                const std::string& file);

struct RestoreReport {
    int64_t files = 0;
};
// Restores a backup into the configured data directory, which must hold no database and no
// file contents (BAD_REQUEST otherwise, touching nothing). The copy is checked with SQLite's
// integrity check first; the server applies any newer migrations when it starts.
Result<RestoreReport> RestoreData(const Config& config, const std::string& file);

}  // namespace tb::app
