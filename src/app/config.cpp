#include "app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "common/strings.h"
#include "http/client_ip.h"
#include "mail/message.h"

extern char** environ;

namespace tb::app {

namespace {

// One setting: its name and how to store a textual value into a Config.
struct Setting {
    std::string name;
    std::function<Status(Config&, const std::string&)> set;
};

Error BadValue(const std::string& name, const std::string& expected, const std::string& got) {
    return Error::BadRequest("invalid value for setting " + name + ": expected " + expected +
                             ", got '" + got + "'");
}

Setting Text(std::string name, std::string Config::*field) {
    return {name, [field](Config& c, const std::string& v) -> Status {
                c.*field = v;
                return {};
            }};
}

template <class Section>
Setting Text(std::string name, Section Config::*section, std::string Section::*field) {
    return {name, [section, field](Config& c, const std::string& v) -> Status {
                (c.*section).*field = v;
                return {};
            }};
}

template <class Section>
Setting Int(std::string name, Section Config::*section, int64_t Section::*field, int64_t min,
            int64_t max) {
    return {name, [=](Config& c, const std::string& v) -> Status {
                int64_t n = 0;
                auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
                if (ec != std::errc() || p != v.data() + v.size() || n < min || n > max) {
                    return BadValue(
                        name,
                        "an integer from " + std::to_string(min) + " to " + std::to_string(max), v);
                }
                (c.*section).*field = n;
                return {};
            }};
}

template <class Section>
Setting Seconds(std::string name, Section Config::*section, double Section::*field) {
    return {name, [=](Config& c, const std::string& v) -> Status {
                char* end = nullptr;
                double d = std::strtod(v.c_str(), &end);
                if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d) || d <= 0 ||
                    d > 86400) {
                    return BadValue(name, "a number of seconds above 0", v);
                }
                (c.*section).*field = d;
                return {};
            }};
}

template <class Section>
Setting Bool(std::string name, Section Config::*section, bool Section::*field) {
    return {name, [=](Config& c, const std::string& v) -> Status {
                std::string l = ToLower(v);
                if (l == "true" || l == "1" || l == "yes" || l == "on") {
                    (c.*section).*field = true;
                } else if (l == "false" || l == "0" || l == "no" || l == "off") {
                    (c.*section).*field = false;
                } else {
                    return BadValue(name, "true or false", v);
                }
                return {};
            }};
}

template <class Section>
Setting List(std::string name, Section Config::*section, std::vector<std::string> Section::*field) {
    return {name, [=](Config& c, const std::string& v) -> Status {
                (c.*section).*field = SplitTrimmed(v, ',');
                return {};
            }};
}

template <class Section>
Setting OneOf(std::string name, Section Config::*section, std::string Section::*field,
              std::vector<std::string> allowed) {
    return {name, [=](Config& c, const std::string& v) -> Status {
                for (const auto& a : allowed) {
                    if (IEquals(a, v)) {
                        (c.*section).*field = a;
                        return {};
                    }
                }
                std::string list;
                for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
                return BadValue(name, "one of " + list, v);
            }};
}

const std::vector<Setting>& Settings() {
    using C = Config;
    static const std::vector<Setting> kSettings = {
        Text("http", &C::http),
        Text("data", &C::data),
        Text("database", &C::database),
        Int("server.threads", &C::server, &C::Server::threads, 0, 256),
        Seconds("server.header_timeout_seconds", &C::server, &C::Server::header_timeout_seconds),
        Seconds("server.body_timeout_seconds", &C::server, &C::Server::body_timeout_seconds),
        Seconds("server.idle_timeout_seconds", &C::server, &C::Server::idle_timeout_seconds),
        Seconds("server.shutdown_timeout_seconds", &C::server,
                &C::Server::shutdown_timeout_seconds),
        Int("server.max_body_bytes", &C::server, &C::Server::max_body_bytes, 1, int64_t{1} << 40),
        Int("server.max_header_bytes", &C::server, &C::Server::max_header_bytes, 1024, 1024 * 1024),
        Int("server.max_connections", &C::server, &C::Server::max_connections, 1, 10'000'000),
        Int("server.max_connections_per_ip", &C::server, &C::Server::max_connections_per_ip, 1,
            10'000'000),
        Text("tls.cert", &C::tls, &C::Tls::cert),
        Text("tls.key", &C::tls, &C::Tls::key),
        List("cors.origins", &C::cors, &C::Cors::origins),
        OneOf("log.level", &C::log, &C::Log::level, {"trace", "debug", "info", "warn", "error"}),
        Bool("log.access", &C::log, &C::Log::access),
        OneOf("sqlite.synchronous", &C::sqlite, &C::Sqlite::synchronous, {"FULL", "NORMAL", "OFF"}),
        Int("postgres.pool_size", &C::postgres, &C::Postgres::pool_size, 1, 1000),
        Int("postgres.acquire_timeout_ms", &C::postgres, &C::Postgres::acquire_timeout_ms, 1,
            600'000),
        Text("metrics.http", &C::metrics, &C::MetricsListener::http),
        Int("query.timeout_ms", &C::query, &C::Query::timeout_ms, 0, 3'600'000),
        Text("brand.name", &C::brand, &C::Brand::name),
        Text("brand.short_name", &C::brand, &C::Brand::short_name),
        Text("brand.description", &C::brand, &C::Brand::description),
        Bool("compat.restdb.allow_query_key", &C::compat, &C::Compat::restdb_allow_query_key),
        Text("compat.nile.workspace", &C::compat, &C::Compat::nile_workspace),
        Text("compat.nile.database", &C::compat, &C::Compat::nile_database),
        Text("admin.email", &C::admin, &C::Admin::email),
        Text("admin.password", &C::admin, &C::Admin::password),
        Bool("limits.enabled", &C::limits, &C::Limits::enabled),
        Int("limits.login_failures", &C::limits, &C::Limits::login_failures, 1, 1'000'000),
        Int("limits.login_window_seconds", &C::limits, &C::Limits::login_window_seconds, 1,
            86400 * 30),
        Int("limits.register_per_hour", &C::limits, &C::Limits::register_per_hour, 1,
            1'000'000'000),
        Int("limits.user_per_hour", &C::limits, &C::Limits::user_per_hour, 1, int64_t{1} << 40),
        Int("limits.key_per_hour", &C::limits, &C::Limits::key_per_hour, 1, int64_t{1} << 40),
        Int("limits.anonymous_per_hour", &C::limits, &C::Limits::anonymous_per_hour, 1,
            int64_t{1} << 40),
        Int("limits.tenant_per_hour", &C::limits, &C::Limits::tenant_per_hour, 1, int64_t{1} << 40),
        List("limits.trusted_proxies", &C::limits, &C::Limits::trusted_proxies),
        Bool("limits.metering", &C::limits, &C::Limits::metering),
        Bool("tenants.self_service", &C::tenants, &C::Tenants::self_service),
        Bool("tenants.personal_on_register", &C::tenants, &C::Tenants::personal_on_register),
        Text("tenants.default_plan", &C::tenants, &C::Tenants::default_plan),
        Bool("collections.auto_create", &C::collections, &C::Collections::auto_create),
        Int("realtime.max_connections", &C::realtime, &C::Realtime::max_connections, 1, 10'000'000),
        Int("realtime.max_queued_bytes", &C::realtime, &C::Realtime::max_queued_bytes, 1024,
            int64_t{1} << 30),
        Int("realtime.heartbeat_seconds", &C::realtime, &C::Realtime::heartbeat_seconds, 1, 3600),
        Text("mail.from", &C::mail, &C::Mail::from),
        Text("mail.link_base", &C::mail, &C::Mail::link_base),
        Int("mail.max_attempts", &C::mail, &C::Mail::max_attempts, 1, 100),
        Seconds("mail.retry_base_seconds", &C::mail, &C::Mail::retry_base_seconds),
        Seconds("mail.poll_seconds", &C::mail, &C::Mail::poll_seconds),
        Seconds("mail.lease_seconds", &C::mail, &C::Mail::lease_seconds),
        Int("mail.invitation_ttl_hours", &C::mail, &C::Mail::invitation_ttl_hours, 1, 24 * 365),
        Text("smtp.url", &C::smtp, &C::Smtp::url),
        Text("smtp.username", &C::smtp, &C::Smtp::username),
        Text("smtp.password", &C::smtp, &C::Smtp::password),
        Bool("smtp.require_tls", &C::smtp, &C::Smtp::require_tls),
        Int("smtp.timeout_seconds", &C::smtp, &C::Smtp::timeout_seconds, 1, 600),
        OneOf("files.backend", &C::files, &C::Files::backend, {"local", "database"}),
        OneOf("auth.jwt_algorithm", &C::auth, &C::Auth::jwt_algorithm,
              {"RS256", "ES256", "EdDSA", "HS256"}),
        Text("auth.issuer", &C::auth, &C::Auth::issuer),
        Text("auth.audience", &C::auth, &C::Auth::audience),
        Int("auth.access_ttl_seconds", &C::auth, &C::Auth::access_ttl_seconds, 10, 86400),
        Int("auth.refresh_ttl_seconds", &C::auth, &C::Auth::refresh_ttl_seconds, 60, 86400 * 365),
        Int("auth.refresh_grace_seconds", &C::auth, &C::Auth::refresh_grace_seconds, 0, 300),
        Int("auth.session_idle_seconds", &C::auth, &C::Auth::session_idle_seconds, 0, 86400 * 365),
        Int("auth.password_min_length", &C::auth, &C::Auth::password_min_length, 8, 1024),
        Int("auth.argon2_ops", &C::auth, &C::Auth::argon2_ops, 1, 64),
        Int("auth.argon2_memory_kib", &C::auth, &C::Auth::argon2_memory_kib, 8192, 4 * 1024 * 1024),
        Int("auth.hash_threads", &C::auth, &C::Auth::hash_threads, 1, 256),
        Int("auth.hash_queue", &C::auth, &C::Auth::hash_queue, 1, 1'000'000),
    };
    return kSettings;
}

const Setting* FindSetting(std::string_view name) {
    for (const Setting& s : Settings()) {
        if (s.name == name) return &s;
    }
    return nullptr;
}

// A TOML leaf as the text our setters take (arrays of strings join with commas).
Result<std::string> TomlText(const std::string& name, const toml::node& node) {
    if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
    if (node.is_integer()) return std::to_string(*node.value<int64_t>());
    if (node.is_floating_point()) {
        std::ostringstream o;
        o << *node.value<double>();
        return o.str();
    }
    if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
    if (auto* arr = node.as_array()) {
        std::string joined;
        for (const auto& item : *arr) {
            if (!item.is_string()) return BadValue(name, "a list of strings", "[…]");
            joined += (joined.empty() ? "" : ",") + *item.value<std::string>();
        }
        return joined;
    }
    return BadValue(name, "a string, number, boolean or list", "a table");
}

bool PlanNameOk(std::string_view name) {
    if (name.empty() || name.size() > 32) return false;
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

// plans.<name>.<field>: a new name starts as a copy of the built-in free plan.
Status SetPlan(Config& c, const std::string& plan, const std::string& field,
               const std::string& value, const std::string& setting) {
    if (!PlanNameOk(plan)) {
        return BadValue(setting, "a plan name of a-z, 0-9, - and _ (at most 32)", plan);
    }
    auto it = std::find_if(c.plans.begin(), c.plans.end(),
                           [&](const limits::Plan& p) { return p.name == plan; });
    if (it == c.plans.end()) {
        limits::Plan fresh = limits::DefaultPlans().front();
        fresh.name = plan;
        c.plans.push_back(fresh);
        it = std::prev(c.plans.end());
    }
    return limits::SetPlanField(*it, field, value, setting);
}

// TB_PLANS_<NAME>_<FIELD>: the field is matched from the end, so names may hold '_'.
Status ApplyPlanEnv(Config& c, const std::map<std::string, std::string>& env) {
    constexpr std::string_view kPrefix = "TB_PLANS_";
    for (const auto& [var, value] : env) {
        if (!var.starts_with(kPrefix)) continue;
        std::string rest = var.substr(kPrefix.size());
        bool matched = false;
        for (const std::string& field : limits::PlanFieldNames()) {
            std::string suffix = "_" + field;
            for (char& ch : suffix) ch = static_cast<char>(std::toupper(ch));
            if (rest.size() <= suffix.size() || !rest.ends_with(suffix)) continue;
            std::string plan = rest.substr(0, rest.size() - suffix.size());
            for (char& ch : plan) ch = static_cast<char>(std::tolower(ch));
            Status s = SetPlan(c, plan, field, value, "plans." + plan + "." + field);
            if (!s.ok()) {
                Error e = std::move(s).error();
                e.message += " (from " + var + ")";
                return e;
            }
            matched = true;
            break;
        }
        if (!matched) return Error::BadRequest("unknown setting in " + var);
    }
    return {};
}

Status ApplyToml(Config& c, const toml::table& table, const std::string& prefix,
                 const std::string& file) {
    for (const auto& [key, node] : table) {
        std::string name =
            prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
        if (auto* sub = node.as_table()) {
            TB_RETURN_IF_ERROR(ApplyToml(c, *sub, name, file));
            continue;
        }
        if (name.starts_with("plans.")) {
            size_t dot = name.rfind('.');
            TB_ASSIGN_OR_RETURN(std::string text, TomlText(name, node));
            std::string plan = name.substr(6, dot > 6 ? dot - 6 : 0);
            TB_RETURN_IF_ERROR(SetPlan(c, plan, name.substr(dot + 1), text, name));
            continue;
        }
        const Setting* s = FindSetting(name);
        if (!s) return Error::BadRequest("unknown setting " + name + " in " + file);
        TB_ASSIGN_OR_RETURN(std::string text, TomlText(name, node));
        TB_RETURN_IF_ERROR(s->set(c, text));
    }
    return {};
}

}  // namespace

std::string Config::DatabaseUrl() const {
    if (!database.empty()) return database;
    return "sqlite://" + data + "/tenantbase.db";
}

namespace {
// "ADDR:PORT" (IPv6 in brackets; localhost is 127.0.0.1; an empty address is every one).
Result<std::pair<std::string, uint16_t>> ParseListenAddress(const std::string& setting,
                                                            const std::string& http) {
    size_t colon = http.rfind(':');
    if (colon == std::string::npos || colon + 1 == http.size()) {
        return BadValue(setting, "ADDR:PORT", http);
    }
    std::string host = http.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) host = "0.0.0.0";
    if (host == "localhost") host = "127.0.0.1";
    std::string port_text = http.substr(colon + 1);
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port < 0 || port > 65535) {
        return BadValue(setting, "ADDR:PORT with a port from 0 to 65535", http);
    }
    return std::make_pair(host, static_cast<uint16_t>(port));
}
}  // namespace

Result<std::pair<std::string, uint16_t>> Config::ListenAddress() const {
    return ParseListenAddress("http", http);
}

Result<std::pair<std::string, uint16_t>> Config::MetricsAddress() const {
    return ParseListenAddress("metrics.http", metrics.http);
}

Result<Config> LoadConfig(const ConfigSources& src) {
    Config c;
    if (!src.file_text.empty()) {
        toml::table parsed;
        try {
            // Debian's toml++ is built with exceptions: a parse error is thrown, not returned.
            parsed = toml::parse(src.file_text, src.file_name);
        } catch (const toml::parse_error& e) {
            std::ostringstream o;
            o << e;
            return Error::BadRequest("cannot parse " + src.file_name + ": " + o.str());
        }
        TB_RETURN_IF_ERROR(ApplyToml(c, parsed, "", src.file_name));
    }
    for (const Setting& s : Settings()) {
        if (auto it = src.env.find(EnvName(s.name)); it != src.env.end()) {
            Status st = s.set(c, it->second);
            if (!st.ok()) {
                Error e = std::move(st).error();
                e.message += " (from " + EnvName(s.name) + ")";
                return e;
            }
        }
    }
    TB_RETURN_IF_ERROR(ApplyPlanEnv(c, src.env));
    for (const auto& variable : src.env) {
        // A named reference, not a structured binding: clang 14 (clang-tidy) cannot capture one.
        const std::string& name = variable.first;
        bool known = name.starts_with("TB_PLANS_") ||
                     std::any_of(Settings().begin(), Settings().end(),
                                 [&](const Setting& s) { return EnvName(s.name) == name; });
        if (!known) c.ignored_env.push_back(name);
    }
    for (const auto& [name, value] : src.flags) {
        const Setting* s = FindSetting(name);
        if (!s) return Error::BadRequest("unknown setting " + name);
        TB_RETURN_IF_ERROR(s->set(c, value));
    }
    // Cross-field checks.
    TB_RETURN_IF_ERROR(c.ListenAddress());
    if (!c.metrics.http.empty()) TB_RETURN_IF_ERROR(c.MetricsAddress());
    if (c.data.empty()) return BadValue("data", "a directory", "");
    if (c.tls.cert.empty() != c.tls.key.empty()) {
        return Error::BadRequest("invalid value for setting tls.cert/tls.key: set both or neither");
    }
    if (!mail::ParseSender(c.mail.from).ok()) {
        return BadValue("mail.from", "an address, optionally as Name <address>", c.mail.from);
    }
    if (!c.smtp.url.empty() && !c.smtp.url.starts_with("smtp://") &&
        !c.smtp.url.starts_with("smtps://")) {
        // The URL is not echoed: it may hold credentials.
        return Error::BadRequest(
            "invalid value for setting smtp.url: expected smtp://HOST:PORT or smtps://HOST:PORT");
    }
    if (!c.mail.link_base.starts_with("http://") && !c.mail.link_base.starts_with("https://")) {
        return BadValue("mail.link_base", "an http:// or https:// URL", c.mail.link_base);
    }
    if (std::none_of(c.plans.begin(), c.plans.end(),
                     [&](const limits::Plan& p) { return p.name == c.tenants.default_plan; })) {
        return BadValue("tenants.default_plan", "the name of a plan", c.tenants.default_plan);
    }
    if (auto proxies = http::TrustedProxies::Parse(c.limits.trusted_proxies); !proxies.ok()) {
        return BadValue("limits.trusted_proxies", "IP addresses or CIDR ranges",
                        proxies.error().message);
    }
    std::string url = c.DatabaseUrl();
    if (!url.starts_with("sqlite://") && !url.starts_with("postgres://") &&
        !url.starts_with("postgresql://")) {
        return BadValue("database", "sqlite://PATH or postgres://USER@HOST:PORT/DB", url);
    }
    return c;
}

std::map<std::string, std::string> ProcessEnvironment() {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
        std::string_view kv(*e);
        size_t eq = kv.find('=');
        if (eq == std::string_view::npos || !kv.starts_with("TB_")) continue;
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    return env;
}

std::string EnvName(std::string_view setting) {
    std::string out = "TB_";
    for (char c : setting) out += c == '.' ? '_' : static_cast<char>(std::toupper(c));
    return out;
}

std::vector<std::string> SettingNames() {
    std::vector<std::string> out;
    for (const Setting& s : Settings()) out.push_back(s.name);
    for (const std::string& field : limits::PlanFieldNames())
        out.push_back("plans.<name>." + field);
    return out;
}

}  // namespace tb::app
