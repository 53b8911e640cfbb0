#pragma once
// Email addresses: trimmed, lower-cased and checked for a plausible shape
// (local@domain, ASCII only, no spaces or control characters, at most 254 characters).

#include <string>
#include <string_view>

#include "common/result.h"

namespace tb {

// The normalised address, or VALIDATION_ERROR on `field`.
Result<std::string> NormalizeEmail(std::string_view raw, std::string_view field = "email");

}  // namespace tb
