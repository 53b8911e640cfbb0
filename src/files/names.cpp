#include "files/names.h"

#include <algorithm>

#include "common/strings.h"

namespace tb::files {

std::string SanitizeName(std::string_view name) {
    std::string valid = ToValidUtf8(name);
    std::string out;
    out.reserve(valid.size());
    for (char c : valid) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) continue;  // control characters, NUL, CR, LF, TAB
        if (c == '/' || c == '\\') c = '_';   // no path separators
        out += c;
    }
    // C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) and the bidi overrides that disguise an
    // extension (U+202A..U+202E, U+2066..U+2069: E2 80 AA..AE, E2 81 A6..A9) go too.
    std::string cleaned;
    cleaned.reserve(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
        auto b = [&](size_t k) { return static_cast<unsigned char>(out[k]); };
        if (b(i) == 0xC2 && i + 1 < out.size() && b(i + 1) >= 0x80 && b(i + 1) <= 0x9F) {
            ++i;
            continue;
        }
        if (b(i) == 0xE2 && i + 2 < out.size() &&
            ((b(i + 1) == 0x80 && b(i + 2) >= 0xAA && b(i + 2) <= 0xAE) ||
             (b(i + 1) == 0x81 && b(i + 2) >= 0xA6 && b(i + 2) <= 0xA9))) {
            i += 2;
            continue;
        }
        cleaned += out[i];
    }
    std::string_view v = Trim(cleaned);
    while (!v.empty() && v.front() == '.') v.remove_prefix(1);  // no hidden files, no ".."
    v = Trim(v);
    if (v.size() > kMaxNameBytes) {
        size_t cut = kMaxNameBytes;
        // Back to the start of a UTF-8 character.
        while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
        v = Trim(v.substr(0, cut));
    }
    if (v.empty()) return "file";
    return std::string(v);
}

bool IsActiveContentType(std::string_view content_type) {
    std::string media = ToLower(Trim(content_type.substr(0, content_type.find(';'))));
    if (media.empty()) return true;  // unknown: a browser would sniff it
    return media == "text/html" || media == "application/xhtml+xml" || media == "image/svg+xml" ||
           media == "text/xml" || media == "application/xml" || media.ends_with("+xml") ||
           media == "text/javascript" || media == "application/javascript" ||
           media == "application/ecmascript" || media == "text/ecmascript" || media == "text/xsl";
}

std::string CleanContentType(std::string_view content_type) {
    std::string_view t = Trim(content_type);
    size_t slash = t.find('/');
    bool ok = !t.empty() && t.size() <= 255 && slash != std::string_view::npos && slash > 0 &&
              slash + 1 < t.size() &&
              std::all_of(t.begin(), t.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    return ok ? std::string(t) : std::string("application/octet-stream");
}

}  // namespace tb::files
