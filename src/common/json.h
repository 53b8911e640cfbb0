#pragma once
// JSON helpers over Boost.JSON: parsing with limits, and typed field access that produces
// our Error with the failing field's path.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "common/result.h"

namespace tb {

namespace json = boost::json;

struct JsonLimits {
    size_t max_depth = 64;
};

// Parses text; malformed JSON or nesting past the limit -> BAD_REQUEST ("Malformed JSON").
Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits = {});

// The body of a JSON endpoint must be an object -> VALIDATION_ERROR otherwise.
Result<json::object*> RequireObject(json::value& body);

// Optional typed members: absent or null -> default; a wrong type -> VALIDATION_ERROR naming
// the field. Unknown members are the caller's to reject (RejectUnknownFields).
Result<std::string> OptionalString(const json::object& obj, std::string_view field,
                                   std::string fallback = {});
Result<std::string> RequiredString(const json::object& obj, std::string_view field);
Result<bool> OptionalBool(const json::object& obj, std::string_view field, bool fallback);
// Present-or-not members for partial updates: absent or null -> nullopt.
Result<std::optional<std::string>> MaybeString(const json::object& obj, std::string_view field);
Result<std::optional<bool>> MaybeBool(const json::object& obj, std::string_view field);
// Compact JSON text for stored user data: like json::serialize, except that a double is
// written in its shortest round-trip form (1.5, 0.1, 1e+300; a whole double as 1.0 keeps no
// fraction: 1) instead of Boost's exponent form (1.5E0), so documents read back as written.
std::string WriteJson(const json::value& value);
// Appends `s` as a JSON string literal, escaped as Boost.JSON's serializer escapes (quote,
// backslash and control characters; other bytes as they are): for responses written
// directly into their text instead of through a json::value tree.
void AppendJsonString(std::string& out, std::string_view s);

Status RejectUnknownFields(const json::object& obj,
                           std::initializer_list<std::string_view> allowed);

}  // namespace tb
