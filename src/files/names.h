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
// (HTML, SVG, XML, JavaScript): such files are served as attachments in a sandbox.
bool IsActiveContentType(std::string_view content_type);

// A content type as sent, kept when it is a plausible `type/subtype[; params]` of visible
// ASCII under 255 bytes; otherwise application/octet-stream.
std::string CleanContentType(std::string_view content_type);

}  // namespace tb::files
