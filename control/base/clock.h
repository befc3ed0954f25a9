// Time as nvmove's control plane sees it. Two clocks, because they answer
// different questions:
//  - a monotonic one for timers (lifetimes, retransmissions, flap windows,
//    idle tunnels): it never jumps when NTP steps the wall clock, so nothing
//    expires early or late because someone fixed the date;
//  - the wall clock for protocol timestamps (docs/protocol.md: ns since the
//    Unix epoch, UTC, leap seconds not counted, as CLOCK_REALTIME; 64 bits
//    last until 2554, unlike RFC 5213's NTP format whose era 0 ends in 2036)
//    and for what a store writes to disk, since a monotonic time means
//    nothing after a reboot.
// Everything that depends on time takes a `const Clock &`, so tests drive it
// with FakeClock and never sleep.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace nvmove {

using Instant = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

inline uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
  virtual uint64_t wall_ns() const = 0;  // ns since 1970-01-01T00:00:00Z
  // The monotonic time in whole milliseconds (from an arbitrary origin).
  uint64_t now_ms() const {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(now().time_since_epoch()).count());
  }
};

class SystemClock final : public Clock {
 public:
  Instant now() const override { return std::chrono::steady_clock::now(); }
  uint64_t wall_ns() const override { return wall_clock_ns(); }
};

// Both clocks move together, and only when the test says so.
class FakeClock final : public Clock {
 public:
  // An arbitrary but realistic start (2026-01-01), far from both epochs so
  // that "now minus a window" never underflows.
  static constexpr uint64_t kStartWallNs = 1'767'225'600'000'000'000ULL;

  FakeClock() = default;
  // A clock whose monotonic time starts elsewhere: a restarted process (or a
  // rebooted host) sees the same wall clock but a new monotonic origin.
  FakeClock(Instant now, uint64_t wall_ns) : now_(now), wall_ns_(wall_ns) {}

  Instant now() const override { return now_; }
  uint64_t wall_ns() const override { return wall_ns_; }
  void advance(Duration step) {
    now_ += step;
    wall_ns_ += static_cast<uint64_t>(std::chrono::nanoseconds(step).count());
  }

 private:
  Instant now_ = Instant{} + std::chrono::hours(1000);
  uint64_t wall_ns_ = kStartWallNs;
};

// "250ms", "10s": the spelling the configuration files accept.
inline std::string duration_text(Duration duration) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "s";
}

// "0.250s ago": how long ago something happened, as every listing says it.
inline std::string ago_text(double seconds) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3fs ago", seconds < 0 ? 0.0 : seconds);
  return buf;
}

// "2026-12-06T22:50:01.123Z": a wall-clock time (ns since the Unix epoch)
// as an operator reads it, UTC (ISO 8601), to the millisecond.
inline std::string utc_text(uint64_t unix_ns) {
  const auto secs = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(unix_ns / 1'000'000 % 1000));
  return buf;
}

// Converting a monotonic instant to wall-clock time and back, relative to the
// clock's current reading: how a store keeps deadlines across a restart.
inline uint64_t to_wall_ns(Instant when, const Clock &clock) {
  auto offset = std::chrono::duration_cast<std::chrono::nanoseconds>(when - clock.now()).count();
  return static_cast<uint64_t>(static_cast<int64_t>(clock.wall_ns()) + offset);
}

// A stored time further than a century from now (a damaged record: the
// store fuzzer's 2^63 ns and more) is taken as a century away, in its
// direction, instead of overflowing.
inline Instant from_wall_ns(uint64_t wall_ns, const Clock &clock) {
  constexpr uint64_t kCentury = uint64_t{100} * 365 * 24 * 3600 * 1'000'000'000;
  const uint64_t now = clock.wall_ns();
  const int64_t offset = wall_ns >= now ? static_cast<int64_t>(std::min(wall_ns - now, kCentury))
                                        : -static_cast<int64_t>(std::min(now - wall_ns, kCentury));
  return clock.now() + std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(offset));
}

}  // namespace nvmove
