#include "control/base/rate_limited_log.h"

namespace nvmove {

std::optional<std::string> RateLimitedLog::admit(const IpAddress &peer, const std::string &reason,
                                                 const std::string &line) {
  Instant now = clock_.now();
  auto key = std::pair{peer, reason};
  auto it = slots_.find(key);
  if (it == slots_.end()) {
    if (slots_.size() >= kMaxKeys) slots_.clear();
    slots_.emplace(std::move(key), Slot{now, 0});
    return line;
  }
  Slot &slot = it->second;
  if (now - slot.last_logged < interval_) {
    slot.suppressed++;
    return std::nullopt;
  }
  std::string out = line;
  if (slot.suppressed > 0)
    out += " (" + std::to_string(slot.suppressed) + " more like it suppressed since the last one)";
  slot = Slot{now, 0};
  return out;
}

}  // namespace nvmove
