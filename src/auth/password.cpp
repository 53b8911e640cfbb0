#include "auth/password.h"

#include <sodium.h>

namespace tb::auth {

bool InitCrypto() { return sodium_init() >= 0; }

PasswordHasher::PasswordHasher(PasswordParams params) : params_(params) {}

Result<std::string> PasswordHasher::Hash(std::string_view password) const {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.ops_limit,
                              params_.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return Error::Unavailable("Server busy", "argon2id: out of memory");
    }
    return std::string(out);
}

bool PasswordHasher::Verify(std::string_view phc, std::string_view password) const {
    if (phc.empty() || phc.size() >= crypto_pwhash_STRBYTES) return false;
    char stored[crypto_pwhash_STRBYTES] = {};
    std::copy(phc.begin(), phc.end(), stored);
    return crypto_pwhash_str_verify(stored, password.data(), password.size()) == 0;
}

bool PasswordHasher::NeedsRehash(std::string_view phc) const {
    if (phc.empty() || phc.size() >= crypto_pwhash_STRBYTES) return true;
    char stored[crypto_pwhash_STRBYTES] = {};
    std::copy(phc.begin(), phc.end(), stored);
    return crypto_pwhash_str_needs_rehash(stored, params_.ops_limit, params_.mem_limit_bytes) != 0;
}

}  // namespace tb::auth
