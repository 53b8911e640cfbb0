#include "http/access_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/json.h"

namespace tb::http {
namespace {

TEST(AccessLog, EscapesToValidJson) {
    std::string out;
    AccessLog::AppendEscaped(out, "/a\"b\\c\n\x01\xC3\xA9");
    EXPECT_EQ(out, "/a\\\"b\\\\c\\u000a\\u0001\\u00c3\\u00a9");
    for (auto [in, want] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
             {"", ""},
             {"plain/path?x=1", "plain/path?x=1"},
             {"\"", "\\\""},
             {"a\n", "a\\u000a"},
             {"\x7f", "\x7f"},
             {"\x80z", "\\u0080z"}}) {
        std::string got = ">";
        AccessLog::AppendEscaped(got, in);
        EXPECT_EQ(got, ">" + std::string(want)) << in;
    }
}

// Issue #29: `?access_token=` and `?apikey=` were refused (401) but logged whole.
TEST(AccessLog, RedactsCredentialsInTheQuery) {
    for (auto [in, want] : std::initializer_list<std::pair<std::string_view, std::string_view>>{
             {"/v1/x", "/v1/x"},
             {"/v1/x?a=1&b=2", "/v1/x?a=1&b=2"},
             {"/v1/x?access_token=eyJ.x.y", "/v1/x?access_token=[REDACTED]"},
             {"/rest/c?apikey=sk_live_1&max=2", "/rest/c?apikey=[REDACTED]&max=2"},
             {"/a?API_KEY=k&key=k2&x-api-key=k3",
              "/a?API_KEY=[REDACTED]&key=[REDACTED]&x-api-key=[REDACTED]"},
             {"/a?refresh_token=r&password=p&token=t&client_secret=s",
              "/a?refresh_token=[REDACTED]&password=[REDACTED]&token=[REDACTED]&client_secret=["
              "REDACTED]"},
             {"/a?%61pikey=k", "/a?%61pikey=[REDACTED]"},  // an escaped name is still the name
             {"/a?keys=1&monkey=2&q=key", "/a?keys=1&monkey=2&q=key"},
             {"/a?token", "/a?token"}}) {
        std::string got;
        AccessLog::AppendRedactedTarget(got, in);
        EXPECT_EQ(got, want) << in;
    }
}

TEST(AccessLog, WritesOneJsonLinePerRequest) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    {
        AccessLog log(fds[1]);
        log.Append({"GET", "/v1/x?q=\"1\"", 200, 0.25, "req-1", "127.0.0.1"});
        log.Append({"POST", "/v1/y", 422, 1.5, "req-2", "::1"});
        log.Append({"GET", "/v1/z", 200, 12.3456, "req-3", "::1"});
    }  // the destructor flushes
    close(fds[1]);
    std::string all;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) all.append(buf, n);
    close(fds[0]);
    size_t nl = all.find('\n');
    ASSERT_NE(nl, std::string::npos);
    auto first = json::parse(all.substr(0, nl)).as_object();
    EXPECT_EQ(first.at("msg"), "request");
    EXPECT_EQ(first.at("path"), "/v1/x?q=\"1\"");
    EXPECT_EQ(first.at("status"), 200);
    EXPECT_EQ(first.at("request_id"), "req-1");
    EXPECT_EQ(first.at("duration_ms").to_number<double>(), 0.25);
    const std::string ts(first.at("ts").as_string());
    ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-12-03T16:41:12.345Z
    EXPECT_TRUE(ParseRfc3339(ts).has_value()) << ts;
    EXPECT_EQ(ts.back(), 'Z');
    // Three decimals, rounded: 1.5 and 12.3456 ms.
    EXPECT_NE(all.find(R"("duration_ms":1.500,)"), std::string::npos) << all;
    EXPECT_NE(all.find(R"("duration_ms":12.346,)"), std::string::npos) << all;
    auto second = json::parse(all.substr(nl + 1, all.find('\n', nl + 1) - nl - 1)).as_object();
    EXPECT_EQ(second.at("status"), 422);
    EXPECT_EQ(second.at("remote"), "::1");
}

}  // namespace
}  // namespace tb::http
