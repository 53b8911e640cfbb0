#include <gtest/gtest.h>

#include "auth/api_key_service.h"

namespace tb::auth {
namespace {

TEST(ApiKeyValidation, Scopes) {
    EXPECT_TRUE(ValidateScopes({"read"}, false).ok());
    EXPECT_TRUE(ValidateScopes({"read", "write", "admin"}, false).ok());
    EXPECT_FALSE(ValidateScopes({}, false).ok());
    EXPECT_FALSE(ValidateScopes({"owner"}, false).ok());
    EXPECT_FALSE(ValidateScopes({"admin"}, true).ok());  // a CORS key never holds admin
    EXPECT_EQ(ValidateScopes({"root"}, false).error().details.at("field"), "scopes");
}

TEST(ApiKeyValidation, Origins) {
    EXPECT_TRUE(
        ValidateOrigins({"https://app.example", "http://localhost:3000", "https://a-b.c.d:443"})
            .ok());
    for (const char* bad :
         {"app.example", "https://", "https://app.example/", "https://app.example/x", "ftp://a.b",
          "https://a b", "https://a.b:", "https://a.b:123456", "https://a.b:80x", "null", "*"}) {
        auto st = ValidateOrigins({bad});
        ASSERT_FALSE(st.ok()) << bad;
        EXPECT_EQ(st.error().details.at("field"), "allowed_origins");
    }
}

}  // namespace
}  // namespace tb::auth
