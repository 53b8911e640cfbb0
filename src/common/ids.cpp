#include "common/ids.h"

#include "common/encoding.h"

namespace tb {

namespace {
uint64_t SplitMix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
}  // namespace

IdGenerator::IdGenerator(const Clock& clock) : clock_(clock) {
    uint8_t seed[8];
    SecureRandomBytes(seed);
    rng_state_ = 0;
    for (uint8_t b : seed) rng_state_ = (rng_state_ << 8) | b;
}

std::string IdGenerator::Next() {
    int64_t ms;
    uint16_t seq;
    uint64_t rand_b;
    {
        std::lock_guard lock(mu_);
        ms = ToUnixMillis(clock_.Now());
        if (ms <= last_ms_) {
            ms = last_ms_;
            if (++counter_ > 0x0FFF) {  // sequence exhausted in this millisecond: borrow the next
                ++ms;
                counter_ = static_cast<uint16_t>(SplitMix64(rng_state_) & 0x01FF);
            }
        } else {
            // Start each millisecond low in the range so there is room to count up.
            counter_ = static_cast<uint16_t>(SplitMix64(rng_state_) & 0x01FF);
        }
        last_ms_ = ms;
        seq = counter_;
        rand_b = SplitMix64(rng_state_);
    }
    uint8_t b[16];
    for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
    b[6] = static_cast<uint8_t>(0x70 | (seq >> 8));
    b[7] = static_cast<uint8_t>(seq & 0xFF);
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(rand_b >> (56 - 8 * i));
    b[8] = static_cast<uint8_t>((b[8] & 0x3F) | 0x80);
    // Canonical 8-4-4-4-12 text, written in place (ids are made on every request).
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(36, '-');
    size_t pos = 0;
    for (int i = 0; i < 16; ++i) {
        if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
        out[pos++] = kHex[b[i] >> 4];
        out[pos++] = kHex[b[i] & 15];
    }
    return out;
}

bool IsUuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < 36; ++i) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

}  // namespace tb
