// One line about a frame's first bytes, for `nvectl show trace`:
// "02:00:00:00:00:fe > 02:00:00:00:00:01, IPv4 203.0.113.7 > 10.0.0.9 UDP ttl 10"
// with the inner packet of a tunnel in brackets. Only for display: the
// dataplane's parser decides what happens to packets, not this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nvmove {

std::string frame_summary(const uint8_t *frame, size_t len);

}  // namespace nvmove
