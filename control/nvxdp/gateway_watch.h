// The fabric gateway's MAC for nvxdp when the configuration gives none: in
// XDP mode the kernel owns the fabric interface (the program passes it ARP
// and ND), so its neighbour table is asked (drivers/xdp/kernel_neighbours.h)
// once a second; until it knows the gateway it is made to resolve it, and
// once it does it is made to confirm it every fabric_gateway.refresh_s. A
// new MAC rebuilds every NVE's outer header (XdpRoutes::set_fabric); until
// the first one, tunnels of that family drop on drop_neighbour_unresolved,
// as in nved.
#pragma once

#include <cstdint>
#include <string>

#include "control/nved/config.h"
#include "dataplane/route_table.h"
#include "drivers/xdp/xdp_routes.h"

namespace nvmove {

class GatewayWatch {
 public:
  // `fabric`: the parameters `routes` was built with (updated here).
  GatewayWatch(const NvedConfig &cfg, std::string interface, unsigned ifindex, dp::FabricParams &fabric,
               drivers::XdpRoutes &routes);
  // Whether any family is resolved here (not static).
  bool active() const { return v4_.watched || v6_.watched; }
  void poll(uint64_t now_ms);

 private:
  struct Family {
    bool watched = false;  // a gateway address and no static MAC
    IpAddress gateway;
    std::optional<MacAddress> *mac = nullptr;  // in fabric_
    uint64_t next_check_ms = 0, next_poke_ms = 0;
    bool said_unresolved = false;
  };
  void check(Family &f, uint64_t now_ms);

  std::string interface_;
  unsigned ifindex_;
  uint64_t refresh_ms_;
  dp::FabricParams &fabric_;
  drivers::XdpRoutes &routes_;
  Family v4_, v6_;
};

}  // namespace nvmove
