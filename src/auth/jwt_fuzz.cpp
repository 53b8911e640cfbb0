// Fuzz target: access tokens as a client sends them (auth/jwt.h Verify). The security
// invariant: no input verifies unless it carries exactly the claims this program signed:
// a token cannot be forged, re-typed or given another algorithm by editing it. Fixed keys
// (an Ed25519 and an HS256 test key, nothing else uses them), so that the committed corpus
// holds tokens that verify and the fuzzer mutates from there. The input's first byte picks
// the codec (even: EdDSA, odd: HS256); the rest is the token.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "common/fuzz_check.h"

namespace {

using tb::auth::JwtAlgorithm;

constexpr const char* kEdPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIFqv9vzNTPJOPjqF0qu6T88U1Jxo9d8OGAzipMzJwV9S\n"
    "-----END PRIVATE KEY-----\n";
const tb::Timestamp kNow{std::chrono::milliseconds(1796650000000)};  // 2026-12-07
constexpr const char* kHsSecret = "dGVzdC1vbmx5LWZ1enotc2VjcmV0LTMyLWJ5dGVzLSE";

struct Codec {
    std::shared_ptr<const tb::auth::KeyRing> ring;
    tb::auth::JwtCodec codec;
    std::string token;  // a valid token of ours (printed with TB_FUZZ_PRINT_TOKENS=1)
};

Codec Make(JwtAlgorithm alg, const char* kid, const char* secret) {
    auto ring = tb::auth::KeyRing::Load({{kid, alg, secret, 0}});
    tb::FuzzCheck(ring.ok(), "the test key does not load");
    tb::auth::JwtSettings settings;
    settings.algorithm = alg;
    Codec c{*ring, tb::auth::JwtCodec(settings), ""};
    tb::json::object claims{{"sub", "user-1"}, {"sid", "s-1"}, {"exp", int64_t{4102444800}}};
    auto token = c.codec.Sign(*c.ring, claims);
    tb::FuzzCheck(token.ok(), "signing fails");
    c.token = *token;
    if (std::getenv("TB_FUZZ_PRINT_TOKENS")) std::printf("%s\n", c.token.c_str());
    return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Codec codecs[2] = {Make(JwtAlgorithm::kEdDSA, "ed-1", kEdPem),
                                    Make(JwtAlgorithm::kHS256, "hs-1", kHsSecret)};
    static const auto signed_claims =
        *codecs[0].codec.Verify(*codecs[0].ring, codecs[0].token, kNow);
    if (size == 0) return 0;
    const Codec& c = codecs[data[0] % 2];
    const std::string_view token(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto claims = c.codec.Verify(*c.ring, token, kNow);
    if (!claims.ok()) {
        tb::FuzzCheck(claims.error().code == tb::ErrorCode::kUnauthorized,
                      "a refusal other than 401");
        return 0;
    }
    tb::FuzzCheck(*claims == signed_claims,
                  "a token verified with claims this program never signed");
    return 0;
}
