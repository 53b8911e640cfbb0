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
