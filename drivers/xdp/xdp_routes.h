// The XDP fast path behind the same interface as the DPDK route table
// (common/route_change.h): route changes become entries of the program's
// maps, the destination NVEs' outer headers are built by the DPDK path's own
// template builder (dataplane/tunnel_template.h) and shared by every route
// toward the same NVE. What the program cannot carry is refused with a
// reason, never written half.
// Own endpoints go to the program's settings with the VN their tunnels
// carry; the tunnel peers learnt from nvad to the route map, where the
// program looks a tunnel's source up.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/route_change.h"
#include "dataplane/route_table.h"
#include "dataplane/tunnel_template.h"
#include "drivers/xdp/xdp_program.h"

namespace nvmove::drivers {

// The prefixes of `peers` (tunnel.peers) into the settings; false if more of
// a family than the program holds (NVE_XDP_MAX_PEER_PREFIXES).
bool set_tunnel_peers(nve_xdp_settings &s, std::span<const IpPrefix> peers);

// ICMP and ICMPv6 errors (Time Exceeded, Fragmentation Needed, Packet Too
// Big) from nve.ipv4 / nve.ipv6 (unset: none of that family, counted on
// drop_no_source_address), at most `rate` a second per CPU after `burst`,
// with TTL 64 as the DPDK path sends them.
void set_icmp_errors(nve_xdp_settings &s, const IpAddress &v4, const IpAddress &v6, uint32_t rate, uint32_t burst);

// `address` (either family) becomes one of the settings' own addresses, a
// tunnel to which is decapsulated into `vn`; already there: kept as it is.
// False if its family's NVE_XDP_MAX_OWN are taken.
bool add_own_address(nve_xdp_settings &s, const IpAddress &address, uint32_t vn);

// The program's entry for an NVE from the DPDK path's outer header template
// (dataplane/tunnel_template.h).
nve_xdp_nve nve_entry(const dp::TunnelTemplate &t);

class XdpRoutes final : public ListedRouteBackend {
 public:
  // `fabric`: the fabric port, its MAC, the gateway's MACs, our addresses
  // (the outer headers); `settings`: the rest of the program's settings,
  // its own addresses nve.ipv4 and nve.ipv6 in nve.fabric_vn (routes add
  // the VN endpoints: add_own_address), its peers tunnel.peers.
  XdpRoutes(XdpProgram &prog, const dp::FabricParams &fabric, const nve_xdp_settings &settings);

  RouteBatchResult apply(std::span<const RouteChange> batch) override;
  std::optional<RouteView> find(const HostRoute &route) const override;
  size_t size() const override { return routes_.size(); }
  // In the order of a hash of the route: a page's cursor is the hash it
  // ends at, which no change between pages moves.
  std::vector<RouteView> list() const override;
  std::vector<RouteView> list_page(uint64_t &cursor, size_t min_routes) const override;
  // From the route entry's tick of last use (the program's coarse clock).
  std::optional<double> seconds_since_hit(const RouteView &v) const override;
  const char *hits_unit() const override { return "ticks"; }
  size_t nve_count() const { return nves_.size(); }
  uint64_t version() const { return version_; }  // one more per apply()

  // The DPDK path's template of the outer header toward `nve` (the slow
  // path tunnels fragments with it), if a route names that NVE.
  std::optional<dp::TunnelTemplate> tunnel_template(const IpAddress &nve) const;
  // The settings' slow_cookie (nve_xdp_abi.h): what the slow path's frames carry.
  uint64_t slow_cookie() const;

  // The gateway's MAC changed (ARP): every outer header is built again.
  void set_fabric(const dp::FabricParams &fabric);

  // Taking over the maps an earlier instance left pinned
  // (XdpProgram::took_over), while its program still forwards on them.
  // adopt(), before any apply(): every NVE header there keeps its index
  // (rebuilt from this configuration), so a route still in the map points
  // at the NVE it named while the routes are written again, never at
  // another. prune(), once every route this instance knows is written:
  // the map routes it does not know are removed, and the NVE headers no
  // route uses. Returns how many routes it removed.
  void adopt();
  size_t prune();

 private:
  struct Nve {
    uint32_t index = 0;
    uint32_t routes = 0;  // how many routes use it; freed at 0
  };
  std::optional<std::string> upsert(const RouteChange &c);
  void remove(const HostRoute &route);
  std::optional<std::string> write_nve(const IpAddress &nve, uint32_t index);
  void release(const IpAddress &address, const RouteAction &action);
  nve_xdp_settings settings_with_endpoints() const;
  void write_settings();
  bool own_room(const IpAddress &address) const;

  XdpProgram &prog_;
  dp::FabricParams fabric_;
  nve_xdp_settings settings_;
  struct Installed {
    RouteAction action;
  };
  // Routes ordered by a hash of the route, then the route: a page of the
  // listing starts at a hash.
  struct ListedKey {
    uint32_t hash;
    HostRoute route;
    auto operator<=>(const ListedKey &) const = default;
  };
  static ListedKey key_of(const HostRoute &route);
  using RouteMap = std::map<ListedKey, Installed>;
  static RouteView view_of(RouteMap::const_iterator it, const nve_xdp_route *entry);
  std::optional<nve_xdp_route> entry_of(RouteMap::const_iterator it) const;
  RouteMap routes_;
  size_t in_map_ = 0;  // routes_ in the route map (own endpoints are in the settings)
  std::map<IpAddress, Nve> nves_;
  std::vector<uint32_t> free_nves_;
  uint32_t next_nve_ = 0;
  struct Own {
    uint32_t vn = 0;
    uint32_t routes = 0;
  };
  std::map<IpAddress, Own> own_;  // own endpoints -> their VN, how many routes name them
  uint64_t version_ = 0;
  bool adopting_ = false;  // adopt() until prune(): no NVE index freed (release())
};

}  // namespace nvmove::drivers
