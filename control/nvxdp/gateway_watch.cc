#include "control/nvxdp/gateway_watch.h"

#include <spdlog/spdlog.h>

#include "drivers/xdp/kernel_neighbours.h"

namespace nvmove {

GatewayWatch::GatewayWatch(const NvedConfig &cfg, std::string interface, unsigned ifindex, dp::FabricParams &fabric,
                           drivers::XdpRoutes &routes)
    : interface_(std::move(interface)),
      ifindex_(ifindex),
      refresh_ms_(uint64_t{cfg.neighbour_refresh_s} * 1000),
      fabric_(fabric),
      routes_(routes) {
  auto watch = [](Family &f, const IpAddress &gateway, bool static_mac, std::optional<MacAddress> &mac) {
    f.watched = gateway.family != 0 && !static_mac;
    f.gateway = gateway;
    f.mac = &mac;
  };
  watch(v4_, cfg.gateway_ipv4, cfg.gateway_mac_ipv4.has_value(), fabric_.gateway_mac_v4);
  watch(v6_, cfg.gateway_ipv6, cfg.gateway_mac_ipv6.has_value(), fabric_.gateway_mac_v6);
}

void GatewayWatch::poll(uint64_t now_ms) {
  if (v4_.watched) check(v4_, now_ms);
  if (v6_.watched) check(v6_, now_ms);
}

void GatewayWatch::check(Family &f, uint64_t now_ms) {
  if (now_ms < f.next_check_ms) return;
  f.next_check_ms = now_ms + 1000;
  const auto mac = drivers::kernel_neighbour(ifindex_, f.gateway);
  if (mac && mac != *f.mac) {
    spdlog::info("fabric gateway {} is at {} (the kernel's neighbour table on {}){}", f.gateway.to_string(),
                 mac_to_string(*mac), interface_, f.mac->has_value() ? ": was " + mac_to_string(**f.mac) : "");
    *f.mac = mac;
    routes_.set_fabric(fabric_);
    f.said_unresolved = false;
  }
  // Unknown: asked for every second; known: confirmed every refresh period.
  // (A MAC the kernel has forgotten stays in use until it learns another.)
  if (!mac && !f.mac->has_value() && !f.said_unresolved) {
    spdlog::warn("fabric gateway {} not resolved yet on {}: tunnels to IPv{} NVEs drop on drop_neighbour_unresolved",
                 f.gateway.to_string(), interface_, f.gateway.family);
    f.said_unresolved = true;
  }
  if (now_ms >= f.next_poke_ms || !mac) {
    if (auto why = drivers::poke_neighbour(interface_, f.gateway))
      spdlog::debug("fabric gateway {}: {}", f.gateway.to_string(), *why);
    f.next_poke_ms = now_ms + (mac ? refresh_ms_ : 1000);
  }
}

}  // namespace nvmove
