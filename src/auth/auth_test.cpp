#include <gtest/gtest.h>

#include "auth/password.h"
#include "common/email.h"

namespace tb::auth {
namespace {

TEST(Password, HashesWithArgon2idAndVerifies) {
    ASSERT_TRUE(InitCrypto());
    PasswordHasher hasher;
    std::string phc = hasher.Hash("correct horse").value();
    EXPECT_TRUE(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << phc;
    EXPECT_TRUE(hasher.Verify(phc, "correct horse"));
    EXPECT_FALSE(hasher.Verify(phc, "correct horsf"));
    EXPECT_FALSE(hasher.Verify("", "x"));
    EXPECT_FALSE(hasher.Verify("$argon2id$garbage", "x"));
    EXPECT_NE(hasher.Hash("correct horse").value(), phc);  // salted
}

TEST(Password, NeedsRehashWhenParametersRise) {
    ASSERT_TRUE(InitCrypto());
    PasswordHasher weak({.ops_limit = 1, .mem_limit_bytes = 8 * 1024 * 1024});
    PasswordHasher strong;
    std::string phc = weak.Hash("pw-1234567").value();
    EXPECT_FALSE(weak.NeedsRehash(phc));
    EXPECT_TRUE(strong.NeedsRehash(phc));
    EXPECT_TRUE(strong.Verify(phc, "pw-1234567"));  // old hashes keep verifying
}

TEST(Email, NormalisesAndValidates) {
    EXPECT_EQ(NormalizeEmail("  John.Doe@Example.COM ").value(), "john.doe@example.com");
    EXPECT_EQ(NormalizeEmail("admin@localhost").value(), "admin@localhost");
    for (const char* bad :
         {"", "invalid-email", "@x.com", "a@", "a@@b.com", "a b@c.com", "a@b..com", "a@.b.com",
          "<a>@b.com", "a@b\x01.com", "\xC3\x9C@example.com",
          "\xC2\xA0"
          "a@b.com"}) {
        auto r = NormalizeEmail(bad);
        ASSERT_FALSE(r.ok()) << bad;
        EXPECT_EQ(r.error().details.at("field"), "email");
    }
}

}  // namespace
}  // namespace tb::auth
