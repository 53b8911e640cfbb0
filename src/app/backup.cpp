#include "app/backup.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "files/local_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "storage/sqlite/sqlite_database.h"

namespace tb::app {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSqliteScheme = "sqlite://";

Result<std::string> SqlitePath(const Config& config) {
    std::string url = config.DatabaseUrl();
    if (!url.starts_with(kSqliteScheme))
        return Error::BadRequest(
            "backup and restore are for the embedded SQLite database; for PostgreSQL use "
            "pg_dump and pg_restore (docs/deploy.md)");
    return url.substr(kSqliteScheme.size());
}

std::string FilesDirOf(const std::string& file) { return file + ".files"; }

// A hard link where possible (the same file system), else a copy.
Status LinkOrCopy(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (ec) return Error::Internal("mkdir " + to.parent_path().string() + ": " + ec.message());
    if (::link(from.c_str(), to.c_str()) == 0 || errno == EEXIST) return {};
    if (errno == ENOENT) return Error::NotFound(from.string());
    fs::copy_file(from, to, fs::copy_options::skip_existing, ec);
    if (ec == std::errc::no_such_file_or_directory) return Error::NotFound(from.string());
    if (ec) return Error::Internal("copy " + from.string() + ": " + ec.message());
    return {};
}

// Every content file under a store's root, as paths relative to it (not its tmp/ uploads).
std::set<std::string> ContentsUnder(const fs::path& root) {
    std::set<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        fs::path rel = it->path().lexically_relative(root);
        if (it.depth() == 0 && rel == "tmp") {
            it.disable_recursion_pending();
            continue;
        }
        if (it->is_regular_file(ec)) out.insert(rel.string());
    }
    return out;
}

// The (tenant, file) ids of a database file's rows.
Result<std::vector<std::pair<std::string, std::string>>> FileRows(const std::string& db_path) {
    TB_ASSIGN_OR_RETURN(auto conn, storage::SqliteConnection::Open(
                                       db_path, storage::SqliteConnection::Mode::kReadOnly));
    // tenant-scope: a backup covers every tenant.
    TB_ASSIGN_OR_RETURN(auto rows, conn->Query("SELECT tenant_id, id FROM files", {}));
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(rows.size());
    for (auto& r : rows.rows)
        out.emplace_back(std::get<std::string>(r[0]), std::get<std::string>(r[1]));
    return out;
}

}  // namespace

Result<BackupReport> BackupData(storage::Database& db, const Config& config,
                                const std::string& file) {
    if (auto sqlite = SqlitePath(config); !sqlite.ok()) return std::move(sqlite).error();
    const std::string files_dir = FilesDirOf(file);
    std::error_code ec;
    if (fs::exists(file, ec) || fs::exists(files_dir, ec))
        return Error::BadRequest(file + " (or " + files_dir + ") exists; a backup makes new ones");

    BackupReport report;
    const bool local = config.files.backend == "local";
    const fs::path live = fs::path(config.data) / "files";
    // 1. Every content there now, before the database is copied: a content whose row is in
    //    the copy is then in the backup even if it is deleted meanwhile.
    if (local) {
        for (const auto& rel : ContentsUnder(live)) {
            Status s = LinkOrCopy(live / rel, fs::path(files_dir) / rel);
            if (!s.ok() && s.error().code != ErrorCode::kNotFound) return s.error();
        }
    }
    // 2. The database.
    TB_RETURN_IF_ERROR(db.Backup(file));
    if (!local) return report;
    // 3. The contents of files uploaded between 1 and 2; then nothing the copy does not name.
    TB_ASSIGN_OR_RETURN(auto rows, FileRows(file));
    std::set<std::string> wanted;
    for (const auto& [tenant, id] : rows) {
        const std::string rel =
            fs::path(files::LocalContentPath("", tenant, id)).relative_path().string();
        wanted.insert(rel);
        if (fs::exists(fs::path(files_dir) / rel, ec)) continue;
        Status s = LinkOrCopy(live / rel, fs::path(files_dir) / rel);
        if (!s.ok() && s.error().code == ErrorCode::kNotFound) {
            ++report.missing;
            continue;
        }
        TB_RETURN_IF_ERROR(s);
    }
    for (const auto& rel : ContentsUnder(files_dir)) {
        if (!wanted.contains(rel)) fs::remove(fs::path(files_dir) / rel, ec);
    }
    report.files = static_cast<int64_t>(wanted.size()) - report.missing;
    if (report.files == 0) fs::remove_all(files_dir, ec);
    return report;
}

Result<RestoreReport> RestoreData(const Config& config, const std::string& file) {
    TB_ASSIGN_OR_RETURN(std::string target, SqlitePath(config));
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return Error::BadRequest("no backup at " + file);
    for (const char* suffix : {"", "-wal", "-journal"}) {
        if (fs::exists(target + suffix, ec))
            return Error::BadRequest(target +
                                     " exists: restore into a data directory without "
                                     "a database (stop the server, move it away)");
    }
    const fs::path live = fs::path(config.data) / "files";
    if (!ContentsUnder(live).empty())
        return Error::BadRequest(live.string() + " holds files: restore into an empty one");

    // The backup is sound before anything is written.
    {
        TB_ASSIGN_OR_RETURN(auto conn, storage::SqliteConnection::Open(
                                           file, storage::SqliteConnection::Mode::kReadOnly));
        auto check = conn->Query("PRAGMA integrity_check", {});
        if (!check.ok()) return Error::BadRequest(file + " is not a SQLite database");
        const auto* verdict =
            check->rows.empty() ? nullptr : std::get_if<std::string>(&check->rows[0][0]);
        if (verdict == nullptr || *verdict != "ok")
            return Error::BadRequest(file + " fails SQLite's integrity check");
        // tenant-scope: the migration ledger is global.
        if (!conn->Query("SELECT 1 FROM schema_migrations LIMIT 1", {}).ok())
            return Error::BadRequest(file + " is not a Tenantbase database");
    }

    fs::create_directories(fs::path(target).parent_path(), ec);
    fs::permissions(config.data, fs::perms::owner_all, ec);
    TB_RETURN_IF_ERROR(storage::CopySqliteDatabase(file, target));
    RestoreReport report;
    const fs::path saved = FilesDirOf(file);
    for (const auto& rel : ContentsUnder(saved)) {
        fs::create_directories((live / rel).parent_path(), ec);
        fs::copy_file(saved / rel, live / rel, fs::copy_options::overwrite_existing, ec);
        if (ec) return Error::Internal("copy " + (saved / rel).string() + ": " + ec.message());
        ++report.files;
    }
    ::sync();  // the restored data is on disk before the command says so
    return report;
}

}  // namespace tb::app
