// Logs one line per (peer, reason) per interval and counts what it held back,
// so that forged or misdirected datagrams cannot flood nved's log while the
// first of each kind is still seen at once. (nvad has the same policy in
// control/nvad/rate_limited_log.h, keyed on its own clock type.)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/net_types.h"

namespace nvmove::agent {

class LogLimiter {
 public:
  explicit LogLimiter(uint64_t interval_ms = 10000) : interval_ms_(interval_ms) {}

  // nullopt: stay quiet. Otherwise log now; the value is how many identical
  // events were suppressed since the last line.
  std::optional<uint64_t> admit(const IpAddress &peer, const std::string &reason, uint64_t now_ms) {
    if (slots_.size() >= kMaxKeys) slots_.clear();  // forged sources must not grow the map
    Slot &s = slots_[{peer, reason}];
    if (s.logged && now_ms - s.last_ms < interval_ms_) {
      s.suppressed++;
      return std::nullopt;
    }
    const uint64_t held = s.suppressed;
    s = Slot{true, now_ms, 0};
    return held;
  }

 private:
  static constexpr size_t kMaxKeys = 4096;
  struct Slot {
    bool logged = false;
    uint64_t last_ms = 0;
    uint64_t suppressed = 0;
  };
  uint64_t interval_ms_;
  std::map<std::pair<IpAddress, std::string>, Slot> slots_;
};

}  // namespace nvmove::agent
