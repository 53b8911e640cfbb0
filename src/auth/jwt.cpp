#include "auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "common/encoding.h"
#include "common/strings.h"

namespace tb::auth {

namespace {

using Bytes = std::string;  // raw bytes

std::span<const uint8_t> AsBytes(std::string_view s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
std::string B64(std::string_view raw) { return Base64UrlEncode(AsBytes(raw)); }

Error Invalid() { return Error::Unauthorized("Invalid token"); }

EVP_PKEY* LoadPem(const std::string& pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (!bio) return nullptr;
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return key;
}

std::string BnParam(EVP_PKEY* pkey, const char* name, size_t pad_to = 0) {
    BIGNUM* bn = nullptr;
    if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) return {};
    std::string out(std::max<size_t>(pad_to, BN_num_bytes(bn)), '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
    BN_free(bn);
    return out;
}

// ES256 signatures are raw R||S in JWS, DER in OpenSSL.
std::optional<Bytes> DerToRaw(const Bytes& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    if (!sig) return std::nullopt;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    Bytes raw(64, '\0');
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    return raw;
}

std::optional<Bytes> RawToDer(const Bytes& raw) {
    if (raw.size() != 64) return std::nullopt;
    ECDSA_SIG* sig = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
    ECDSA_SIG_set0(sig, r, s);
    unsigned char* der = nullptr;
    int len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (len <= 0) return std::nullopt;
    Bytes out(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);
    return out;
}

Bytes Hmac(const std::string& secret, std::string_view input) { return HmacSha256(secret, input); }

const EVP_MD* Digest(JwtAlgorithm alg) {
    return alg == JwtAlgorithm::kEdDSA ? nullptr : EVP_sha256();
}

}  // namespace

std::string_view AlgorithmName(JwtAlgorithm alg) {
    switch (alg) {
        case JwtAlgorithm::kRS256:
            return "RS256";
        case JwtAlgorithm::kES256:
            return "ES256";
        case JwtAlgorithm::kEdDSA:
            return "EdDSA";
        case JwtAlgorithm::kHS256:
            return "HS256";
    }
    return "RS256";
}

Result<JwtAlgorithm> ParseAlgorithm(std::string_view name) {
    for (JwtAlgorithm a :
         {JwtAlgorithm::kRS256, JwtAlgorithm::kES256, JwtAlgorithm::kEdDSA, JwtAlgorithm::kHS256}) {
        if (AlgorithmName(a) == name) return a;
    }
    return Error::BadRequest("unknown JWT algorithm " + std::string(name));
}

Result<SigningKey> GenerateSigningKey(JwtAlgorithm alg, std::string kid, int64_t now_ms) {
    SigningKey key{std::move(kid), alg, {}, now_ms};
    if (alg == JwtAlgorithm::kHS256) {
        key.secret_pem = RandomToken(32);
        return key;
    }
    EVP_PKEY* pkey = nullptr;
    switch (alg) {
        case JwtAlgorithm::kRS256:
            pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
            break;
        case JwtAlgorithm::kES256:
            pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
            break;
        default:
            pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
            break;
    }
    if (!pkey) return Error::Internal("key generation failed");
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    key.secret_pem.assign(data, len);
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return key;
}

Result<std::shared_ptr<const KeyRing>> KeyRing::Load(std::vector<SigningKey> keys) {
    if (keys.empty()) return Error::Internal("no signing keys");
    std::shared_ptr<KeyRing> ring(new KeyRing());
    for (SigningKey& k : keys) {
        Loaded loaded{std::move(k), nullptr};
        if (loaded.key.algorithm != JwtAlgorithm::kHS256) {
            loaded.pkey = LoadPem(loaded.key.secret_pem);
            if (!loaded.pkey) return Error::Internal("cannot load signing key " + loaded.key.kid);
        }
        ring->keys_.push_back(std::move(loaded));
    }
    return std::shared_ptr<const KeyRing>(std::move(ring));
}

KeyRing::~KeyRing() {
    for (Loaded& k : keys_) EVP_PKEY_free(static_cast<EVP_PKEY*>(k.pkey));
}

const KeyRing::Loaded* KeyRing::Find(std::string_view kid) const {
    for (const Loaded& k : keys_) {
        if (k.key.kid == kid) return &k;
    }
    return nullptr;
}

json::object KeyRing::Jwks() const {
    json::array list;
    for (const Loaded& k : keys_) {
        auto* pkey = static_cast<EVP_PKEY*>(k.pkey);
        json::object jwk{
            {"kid", k.key.kid}, {"use", "sig"}, {"alg", AlgorithmName(k.key.algorithm)}};
        switch (k.key.algorithm) {
            case JwtAlgorithm::kRS256:
                jwk["kty"] = "RSA";
                jwk["n"] = B64(BnParam(pkey, OSSL_PKEY_PARAM_RSA_N));
                jwk["e"] = B64(BnParam(pkey, OSSL_PKEY_PARAM_RSA_E));
                break;
            case JwtAlgorithm::kES256:
                jwk["kty"] = "EC";
                jwk["crv"] = "P-256";
                jwk["x"] = B64(BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32));
                jwk["y"] = B64(BnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32));
                break;
            case JwtAlgorithm::kEdDSA: {
                size_t len = 0;
                EVP_PKEY_get_raw_public_key(pkey, nullptr, &len);
                std::string raw(len, '\0');
                EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()),
                                            &len);
                jwk["kty"] = "OKP";
                jwk["crv"] = "Ed25519";
                jwk["x"] = B64(raw);
                break;
            }
            case JwtAlgorithm::kHS256:
                continue;  // a shared secret is never published
        }
        list.push_back(std::move(jwk));
    }
    return json::object{{"keys", std::move(list)}};
}

Result<std::string> JwtCodec::Sign(const KeyRing& ring, json::object claims) const {
    const auto& key = ring.keys_.back();
    if (key.key.algorithm != settings_.algorithm)
        return Error::Internal("signing key algorithm mismatch");
    claims["iss"] = settings_.issuer;
    claims["aud"] = settings_.audience;
    json::object header{
        {"alg", AlgorithmName(settings_.algorithm)}, {"typ", "JWT"}, {"kid", key.key.kid}};
    std::string input = B64(json::serialize(header)) + "." + B64(json::serialize(claims));
    Bytes sig;
    if (settings_.algorithm == JwtAlgorithm::kHS256) {
        sig = Hmac(key.key.secret_pem, input);
    } else {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t len = 0;
        bool ok =
            EVP_DigestSignInit(ctx, nullptr, Digest(settings_.algorithm), nullptr,
                               static_cast<EVP_PKEY*>(key.pkey)) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                           input.size()) == 1;
        if (ok) {
            sig.resize(len);
            ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                reinterpret_cast<const unsigned char*>(input.data()),
                                input.size()) == 1;
            sig.resize(len);
        }
        EVP_MD_CTX_free(ctx);
        if (!ok) return Error::Internal("signing failed");
        if (settings_.algorithm == JwtAlgorithm::kES256) {
            auto raw = DerToRaw(sig);
            if (!raw) return Error::Internal("signing failed");
            sig = *raw;
        }
    }
    return input + "." + B64(sig);
}

namespace {
// The clock skew tolerated on `nbf` and `iat` (RFC 7519 §4.1.5 allows "a small leeway").
constexpr int64_t kClockSkewMs = 60'000;
}  // namespace

Result<json::object> JwtCodec::Verify(const KeyRing& ring, std::string_view token,
                                      Timestamp now) const {
    size_t d1 = token.find('.');
    size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
    if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
        return Invalid();
    auto header_raw = Base64UrlDecode(token.substr(0, d1));
    auto payload_raw = Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1));
    auto sig = Base64UrlDecode(token.substr(d2 + 1));
    if (!header_raw || !payload_raw || !sig) return Invalid();
    auto header = ParseJson(*header_raw, {.max_depth = 4});
    if (!header.ok() || !header->is_object() || HasDuplicateKeys(*header_raw, *header))
        return Invalid();
    const json::object& h = header->as_object();
    // Only an access token of ours (RFC 8725 §3.11: explicit typing); a JWT of another kind,
    // signed by the same key, is not one.
    auto typ = h.if_contains("typ");
    if (!typ || !typ->is_string() ||
        !(IEquals(typ->get_string(), "JWT") || IEquals(typ->get_string(), "at+jwt")))
        return Invalid();
    // Pin the algorithm: the token may not choose it.
    auto alg = h.if_contains("alg");
    auto kid = h.if_contains("kid");
    if (!alg || !alg->is_string() || alg->as_string() != AlgorithmName(settings_.algorithm))
        return Invalid();
    if (!kid || !kid->is_string()) return Invalid();
    const KeyRing::Loaded* key = ring.Find(std::string_view(kid->as_string()));
    if (!key || key->key.algorithm != settings_.algorithm) return Invalid();

    std::string_view input = token.substr(0, d2);
    bool valid = false;
    if (settings_.algorithm == JwtAlgorithm::kHS256) {
        valid = ConstantTimeEquals(Hmac(key->key.secret_pem, input), *sig);
    } else {
        Bytes signature = *sig;
        if (settings_.algorithm == JwtAlgorithm::kES256) {
            auto der = RawToDer(signature);
            if (!der) return Invalid();
            signature = *der;
        }
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        valid = EVP_DigestVerifyInit(ctx, nullptr, Digest(settings_.algorithm), nullptr,
                                     static_cast<EVP_PKEY*>(key->pkey)) == 1 &&
                EVP_DigestVerify(
                    ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                    reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
        EVP_MD_CTX_free(ctx);
    }
    if (!valid) return Invalid();

    auto payload = ParseJson(*payload_raw, {.max_depth = 8});
    // A claim named twice is ambiguous (an expired `exp` first, a valid one second).
    if (!payload.ok() || !payload->is_object() || HasDuplicateKeys(*payload_raw, *payload))
        return Invalid();
    json::object claims = std::move(payload->as_object());
    auto iss = claims.if_contains("iss");
    if (!iss || !iss->is_string() || iss->as_string() != settings_.issuer) return Invalid();
    auto aud = claims.if_contains("aud");
    bool aud_ok = false;
    if (aud && aud->is_string()) aud_ok = aud->as_string() == settings_.audience;
    if (aud && aud->is_array()) {
        for (const auto& a : aud->as_array())
            aud_ok = aud_ok || (a.is_string() && a.as_string() == settings_.audience);
    }
    if (!aud_ok) return Invalid();
    auto exp = claims.if_contains("exp");
    if (!exp || !exp->is_int64()) return Invalid();
    if (exp->as_int64() * 1000 <= ToUnixMillis(now)) return Error::Unauthorized("Token expired");
    // Not valid yet, or issued in the future: beyond a minute of clock skew, refused.
    for (std::string_view claim : {"nbf", "iat"}) {
        const json::value* at = claims.if_contains(claim);
        if (!at) continue;
        if (!at->is_number()) return Invalid();
        if (at->to_number<double>() * 1000 > static_cast<double>(ToUnixMillis(now) + kClockSkewMs))
            return Invalid();
    }
    return claims;
}

}  // namespace tb::auth
