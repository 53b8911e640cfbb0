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

// Parses request input. Malformed JSON or nesting past the limit -> BAD_REQUEST ("Malformed
// JSON"); a number outside the finite double range (1e400) -> VALIDATION_ERROR with
// details.field its dotted path from the root ("" for a bare number): nothing this server
// stores or writes may hold a non-finite number (JSON has none).
// `storage` holds the value's memory: the default allocator, or (a request's body) one
// arena for the whole value, freed at once with its last part.
Result<json::value> ParseJson(std::string_view text, const JsonLimits& limits = {},
                              json::storage_ptr storage = {});
// An arena for one parsed value (boost::json::monotonic_resource, shared by its parts): a
// 1,000-document body is some 19,000 allocations, each freed one by one otherwise. Not for
// values that are kept and changed for long (an arena frees nothing until its last user goes).
json::storage_ptr JsonArena();
// Parses JSON this server wrote itself (stored rows). A non-finite number that an older
// version stored reads as null instead of failing, so no stored data can make a read fail.
// Malformed text is still an error (BAD_REQUEST, as ParseJson).
Result<json::value> ParseStoredJson(std::string_view text, const JsonLimits& limits = {});
// Older versions wrote a non-finite number as Boost's "Infinity", "-Infinity" or "NaN", or as
// std::to_chars' "inf", "-inf" or "nan": the text with each such token outside strings
// replaced by null (the one repair, used by ParseStoredJson and a SQLite migration).
std::string NullNonFiniteTokens(std::string_view text);
// Whether a JSON text that parses names a key twice in one object (Boost.JSON keeps the last
// silently): for texts whose every key must be unambiguous, such as a token's claims (a
// duplicate `exp`, expired first and valid second, must not pass). REQUIRES: `parsed` is
// what `text` parsed to (the caller has it already: no second parse).
bool HasDuplicateKeys(std::string_view text, const json::value& parsed);
// The dotted path (array positions as numbers) of the first non-finite number in v.
std::optional<std::string> NonFinitePath(const json::value& v);

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
// Compact JSON text, for everything this server stores or answers: like json::serialize,
// except that a double is written in its shortest round-trip form, in plain decimal where
// that is as short (25, 0.05, 1.5, 1e+300; a whole double as 1.0 keeps no fraction: 1),
// instead of Boost's exponent form (2.5E1), and a non-finite double (which ParseJson never
// lets in) as null instead of Boost's invalid "Infinity".
std::string WriteJson(const json::value& value);
// WriteJson appending to out.
void AppendJson(std::string& out, const json::value& value);
// Appends `s` as a JSON string literal, escaped as Boost.JSON's serializer escapes (quote,
// backslash and control characters; other bytes as they are): for responses written
// directly into their text instead of through a json::value tree.
void AppendJsonString(std::string& out, std::string_view s);

// The value at a dotted path (array positions as numbers; "" is the root); null if none.
const json::value* ValueAt(const json::value& root, std::string_view path);
// Adds details.value = v to a validation error (API.md §1.1: the value refused is shown)
// when v is a string of at most 256 bytes, a finite number, a boolean or null, and no step
// of details.field names what may be a secret (password, token, secret, key, code): a
// password, token or key is never echoed.
void WithValueShown(Error& error, const json::value& v);

Status RejectUnknownFields(const json::object& obj,
                           std::initializer_list<std::string_view> allowed);

}  // namespace tb
