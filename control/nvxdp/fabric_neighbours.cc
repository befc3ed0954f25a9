#include "control/nvxdp/fabric_neighbours.h"

#include <spdlog/spdlog.h>

#include "drivers/xdp/kernel_neighbours.h"

namespace nvmove {

FabricNeighbours::FabricNeighbours(const NvedConfig &cfg, std::string interface, unsigned ifindex,
                                   dp::FabricParams &fabric, drivers::XdpRoutes &routes)
    : interface_(std::move(interface)),
      ifindex_(ifindex),
      refresh_ms_(uint64_t{cfg.neighbour_refresh_s} * 1000),
      fabric_(fabric),
      routes_(routes) {
  if (!cfg.gateway_mac_ipv4) gateway_v4_ = cfg.gateway_ipv4;
  if (!cfg.gateway_mac_ipv6) gateway_v6_ = cfg.gateway_ipv6;
}

void FabricNeighbours::learnt(const IpAddress &address, const MacAddress &mac) {
  if (address == gateway_v4_ || address == gateway_v6_) {
    std::optional<MacAddress> &slot = address.is_v4() ? fabric_.gateway_mac_v4 : fabric_.gateway_mac_v6;
    spdlog::info("fabric gateway {} is at {} (the kernel's neighbour table on {}){}", address.to_string(),
                 mac_to_string(mac), interface_, slot ? ": was " + mac_to_string(*slot) : "");
    slot = mac;
    routes_.set_fabric(fabric_);
  }
  if (router_ && router_->router_next_hops().count(address)) {
    spdlog::debug("next hop {} is at {}", address.to_string(), mac_to_string(mac));
    router_->on_neighbour(address, mac);
  }
}

std::vector<std::pair<IpAddress, std::optional<MacAddress>>> FabricNeighbours::next_hops() const {
  std::vector<std::pair<IpAddress, std::optional<MacAddress>>> out;
  for (const auto &[address, n] : neighbours_)
    if (address != gateway_v4_ && address != gateway_v6_) out.emplace_back(address, n.mac);
  return out;
}

void FabricNeighbours::poll(uint64_t now_ms) {
  std::set<IpAddress> wanted;
  if (gateway_v4_.family) wanted.insert(gateway_v4_);
  if (gateway_v6_.family) wanted.insert(gateway_v6_);
  if (router_)
    for (const IpAddress &a : router_->router_next_hops()) wanted.insert(a);
  for (auto it = neighbours_.begin(); it != neighbours_.end();)
    it = wanted.count(it->first) ? std::next(it) : neighbours_.erase(it);
  // A next hop nvad just named is looked for at once, not at the next second.
  bool new_one = false;
  for (const IpAddress &a : wanted) new_one = new_one || !neighbours_.count(a);
  if (wanted.empty() || (now_ms < next_check_ms_ && !new_one)) return;
  bool unresolved = false;

  std::map<IpAddress, MacAddress> known;
  for (const uint8_t family : {uint8_t{4}, uint8_t{6}}) {
    bool any = false;
    for (const IpAddress &a : wanted) any = any || a.family == family;
    if (any) known.merge(drivers::kernel_neighbours(ifindex_, family));
  }
  for (const IpAddress &address : wanted) {
    Neighbour &n = neighbours_[address];
    const auto it = known.find(address);
    if (it != known.end() && it->second != n.mac) {
      n.mac = it->second;
      n.said_unresolved = false;
      learnt(address, it->second);
    }
    const bool known_now = it != known.end();
    unresolved = unresolved || !known_now;
    if (!known_now && !n.mac && !n.said_unresolved && (address == gateway_v4_ || address == gateway_v6_)) {
      spdlog::warn("fabric gateway {} not resolved yet on {}: tunnels to IPv{} NVEs drop on drop_neighbour_unresolved",
                   address.to_string(), interface_, address.family);
      n.said_unresolved = true;
    }
    // Unknown: asked for every second; known: confirmed every refresh period.
    if (now_ms >= n.next_poke_ms) {
      if (auto why = drivers::poke_neighbour(interface_, address))
        spdlog::debug("neighbour {}: {}", address.to_string(), *why);
      n.next_poke_ms = now_ms + (known_now ? refresh_ms_ : 1000);
    }
  }
  // Waiting for the kernel's answer: looked at again every 20 ms (a dump of
  // one interface's table), else once a second.
  next_check_ms_ = now_ms + (unresolved ? 20 : 1000);
}

}  // namespace nvmove
