#include "common/strings.h"

#include <algorithm>
#include <cstdint>

namespace tb {

namespace {
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

std::string_view Trim(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    return s;
}

std::string ToLower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = Lower(c);
    return out;
}

bool IEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (Lower(a[i]) != Lower(b[i])) return false;
    }
    return true;
}

size_t Utf8Length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

namespace {
// The length of the well-formed UTF-8 sequence at s[i] (1 to 4), or 0 when the bytes there are
// not one (a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a
// code point past U+10FFFF).
size_t Utf8SequenceAt(std::string_view s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
        return 1;
    } else if ((c >> 5) == 0x6) {
        n = 1, cp = c & 0x1F;
    } else if ((c >> 4) == 0xE) {
        n = 2, cp = c & 0x0F;
    } else if ((c >> 3) == 0x1E) {
        n = 3, cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n >= s.size()) return 0;
    for (size_t k = 1; k <= n; ++k) {
        unsigned char d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n + 1;
}
}  // namespace

bool IsValidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t n = Utf8SequenceAt(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string ToValidUtf8(std::string_view s, size_t max_bytes) {
    std::string out;
    out.reserve(std::min(s.size(), max_bytes));
    for (size_t i = 0; i < s.size();) {
        size_t n = Utf8SequenceAt(s, i);
        std::string_view piece = n ? s.substr(i, n) : std::string_view("\xEF\xBF\xBD");
        if (out.size() + piece.size() > max_bytes) break;  // never cut a character in two
        out += piece;
        i += n ? n : 1;
    }
    return out;
}

std::vector<std::string> SplitTrimmed(std::string_view s, char sep) {
    std::vector<std::string> out;
    while (true) {
        size_t pos = s.find(sep);
        std::string_view piece = Trim(s.substr(0, pos));
        if (!piece.empty()) out.emplace_back(piece);
        if (pos == std::string_view::npos) break;
        s.remove_prefix(pos + 1);
    }
    return out;
}

std::string Concat(std::initializer_list<std::string_view> parts) {
    size_t size = 0;
    for (std::string_view part : parts) size += part.size();
    std::string out;
    out.reserve(size);
    for (std::string_view part : parts) out += part;
    return out;
}

}  // namespace tb
