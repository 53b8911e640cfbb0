#include "http/content.h"

#include <charconv>
#include <cstring>
#include <ctime>

#include "common/strings.h"
#include "http/entity_tags.h"

namespace tb::http {

namespace {

std::optional<uint64_t> Digits(std::string_view s) {
    if (s.empty() || s.size() > 19) return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

}  // namespace

RangeDecision DecideRange(std::string_view range, uint64_t size, std::string_view if_range,
                          std::string_view etag, std::string_view last_modified) {
    RangeDecision whole;
    range = Trim(range);
    if (range.empty()) return whole;
    if (!Trim(if_range).empty() && Trim(if_range) != etag && Trim(if_range) != last_modified)
        return whole;
    if (range.size() < 6 || !IEquals(range.substr(0, 6), "bytes=")) return whole;
    std::string_view spec = Trim(range.substr(6));
    if (spec.find(',') != std::string_view::npos) return whole;  // several ranges
    size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return whole;
    std::string_view a = Trim(spec.substr(0, dash)), b = Trim(spec.substr(dash + 1));
    if (a.empty()) {  // the last n bytes
        auto n = Digits(b);
        if (!n) return whole;
        if (*n == 0 || size == 0) return {RangeDecision::kUnsatisfiable};
        uint64_t len = std::min(*n, size);
        return {RangeDecision::kPartial, size - len, len};
    }
    auto first = Digits(a);
    if (!first) return whole;
    uint64_t last = size == 0 ? 0 : size - 1;
    if (!b.empty()) {
        auto l = Digits(b);
        if (!l || *l < *first) return whole;  // malformed: ignored
        last = std::min(*l, last);
    }
    if (*first >= size) return {RangeDecision::kUnsatisfiable};
    return {RangeDecision::kPartial, *first, last - *first + 1};
}

std::string HttpDate(int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    // By hand: snprintf cost more than the rest of the header block.
    std::string out = "Sun, 00 Jan 0000 00:00:00 GMT";
    auto two = [&](size_t at, int v) {
        out[at] = static_cast<char>('0' + v / 10);
        out[at + 1] = static_cast<char>('0' + v % 10);
    };
    std::memcpy(out.data(), kDays[tm.tm_wday], 3);
    two(5, tm.tm_mday);
    std::memcpy(out.data() + 8, kMonths[tm.tm_mon], 3);
    int year = tm.tm_year + 1900;
    two(12, year / 100 % 100);
    two(14, year % 100);
    two(17, tm.tm_hour);
    two(20, tm.tm_min);
    two(23, tm.tm_sec);
    return out;
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
    text = Trim(text);
    // "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters, fixed positions.
    if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT")
        return std::nullopt;
    auto num = [&](size_t pos, size_t len) { return Digits(text.substr(pos, len)); };
    auto day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2), ss = num(23, 2);
    if (!day || !year || !hh || !mm || !ss || text[7] != ' ' || text[11] != ' ' ||
        text[16] != ' ' || text[19] != ':' || text[22] != ':')
        return std::nullopt;
    int month = -1;
    for (int i = 0; i < 12; ++i) {
        if (text.substr(8, 3) == kMonths[i]) month = i;
    }
    if (month < 0 || *day < 1 || *day > 31 || *hh > 23 || *mm > 59 || *ss > 60) return std::nullopt;
    std::tm tm{};
    tm.tm_year = static_cast<int>(*year) - 1900;
    tm.tm_mon = month;
    tm.tm_mday = static_cast<int>(*day);
    tm.tm_hour = static_cast<int>(*hh);
    tm.tm_min = static_cast<int>(*mm);
    tm.tm_sec = static_cast<int>(*ss);
    return static_cast<int64_t>(timegm(&tm));
}

bool NotModified(std::string_view if_none_match, std::string_view if_modified_since,
                 std::string_view etag, int64_t last_modified_seconds) {
    if (!Trim(if_none_match).empty()) return ListsTagWeakly(ParseEntityTags(if_none_match), etag);
    if (Trim(if_modified_since).empty()) return false;
    auto since = ParseHttpDate(if_modified_since);
    return since && last_modified_seconds <= *since;
}

std::string ContentDisposition(std::string_view name, bool attachment) {
    std::string out = attachment ? "attachment" : "inline";
    std::string ascii;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            // One '_' per character, not per byte: continuation bytes add none.
            if ((u & 0xC0) != 0x80) ascii += '_';
        } else if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
            ascii += '_';
        } else {
            ascii += c;
        }
    }
    out += "; filename=\"" + ascii + "\"";
    // The exact name too, when the ASCII rendering had to change it.
    if (ascii != name) {
        out += "; filename*=UTF-8''";
        static constexpr char kHex[] = "0123456789ABCDEF";
        for (char c : name) {
            auto u = static_cast<unsigned char>(c);
            // RFC 8187 attr-char: ALPHA DIGIT and !#$&+-.^_`|~
            bool keep = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                        (u >= '0' && u <= '9') ||
                        std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
            if (keep) {
                out += c;
            } else {
                out += '%';
                out += kHex[u >> 4];
                out += kHex[u & 15];
            }
        }
    }
    return out;
}

}  // namespace tb::http
