// Logs a rejection or a drop once per interval per (peer, reason), and says
// how many were suppressed in between. A misconfigured peer retrying every
// second, or a flood of forged datagrams, must not drown the log, yet the
// first occurrence is always visible at once. Used by nvad and nved's agent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/net_types.h"
#include "control/base/clock.h"

namespace nvmove {

class RateLimitedLog {
 public:
  // Forged source addresses are free: past this many keys the table starts
  // again rather than grow without bound.
  static constexpr size_t kMaxKeys = 4096;

  RateLimitedLog(Duration interval, const Clock &clock) : interval_(interval), clock_(clock) {}

  // The line to log now (with the suppressed count appended when there was
  // any), or nullopt if this occurrence is suppressed.
  std::optional<std::string> admit(const IpAddress &peer, const std::string &reason, const std::string &line);

 private:
  struct Slot {
    Instant last_logged{};
    uint64_t suppressed = 0;
  };
  Duration interval_;
  const Clock &clock_;
  std::map<std::pair<IpAddress, std::string>, Slot> slots_;
};

}  // namespace nvmove
