#pragma once
// File names as clients send them, made safe to store and to send back (API.md §6: "names
// are sanitised; the stored path never comes from the client"): no path separators, control
// characters, NUL or leading dots, valid UTF-8 (invalid bytes become U+FFFD), at most 255
// bytes cut at a character boundary. Nothing is left: "file".

#include <string>
#include <string_view>

namespace tb::files {

inline constexpr size_t kMaxNameBytes = 255;

std::string SanitizeName(std::string_view name);

// Whether a content type is one a browser would run or render as a document on our origin
// (HTML, SVG, XML, JavaScript): such files are served as application/octet-stream.
bool IsActiveContentType(std::string_view content_type);

// Whether a browser may show a file of this type in place (images other than SVG, audio,
// video, plain text, CSV, JSON, PDF). Anything else is served as an attachment in a sandbox:
// a list of the safe, not of the dangerous, so that a type nobody thought of is a download.
bool IsInlineSafe(std::string_view content_type);

// A content type as sent, reduced to one lower-case `type/subtype` of RFC 9110 token
// characters and at most a `charset` parameter; anything else (a list such as
// `text/plain, text/html`, which browsers would read as its last type) is
// application/octet-stream.
std::string CleanContentType(std::string_view content_type);

}  // namespace tb::files
