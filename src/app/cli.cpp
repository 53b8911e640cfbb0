#include "app/cli.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/backup.h"
#include "app/config.h"
#include "app/database.h"
#include "app/run_sync.h"
#include "app/serve.h"
#include "app/tenant_transfer.h"
#include "auth/admin_bootstrap.h"
#include "files/file_links.h"

namespace tb::app {

namespace {

constexpr int kUsageError = 2;

struct CommonFlags {
    std::string config_file, http, data, database;

    void AddTo(CLI::App* cmd, bool with_http) {
        cmd->add_option("--config", config_file, "TOML configuration file");
        if (with_http) cmd->add_option("--http", http, "Listen address ADDR:PORT (0.0.0.0:8080)");
        cmd->add_option("--data", data, "Data directory (./data)");
        cmd->add_option("--database", database,
                        "sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB");
    }

    Result<Config> Load() const {
        ConfigSources src;
        if (!config_file.empty()) {
            std::ifstream in(config_file);
            if (!in) return Error::BadRequest("--config: cannot read " + config_file);
            std::stringstream text;
            text << in.rdbuf();
            src.file_text = text.str();
            src.file_name = config_file;
        }
        src.env = ProcessEnvironment();
        if (!http.empty()) src.flags["http"] = http;
        if (!data.empty()) src.flags["data"] = data;
        if (!database.empty()) src.flags["database"] = database;
        return LoadConfig(src);
    }
};

// Opens and migrates the database for a one-shot command; prints the error and returns null
// on failure.
std::optional<OpenedDatabase> OpenMigrated(const Config& config, boost::asio::io_context& ioc,
                                           const Clock& clock) {
    auto opened = OpenDatabase(config, ioc.get_executor());
    if (!opened.ok()) {
        std::cerr << "tenantbase: " << opened.error().message << " " << opened.error().internal
                  << "\n";
        return std::nullopt;
    }
    auto migrated = RunSync(ioc, storage::Migrate(*opened->db, opened->migrations, clock));
    if (!migrated.ok()) {
        std::cerr << "tenantbase: migrations failed: " << migrated.error().internal << "\n";
        return std::nullopt;
    }
    return std::move(opened).value();
}

// `tenant export` / `tenant import`; the exit code.
int TransferTenant(const Config& config, storage::Database& db, boost::asio::io_context& ioc,
                   const Clock& clock, bool exporting, const std::string& tenant_id,
                   const std::string& file) {
    WorkerPool workers(1, 64);
    auto store = OpenContentStore(config, db, clock, workers);
    if (!store.ok()) {
        std::cerr << "tenantbase: the file store: " << store.error().internal << "\n";
        return 1;
    }
    Result<TransferReport> report = Error::Internal("unset");
    if (exporting) {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        if (!out) {
            std::cerr << "tenantbase: cannot write " << file << "\n";
            return kUsageError;
        }
        report = RunSync(ioc, ExportTenant(db, **store, tenant_id, out));
    } else {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "tenantbase: cannot read " << file << "\n";
            return kUsageError;
        }
        report = RunSync(ioc, ImportTenant(db, **store, in));
    }
    if (!report.ok()) {
        std::cerr << "tenantbase: tenant " << (exporting ? "export" : "import")
                  << " failed: " << report.error().message << " " << report.error().internal
                  << "\n";
        if (exporting) std::remove(file.c_str());
        const auto code = report.error().code;
        return code == ErrorCode::kBadRequest || code == ErrorCode::kConflict ||
                       code == ErrorCode::kNotFound
                   ? kUsageError
                   : 1;
    }
    std::cout << (exporting ? "exported " : "imported ") << report->rows << " rows ("
              << report->documents << " documents, " << report->files << " files)";
    if (!exporting && report->users_matched > 0)
        std::cout << "; " << report->users_matched << " members matched existing accounts";
    std::cout << "\n";
    return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
    CLI::App app{"Tenantbase: a self-hosted backend for multi-tenant SaaS apps.", "tenantbase"};
    app.require_subcommand(1);
    CommonFlags flags;

    auto* serve = app.add_subcommand("serve", "Run the HTTP server");
    flags.AddTo(serve, true);
    auto* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");
    flags.AddTo(migrate, false);
    std::string backup_file;
    auto* backup = app.add_subcommand(
        "backup",
        "Copy the SQLite database to FILE and file contents to FILE.files/, even while "
        "serving");
    backup->add_option("FILE", backup_file, "Destination file (must not exist)")->required();
    flags.AddTo(backup, false);
    std::string restore_file;
    auto* restore = app.add_subcommand(
        "restore",
        "Restore a backup (FILE and FILE.files/) into a data directory without a "
        "database, with the server stopped");
    restore->add_option("FILE", restore_file, "A file written by tenantbase backup")->required();
    flags.AddTo(restore, false);
    auto* admin = app.add_subcommand("admin", "Platform administrators");
    admin->require_subcommand(1);
    std::string email, password;
    auto* admin_create = admin->add_subcommand("create", "Create a platform admin");
    admin_create->add_option("--email", email, "Email address")->required();
    admin_create->add_option("--password", password, "Password (or TB_ADMIN_PASSWORD)")
        ->envname("TB_ADMIN_PASSWORD");
    flags.AddTo(admin_create, false);
    auto* keys = app.add_subcommand("keys", "JWT signing keys");
    keys->require_subcommand(1);
    auto* keys_rotate = keys->add_subcommand(
        "rotate",
        "Add a new current signing key; tokens signed by older keys stay valid until they expire");
    flags.AddTo(keys_rotate, false);
    auto* tenant = app.add_subcommand("tenant", "Move one tenant between instances");
    tenant->require_subcommand(1);
    std::string tenant_id, transfer_file;
    auto* tenant_export = tenant->add_subcommand(
        "export", "Write tenant ID (members, collections, documents, files) to FILE as JSON lines");
    tenant_export->add_option("ID", tenant_id, "Tenant id")->required();
    tenant_export->add_option("FILE", transfer_file, "Destination file")->required();
    flags.AddTo(tenant_export, false);
    auto* tenant_import =
        tenant->add_subcommand("import", "Create the tenant written by tenant export in FILE");
    tenant_import->add_option("FILE", transfer_file, "A file written by tenant export")->required();
    flags.AddTo(tenant_import, false);
    auto* version = app.add_subcommand("version", "Print the version");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kUsageError;
    }

    if (version->parsed()) {
        std::cout << "tenantbase " << TB_VERSION << "\n";
        return 0;
    }
    auto config = flags.Load();
    if (!config.ok()) {
        std::cerr << "tenantbase: " << config.error().message << "\n";
        return kUsageError;
    }
    if (serve->parsed()) return Serve(*config);
    if (restore->parsed()) {
        // Before anything opens (and so creates) the database.
        auto restored = RestoreData(*config, restore_file);
        if (!restored.ok()) {
            std::cerr << "tenantbase: restore failed: " << restored.error().message << " "
                      << restored.error().internal << "\n";
            return restored.error().code == ErrorCode::kBadRequest ? kUsageError : 1;
        }
        std::cout << "restored " << restore_file << " into " << config->data << " ("
                  << restored->files << " files); start it with: tenantbase serve --data "
                  << config->data << "\n";
        return 0;
    }

    if (!auth::InitCrypto()) return 1;
    boost::asio::io_context ioc;
    SystemClock clock;
    auto opened = OpenMigrated(*config, ioc, clock);
    if (!opened) return 1;
    int rc = 0;
    if (migrate->parsed()) {
        std::cout << "migrations: up to date (" << opened->migrations.size() << " known)\n";
    } else if (backup->parsed()) {
        auto s = BackupData(*opened->db, *config, backup_file);
        if (!s.ok()) {
            std::cerr << "tenantbase: backup failed: " << s.error().message << " "
                      << s.error().internal << "\n";
            rc = s.error().code == ErrorCode::kBadRequest ? kUsageError : 1;
        } else {
            std::cout << "backup written to " << backup_file;
            if (s->files > 0)
                std::cout << " and " << backup_file << ".files/ (" << s->files << " files)";
            std::cout << "\n";
            if (s->missing > 0)
                std::cerr << "tenantbase: " << s->missing
                          << " files were deleted while the backup ran; their rows are in it "
                             "without content\n";
        }
    } else if (tenant_export->parsed() || tenant_import->parsed()) {
        rc = TransferTenant(*config, *opened->db, ioc, clock, tenant_export->parsed(), tenant_id,
                            transfer_file);
    } else if (admin_create->parsed()) {
        if (password.empty()) {
            std::cerr << "tenantbase: --password or TB_ADMIN_PASSWORD is required\n";
            rc = kUsageError;
        } else {
            IdGenerator ids(clock);
            auth::PasswordHasher hasher(PasswordParamsOf(*config));
            audit::AuditLog audit(ids, clock);
            Status s = RunSync(
                ioc, auth::CreateAdmin({*opened->db, hasher, ids, clock, &audit}, email, password));
            if (!s.ok()) {
                std::cerr << "tenantbase: " << s.error().message << "\n";
                rc = s.error().code == ErrorCode::kValidation ? kUsageError : 1;
            } else {
                std::cout << "platform admin created: " << email << "\n";
            }
        }
    } else if (keys_rotate->parsed()) {
        IdGenerator ids(clock);
        auto alg = auth::ParseAlgorithm(config->auth.jwt_algorithm).value();
        auto kid = RunSync(ioc, auth::AuthService::RotateKey(*opened->db, ids, clock, alg));
        Status links = kid.ok() ? RunSync(ioc, files::FileLinks::Rotate(*opened->db)) : Status{};
        if (!kid.ok()) {
            std::cerr << "tenantbase: key rotation failed: " << kid.error().internal << "\n";
            rc = 1;
        } else if (!links.ok()) {
            std::cerr << "tenantbase: file link secret rotation failed: " << links.error().internal
                      << "\n";
            rc = 1;
        } else {
            std::cout << "new signing key " << *kid << " (" << config->auth.jwt_algorithm
                      << ") and file link secret; running nodes pick them up on their next "
                         "reload\n";
        }
    }
    opened->db->Close();
    return rc;
}

}  // namespace tb::app
