#include "auth/jwt.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace tb::auth {
namespace {

std::string B64(std::string_view s) {
    return Base64UrlEncode({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

class Jwt : public ::testing::TestWithParam<JwtAlgorithm> {
  protected:
    void SetUp() override {
        auto key = GenerateSigningKey(GetParam(), "k1", 0);
        ASSERT_TRUE(key.ok());
        ring_ = KeyRing::Load({*key}).value();
        codec_ = std::make_unique<JwtCodec>(JwtSettings{GetParam(), "tb", "tb-api"});
    }
    json::object Claims(int64_t exp) { return {{"sub", "u1"}, {"sid", "s1"}, {"exp", exp}}; }

    std::shared_ptr<const KeyRing> ring_;
    std::unique_ptr<JwtCodec> codec_;
    Timestamp now_ = FromUnixMillis(1'000'000'000'000);
};

TEST_P(Jwt, SignsAndVerifies) {
    std::string token = codec_->Sign(*ring_, Claims(1'000'000'900)).value();
    auto claims = codec_->Verify(*ring_, token, now_);
    ASSERT_TRUE(claims.ok()) << claims.error().message;
    EXPECT_EQ(claims->at("sub"), "u1");
    EXPECT_EQ(claims->at("iss"), "tb");
    EXPECT_EQ(claims->at("aud"), "tb-api");
}

TEST_P(Jwt, RefusesExpiredTamperedAndForeign) {
    std::string token = codec_->Sign(*ring_, Claims(1'000'000'900)).value();
    EXPECT_EQ(codec_->Verify(*ring_, token, now_ + std::chrono::seconds(900)).error().message,
              "Token expired");
    // Changed payload, same signature.
    size_t d1 = token.find('.'), d2 = token.rfind('.');
    std::string forged =
        token.substr(0, d1 + 1) +
        B64(R"({"sub":"admin","sid":"s1","exp":9999999999,"iss":"tb","aud":"tb-api"})") +
        token.substr(d2);
    EXPECT_FALSE(codec_->Verify(*ring_, forged, now_).ok());
    // Another issuer's ring with the same kid.
    auto other = KeyRing::Load({GenerateSigningKey(GetParam(), "k1", 0).value()}).value();
    EXPECT_FALSE(codec_->Verify(*other, token, now_).ok());
    // Wrong iss / aud.
    JwtCodec other_iss({GetParam(), "evil", "tb-api"});
    EXPECT_FALSE(
        codec_->Verify(*ring_, other_iss.Sign(*ring_, Claims(1'000'000'900)).value(), now_).ok());
    JwtCodec other_aud({GetParam(), "tb", "other"});
    EXPECT_FALSE(
        codec_->Verify(*ring_, other_aud.Sign(*ring_, Claims(1'000'000'900)).value(), now_).ok());
    // Garbage.
    for (const char* bad : {"", "a.b", "a.b.c.d", "...", "e30.e30.", "x.y.z"}) {
        EXPECT_FALSE(codec_->Verify(*ring_, bad, now_).ok()) << bad;
    }
}

TEST_P(Jwt, RefusesAlgNoneAndUnknownKid) {
    std::string none = B64(R"({"alg":"none","typ":"JWT","kid":"k1"})") + "." +
                       B64(R"({"sub":"u1","exp":9999999999,"iss":"tb","aud":"tb-api"})") + ".";
    EXPECT_FALSE(codec_->Verify(*ring_, none, now_).ok());
    std::string token = codec_->Sign(*ring_, Claims(1'000'000'900)).value();
    std::string header = B64(std::string(R"({"alg":")") + std::string(AlgorithmName(GetParam())) +
                             R"(","typ":"JWT","kid":"k2"})");
    std::string swapped = header + token.substr(token.find('.'));
    EXPECT_FALSE(codec_->Verify(*ring_, swapped, now_).ok());
}

INSTANTIATE_TEST_SUITE_P(Algorithms, Jwt,
                         ::testing::Values(JwtAlgorithm::kRS256, JwtAlgorithm::kES256,
                                           JwtAlgorithm::kEdDSA, JwtAlgorithm::kHS256),
                         [](const auto& info) { return std::string(AlgorithmName(info.param)); });

// The classic confusion: an HS256 token whose HMAC key is the RSA public key (as published in
// the JWKS). An RS256 verifier must refuse it whatever the MAC.
TEST(JwtConfusion, Hs256SignedWithRsaPublicKeyIsRefused) {
    auto rsa = GenerateSigningKey(JwtAlgorithm::kRS256, "k1", 0).value();
    auto ring = KeyRing::Load({rsa}).value();
    JwtCodec rs({JwtAlgorithm::kRS256, "tb", "tb-api"});
    std::string n = ring->Jwks().at("keys").as_array()[0].at("n").as_string().c_str();
    SigningKey fake{"k1", JwtAlgorithm::kHS256, n, 0};
    auto fake_ring = KeyRing::Load({fake}).value();
    JwtCodec hs({JwtAlgorithm::kHS256, "tb", "tb-api"});
    std::string forged = hs.Sign(*fake_ring, {{"sub", "admin"}, {"exp", 9999999999}}).value();
    EXPECT_FALSE(rs.Verify(*ring, forged, FromUnixMillis(0)).ok());
}

// Issue #29: tokens signed with our own key that must still be refused. HS256, so that the
// test can sign any header and payload text itself.
class JwtClaims : public ::testing::Test {
  protected:
    void SetUp() override {
        key_ = GenerateSigningKey(JwtAlgorithm::kHS256, "k1", 0).value();
        ring_ = KeyRing::Load({key_}).value();
    }
    std::string SignRaw(std::string_view header, std::string_view payload) {
        std::string input = B64(header) + "." + B64(payload);
        return input + "." + B64(HmacSha256(key_.secret_pem, input));
    }
    Result<json::object> Verify(std::string_view header, std::string_view payload) {
        return codec_.Verify(*ring_, SignRaw(header, payload), now_);
    }
    static constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT","kid":"k1"})";
    SigningKey key_;
    std::shared_ptr<const KeyRing> ring_;
    JwtCodec codec_{JwtSettings{JwtAlgorithm::kHS256, "tb", "tb-api"}};
    Timestamp now_ = FromUnixMillis(1'000'000'000'000);  // 1,000,000,000 s
};

TEST_F(JwtClaims, AcceptsAWellFormedToken) {
    EXPECT_TRUE(
        Verify(kHeader,
               R"({"iss":"tb","aud":"tb-api","exp":1000000900,"iat":1000000030,"nbf":999999000})")
            .ok());
    EXPECT_TRUE(Verify(R"({"alg":"HS256","typ":"at+jwt","kid":"k1"})",
                       R"({"iss":"tb","aud":"tb-api","exp":1000000900})")
                    .ok());
}

TEST_F(JwtClaims, RefusesNbfOrIatInTheFuture) {
    // Within a minute of skew: accepted; past it: refused.
    EXPECT_FALSE(
        Verify(kHeader, R"({"iss":"tb","aud":"tb-api","exp":1000000900,"nbf":1000000061})").ok());
    EXPECT_FALSE(
        Verify(kHeader, R"({"iss":"tb","aud":"tb-api","exp":1000000900,"iat":1000000600})").ok());
    EXPECT_FALSE(
        Verify(kHeader, R"({"iss":"tb","aud":"tb-api","exp":1000000900,"iat":"soon"})").ok());
    EXPECT_TRUE(
        Verify(kHeader, R"({"iss":"tb","aud":"tb-api","exp":1000000900,"nbf":1000000059})").ok());
}

TEST_F(JwtClaims, RefusesAMissingOrForeignTyp) {
    for (std::string_view header :
         {R"({"alg":"HS256","kid":"k1"})", R"({"alg":"HS256","typ":"JOSE","kid":"k1"})",
          R"({"alg":"HS256","typ":"secevent+jwt","kid":"k1"})",
          R"({"alg":"HS256","typ":1,"kid":"k1"})"}) {
        EXPECT_FALSE(Verify(header, R"({"iss":"tb","aud":"tb-api","exp":1000000900})").ok())
            << header;
    }
}

TEST_F(JwtClaims, RefusesDuplicateClaims) {
    // Expired first, valid second: Boost.JSON would keep the last.
    EXPECT_FALSE(Verify(kHeader, R"({"iss":"tb","aud":"tb-api","exp":1,"exp":1000000900})").ok());
    EXPECT_FALSE(
        Verify(kHeader, R"({"iss":"evil","iss":"tb","aud":"tb-api","exp":1000000900})").ok());
    EXPECT_FALSE(Verify(R"({"alg":"HS256","typ":"JWT","kid":"x","kid":"k1"})",
                        R"({"iss":"tb","aud":"tb-api","exp":1000000900})")
                     .ok());
}

TEST(Jwks, PublishesPublicPartsOnly) {
    auto ring = KeyRing::Load({GenerateSigningKey(JwtAlgorithm::kRS256, "a", 0).value(),
                               GenerateSigningKey(JwtAlgorithm::kRS256, "b", 1).value()})
                    .value();
    auto jwks = ring->Jwks();
    auto& keys = jwks.at("keys").as_array();
    ASSERT_EQ(keys.size(), 2u);
    EXPECT_EQ(keys[1].at("kid"), "b");
    EXPECT_EQ(keys[1].at("kty"), "RSA");
    EXPECT_EQ(keys[1].at("e"), "AQAB");
    EXPECT_EQ(json::serialize(jwks).find("PRIVATE"), std::string::npos);
    EXPECT_EQ(ring->current().kid, "b");
}

}  // namespace
}  // namespace tb::auth
