// The agent's settings (from nved's `agent` configuration section) and the
// description of a local VM interface the hypervisor side reports.
#pragma once

#include <algorithm>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "common/net_types.h"
#include "control/protocol/message.h"
#include "control/protocol/replay.h"
#include "control/protocol/wire_format.h"

namespace nvmove::agent {

// The default-router role (router_routes.h); nved's agent.router.
struct RouterSettings {
  bool enabled = false;
  std::set<uint32_t> vns;           // VNs whose host routes it takes (nved: its fabric VN)
  std::vector<IpPrefix> on_link;    // serving NVEs it reaches directly: the only ones it routes to
  std::vector<IpPrefix> prefixes;   // VM addresses it takes host routes for; empty: any
  uint16_t fabric_port = 0;
};

struct AgentConfig {
  // The management node(s): one nvad, or the instances of a cluster in order
  // of preference. Requests go to the one that last answered; to the next
  // when it answers 133 (a standby) or stays silent (docs/nvad.md).
  std::vector<IpAddress> nvads;
  uint16_t nvad_port = proto::kDefaultUdpPort;
  proto::NveAddresses self;         // our tunnel endpoints for the fabric's VN (serving NVE option)
  // Our endpoints for other VNs (nved's virtual_networks): a VM of such a VN
  // registers with them, so tunnels to it name its VN (docs/protocol.md,
  // "Tenants on the fabric").
  std::map<uint32_t, proto::NveAddresses> vn_endpoints;
  uint16_t lifetime_units = 150;    // asked for: 150 x 4 s = 10 min
  uint32_t retransmit_initial_ms = 1000;
  uint32_t retransmit_max_ms = 32000;
  uint32_t retransmit_count = 6;
  uint32_t bul_idle_ms = 30000;     // tunnel removed after this long without hits
  std::chrono::milliseconds timestamp_window = proto::kDefaultTimestampWindow;
  RouterSettings router;

  bool is_nvad(const IpAddress &address) const {
    return std::find(nvads.begin(), nvads.end(), address) != nvads.end();
  }

  // The endpoints a VM of `vn` is served at here.
  const proto::NveAddresses &endpoints_for(uint32_t vn) const {
    auto it = vn_endpoints.find(vn);
    return it == vn_endpoints.end() ? self : it->second;
  }
  // Whether any address of `nve` is one of ours (any VN).
  bool is_self(const proto::NveAddresses &nve) const {
    auto ours = [&](const proto::NveAddresses &e) {
      return (nve.ipv4 && nve.ipv4 == e.ipv4) || (nve.ipv6 && nve.ipv6 == e.ipv6);
    };
    if (ours(self)) return true;
    for (const auto &[vn, e] : vn_endpoints)
      if (ours(e)) return true;
    return false;
  }
};

struct VmSpec {
  proto::VmId id;
  uint32_t vn = 0;
  MacAddress mac{};
  std::vector<IpAddress> addresses;
  uint16_t port = 0;  // access port
  uint16_t vlan = 0;
};

}  // namespace nvmove::agent
