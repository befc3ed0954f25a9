// What a port reports about itself: basic counters, extended statistics
// (the driver's own names) and link state. Read by nved's commands and
// metrics; kept here, next to bring-up, so only drivers/ talks to ethdev.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nvmove::drivers {

struct PortCounters {
  uint64_t rx_packets = 0, tx_packets = 0, rx_bytes = 0, tx_bytes = 0;
  uint64_t rx_missed = 0;  // dropped by the NIC for lack of RX descriptors
  uint64_t rx_errors = 0, tx_errors = 0;
  uint64_t rx_nombuf = 0;  // RX mbuf allocation failures
};

struct PortLink {
  bool up = false;
  uint32_t speed_mbps = 0;
};

// Zeros when the port does not answer (a closed port).
PortCounters port_counters(uint16_t port_id);
void port_counters_reset(uint16_t port_id);
// Without waiting for the link to settle (never blocks the control thread).
PortLink port_link(uint16_t port_id);
// (name, value) in the driver's order; nullopt if the driver has none.
std::optional<std::vector<std::pair<std::string, uint64_t>>> port_xstats(uint16_t port_id);

}  // namespace nvmove::drivers
