#include "common/clock.h"

#include <cctype>

namespace tb {

Timestamp SystemClock::Now() const {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
}

int64_t ToUnixMillis(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp FromUnixMillis(int64_t ms) { return Timestamp(std::chrono::milliseconds(ms)); }

void AppendRfc3339(std::string& out, Timestamp t) {
    // Calendar arithmetic from <chrono> rather than gmtime_r, which takes glibc's time-zone
    // lock on every call: this runs for every access-log line and rendered timestamp.
    using namespace std::chrono;
    const sys_days day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss<milliseconds> time{t - day};
    int year = static_cast<int>(date.year());
    if (year < 0 || year > 9999) year = 0;
    char buf[24];
    auto put = [&](int pos, int64_t value, int width) {
        for (int i = width - 1; i >= 0; --i) {
            buf[pos + i] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
    };
    put(0, year, 4);
    buf[4] = '-';
    put(5, static_cast<unsigned>(date.month()), 2);
    buf[7] = '-';
    put(8, static_cast<unsigned>(date.day()), 2);
    buf[10] = 'T';
    put(11, time.hours().count(), 2);
    buf[13] = ':';
    put(14, time.minutes().count(), 2);
    buf[16] = ':';
    put(17, time.seconds().count(), 2);
    buf[19] = '.';
    put(20, time.subseconds().count(), 3);
    buf[23] = 'Z';
    out.append(buf, sizeof buf);
}

std::string FormatRfc3339(Timestamp t) {
    std::string out;
    AppendRfc3339(out, t);
    return out;
}

namespace {
bool Digits(std::string_view s, size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}
}  // namespace

std::optional<Timestamp> ParseRfc3339(std::string_view s) {
    int year, mon, day, hour, min, sec;
    if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, mon) ||
        s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
        !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, min) || s[16] != ':' ||
        !Digits(s, 17, 2, sec)) {
        return std::nullopt;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
        return std::nullopt;
    }
    size_t pos = 19;
    int millis = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int scale = 100;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
            millis += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
        }
        if (pos == start) return std::nullopt;
    }
    int offset_min = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset_min = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    // The same <chrono> calendar as AppendRfc3339; an impossible date (Feb 31) is refused, a
    // leap second (:60) counts as the next minute's first.
    using namespace std::chrono;
    const year_month_day date{std::chrono::year{year},
                              std::chrono::month{static_cast<unsigned>(mon)},
                              std::chrono::day{static_cast<unsigned>(day)}};
    if (!date.ok()) return std::nullopt;
    const sys_seconds t = sys_days(date) + hours(hour) + minutes(min - offset_min) + seconds(sec);
    int64_t ms = static_cast<int64_t>(t.time_since_epoch().count()) * 1000 + millis;
    return FromUnixMillis(ms);
}

}  // namespace tb
