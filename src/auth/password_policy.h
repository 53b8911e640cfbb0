#pragma once
// The password policy of registration and password changes: a minimum length and not one of
// the most common passwords (a list shipped with the binary).

#include <string_view>

#include "common/result.h"

namespace tb::auth {

// ok, or VALIDATION_ERROR on `field`.
Status CheckPassword(std::string_view password, size_t min_length,
                     std::string_view field = "password");

}  // namespace tb::auth
