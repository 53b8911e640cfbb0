#include "app/config.h"

#include <gtest/gtest.h>

namespace tb::app {
namespace {

TEST(Config, DefaultsMatchTheContract) {
    auto c = LoadConfig({}).value();
    EXPECT_EQ(c.http, "0.0.0.0:8080");
    EXPECT_EQ(c.data, "./data");
    EXPECT_EQ(c.DatabaseUrl(), "sqlite://./data/tenantbase.db");
    EXPECT_EQ(c.server.max_body_bytes, 10 * 1024 * 1024);
    EXPECT_EQ(c.server.max_header_bytes, 16 * 1024);
    EXPECT_EQ(c.server.header_timeout_seconds, 10);
    EXPECT_TRUE(c.cors.origins.empty());
    EXPECT_TRUE(c.limits.enabled);
}

TEST(Config, FlagBeatsEnvBeatsFileBeatsDefault) {
    ConfigSources s;
    s.file_name = "tb.toml";
    s.file_text =
        "http = \"127.0.0.1:1000\"\ndata = \"/file\"\n[server]\nthreads = 3\n"
        "[cors]\norigins = [\"https://a.example\", \"https://b.example\"]\n";
    s.env = {{"TB_HTTP", "127.0.0.1:2000"}, {"TB_SERVER_THREADS", "5"}};
    s.flags = {{"http", "127.0.0.1:3000"}};
    auto c = LoadConfig(s).value();
    EXPECT_EQ(c.http, "127.0.0.1:3000");  // flag
    EXPECT_EQ(c.server.threads, 5);       // env over file
    EXPECT_EQ(c.data, "/file");           // file over default
    EXPECT_EQ(c.cors.origins.size(), 2u);
    EXPECT_EQ(c.DatabaseUrl(), "sqlite:///file/tenantbase.db");
}

// Issue #29: a misspelt TB_* variable was ignored in silence.
TEST(Config, UnknownEnvironmentVariablesAreCollected) {
    ConfigSources s;
    s.env = {{"TB_SQLITE_SYNCHRONUS", "OFF"},
             {"TB_SQLITE_SYNCHRONOUS", "NORMAL"},
             {"TB_QUERY_TIMEOUT_MS", "100"},
             {"TB_PLANS_PRO_MAX_DOCUMENTS", "5"}};
    auto c = LoadConfig(s).value();
    EXPECT_EQ(c.ignored_env, std::vector<std::string>{"TB_SQLITE_SYNCHRONUS"});
    EXPECT_EQ(c.sqlite.synchronous, "NORMAL");
    EXPECT_EQ(c.query.timeout_ms, 100);
}

TEST(Config, PlansFromTomlAndEnvironment) {
    ConfigSources s;
    s.file_name = "tb.toml";
    s.file_text =
        "[plans.pro]\nmax_documents = 50\nprice_monthly = 9.5\n"
        "[plans.team_plus]\nuser_per_hour = 7\n[tenants]\ndefault_plan = \"team_plus\"\n";
    s.env = {{"TB_PLANS_TEAM_PLUS_MAX_API_KEYS", "3"}, {"TB_PLANS_PRO_MAX_DOCUMENTS", "60"}};
    auto c = LoadConfig(s).value();
    ASSERT_EQ(c.plans.size(), 4u);
    EXPECT_EQ(c.plans[1].name, "pro");
    EXPECT_EQ(c.plans[1].max_documents, 60);  // env over file
    EXPECT_EQ(c.plans[1].price_monthly_micros, 9'500'000);
    EXPECT_EQ(c.plans[3].name, "team_plus");
    EXPECT_EQ(c.plans[3].user_per_hour, 7);
    EXPECT_EQ(c.plans[3].max_api_keys, 3);
    EXPECT_EQ(c.tenants.default_plan, "team_plus");

    auto unknown_default = LoadConfig({.env = {{"TB_TENANTS_DEFAULT_PLAN", "gold"}}});
    ASSERT_FALSE(unknown_default.ok());
    EXPECT_NE(unknown_default.error().message.find("tenants.default_plan"), std::string::npos);
    auto bad_field = LoadConfig({.env = {{"TB_PLANS_PRO_COLOUR", "red"}}});
    ASSERT_FALSE(bad_field.ok());
    EXPECT_NE(bad_field.error().message.find("TB_PLANS_PRO_COLOUR"), std::string::npos);
    auto bad_value = LoadConfig({.env = {{"TB_PLANS_PRO_MAX_MEMBERS", "-5"}}});
    ASSERT_FALSE(bad_value.ok());
    EXPECT_NE(bad_value.error().message.find("plans.pro.max_members"), std::string::npos);
    auto bad_proxy = LoadConfig({.env = {{"TB_LIMITS_TRUSTED_PROXIES", "10.0.0.0/99"}}});
    ASSERT_FALSE(bad_proxy.ok());
    EXPECT_NE(bad_proxy.error().message.find("limits.trusted_proxies"), std::string::npos);
}

TEST(Config, BadValuesNameTheSetting) {
    auto r = LoadConfig({.env = {{"TB_SERVER_THREADS", "abc"}}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("server.threads"), std::string::npos);
    EXPECT_NE(r.error().message.find("TB_SERVER_THREADS"), std::string::npos);

    r = LoadConfig({.env = {{"TB_LOG_ACCESS", "maybe"}}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("log.access"), std::string::npos);

    r = LoadConfig({.flags = {{"http", "localhost:99999"}}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("http"), std::string::npos);

    r = LoadConfig({.env = {{"TB_SERVER_HEADER_TIMEOUT_SECONDS", "-1"}}});
    ASSERT_FALSE(r.ok());

    r = LoadConfig({.file_text = "[server]\nthreadz = 1\n", .file_name = "f.toml"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("server.threadz"), std::string::npos);

    r = LoadConfig({.file_text = "http = [", .file_name = "f.toml"});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("f.toml"), std::string::npos);

    r = LoadConfig({.flags = {{"database", "mysql://x"}}});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("database"), std::string::npos);
}

TEST(Config, ListenAddressForms) {
    Config c;
    c.http = "[::1]:8080";
    EXPECT_EQ(c.ListenAddress()->first, "::1");
    c.http = ":9000";
    EXPECT_EQ(c.ListenAddress()->first, "0.0.0.0");
    EXPECT_EQ(c.ListenAddress()->second, 9000);
    c.http = "localhost:0";
    EXPECT_EQ(c.ListenAddress()->first, "127.0.0.1");
    c.http = "nope";
    EXPECT_FALSE(c.ListenAddress().ok());
}

TEST(Config, EnvListsAndCaseInsensitiveChoices) {
    auto c = LoadConfig({.env = {{"TB_CORS_ORIGINS", "https://a.example, https://b.example"},
                                 {"TB_SQLITE_SYNCHRONOUS", "normal"}}})
                 .value();
    EXPECT_EQ(c.cors.origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));
    EXPECT_EQ(c.sqlite.synchronous, "NORMAL");
}

}  // namespace
}  // namespace tb::app
