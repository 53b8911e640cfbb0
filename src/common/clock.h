#pragma once
// Time: an injectable clock (STYLE.md §10) and RFC 3339 formatting.
//
// Thread safety: SystemClock is stateless; FakeClock is guarded by an atomic.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tb {

using Timestamp = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual Timestamp Now() const = 0;
};

class SystemClock final : public Clock {
  public:
    Timestamp Now() const override;
};

// A clock that only moves when told: for token expiry, windows and Retry-After in tests.
class FakeClock final : public Clock {
  public:
    explicit FakeClock(Timestamp start) : ms_(start.time_since_epoch().count()) {}
    Timestamp Now() const override { return Timestamp(std::chrono::milliseconds(ms_.load())); }
    void Advance(std::chrono::milliseconds d) { ms_ += d.count(); }

  private:
    std::atomic<int64_t> ms_;
};

// "2026-05-07T12:00:00.000Z": RFC 3339, UTC, milliseconds (years outside 0-9999 print as 0).
std::string FormatRfc3339(Timestamp t);
// The same, appended to out.
void AppendRfc3339(std::string& out, Timestamp t);
// Accepts RFC 3339 with optional fraction and a Z or ±hh:mm offset; nullopt when malformed.
std::optional<Timestamp> ParseRfc3339(std::string_view text);
int64_t ToUnixMillis(Timestamp t);
Timestamp FromUnixMillis(int64_t ms);

}  // namespace tb
