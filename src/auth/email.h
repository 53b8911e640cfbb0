#pragma once
// Email addresses: trimmed, lower-cased and checked for a plausible shape
// (local@domain, ASCII only, no spaces or control characters, at most 254 characters).

#include <string>
#include <string_view>

#include "common/result.h"

namespace tb::auth {

// The normalised address, or VALIDATION_ERROR on field "email".
Result<std::string> NormalizeEmail(std::string_view raw);

}  // namespace tb::auth
