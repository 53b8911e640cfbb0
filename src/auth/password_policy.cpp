#include "auth/password_policy.h"

#include <algorithm>
#include <array>

#include "common/strings.h"

namespace tb::auth {

namespace {
// The most common passwords of eight characters or more in public breach corpora.
constexpr std::array<std::string_view, 64> kCommon = {
    "password",   "12345678",   "123456789",  "1234567890",    "password1", "password123",
    "qwertyuiop", "iloveyou",   "11111111",   "00000000",      "abc12345",  "qwerty123",
    "1q2w3e4r",   "1qaz2wsx",   "sunshine",   "princess",      "football",  "baseball",
    "welcome1",   "welcome123", "admin123",   "administrator", "letmein1",  "trustno1",
    "superman",   "starwars",   "whatever",   "passw0rd",      "p@ssw0rd",  "p@ssword",
    "password!",  "changeme",   "computer",   "internet",      "michelle",  "jennifer",
    "12341234",   "87654321",   "123123123",  "qwertyui",      "asdfghjk",  "zxcvbnm1",
    "1234qwer",   "qazwsxedc",  "987654321",  "88888888",      "12344321",  "99999999",
    "q1w2e3r4",   "aa123456",   "dragon12",   "monkey12",      "master12",  "shadow12",
    "iloveyou1",  "loveme12",   "secret12",   "test1234",      "testtest",  "qwerty12",
    "password12", "abcd1234",   "letmein123", "1234abcd"};
}  // namespace

Status CheckPasswordLength(std::string_view password, std::string_view field) {
    if (password.size() > kMaxPasswordBytes) {
        return Error::Validation(
            std::string(field),
            "Password must be at most " + std::to_string(kMaxPasswordBytes) + " characters");
    }
    return {};
}

Status CheckPassword(std::string_view password, size_t min_length, std::string_view field) {
    if (password.size() < min_length) {
        return Error::Validation(
            std::string(field),
            "Password must be at least " + std::to_string(min_length) + " characters");
    }
    TB_RETURN_IF_ERROR(CheckPasswordLength(password, field));
    std::string lower = ToLower(password);
    if (std::find(kCommon.begin(), kCommon.end(), lower) != kCommon.end()) {
        return Error::Validation(std::string(field), "Password is too common");
    }
    return {};
}

}  // namespace tb::auth
