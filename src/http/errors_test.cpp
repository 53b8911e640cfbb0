#include "http/errors.h"

#include <gtest/gtest.h>

#include <set>

#include "common/json.h"

namespace tb::http {
namespace {

TEST(ErrorMapping, EveryCodeHasADistinctErrorStatus) {
    std::set<int> statuses;
    for (ErrorCode c : kAllErrorCodes) {
        int s = HttpStatus(c);
        EXPECT_GE(s, 400);
        EXPECT_LT(s, 600);
        statuses.insert(s);
    }
    // One status per code, but for QUERY_TIMEOUT, a 503 with its own code (issue #29).
    EXPECT_EQ(statuses.size(), std::size(kAllErrorCodes) - 1);
    EXPECT_EQ(HttpStatus(ErrorCode::kQueryTimeout), 503);
    EXPECT_EQ(ErrorCodeName(ErrorCode::kQueryTimeout), "QUERY_TIMEOUT");
    EXPECT_EQ(HttpStatus(ErrorCode::kValidation), 422);
    EXPECT_EQ(HttpStatus(ErrorCode::kQuotaExceeded), 402);
}

TEST(ErrorMapping, EnvelopeShape) {
    Error e = Error::Validation("email", "Invalid email format");
    Response r = ErrorResponse(e, "req-1");
    EXPECT_EQ(r.status, 422);
    auto v = json::parse(r.body).as_object();
    EXPECT_EQ(v.at("success"), false);
    EXPECT_EQ(v.at("request_id"), "req-1");
    EXPECT_EQ(v.at("error").at("code"), "VALIDATION_ERROR");
    EXPECT_EQ(v.at("error").at("details").at("field"), "email");
}

TEST(ErrorMapping, InternalNeverLeaks) {
    Response r = ErrorResponse(Error::Internal("sqlite: disk I/O at /secret/path"), "x");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

TEST(ErrorMapping, AuthAndRetryHeaders) {
    EXPECT_EQ(ErrorResponse(Error::Unauthorized(), "x").headers.Get("WWW-Authenticate"), "Bearer");
    Error limited;
    limited.code = ErrorCode::kRateLimited;
    limited.retry_after_seconds = 42;
    EXPECT_EQ(ErrorResponse(limited, "x").headers.Get("Retry-After"), "42");
}

}  // namespace
}  // namespace tb::http
