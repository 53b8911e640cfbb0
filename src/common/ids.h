#pragma once
// UUIDv7 identifiers (RFC 9562): 48-bit Unix milliseconds, then random bits. Within one
// generator ids are strictly increasing, so ordering by id is creation order (API.md §13).
//
// Thread safety: IdGenerator::Next is safe to call from any thread (internal mutex).

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace tb {

class IdGenerator {
  public:
    explicit IdGenerator(const Clock& clock);
    // A new UUIDv7 in canonical lower-case text form.
    std::string Next();

  private:
    const Clock& clock_;
    std::mutex mu_;
    int64_t last_ms_ = 0;   // guarded by mu_
    uint16_t counter_ = 0;  // guarded by mu_: the 12-bit rand_a field, used as a sequence
    uint64_t rng_state_;    // guarded by mu_
};

// True when text is a canonical (lower- or upper-case hex) UUID of any version.
bool IsUuid(std::string_view text);
// Strong id types: distinct so that one cannot be passed for another (STYLE.md §12).
template <class Tag>
struct StrongId {
    std::string value;
    bool operator==(const StrongId&) const = default;
    auto operator<=>(const StrongId&) const = default;
};
using TenantId = StrongId<struct TenantTag>;
using UserId = StrongId<struct UserTag>;
using ApiKeyId = StrongId<struct ApiKeyTag>;
using SessionId = StrongId<struct SessionTag>;

}  // namespace tb
