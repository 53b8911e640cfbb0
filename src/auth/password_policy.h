#pragma once
// The password policy of registration and password changes: a minimum length and not one of
// the most common passwords (a list shipped with the binary).

#include <string_view>

#include "common/result.h"

namespace tb::auth {

// No password is longer (bytes): a longer one is refused before it is ever hashed, at sign-in
// as at sign-up, so that nobody can make the server hash megabytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

// A password presented to be checked against a hash (login, the current password of a
// change): only its length, VALIDATION_ERROR on `field` past kMaxPasswordBytes.
Status CheckPasswordLength(std::string_view password, std::string_view field = "password");

// ok, or VALIDATION_ERROR on `field`.
Status CheckPassword(std::string_view password, size_t min_length,
                     std::string_view field = "password");

}  // namespace tb::auth
