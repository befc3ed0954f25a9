// The MACs nvxdp needs on the fabric, from the kernel: in XDP mode the
// kernel owns the fabric interface (the program passes it ARP and ND), so
// its neighbour table is read (drivers/xdp/kernel_neighbours.h, one dump per
// family a second, every 20 ms while an address is unresolved) for
//   - the fabric gateway, unless the configuration gives its MAC: a new MAC
//     rebuilds every NVE's outer header (XdpRoutes::set_fabric); until the
//     first, tunnels of that family drop on drop_neighbour_unresolved, as
//     in nved;
//   - in the default-router role, the serving NVEs the agent's host routes
//     go to (NveAgent::router_next_hops): each MAC learnt or changed goes to
//     the agent, which installs or moves the routes waiting for it.
// An address the kernel does not know yet it is made to resolve (an empty
// datagram to it, once a second); a known one it is made to confirm every
// fabric_gateway.refresh_s. A MAC the kernel forgets stays in use until it
// learns another.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/agent/nve_agent.h"
#include "control/nved/config.h"
#include "dataplane/route_table.h"
#include "drivers/xdp/xdp_routes.h"

namespace nvmove {

class FabricNeighbours {
 public:
  // `fabric`: the parameters `routes` was built with (its gateway MACs
  // updated here).
  FabricNeighbours(const NvedConfig &cfg, std::string interface, unsigned ifindex, dp::FabricParams &fabric,
                   drivers::XdpRoutes &routes);
  // The default-router role's next hops, resolved for `agent` from now on.
  void serve_router(agent::NveAgent *agent) { router_ = agent; }
  // Whether the gateway is resolved here (no static MAC for a family).
  bool resolves_gateway() const { return gateway_v4_.family || gateway_v6_.family; }
  void poll(uint64_t now_ms);
  // For show neighbours: the gateway's MACs in use (static or learnt), and
  // the default-router role's next hops with what the kernel said of them.
  const dp::FabricParams &fabric() const { return fabric_; }
  std::vector<std::pair<IpAddress, std::optional<MacAddress>>> next_hops() const;

 private:
  struct Neighbour {
    std::optional<MacAddress> mac;
    uint64_t next_poke_ms = 0;
    bool said_unresolved = false;
  };
  void learnt(const IpAddress &address, const MacAddress &mac);

  std::string interface_;
  unsigned ifindex_;
  uint64_t refresh_ms_;
  dp::FabricParams &fabric_;
  drivers::XdpRoutes &routes_;
  IpAddress gateway_v4_, gateway_v6_;  // family 0: static MAC, or none
  agent::NveAgent *router_ = nullptr;
  std::map<IpAddress, Neighbour> neighbours_;
  uint64_t next_check_ms_ = 0;
};

}  // namespace nvmove
