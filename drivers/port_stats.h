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
  uint64_t link_changes = 0;  // up/down transitions seen since start (LinkWatch)
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
// A kernel interface's link as its operstate says (in this process's
// network namespace); nullopt if there is no such interface.
std::optional<bool> kernel_interface_up(const std::string &interface);
// (name, value) in the driver's order; nullopt if the driver has none.
std::optional<std::vector<std::pair<std::string, uint64_t>>> port_xstats(uint16_t port_id);

// Link flaps: the control thread polls every port's link (port_link(): the
// driver's state, or the kernel interface's for af_packet, af_xdp and pcap
// on an interface) every 100 ms, logs each change and counts it. A flap
// shorter than the poll can go unseen; link-state interrupts are logged by
// the driver callback as well.
class LinkWatch {
 public:
  explicit LinkWatch(uint16_t n_ports) : up_(n_ports), changes_(n_ports, 0) {}
  void poll(uint64_t now_ms);
  uint64_t changes(uint16_t port) const { return port < changes_.size() ? changes_[port] : 0; }

 private:
  std::vector<std::optional<bool>> up_;
  std::vector<uint64_t> changes_;
  uint64_t next_ms_ = 0;
};

}  // namespace nvmove::drivers
