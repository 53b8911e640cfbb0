#pragma once
// JSON Web Tokens for access tokens (API.md §2.1), signed with OpenSSL 3 EVP.
//
// The verifier pins the algorithm: a token is accepted only when its header's `alg` equals the
// configured algorithm, its `kid` names a key we hold, the signature verifies with that key,
// `iss` and `aud` match and `exp` has not passed. So `alg: none`, an HS256 token "signed" with
// our RSA public key, a changed payload, a foreign issuer or audience, and an expired token
// are all refused.
//
// Thread safety: a KeyRing is immutable once built; JwtCodec is const after construction.
// Rotation builds a new KeyRing and swaps it in (shared_ptr).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/result.h"

namespace tb::auth {

enum class JwtAlgorithm { kRS256, kES256, kEdDSA, kHS256 };
std::string_view AlgorithmName(JwtAlgorithm alg);
Result<JwtAlgorithm> ParseAlgorithm(std::string_view name);

// One signing key. For asymmetric algorithms `secret_pem` is the PKCS#8 private key; for HS256
// it is the raw secret (base64url). Never logged.
struct SigningKey {
    std::string kid;
    JwtAlgorithm algorithm = JwtAlgorithm::kRS256;
    std::string secret_pem;
    int64_t created_at = 0;
};

// Generates a fresh key of the algorithm (RSA 2048, P-256, Ed25519 or 32 random bytes).
Result<SigningKey> GenerateSigningKey(JwtAlgorithm alg, std::string kid, int64_t now_ms);

class KeyRing {
  public:
    // keys: newest last; the newest is the one that signs.
    static Result<std::shared_ptr<const KeyRing>> Load(std::vector<SigningKey> keys);
    ~KeyRing();
    // The public keys as a JWKS document (empty key list for HS256: nothing to publish).
    json::object Jwks() const;
    const SigningKey& current() const { return keys_.back().key; }

  private:
    struct Loaded {
        SigningKey key;
        void* pkey = nullptr;  // EVP_PKEY*, owned
    };
    friend class JwtCodec;
    KeyRing() = default;
    const Loaded* Find(std::string_view kid) const;
    std::vector<Loaded> keys_;
};

struct JwtSettings {
    JwtAlgorithm algorithm = JwtAlgorithm::kRS256;
    std::string issuer = "tenantbase";
    std::string audience = "tenantbase";
};

class JwtCodec {
  public:
    explicit JwtCodec(JwtSettings settings) : settings_(std::move(settings)) {}
    // Signs claims (iss and aud are added) with the ring's current key.
    Result<std::string> Sign(const KeyRing& ring, json::object claims) const;
    // The verified claims, or UNAUTHORIZED ("Invalid token" / "Token expired").
    Result<json::object> Verify(const KeyRing& ring, std::string_view token, Timestamp now) const;
    const JwtSettings& settings() const { return settings_; }

  private:
    JwtSettings settings_;
};

}  // namespace tb::auth
