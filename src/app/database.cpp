#include "app/database.h"

#include <filesystem>

#include "files/database_store.h"
#include "files/local_store.h"
#include "storage/postgres/pg_database.h"
#include "storage/sqlite/sqlite_database.h"

namespace tb::app {

Result<OpenedDatabase> OpenDatabase(const Config& config, boost::asio::any_io_executor ex,
                                    const std::string& node_id) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(config.data, ec)) {
        fs::create_directories(config.data, ec);
        if (ec)
            return Error::BadRequest("cannot create data directory " + config.data + ": " +
                                     ec.message());
        fs::permissions(config.data, fs::perms::owner_all, fs::perm_options::replace, ec);
    }
    std::string url = config.DatabaseUrl();
    OpenedDatabase out;
    if (url.starts_with("sqlite://")) {
        storage::SqliteOptions options;
        options.path = url.substr(std::string_view("sqlite://").size());
        options.synchronous = config.sqlite.synchronous;
        options.statement_timeout = std::chrono::milliseconds(config.query.timeout_ms);
        TB_ASSIGN_OR_RETURN(auto db, storage::SqliteDatabase::Open(options));
        out.db = std::move(db);
        out.migrations = storage::SqliteMigrations();
    } else {
        storage::PostgresOptions options;
        options.url = url;
        options.pool_size = static_cast<size_t>(config.postgres.pool_size);
        options.statement_timeout = std::chrono::milliseconds(config.query.timeout_ms);
        options.node_id = node_id;
        options.acquire_timeout = std::chrono::milliseconds(config.postgres.acquire_timeout_ms);
        out.db = std::make_unique<storage::PgDatabase>(std::move(ex), options);
        out.migrations = storage::PostgresMigrations();
        out.shared = true;
    }
    return out;
}

Result<std::unique_ptr<files::ContentStore>> OpenContentStore(const Config& config,
                                                              storage::Database& db,
                                                              const Clock& clock,
                                                              WorkerPool& workers) {
    if (config.files.backend == "database")
        return std::unique_ptr<files::ContentStore>(
            std::make_unique<files::DatabaseStore>(db, clock));
    auto local =
        std::make_unique<files::LocalStore>(std::filesystem::path(config.data) / "files", workers);
    TB_RETURN_IF_ERROR(local->Open());
    return std::unique_ptr<files::ContentStore>(std::move(local));
}

}  // namespace tb::app
