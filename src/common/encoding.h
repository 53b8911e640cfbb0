#pragma once
// Byte encodings and secure randomness.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tb {

std::string Base64UrlEncode(std::span<const uint8_t> bytes);  // no padding
// Standard Base64 with padding (RFC 4648 §4), as MIME bodies and RFC 2047 words need.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);
std::string HexEncode(std::span<const uint8_t> bytes);

// Bytes from OpenSSL's CSPRNG; aborts if the CSPRNG fails (nothing safe can go on).
void SecureRandomBytes(std::span<uint8_t> out);
// A URL-safe random token with `bytes` bytes of entropy.
std::string RandomToken(size_t bytes = 32);
// Hex SHA-256 of text.
std::string Sha256Hex(std::string_view text);
// SHA-256 of data that arrives in pieces (an upload hashed as it streams).
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void Update(std::string_view data);
    // The hex digest; the object is spent.
    std::string FinishHex();

  private:
    struct Ctx;
    Ctx* ctx_;
};
// Raw HMAC-SHA256 of data under key (32 bytes in a string).
std::string HmacSha256(std::string_view key, std::string_view data);
// Constant-time equality of two strings (length may leak, contents do not).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace tb
