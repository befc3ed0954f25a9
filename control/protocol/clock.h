// The protocol's timestamp: nanoseconds since the Unix epoch (UTC, leap
// seconds not counted, as CLOCK_REALTIME). 64 bits last until 2554, unlike
// the NTP format RFC 5213 uses, whose era 0 ends in 2036.
#pragma once

#include <chrono>
#include <cstdint>

namespace nvmove::proto {

inline uint64_t wall_clock_ns() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

}  // namespace nvmove::proto
