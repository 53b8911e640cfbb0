#include "app/serve.h"

#include <sys/resource.h>

#include <sched.h>
#include <spdlog/spdlog.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <iostream>
#include <thread>

#include "api/accounting.h"
#include "api/compat/dialects.h"
#include "api/routes.h"
#include "app/database.h"
#include "app/run_sync.h"
#include "auth/admin_bootstrap.h"
#include "auth/auth_service.h"
#include "common/cache_lifetime.h"
#include "common/invalidation.h"
#include "common/log.h"
#include "common/worker_pool.h"
#include "files/file_links.h"
#include "files/file_service.h"
#include "http/server.h"
#include "mail/outbox.h"
#include "mail/transport.h"
#include "realtime/cluster_relay.h"
#include "storage/instance_secrets.h"
#include "storage/postgres/pg_listener.h"

namespace tb::app {

namespace asio = boost::asio;

namespace {

// A background loop running `tick` every `period` until Stop(). running() stays true until the
// loop has returned: shutdown waits for it, since a query it is suspended in must not outlive
// the database (a frame destroyed with the contexts would release a connection to a dead pool).
class Periodic {
  public:
    Periodic(asio::io_context& ioc, std::chrono::milliseconds period,
             const std::function<Task<void>()>& tick)
        : timer_(ioc), period_(period), tick_(tick) {
        asio::co_spawn(ioc, Loop(), asio::detached);
    }
    void Stop() {
        stopping_ = true;
        timer_.cancel();
    }
    bool running() const { return running_; }

  private:
    Task<void> Loop() {
        struct Done {
            std::atomic<bool>& flag;
            ~Done() { flag = false; }
        } done{running_};
        while (!stopping_) {
            timer_.expires_after(period_);
            boost::system::error_code ec;
            co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (ec || stopping_) co_return;
            co_await tick_();
        }
    }

    asio::steady_timer timer_;
    std::chrono::milliseconds period_;
    const std::function<Task<void>()>& tick_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> running_{true};
};

// One I/O thread per CPU this process may run on (taskset narrows it), unless configured.
size_t IoThreads(const Config& config) {
    if (config.server.threads > 0) return static_cast<size_t>(config.server.threads);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    return std::max(1u, std::thread::hardware_concurrency());
}

std::chrono::milliseconds Ms(double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

void PrintGeneratedAdmin(const std::string& password) {
    // Printed once, to the terminal only: the only place this password ever appears.
    std::cout << "\n  A platform admin was created for this new instance:\n"
              << "    email:    admin@localhost\n"
              << "    password: " << password << "\n"
              << "  Sign in with POST /v1/auth/login. This password is not shown again.\n\n"
              << std::flush;
}

}  // namespace

auth::PasswordParams PasswordParamsOf(const Config& c) {
    return {static_cast<uint64_t>(c.auth.argon2_ops),
            static_cast<size_t>(c.auth.argon2_memory_kib) * 1024};
}

auth::AuthSettings AuthSettingsOf(const Config& c) {
    auth::AuthSettings s;
    s.jwt.algorithm = auth::ParseAlgorithm(c.auth.jwt_algorithm).value();
    s.jwt.issuer = c.auth.issuer;
    s.jwt.audience = c.auth.audience;
    s.access_ttl_seconds = c.auth.access_ttl_seconds;
    s.refresh_ttl_seconds = c.auth.refresh_ttl_seconds;
    s.refresh_grace_seconds = c.auth.refresh_grace_seconds;
    s.session_idle_seconds = c.auth.session_idle_seconds;
    s.password_min_length = static_cast<size_t>(c.auth.password_min_length);
    s.limits_enabled = c.limits.enabled;
    s.login_failures = static_cast<int>(c.limits.login_failures);
    s.login_window_seconds = c.limits.login_window_seconds;
    s.register_per_hour = static_cast<int>(c.limits.register_per_hour);
    return s;
}

namespace {
// Every connection is a file descriptor: the soft limit (often 1,024) goes up to the hard one
// at start-up (issue #29), and the connection cap is checked against what it allows.
void RaiseFileLimit(const Config& config) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
        rlimit raised = limit;
        raised.rlim_cur = limit.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    auto fds = static_cast<int64_t>(limit.rlim_cur);
    log::Info("file descriptors", {{"limit", fds}});
    if (config.server.max_connections + 64 > fds) {
        log::Warn(
            "server.max_connections is above what the file limit allows: past it, new "
            "connections wait until others close",
            {{"max_connections", config.server.max_connections}, {"fd_limit", fds}});
    }
}
}  // namespace

int Serve(const Config& config) {
    log::Configure(config.log.level);
    if (!auth::InitCrypto()) {
        log::Error("libsodium failed to initialise");
        return 1;
    }
    RaiseFileLimit(config);
    size_t threads = IoThreads(config);
    // One context per I/O thread (each run by exactly one thread); the first also runs
    // start-up work, the database driver, signals and the acceptor.
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    for (size_t i = 0; i < threads; ++i) contexts.push_back(std::make_unique<asio::io_context>(1));
    asio::io_context& ioc = *contexts[0];
    SystemClock clock;
    IdGenerator ids(clock);

    // This process among the nodes on one PostgreSQL (the change feed skips its own changes).
    const std::string node_id = ids.Next();
    auto opened = OpenDatabase(config, ioc.get_executor(), node_id);
    if (!opened.ok()) {
        log::Error("cannot open the database",
                   {{"error", opened.error().message}, {"detail", opened.error().internal}});
        return 1;
    }
    storage::Database& db = *opened->db;
    auto migrated = RunSync(ioc, storage::Migrate(db, opened->migrations, clock));
    if (!migrated.ok()) {
        log::Error("migrations failed", {{"error", migrated.error().internal}});
        return 1;
    }
    if (*migrated > 0) log::Info("migrations applied", {{"count", *migrated}});
    for (const std::string& name : config.ignored_env)  // the value may be a secret: not logged
        log::Warn("unknown setting in the environment, ignored", {{"variable", name}});
    std::string durability_warning;
    if (auto warning = RunSync(ioc, db.DurabilityWarning()); !warning.ok()) {
        log::Warn("cannot read the database's durability settings",
                  {{"error", warning.error().internal}});
    } else if (!warning->empty()) {
        durability_warning = std::move(*warning);
        log::Warn("DURABILITY AT RISK: acknowledged writes can be lost",
                  {{"reason", durability_warning}});
    } else {
        log::Info("durability: a committed write survives a crash and a power failure",
                  {{"database", std::string(db.dialect().Name())}});
    }

    auth::PasswordHasher hasher(PasswordParamsOf(config));
    audit::AuditLog audit(ids, clock);
    auto generated =
        RunSync(ioc, auth::EnsurePlatformAdmin({db, hasher, ids, clock, &audit}, config.admin.email,
                                               config.admin.password));
    if (!generated.ok()) {
        log::Error("cannot create the platform admin", {{"error", generated.error().message}});
        return 1;
    }
    if (*generated) PrintGeneratedAdmin(**generated);

    // How long cached sessions, keys, memberships and definitions are trusted: short until the
    // change feed is known to be live (common/cache_lifetime.h; set by the heartbeat below).
    CacheLifetime cache_lifetime;
    WorkerPool hash_workers(static_cast<size_t>(config.auth.hash_threads),
                            static_cast<size_t>(config.auth.hash_queue),
                            WorkerPool::Priority::kBackground);
    auth::AuthSettings auth_settings = AuthSettingsOf(config);
    auth_settings.session_cache = cache_lifetime;
    auth::AuthService auth_service(db, hasher, hash_workers, ids, clock, audit, auth_settings);
    if (Status s = RunSync(ioc, auth_service.LoadKeys()); !s.ok()) {
        log::Error("cannot load the signing keys", {{"error", s.error().internal}});
        return 1;
    }

    auth::ApiKeyService api_keys(db, ids, clock, audit, cache_lifetime);
    (void)RunSync(ioc, api_keys.Flush());  // loads the CORS keys' origins

    InvalidationBus bus;
    limits::PlanCatalog plans(config.plans, config.tenants.default_plan,
                              {config.limits.user_per_hour, config.limits.key_per_hour,
                               config.limits.anonymous_per_hour, config.limits.tenant_per_hour});
    limits::RateLimiter rate_limiter(clock);
    // Nodes on one PostgreSQL admit only what they reserved in it (rate_limiter.h).
    if (opened->shared) rate_limiter.ShareThrough(db);
    limits::UsageMeter meter(clock);
    tenancy::TenancySettings tenancy_settings;
    tenancy_settings.catalog = &plans;
    tenancy_settings.cache = cache_lifetime;
    tenancy_settings.self_service = config.tenants.self_service;
    tenancy_settings.personal_on_register = config.tenants.personal_on_register;
    tenancy_settings.default_plan = config.tenants.default_plan;
    tenancy_settings.link_base = config.mail.link_base;
    tenancy_settings.invitation_ttl_ms = config.mail.invitation_ttl_hours * 3600 * 1000;
    tenancy::TenantService tenants(db, ids, clock, audit, bus, tenancy_settings);
    tenancy::OrgService orgs(db, ids, clock, audit);
    auth_service.Attach(tenants, bus);

    // Mail: the outbox, and where it delivers (SMTP, or .eml files under <data>/mail/).
    mail::OutboxSettings outbox_settings;
    outbox_settings.from = mail::ParseSender(config.mail.from).value();  // checked by LoadConfig
    outbox_settings.max_attempts = static_cast<int>(config.mail.max_attempts);
    outbox_settings.retry_base_seconds = config.mail.retry_base_seconds;
    outbox_settings.poll_seconds = config.mail.poll_seconds;
    outbox_settings.lease_ms = std::max<int64_t>(
        static_cast<int64_t>(config.mail.lease_seconds * 1000), config.smtp.timeout_seconds * 2000);
    mail::Outbox outbox(db, ids, clock, outbox_settings);
    std::unique_ptr<mail::Transport> transport;
    if (config.smtp.url.empty()) {
        transport = std::make_unique<mail::FileTransport>(config.data + "/mail");
    } else {
        transport = std::make_unique<mail::SmtpTransport>(
            mail::SmtpSettings{config.smtp.url, config.smtp.username, config.smtp.password,
                               config.smtp.require_tls, config.smtp.timeout_seconds});
    }
    WorkerPool mail_workers(1, 1024);
    auth_service.AttachMail(outbox, config.mail.link_base);
    tenants.AttachMail(outbox);
    (void)RunSync(ioc, tenants.RefreshCorsOrigins());
    api_keys.Attach(bus);
    auth_service.AttachKeys(api_keys);
    collections::CollectionService collection_service(
        db, ids, clock, audit, bus, {config.collections.auto_create, cache_lifetime});
    collections::DocumentSettings document_settings;
    document_settings.plans = &plans;
    document_settings.combine_creates = opened->shared;  // PostgreSQL: group concurrent creates
    collections::DocumentService documents(db, ids, clock, collection_service, document_settings);
    // Realtime (issue #25): committed document writes go to the subscribed event streams.
    realtime::RealtimeSettings realtime_settings;
    realtime_settings.max_connections = static_cast<size_t>(config.realtime.max_connections);
    realtime_settings.max_queued_bytes = static_cast<size_t>(config.realtime.max_queued_bytes);
    realtime_settings.heartbeat = std::chrono::seconds(config.realtime.heartbeat_seconds);
    realtime_settings.plans = &plans;
    realtime::RealtimeHub realtime_hub(documents, clock, ids, realtime_settings);
    documents.SetChangeSink(&realtime_hub);
    realtime_hub.Attach(bus);
    // Files: contents under <data>/files (fsync, rename and sweeps on their own workers), or
    // in the database.
    WorkerPool file_workers(2, 4096);
    auto file_store_owner = OpenContentStore(config, db, clock, file_workers);
    if (!file_store_owner.ok()) {
        log::Error("cannot open the file store", {{"error", file_store_owner.error().internal}});
        return 1;
    }
    files::ContentStore& file_store = **file_store_owner;
    log::Info("file store", {{"backend", config.files.backend}});
    if (auto swept = RunSync(ioc, file_store.Sweep(db)); !swept.ok()) {
        log::Warn("file store sweep failed", {{"error", swept.error().internal}});
    }
    files::FileService file_service(db, ids, clock, audit, file_store, plans);
    file_service.SetChangeSink(&realtime_hub);
    files::FileLinks file_links;
    if (Status s = RunSync(ioc, file_links.Load(db)); !s.ok()) {
        log::Error("cannot load the file link secrets", {{"error", s.error().internal}});
        return 1;
    }
    auto cursor_secret = RunSync(ioc, storage::InstanceSecret(db, "list_cursor"));
    if (!cursor_secret.ok()) {
        log::Error("cannot load the instance secrets", {{"error", cursor_secret.error().internal}});
        return 1;
    }
    query::CursorCodec cursors(*cursor_secret);

    billing::BillingService billing(db, clock, plans);
    audit::DenialLog denials(audit, clock, {});
    std::atomic<bool> ready{false};
    http::Metrics metrics(api::RouteNames());
    metrics.AddGauge("tenantbase_db_pool_connections", "Open database connections.",
                     [&db] { return static_cast<double>(db.Stats().pool_connections); });
    metrics.AddGauge("tenantbase_db_pool_idle", "Idle database connections.",
                     [&db] { return static_cast<double>(db.Stats().pool_idle); });
    metrics.AddGauge("tenantbase_db_writer_queue_depth",
                     "Transactions waiting for the writer or a connection.",
                     [&db] { return static_cast<double>(db.Stats().writer_queue); });
    metrics.AddGauge("tenantbase_db_pool_size",
                     "The most database connections open at once (postgres.pool_size; 0: no "
                     "bound, SQLite).",
                     [&db] { return static_cast<double>(db.Stats().pool_size); });
    metrics.AddGauge("tenantbase_cache_lifetime_seconds",
                     "How long cached sessions, keys, memberships and collection definitions are "
                     "trusted: 60 while the change feed is live (PostgreSQL), else 1.",
                     [&cache_lifetime] { return static_cast<double>(cache_lifetime.ms()) / 1000; });
    metrics.AddCounter("tenantbase_db_pool_timeouts_total",
                       "Requests that waited postgres.acquire_timeout_ms for a connection and "
                       "were answered 503.",
                       [&db] { return static_cast<double>(db.Stats().acquire_timeouts); });
    metrics.AddCounter("tenantbase_rate_limited_total", "Requests refused by a rate limit (429).",
                       [&rate_limiter] { return static_cast<double>(rate_limiter.refused()); });
    metrics.AddCounter("tenantbase_access_denied_total",
                       "Requests refused for want of rights (403, or 404 hiding another tenant), "
                       "audited as access.denied.",
                       [&denials] { return static_cast<double>(denials.total()); });
    metrics.AddGauge("tenantbase_realtime_streams", "Open realtime event streams on this node.",
                     [&realtime_hub] { return static_cast<double>(realtime_hub.open_streams()); });
    metrics.AddCounter("tenantbase_realtime_events_total",
                       "Realtime events sent to streams on this node.",
                       [&realtime_hub] { return static_cast<double>(realtime_hub.events_sent()); });
    metrics.AddCounter(
        "tenantbase_realtime_overflows_total",
        "Realtime streams ended with `overflow`: their client read slower than events came.",
        [&realtime_hub] { return static_cast<double>(realtime_hub.overflows()); });
    meter.OnFlushed([&metrics](std::string_view tenant_id, int64_t requests) {
        metrics.CountTenant(tenant_id, static_cast<uint64_t>(requests));
    });
    api::Services services{db,
                           clock,
                           ids,
                           metrics,
                           {config.brand.name, config.brand.short_name, config.brand.description},
                           std::chrono::steady_clock::now(),
                           ready,
                           auth_service,
                           api_keys,
                           tenants,
                           orgs,
                           cursors,
                           outbox,
                           collection_service,
                           documents,
                           realtime_hub,
                           file_service,
                           file_links,
                           plans,
                           rate_limiter,
                           meter,
                           billing,
                           denials,
                           config.limits.enabled,
                           config.limits.metering,
                           durability_warning,
                           {config.compat.restdb_allow_query_key, config.compat.nile_workspace,
                            config.compat.nile_database}};
    http::Router router;
    api::RegisterRoutes(router, services);
    http::CorsPolicy cors(config.cors.origins);
    // A preflight may come from any origin an active CORS key lists (API.md §13).
    cors.set_preflight_check([&api_keys, &tenants](std::string_view origin, const http::Request&) {
        return api_keys.AnyKeyAllowsOrigin(origin) || tenants.AnyTenantAllowsOrigin(origin);
    });
    cors.set_tenant_check([&tenants](std::string_view origin, std::string_view tenant_id) {
        return tenants.TenantAllowsOrigin(std::string(tenant_id), origin);
    });
    std::optional<http::AccessLog> access_log;
    if (config.log.access) access_log.emplace();
    // Rate limits, metering and the audit of refusals around every handler (API.md §1.3, §8).
    api::Accounting accounting(services, router);
    http::PipelineOptions pipeline_options;
    pipeline_options.interceptor = &accounting;
    pipeline_options.max_body_bytes = static_cast<size_t>(config.server.max_body_bytes);
    pipeline_options.access_log = access_log ? &*access_log : nullptr;
    // Checked by LoadConfig.
    pipeline_options.trusted_proxies =
        http::TrustedProxies::Parse(config.limits.trusted_proxies).value();
    pipeline_options.dialects = api::compat::Dialects(services.compat);
    http::Pipeline pipeline(router, metrics, cors, ids, std::move(pipeline_options));

    auto [host, port] = config.ListenAddress().value();
    http::ServerOptions options;
    options.host = host;
    options.port = port;
    options.header_timeout = Ms(config.server.header_timeout_seconds);
    options.body_timeout = Ms(config.server.body_timeout_seconds);
    options.idle_timeout = Ms(config.server.idle_timeout_seconds);
    options.max_header_bytes = static_cast<size_t>(config.server.max_header_bytes);
    options.tls_cert = config.tls.cert;
    options.tls_key = config.tls.key;
    options.max_connections = static_cast<size_t>(config.server.max_connections);
    options.max_connections_per_ip = static_cast<size_t>(config.server.max_connections_per_ip);
    options.trusted_proxies = http::TrustedProxies::Parse(config.limits.trusted_proxies).value();
    std::vector<asio::io_context*> context_ptrs;
    context_ptrs.reserve(contexts.size());
    for (auto& c : contexts) context_ptrs.push_back(c.get());
    http::Server server(context_ptrs, options, pipeline);
    if (Status s = server.Listen(); !s.ok()) {
        log::Error("cannot start the server", {{"error", s.error().message}});
        return 1;
    }
    // metrics.http: a second listener with /metrics open to whoever reaches it (bind it to an
    // internal address); on the main one /metrics is a platform admin's (issue #29).
    http::Router metrics_router;
    api::RegisterMetricsRoutes(metrics_router, services);
    http::CorsPolicy no_cors({});
    // Its own counters (never rendered): scrapes are not requests of the API's route table.
    http::Metrics scrape_metrics({"/metrics", "/healthz"});
    http::Pipeline metrics_pipeline(metrics_router, scrape_metrics, no_cors, ids, {});
    std::optional<http::Server> metrics_server;
    if (!config.metrics.http.empty()) {
        auto [metrics_host, metrics_port] =
            config.MetricsAddress().value();  // checked by LoadConfig
        http::ServerOptions metrics_options = options;
        metrics_options.host = metrics_host;
        metrics_options.port = metrics_port;
        metrics_options.tls_cert.clear();
        metrics_options.tls_key.clear();
        metrics_server.emplace(std::vector<asio::io_context*>{context_ptrs.front()},
                               metrics_options, metrics_pipeline);
        if (Status s = metrics_server->Listen(); !s.ok()) {
            log::Error("cannot start the metrics listener", {{"error", s.error().message}});
            return 1;
        }
    }

    // Background upkeep: batched last_used_at writes and the CORS-key origin set, every 5 s.
    std::function<Task<void>()> upkeep_tick = [&]() -> Task<void> {
        if (Status s = co_await api_keys.Flush(); !s.ok()) {
            log::Warn("api key upkeep failed", {{"error", s.error().internal}});
        }
        if (Status s = co_await tenants.RefreshCorsOrigins(); !s.ok()) {
            log::Warn("tenant CORS upkeep failed", {{"error", s.error().internal}});
        }
        // A rotation by `tenantbase keys rotate` reaches the running nodes here.
        if (Status s = co_await file_links.Load(db); !s.ok()) {
            log::Warn("file link secrets not reloaded", {{"error", s.error().internal}});
        }
        if (Status s = co_await db.RefreshStatistics(); !s.ok()) {
            log::Warn("planner statistics not refreshed", {{"error", s.error().internal}});
        }
    };
    // Usage counters, refusals and shared rate-limit budgets, every second (API.md §13: usage
    // shows within 5 s; nodes learn each other's spending within about a second).
    std::function<Task<void>()> counters_tick = [&]() -> Task<void> {
        if (Status s = co_await meter.Flush(db); !s.ok()) {
            log::Warn("usage flush failed", {{"error", s.error().internal}});
        }
        if (Status s = co_await denials.Flush(db); !s.ok()) {
            log::Warn("access.denied events lost", {{"error", s.error().internal}});
        }
        if (!config.limits.enabled) co_return;
        if (Status s = co_await rate_limiter.Sync(db); !s.ok()) {
            log::Warn("rate-limit sync failed", {{"error", s.error().internal}});
        }
    };
    // What a failed delete or a dead tenant left in the file store, hourly.
    std::function<Task<void>()> sweep_tick = [&]() -> Task<void> {
        if (auto swept = co_await file_store.Sweep(db); !swept.ok()) {
            log::Warn("file store sweep failed", {{"error", swept.error().internal}});
        }
    };
    // Other nodes' changes (PostgreSQL): their triggers' notifications reach this node's caches
    // through the bus; a gap in the feed drops every cache.
    std::optional<storage::PgListener> feed;
    // And their document writes to collections this node's realtime clients follow.
    std::optional<realtime::ClusterRelay> relay;
    if (opened->shared) {
        feed.emplace(
            ioc.get_executor(), config.DatabaseUrl(), node_id,
            [&bus](std::string_view topic, const std::string& key) { bus.Publish(topic, key); },
            [&bus] { bus.FlushAll(); },
            [&cache_lifetime] { cache_lifetime.Set(CacheLifetime::kShortMs); });
        relay.emplace(db, collection_service, documents, file_service, realtime_hub, clock, node_id,
                      ioc.get_executor());
        realtime_hub.SetRegistry(&*relay);
        feed->Listen("tb_documents",
                     [&relay](const std::string& payload) { relay->Notified(payload); });
        feed->Start();
    }
    Periodic upkeep(ioc, std::chrono::seconds(5), upkeep_tick);
    Periodic sweeps(ioc, std::chrono::hours(1), sweep_tick);
    Periodic counters(ioc, std::chrono::seconds(1), counters_tick);
    // The feed's heartbeat: this node NOTIFYs itself through the pool each second; while its
    // notes come back the caches are trusted for a minute, since every change reaches them
    // through the feed; else for a second. A connection that looks up but has heard nothing
    // for 5 s is replaced (which drops every cache).
    int silent_beats = 0;  // consecutive ticks with the feed connected but not heard
    std::function<Task<void>()> heartbeat_tick = [&]() -> Task<void> {
        if (!feed) co_return;
        const std::string payload = storage::PgListener::HeartbeatPayload(node_id);
        auto sent =
            co_await db.Execute("SELECT pg_notify('tb_changes', ?)", storage::Bind(payload));
        if (!sent.ok()) log::Warn("feed heartbeat not sent", {{"error", sent.error().internal}});
        bool live = feed->Live(std::chrono::seconds(3));
        cache_lifetime.Set(live ? CacheLifetime::kLongMs : CacheLifetime::kShortMs);
        if (!feed->connected() || feed->Live(std::chrono::seconds(5))) {
            silent_beats = 0;
        } else if (++silent_beats >= 5) {
            log::Warn("the change feed is silent; listening again");
            feed->Reconnect();
            silent_beats = 0;
        }
    };
    Periodic heartbeat(ioc, std::chrono::seconds(1), heartbeat_tick);
    // Which collections this node's realtime clients follow, and its streams per tenant,
    // told to the other nodes.
    std::function<Task<void>()> interest_tick = [&]() -> Task<void> {
        if (!relay) co_return;
        if (Status s = co_await relay->Renew(); !s.ok())
            log::Warn("realtime interest not renewed", {{"error", s.error().internal}});
    };
    Periodic interest(ioc, std::chrono::seconds(5), interest_tick);

    // SIGTERM/SIGINT: refuse new connections, finish what is in flight (bounded), write the
    // last batched counters, stop.
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signal) {
        if (ec) return;
        ready = false;
        if (feed) feed->Stop();
        upkeep.Stop();
        sweeps.Stop();
        counters.Stop();
        interest.Stop();
        outbox.Stop();
        log::Info("shutting down", {{"signal", signal}});
        server.Shutdown();
        realtime_hub.CloseAll();  // event streams end (with `reset`): the clients reconnect
        if (metrics_server) metrics_server->Shutdown();
        asio::co_spawn(
            ioc,
            [&]() -> Task<void> {
                auto deadline =
                    std::chrono::steady_clock::now() + Ms(config.server.shutdown_timeout_seconds);
                asio::steady_timer timer(ioc);
                while ((server.open_connections() > 0 || outbox.running() || upkeep.running() ||
                        sweeps.running() || counters.running() || interest.running()) &&
                       std::chrono::steady_clock::now() < deadline) {
                    timer.expires_after(std::chrono::milliseconds(10));
                    co_await timer.async_wait(asio::use_awaitable);
                }
                // The last batched writes and counts of the requests just finished: a clean
                // stop loses none.
                co_await upkeep_tick();
                co_await counters_tick();
                // The other nodes stop sending this one its followed collections' changes.
                if (relay) {
                    if (Status s = co_await relay->Withdraw(); !s.ok())
                        log::Warn("realtime interest not withdrawn",
                                  {{"error", s.error().internal}});
                }
                for (auto& c : contexts) c->stop();
            },
            asio::detached);
    });

    server.Start();
    if (metrics_server) {
        metrics_server->Start();
        log::Info("metrics listening on http://" + config.MetricsAddress().value().first + ":" +
                  std::to_string(metrics_server->port()));
    }
    asio::co_spawn(ioc, outbox.Run(*transport, mail_workers), asio::detached);
    ready = true;
    std::string scheme = config.tls.cert.empty() ? "http" : "https";
    log::Info("listening on " + scheme + "://" + host + ":" + std::to_string(server.port()),
              {{"threads", static_cast<int64_t>(threads)},
               {"database", std::string(db.dialect().Name())},
               {"version", TB_VERSION}});

    ioc.restart();  // the start-up work above ran the context until it was out of work
    // The other contexts have nothing to do until a connection arrives: keep them running.
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; ++i) {
        guards.push_back(asio::make_work_guard(*contexts[i]));
        pool.emplace_back([c = contexts[i].get()] { c->run(); });
    }
    ioc.run();
    for (auto& c : contexts) c->stop();
    for (auto& t : pool) t.join();
    db.Close();
    log::Info("stopped");
    spdlog::shutdown();
    return 0;
}

}  // namespace tb::app
