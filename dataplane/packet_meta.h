// What the classify stage learns about a packet and later stages use.
#pragma once

#include <cstdint>

namespace nvmove::dp {

struct PacketMeta {
  uint8_t *l3;          // IP header to forward (the inner one after decapsulation)
  uint16_t l3_len;      // its total length
  uint8_t family;       // kFamilyV4 / kFamilyV6
  uint8_t decapped;     // arrived through a tunnel to us
  uint16_t in_port;
  uint16_t frame_off;   // data_off of the frame as received (for ICMP replies)
  uint16_t l2_len;      // 14 or 18 as received
  uint16_t vlan_tci;    // as received, 0 = untagged
};

}  // namespace nvmove::dp
