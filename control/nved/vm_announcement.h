// A VM announcing itself on an access port: the gratuitous ARP (RFC 5227
// announcement: sender = target address) or unsolicited Neighbour
// Advertisement (RFC 4861 7.2.6: S flag clear, target link-layer address)
// a VM sends after it moved (seed 003 section 8). The earliest sign that a
// migration completed: nved activates the VM if it is associated here and
// the MAC and address match the association.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/net_types.h"

namespace nvmove {

struct VmAnnouncement {
  MacAddress mac{};
  IpAddress address;
  uint16_t vlan = 0;  // 0: untagged
};

// The announcement in an Ethernet frame (optionally 802.1Q tagged), or
// nullopt if the frame is anything else. Reads only within `len` bytes.
std::optional<VmAnnouncement> parse_vm_announcement(const uint8_t *frame, size_t len);

}  // namespace nvmove
