#pragma once
// Configuration: every setting has a dotted name (`server.header_timeout_seconds`), comes from
// the TOML file, from the environment as TB_<NAME> (dots and case folded:
// TB_SERVER_HEADER_TIMEOUT_SECONDS) and, for a few, from flags; precedence is
// flag > environment > file > default (API.md §12). A bad value is an error naming the setting.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "limits/plans.h"

namespace tb::app {

struct Config {
    // TB_* variables of the environment that name no setting: ignored, and warned about at
    // start-up (a misspelt TB_SQLITE_SYNCHRONUS must not pass unnoticed).
    std::vector<std::string> ignored_env;
    std::string http = "0.0.0.0:8080";  // ADDR:PORT
    std::string data = "./data";
    std::string database;  // empty: sqlite://<data>/tenantbase.db

    struct Server {
        int64_t threads = 0;  // 0: one per CPU this process may run on
        double header_timeout_seconds = 10;
        double body_timeout_seconds = 30;
        double idle_timeout_seconds = 60;
        double shutdown_timeout_seconds = 10;
        int64_t max_body_bytes = int64_t{10} * 1024 * 1024;
        int64_t max_header_bytes = int64_t{16} * 1024;
        int64_t max_connections = 10'000;      // open at once, in all
        int64_t max_connections_per_ip = 256;  // open at once per client address
    } server;
    struct Tls {
        std::string cert, key;
    } tls;
    struct Cors {
        std::vector<std::string> origins;
    } cors;
    struct Log {
        std::string level = "info";
        bool access = true;
    } log;
    struct Sqlite {
        std::string synchronous = "FULL";
    } sqlite;
    struct Files {
        // Where file contents live: "local" (<data>/files) or "database" (chunks in the
        // database: every node on one PostgreSQL serves every file).
        std::string backend = "local";
    } files;
    struct MetricsListener {
        // ADDR:PORT of a second listener that serves GET /metrics to anyone who reaches it
        // (a Prometheus on the internal network); "" for none. On the main listener /metrics
        // answers platform admins only (issue #29: it named every tenant id to anyone).
        std::string http;
    } metrics;
    struct Query {
        // Every statement's deadline (issue #29): past it the statement is stopped and the
        // request answers 503 QUERY_TIMEOUT. 0: none.
        int64_t timeout_ms = 2000;
    } query;
    struct Postgres {
        int64_t pool_size = 16;
        // The longest a request waits for a pooled connection (then 503 with Retry-After).
        int64_t acquire_timeout_ms = 2000;
    } postgres;
    struct Brand {
        std::string name = "Tenantbase";
        std::string short_name = "Tenantbase";
        std::string description = "Self-hosted backend for multi-tenant SaaS apps";
    } brand;
    struct Admin {
        std::string email, password;
    } admin;
    // The compatibility dialects (API.md §11).
    struct Compat {
        bool restdb_allow_query_key = false;        // RestDB's ?apikey= (a key in a URL leaks)
        std::string nile_workspace, nile_database;  // "" : any value in the Nile paths
    } compat;
    struct Limits {
        bool enabled = true;
        int64_t login_failures = 10;
        int64_t login_window_seconds = 900;
        int64_t register_per_hour = 60;
        // Request budgets per fixed hour (API.md §1.3) where a plan sets none.
        int64_t user_per_hour = 1000;
        int64_t key_per_hour = 5000;
        int64_t anonymous_per_hour = 100;
        int64_t tenant_per_hour = 50'000;
        // false: requests are not metered into usage_counters (benchmarks of the bare path).
        bool metering = true;
        // Peers whose X-Forwarded-For names the client (addresses or CIDR ranges).
        std::vector<std::string> trusted_proxies;
    } limits;
    // [plans.<name>] tables (API.md §8); TB_PLANS_<NAME>_<FIELD> in the environment.
    std::vector<limits::Plan> plans = limits::DefaultPlans();
    struct Tenants {
        bool self_service = true;          // any user may create tenants
        bool personal_on_register = true;  // registration makes a personal tenant
        std::string default_plan = "free";
    } tenants;
    struct Collections {
        bool auto_create = true;  // a write to an unknown collection creates it (admin+)
    } collections;
    // Realtime event streams (API.md §5.6).
    struct Realtime {
        int64_t max_connections = 10'000;             // open streams per node
        int64_t max_queued_bytes = int64_t{1} << 20;  // per stream, then `overflow`
        int64_t heartbeat_seconds = 15;
    } realtime;
    struct Mail {
        std::string from = "Tenantbase <no-reply@localhost>";
        // Where the links in account mails point: <link_base>/reset-password?token=…,
        // /verify-email?token=…, /accept-invitation?token=… (the application's pages).
        std::string link_base = "http://localhost:8080";
        int64_t max_attempts = 8;
        double retry_base_seconds = 30;
        double poll_seconds = 1;
        // How long a claimed mail is left to its sender before another loop (after a crash,
        // this node's next start or another node) sends it; never below twice the SMTP timeout.
        double lease_seconds = 120;
        int64_t invitation_ttl_hours = int64_t{7} * 24;
    } mail;
    struct Smtp {
        std::string url;  // empty: mails become files under <data>/mail/
        std::string username, password;
        bool require_tls = false;
        int64_t timeout_seconds = 30;
    } smtp;
    struct Auth {
        std::string jwt_algorithm = "RS256";
        std::string issuer = "tenantbase";
        std::string audience = "tenantbase";
        int64_t access_ttl_seconds = 900;
        int64_t refresh_ttl_seconds = int64_t{30} * 24 * 3600;
        int64_t refresh_grace_seconds = 10;
        // A session not refreshed for this long is over (0: no idle limit), within its
        // absolute lifetime (refresh_ttl_seconds).
        int64_t session_idle_seconds = int64_t{7} * 86400;
        int64_t password_min_length = 8;
        int64_t argon2_ops = 2;             // passes (OWASP minimum: 2)
        int64_t argon2_memory_kib = 19456;  // 19 MiB (OWASP minimum)
        int64_t hash_threads = 2;           // Argon2id worker threads
        int64_t hash_queue = 256;           // waiting hashes before 503
    } auth;

    // Derived.
    std::string DatabaseUrl() const;
    Result<std::pair<std::string, uint16_t>> ListenAddress() const;
    // metrics.http as (host, port); REQUIRES: metrics.http is set.
    Result<std::pair<std::string, uint16_t>> MetricsAddress() const;
};

// Where the values come from, for tests and the CLI.
struct ConfigSources {
    std::string file_text;                     // TOML; empty when there is no file
    std::string file_name;                     // for messages
    std::map<std::string, std::string> env;    // the process environment (TB_* are read)
    std::map<std::string, std::string> flags;  // setting name -> value from a flag
};

Result<Config> LoadConfig(const ConfigSources& sources);
// The environment of this process as a map (only TB_* variables).
std::map<std::string, std::string> ProcessEnvironment();
// The names of every setting, for --help text and docs.
std::vector<std::string> SettingNames();
// The environment variable of a setting: `a.b_c` is TB_A_B_C.
std::string EnvName(std::string_view setting);

}  // namespace tb::app
