// Keeps the fabric gateway's MAC addresses: static from the configuration, or
// learnt with ARP (IPv4) and Neighbour Discovery (IPv6) from the control
// thread, refreshed periodically. A change rebuilds the outer-header templates.
// It resolves other fabric neighbours the same way for whoever watches (the
// default router's next hops: the serving NVEs of moved VMs).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>

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

  // Resolves the addresses `wanted` returns (asked every few ms) besides the
  // gateway; every MAC learnt or changed, the gateway's included (static
  // ones at once), goes to `learnt`. One watcher.
  using Learnt = std::function<void(const IpAddress &, const MacAddress &)>;
  void watch(std::function<std::set<IpAddress>()> wanted, Learnt learnt);

  struct Neighbour {
    std::optional<MacAddress> mac;
    uint64_t next_request_ms = 0;
  };
  const std::map<IpAddress, Neighbour> &others() const { return others_; }

 private:
  void send_arp_request(const IpAddress &target);
  void send_ns(const IpAddress &target);
  void publish();
  void track_wanted(uint64_t now_ms);
  // A fabric neighbour's MAC from an ARP or NA; true if we wanted it.
  bool learnt(const IpAddress &address, const MacAddress &mac);

  NvedRuntime &rt_;
  const NvedConfig &cfg_;
  std::optional<MacAddress> mac4_, mac6_;
  bool static4_ = false, static6_ = false;
  uint64_t next4_ms_ = 0, next6_ms_ = 0;
  uint64_t requests_ = 0;
  std::function<std::set<IpAddress>()> wanted_;
  Learnt learnt_;
  std::map<IpAddress, Neighbour> others_;
  uint64_t next_scan_ms_ = 0;
};

}  // namespace nvmove
