#pragma once
// Password hashing: Argon2id through libsodium, stored as PHC strings
// ("$argon2id$v=19$m=19456,t=2,p=1$…"). Parameters default to OWASP's minimum (19 MiB,
// 2 passes) and may be raised in config; NeedsRehash tells when a stored hash is weaker.
//
// Thread safety: const methods, safe from any thread. Hashing takes tens of milliseconds:
// never call it on an I/O thread (the auth service runs it on its worker pool).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tb::auth {

struct PasswordParams {
    uint64_t ops_limit = 2;
    size_t mem_limit_bytes = size_t{19} * 1024 * 1024;
};

class PasswordHasher {
  public:
    explicit PasswordHasher(PasswordParams params = {});
    Result<std::string> Hash(std::string_view password) const;
    // Constant-time check of password against a PHC string; false for any malformed hash.
    bool Verify(std::string_view phc, std::string_view password) const;
    bool NeedsRehash(std::string_view phc) const;

  private:
    PasswordParams params_;
};

// Calls sodium_init once; false if libsodium cannot start (the process must not go on).
bool InitCrypto();

}  // namespace tb::auth
