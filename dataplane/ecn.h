// RFC 6040 ECN handling for tunnels.
#pragma once

#include <cstdint>

namespace nvmove::dp {

inline constexpr uint8_t kNotEct = 0, kEct1 = 1, kEct0 = 2, kCe = 3;

struct EcnDecap {
  int8_t inner;  // new inner ECN field, -1 = drop the packet
  bool log;      // a combination RFC 6040 says is worth logging
};

// RFC 6040 section 4.2, Figure 4: inner arriving ECN (row) x outer (column).
inline EcnDecap ecn_decapsulate(uint8_t inner, uint8_t outer) {
  inner &= 3;
  outer &= 3;
  if (inner == kNotEct) {
    if (outer == kCe) return {-1, true};
    return {static_cast<int8_t>(kNotEct), outer != kNotEct};
  }
  if (outer == kCe) return {static_cast<int8_t>(kCe), false};
  if (inner == kCe) return {static_cast<int8_t>(kCe), outer == kEct1};
  if (outer == kEct1) return {static_cast<int8_t>(kEct1), false};  // ECT(0) inner, ECT(1) outer
  return {static_cast<int8_t>(inner), false};
}

}  // namespace nvmove::dp
