// Keeps the fabric gateway's MAC addresses: static from the configuration, or
// learnt with ARP (IPv4) and Neighbour Discovery (IPv6) from the control
// thread, refreshed periodically. A change rebuilds the outer-header templates.
#pragma once

#include <cstdint>
#include <optional>

#include "common/route_change.h"
#include "control/nved/config.h"

struct rte_mbuf;

namespace nvmove {

class NvedRuntime;

class NeighbourResolver {
 public:
  NeighbourResolver(NvedRuntime &rt, const NvedConfig &cfg);

  // Sends requests for unresolved or due gateways. now_ms: monotonic.
  void tick(uint64_t now_ms);

  // Learns from an ARP or NA the workers passed up. True if it was one.
  bool learn(const rte_mbuf *m);

  std::optional<MacAddress> mac_v4() const { return mac4_; }
  std::optional<MacAddress> mac_v6() const { return mac6_; }
  uint64_t requests_sent() const { return requests_; }

 private:
  void send_arp_request();
  void send_ns();
  void publish();

  NvedRuntime &rt_;
  const NvedConfig &cfg_;
  std::optional<MacAddress> mac4_, mac6_;
  bool static4_ = false, static6_ = false;
  uint64_t next4_ms_ = 0, next6_ms_ = 0;
  uint64_t requests_ = 0;
};

}  // namespace nvmove
