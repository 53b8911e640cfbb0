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

namespace {

bool IsTokenChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// The media type of a cleaned content type, without parameters.
std::string_view MediaOf(std::string_view content_type) {
    return Trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

bool IsActiveContentType(std::string_view content_type) {
    std::string media = ToLower(MediaOf(content_type));
    if (media.empty()) return true;  // unknown: a browser would sniff it
    return media == "text/html" || media == "application/xhtml+xml" || media == "image/svg+xml" ||
           media == "text/xml" || media == "application/xml" || media.ends_with("+xml") ||
           media == "text/javascript" || media == "application/javascript" ||
           media == "application/ecmascript" || media == "text/ecmascript" || media == "text/xsl";
}

bool IsInlineSafe(std::string_view content_type) {
    std::string media = ToLower(MediaOf(content_type));
    static constexpr std::string_view kSafe[] = {
        "image/png",  "image/jpeg", "image/gif",        "image/webp",
        "image/avif", "image/bmp",  "image/x-icon",     "image/vnd.microsoft.icon",
        "text/plain", "text/csv",   "application/json", "application/pdf"};
    for (std::string_view t : kSafe) {
        if (media == t) return true;
    }
    return media.starts_with("audio/") || media.starts_with("video/");
}

std::string CleanContentType(std::string_view content_type) {
    const std::string kDefault = "application/octet-stream";
    std::string_view media = MediaOf(content_type);
    size_t slash = media.find('/');
    if (slash == std::string_view::npos || !IsToken(media.substr(0, slash)) ||
        !IsToken(media.substr(slash + 1)) || media.size() > 127)
        return kDefault;
    std::string out = ToLower(media);
    // Parameters: only charset is kept (a token, quoted or not); anything malformed drops
    // the whole type.
    std::string_view rest =
        content_type.substr(std::min(content_type.size(), content_type.find(';')));
    while (!rest.empty()) {
        rest.remove_prefix(1);  // the ';'
        size_t next = rest.find(';');
        std::string_view param = Trim(rest.substr(0, next));
        rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
        if (param.empty()) continue;
        size_t eq = param.find('=');
        if (eq == std::string_view::npos || !IsToken(Trim(param.substr(0, eq)))) return kDefault;
        std::string_view value = Trim(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        if (!IsToken(value)) return kDefault;
        if (IEquals(Trim(param.substr(0, eq)), "charset") && value.size() <= 40)
            out += "; charset=" + ToLower(value);
    }
    return out;
}

}  // namespace tb::files
