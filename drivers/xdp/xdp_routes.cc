#include "drivers/xdp/xdp_routes.h"

#include <arpa/inet.h>

#include <cstring>

#include "dataplane/tunnel_template.h"

namespace nvmove::drivers {

static_assert(kTunnelPeerVn == NVE_XDP_PEER_VN, "the program looks tunnel peers up where the table keeps them");

bool set_tunnel_peers(nve_xdp_settings &s, std::span<const IpPrefix> peers) {
  s.n_peers = 0;
  for (const IpPrefix &p : peers) {
    if (!p.address.is_v4()) continue;
    if (s.n_peers >= NVE_XDP_MAX_PEER_PREFIXES) return false;
    const uint32_t mask = p.length == 0 ? 0 : htonl(~uint32_t{0} << (32 - p.length));
    uint32_t a;
    std::memcpy(&a, p.address.bytes.data(), 4);
    s.peer_mask[s.n_peers] = mask;
    s.peer_v4[s.n_peers++] = a & mask;
  }
  return true;
}

XdpRoutes::XdpRoutes(XdpProgram &prog, const dp::FabricParams &fabric, const nve_xdp_settings &settings)
    : prog_(prog), fabric_(fabric), settings_(settings) {
  write_settings();
}

// The settings' own addresses (nve.ipv4) and the own endpoints of routes.
void XdpRoutes::write_settings() {
  nve_xdp_settings s = settings_;
  for (const auto &[address, own] : own_) {
    uint32_t a;
    std::memcpy(&a, address.bytes.data(), 4);
    bool listed = false;
    for (uint32_t i = 0; i < s.n_own; i++) listed = listed || s.own_v4[i] == a;
    if (!listed && s.n_own < NVE_XDP_MAX_OWN) {
      s.own_vn[s.n_own] = own.vn;
      s.own_v4[s.n_own++] = a;
    }
  }
  prog_.set_settings(s);
}

std::optional<std::string> XdpRoutes::write_nve(const IpAddress &nve, uint32_t index) {
  dp::TunnelTemplate t{};
  std::string why;
  if (!dp::build_tunnel_template(fabric_, nve, t, why)) return why;
  nve_xdp_nve n{};
  std::memcpy(n.hdr, t.hdr, sizeof n.hdr);
  n.valid = 1;
  n.resolved = t.resolved;  // until the gateway's MAC is known, the program drops (drop_neighbour_unresolved)
  n.out_port = static_cast<uint8_t>(t.out_port);
  prog_.set_nve(index, n);
  return std::nullopt;
}

// What `action` held at `address` is let go: an NVE's outer header when its
// last route goes, an own address when no VN names it any more.
void XdpRoutes::release(const IpAddress &address, const RouteAction &action) {
  if (const auto *tunnel = std::get_if<TunnelToNve>(&action)) {
    auto it = nves_.find(tunnel->nve);
    if (it != nves_.end() && --it->second.routes == 0) {
      prog_.set_nve(it->second.index, nve_xdp_nve{});  // valid = 0
      free_nves_.push_back(it->second.index);
      nves_.erase(it);
    }
  } else if (std::holds_alternative<OwnEndpoint>(action)) {
    if (--own_[address].routes == 0) own_.erase(address);
    write_settings();
  }
}

std::optional<std::string> XdpRoutes::upsert(const RouteChange &c) {
  const HostRoute &route = c.route;
  if (const auto *own = std::get_if<OwnEndpoint>(&c.action)) {
    if (!route.address.is_v4()) return std::string("IPv6 own endpoints are not in the XDP program yet");
    if (!own_.count(route.address) && own_.size() + settings_.n_own >= NVE_XDP_MAX_OWN)
      return "more than " + std::to_string(NVE_XDP_MAX_OWN) + " own IPv4 addresses";
    Own &o = own_[route.address];
    o.vn = own->vn;
    o.routes++;
    if (auto old = routes_.find(route); old != routes_.end()) {
      if (!std::holds_alternative<OwnEndpoint>(old->second)) prog_.delete_route(xdp_key(route.vn, route.address));
      release(route.address, old->second);
    }
    routes_[route] = c.action;
    write_settings();
    return std::nullopt;
  }
  if (!route.address.is_v4()) return std::string("IPv6 host routes are not in the XDP program yet");
  nve_xdp_route r{};
  if (const auto *local = std::get_if<DeliverLocal>(&c.action)) {
    if (local->vlan) return std::string("VLAN access ports are not in the XDP program yet");
    r.kind = NVE_XDP_LOCAL;
    r.port = local->port;
    std::memcpy(r.mac, local->vm_mac.data(), 6);
  } else if (const auto *tunnel = std::get_if<TunnelToNve>(&c.action)) {
    if (!tunnel->nve.is_v4()) return std::string("IPv6 NVEs are not in the XDP program yet");
    auto it = nves_.find(tunnel->nve);
    if (it == nves_.end()) {
      uint32_t index;
      if (!free_nves_.empty()) {
        index = free_nves_.back();
        free_nves_.pop_back();
      } else if (next_nve_ < NVE_XDP_MAX_NVES) {
        index = next_nve_++;
      } else {
        return "more than " + std::to_string(NVE_XDP_MAX_NVES) + " NVEs";
      }
      if (auto why = write_nve(tunnel->nve, index)) {
        free_nves_.push_back(index);
        return why;
      }
      it = nves_.emplace(tunnel->nve, Nve{index, 0}).first;
    }
    it->second.routes++;  // before a replaced route releases the same NVE
    r.kind = NVE_XDP_TUNNEL;
    r.nve = it->second.index;
  } else if (std::holds_alternative<TunnelPeer>(c.action)) {
    r.kind = NVE_XDP_PEER;  // (route.vn is kTunnelPeerVn, NVE_XDP_PEER_VN)
  } else {
    return std::string("unknown route action");
  }
  prog_.set_route(xdp_key(route.vn, route.address), r);
  if (auto old = routes_.find(route); old != routes_.end()) release(route.address, old->second);
  routes_[route] = c.action;
  return std::nullopt;
}

void XdpRoutes::remove(const HostRoute &route) {
  auto it = routes_.find(route);
  if (it == routes_.end()) return;
  if (!std::holds_alternative<OwnEndpoint>(it->second)) prog_.delete_route(xdp_key(route.vn, route.address));
  release(route.address, it->second);
  routes_.erase(it);
}

RouteBatchResult XdpRoutes::apply(std::span<const RouteChange> batch) {
  RouteBatchResult result;
  for (size_t i = 0; i < batch.size(); i++) {
    const RouteChange &c = batch[i];
    if (c.op == RouteChange::Op::Remove) {
      if (!routes_.count(c.route)) {
        result.errors.push_back({i, "no such route"});
        continue;
      }
      remove(c.route);
    } else if (auto why = upsert(c)) {
      result.errors.push_back({i, *why});
      continue;
    }
    result.applied++;
  }
  result.table_version = ++version_;
  return result;
}

std::optional<RouteView> XdpRoutes::find(const HostRoute &route) const {
  auto it = routes_.find(route);
  if (it == routes_.end()) return std::nullopt;
  return RouteView{route, it->second, 0, 0};  // per-route hits: not in the program yet
}

void XdpRoutes::set_fabric(const dp::FabricParams &fabric) {
  fabric_ = fabric;
  for (const auto &[address, nve] : nves_) write_nve(address, nve.index);
}

}  // namespace nvmove::drivers
