#include "api/compat/dialects.h"

#include <gtest/gtest.h>

#include "common/json.h"

namespace tb::api::compat {
namespace {

json::object Parsed(const std::string& text) {
    auto v = ParseJson(text);
    EXPECT_TRUE(v.ok() && v->is_object()) << text;
    return v.ok() && v->is_object() ? v->as_object() : json::object{};
}

TEST(DialectErrors, NiluxWritesDetailOnly) {
    int status = 404;
    auto body = Parsed(NiluxErrorBody(Error::NotFound("No route for /api/x"), "rid", status));
    EXPECT_EQ(status, 404);
    EXPECT_EQ(body, (json::object{{"detail", "No route for /api/x"}}));
    status = 422;
    body = Parsed(NiluxErrorBody(Error::Validation("email", "Invalid \"email\""), "rid", status));
    EXPECT_EQ(body.at("detail").as_string(), "Invalid \"email\"");
    EXPECT_EQ(status, 422);
}

TEST(DialectErrors, NileWritesCodeMessageAndStatus) {
    int status = 401;
    auto body = Parsed(NileErrorBody(Error::Unauthorized(), "rid", status));
    EXPECT_EQ(body.at("errorCode").as_string(), "unauthorized");
    EXPECT_EQ(body.at("statusCode").as_int64(), 401);
    EXPECT_EQ(body.size(), 3u);
}

TEST(DialectErrors, RestDbAnswersValidationAs400WithItsList) {
    int status = 422;
    auto body = Parsed(RestDbErrorBody(Error::Validation("a.b", "bad"), "rid", status));
    EXPECT_EQ(status, 400);
    EXPECT_EQ(body.at("name").as_string(), "ValidationError");
    EXPECT_EQ(body.at("status").as_int64(), 400);
    EXPECT_EQ(body.at("list").as_array().at(0).as_object().at("field").as_string(), "a.b");
    status = 409;
    body = Parsed(RestDbErrorBody(Error::Conflict("dup"), "rid", status));
    EXPECT_EQ(status, 409);
    EXPECT_EQ(body.at("name").as_string(), "DuplicateError");
    EXPECT_FALSE(body.contains("list"));
}

http::Request WithQuery(std::string query) {
    http::Request r;
    r.query = std::move(query);
    return r;
}

TEST(PrepareRestDb, TakesRestDbsKeyHeaders) {
    http::Request r;
    r.headers.Add("x-apikey", "tbk_abc");
    EXPECT_FALSE(PrepareRestDb(r, false));
    EXPECT_EQ(r.headers.Get("x-api-key"), "tbk_abc");

    http::Request bare;
    bare.headers.Add("Authorization", "sk_live_abcdefgh");
    EXPECT_FALSE(PrepareRestDb(bare, false));
    EXPECT_EQ(bare.headers.Get("authorization"), "Bearer sk_live_abcdefgh");

    // A Bearer token is left as it is; x-apikey then does not add a second credential.
    http::Request token;
    token.headers.Add("Authorization", "Bearer eyJ.x.y");
    token.headers.Add("x-apikey", "tbk_abc");
    EXPECT_FALSE(PrepareRestDb(token, false));
    EXPECT_EQ(token.headers.Get("authorization"), "Bearer eyJ.x.y");
    EXPECT_FALSE(token.headers.Has("x-api-key"));
}

TEST(PrepareRestDb, QueryKeyOnlyWhenAllowedAndTakenOutOfTheQuery) {
    http::Request off = WithQuery("max=5&apikey=tbk_abc");
    auto refused = PrepareRestDb(off, false);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, ErrorCode::kUnauthorized);

    http::Request on = WithQuery("max=5&apikey=tbk%5Fabc&sort=a");
    EXPECT_FALSE(PrepareRestDb(on, true));
    EXPECT_EQ(on.headers.Get("x-api-key"), "tbk_abc");
    EXPECT_EQ(on.query, "max=5&sort=a");

    http::Request malformed = WithQuery("apikey=tbk_abc%ZZ");
    auto bad = PrepareRestDb(malformed, true);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->code, ErrorCode::kBadRequest);

    // A parameter that merely contains the word is not the key.
    http::Request other = WithQuery("q=%7B%22apikey%22%3A1%7D");
    EXPECT_FALSE(PrepareRestDb(other, false));
    EXPECT_EQ(other.query, "q=%7B%22apikey%22%3A1%7D");
}

}  // namespace
}  // namespace tb::api::compat
