#include "drivers/xdp/xdp_routes.h"

#include <ctime>
#include <string_view>
#include <unordered_map>

#include <arpa/inet.h>

#include <cstring>

#include "dataplane/tunnel_template.h"

namespace nvmove::drivers {

static_assert(kTunnelPeerVn == NVE_XDP_PEER_VN, "the program looks tunnel peers up where the table keeps them");

namespace {

// The network-order mask of the `bits` leading bits of a 32-bit word.
uint32_t word_mask(int bits) {
  return bits <= 0 ? 0 : bits >= 32 ? ~uint32_t{0} : htonl(~uint32_t{0} << (32 - bits));
}

nve_xdp_in6 in6_of(const IpAddress &a) {
  nve_xdp_in6 w;
  std::memcpy(w.w, a.bytes.data(), 16);
  return w;
}

bool in6_equal(const nve_xdp_in6 &a, const nve_xdp_in6 &b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

bool set_tunnel_peers(nve_xdp_settings &s, std::span<const IpPrefix> peers) {
  s.n_peers = s.n_peers6 = 0;
  for (const IpPrefix &p : peers) {
    if (p.address.is_v4()) {
      if (s.n_peers >= NVE_XDP_MAX_PEER_PREFIXES) return false;
      const uint32_t mask = word_mask(p.length);
      uint32_t a;
      std::memcpy(&a, p.address.bytes.data(), 4);
      s.peer_mask[s.n_peers] = mask;
      s.peer_v4[s.n_peers++] = a & mask;
    } else {
      if (s.n_peers6 >= NVE_XDP_MAX_PEER_PREFIXES) return false;
      nve_xdp_in6 a = in6_of(p.address), mask;
      for (int i = 0; i < 4; i++) {
        mask.w[i] = word_mask(p.length - 32 * i);
        a.w[i] &= mask.w[i];
      }
      s.peer6_mask[s.n_peers6] = mask;
      s.peer_v6[s.n_peers6++] = a;
    }
  }
  return true;
}

void set_icmp_errors(nve_xdp_settings &s, const IpAddress &v4, const IpAddress &v6, uint32_t rate, uint32_t burst) {
  s.has_src4 = v4.is_v4();
  if (s.has_src4) std::memcpy(&s.src_v4, v4.bytes.data(), 4);
  s.has_src6 = v6.is_v6();
  if (s.has_src6) s.src_v6 = in6_of(v6);
  s.icmp_rate = rate;
  s.icmp_burst = burst;
  s.icmp_ttl = 64;
}

bool add_own_address(nve_xdp_settings &s, const IpAddress &address, uint32_t vn) {
  if (address.is_v4()) {
    uint32_t a;
    std::memcpy(&a, address.bytes.data(), 4);
    for (uint32_t i = 0; i < s.n_own; i++)
      if (s.own_v4[i] == a) return true;
    if (s.n_own >= NVE_XDP_MAX_OWN) return false;
    s.own_vn[s.n_own] = vn;
    s.own_v4[s.n_own++] = a;
    return true;
  }
  const nve_xdp_in6 a = in6_of(address);
  for (uint32_t i = 0; i < s.n_own6; i++)
    if (in6_equal(s.own_v6[i], a)) return true;
  if (s.n_own6 >= NVE_XDP_MAX_OWN) return false;
  s.own6_vn[s.n_own6] = vn;
  s.own_v6[s.n_own6++] = a;
  return true;
}

XdpRoutes::XdpRoutes(XdpProgram &prog, const dp::FabricParams &fabric, const nve_xdp_settings &settings)
    : prog_(prog), fabric_(fabric), settings_(settings) {
  write_settings();
}

// The settings with their own addresses (nve.ipv4, nve.ipv6) and the own
// endpoints of routes (upsert() has checked they fit).
nve_xdp_settings XdpRoutes::settings_with_endpoints() const {
  nve_xdp_settings s = settings_;
  for (const auto &[address, own] : own_) add_own_address(s, address, own.vn);
  return s;
}

void XdpRoutes::write_settings() { prog_.set_settings(settings_with_endpoints()); }

// Whether one more own address of `address`'s family fits in the settings.
bool XdpRoutes::own_room(const IpAddress &address) const {
  nve_xdp_settings s = settings_with_endpoints();
  return add_own_address(s, address, 0);
}

nve_xdp_nve nve_entry(const dp::TunnelTemplate &t) {
  nve_xdp_nve n{};
  static_assert(sizeof n.hdr <= sizeof t.hdr);
  std::memcpy(n.hdr, t.hdr, sizeof n.hdr);
  n.outer_family = t.outer_family;  // dp::kFamilyV4 or kFamilyV6: 4 or 6
  n.valid = 1;
  n.resolved = t.resolved;  // until the gateway's MAC is known, the program drops (drop_neighbour_unresolved)
  n.out_port = static_cast<uint8_t>(t.out_port);
  return n;
}

std::optional<std::string> XdpRoutes::write_nve(const IpAddress &nve, uint32_t index) {
  dp::TunnelTemplate t{};
  std::string why;
  if (!dp::build_tunnel_template(fabric_, nve, t, why)) return why;
  prog_.set_nve(index, nve_entry(t));
  return std::nullopt;
}

std::optional<dp::TunnelTemplate> XdpRoutes::tunnel_template(const IpAddress &nve) const {
  if (!nves_.count(nve)) return std::nullopt;
  dp::TunnelTemplate t{};
  std::string why;
  if (!dp::build_tunnel_template(fabric_, nve, t, why)) return std::nullopt;
  return t;
}

uint64_t XdpRoutes::slow_cookie() const {
  return uint64_t{settings_.slow_cookie[1]} << 32 | settings_.slow_cookie[0];
}

// What `action` held at `address` is let go: an NVE's outer header when its
// last route goes, an own address when no VN names it any more.
void XdpRoutes::release(const IpAddress &address, const RouteAction &action) {
  if (const auto *tunnel = std::get_if<TunnelToNve>(&action)) {
    auto it = nves_.find(tunnel->nve);
    if (it != nves_.end() && --it->second.routes == 0) {
      // While taking over (adopt() until prune()), routes the earlier
      // instance wrote may still point at this index: it is neither
      // cleared nor handed to another NVE before prune(), which frees it.
      if (!adopting_) {
        prog_.set_nve(it->second.index, nve_xdp_nve{});  // valid = 0
        free_nves_.push_back(it->second.index);
      }
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
    if (!own_.count(route.address) && !own_room(route.address))
      return "more than " + std::to_string(NVE_XDP_MAX_OWN) + " own " +
             (route.address.is_v4() ? "IPv4" : "IPv6") + " addresses";
    Own &o = own_[route.address];
    o.vn = own->vn;
    o.routes++;
    if (auto old = routes_.find(key_of(route)); old != routes_.end()) {
      if (!std::holds_alternative<OwnEndpoint>(old->second.action)) {
        prog_.delete_route(xdp_key(route.vn, route.address));
        in_map_--;
      }
      release(route.address, old->second.action);
    }
    routes_[key_of(route)] = Installed{c.action};
    write_settings();
    return std::nullopt;
  }
  const nve_xdp_key key = xdp_key(route.vn, route.address);
  const auto old = routes_.find(key_of(route));
  const bool in_map = old != routes_.end() && !std::holds_alternative<OwnEndpoint>(old->second.action);
  if (!in_map && in_map_ >= prog_.route_capacity())
    return "route table full (" + std::to_string(prog_.route_capacity()) + " routes: route_table.capacity)";
  auto refuse = [](std::string why) { return std::optional<std::string>(std::move(why)); };
  nve_xdp_route r{};
  // A replaced route keeps its use (as the DPDK table keeps its counters):
  // the idle timers see no reset.
  if (in_map) {
    if (auto now = prog_.route(key)) {
      r.used_tick = now->used_tick;
      r.used_ticks = now->used_ticks;
    }
  }
  if (const auto *local = std::get_if<DeliverLocal>(&c.action)) {
    r.kind = NVE_XDP_LOCAL;
    r.vlan = local->vlan;
    r.port = local->port;
    std::memcpy(r.mac, local->vm_mac.data(), 6);
  } else if (const auto *tunnel = std::get_if<TunnelToNve>(&c.action)) {
    auto it = nves_.find(tunnel->nve);
    if (it == nves_.end()) {
      uint32_t index;
      if (!free_nves_.empty()) {
        index = free_nves_.back();
        free_nves_.pop_back();
      } else if (next_nve_ < NVE_XDP_MAX_NVES) {
        index = next_nve_++;
      } else {
        return refuse("more than " + std::to_string(NVE_XDP_MAX_NVES) + " NVEs");
      }
      if (auto why = write_nve(tunnel->nve, index)) {
        free_nves_.push_back(index);
        return refuse(*why);
      }
      it = nves_.emplace(tunnel->nve, Nve{index, 0}).first;
    }
    it->second.routes++;  // before a replaced route releases the same NVE
    r.kind = NVE_XDP_TUNNEL;
    r.nve = it->second.index;
  } else if (std::holds_alternative<TunnelPeer>(c.action)) {
    r.kind = NVE_XDP_PEER;  // (route.vn is kTunnelPeerVn, NVE_XDP_PEER_VN)
  } else {
    return refuse("unknown route action");
  }
  try {
    prog_.set_route(key, r);
  } catch (const std::exception &e) {  // the map full (stale routes of a takeover among it), or the kernel's refusal
    if (r.kind == NVE_XDP_TUNNEL) release(route.address, c.action);
    return refuse(e.what());
  }
  if (!in_map) in_map_++;
  if (old != routes_.end()) release(route.address, old->second.action);
  routes_[key_of(route)] = Installed{c.action};
  return std::nullopt;
}

void XdpRoutes::remove(const HostRoute &route) {
  auto it = routes_.find(key_of(route));
  if (it == routes_.end()) return;
  if (!std::holds_alternative<OwnEndpoint>(it->second.action)) {
    prog_.delete_route(xdp_key(route.vn, route.address));
    in_map_--;
  }
  release(route.address, it->second.action);
  routes_.erase(it);
}

RouteBatchResult XdpRoutes::apply(std::span<const RouteChange> batch) {
  RouteBatchResult result;
  for (size_t i = 0; i < batch.size(); i++) {
    const RouteChange &c = batch[i];
    if (c.op == RouteChange::Op::Remove) {
      if (!routes_.count(key_of(c.route))) {
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

// FNV-1a over the VN, the family and the address: any fixed order would
// do, one with few ties keeps pages near their asked size.
XdpRoutes::ListedKey XdpRoutes::key_of(const HostRoute &route) {
  uint32_t h = 2166136261u;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 16777619u; };
  for (int i = 0; i < 4; i++) mix(static_cast<uint8_t>(route.vn >> (8 * i)));
  mix(route.address.family);
  for (uint8_t b : route.address.bytes) mix(b);
  return {h, route};
}

// The program counts the ticks a route was taken in, not packets
// (record_hit in nve_xdp.bpf.c says why): RouteView's hits are those, which
// grow whenever it is used (all the idle timers need), and last_hit the
// tick of its last use, from `entry` (the route map's; null: none there).
RouteView XdpRoutes::view_of(RouteMap::const_iterator it, const nve_xdp_route *entry) {
  RouteView v{it->first.route, it->second.action, 0, 0};
  if (entry && !std::holds_alternative<OwnEndpoint>(it->second.action)) {
    v.hits = entry->used_ticks;
    v.last_hit = entry->used_tick;
  }
  return v;
}

// The route map's entry for the route at `it` (own endpoints have none).
std::optional<nve_xdp_route> XdpRoutes::entry_of(RouteMap::const_iterator it) const {
  if (std::holds_alternative<OwnEndpoint>(it->second.action)) return std::nullopt;
  return prog_.route(xdp_key(it->first.route.vn, it->first.route.address));
}

std::optional<RouteView> XdpRoutes::find(const HostRoute &route) const {
  auto it = routes_.find(key_of(route));
  if (it == routes_.end()) return std::nullopt;
  const auto entry = entry_of(it);
  return view_of(it, entry ? &*entry : nullptr);
}

// One batched read of the route map for the use stamps (a lookup per route
// would hold nvxdp's loop for seconds on a table of millions).
std::vector<RouteView> XdpRoutes::list() const {
  const auto entries = prog_.routes_all();
  std::unordered_map<std::string_view, const nve_xdp_route *> by_key;
  by_key.reserve(entries.size());
  for (const auto &[key, route] : entries)
    by_key.emplace(std::string_view(reinterpret_cast<const char *>(&key), sizeof key), &route);
  std::vector<RouteView> out;
  out.reserve(routes_.size());
  for (auto it = routes_.begin(); it != routes_.end(); ++it) {
    const nve_xdp_key key = xdp_key(it->first.route.vn, it->first.route.address);
    const auto found = by_key.find(std::string_view(reinterpret_cast<const char *>(&key), sizeof key));
    out.push_back(view_of(it, found != by_key.end() ? found->second : nullptr));
  }
  return out;
}

// Cursor: 1 + the hash the page starts at (0: the first page, and after the
// last). A page never ends inside a run of equal hashes.
std::vector<RouteView> XdpRoutes::list_page(uint64_t &cursor, size_t min_routes) const {
  std::vector<RouteView> out;
  if (cursor > uint64_t{UINT32_MAX} + 1) {
    cursor = 0;
    return out;
  }
  auto it = cursor == 0 ? routes_.begin() : routes_.lower_bound(ListedKey{static_cast<uint32_t>(cursor - 1), {}});
  while (it != routes_.end()) {
    const uint32_t h = it->first.hash;
    if (out.size() >= min_routes) {
      cursor = uint64_t{h} + 1;
      return out;
    }
    for (; it != routes_.end() && it->first.hash == h; ++it) {
      const auto entry = entry_of(it);
      out.push_back(view_of(it, entry ? &*entry : nullptr));
    }
  }
  cursor = 0;
  return out;
}

std::optional<double> XdpRoutes::seconds_since_hit(const RouteView &v) const {
  if (!v.hits) return std::nullopt;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // bpf_ktime_get_coarse_ns()'s clock
  const uint64_t now_ns = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
  const auto now = static_cast<uint32_t>(now_ns >> NVE_XDP_TICK_SHIFT);
  const uint32_t ticks = now - static_cast<uint32_t>(v.last_hit);  // (wraps after 49 days, as the stamp does)
  return double(uint64_t{ticks} << NVE_XDP_TICK_SHIFT) / 1e9;
}

void XdpRoutes::adopt() {
  adopting_ = true;
  uint32_t top = 0;
  std::vector<bool> used(NVE_XDP_MAX_NVES);
  for (uint32_t i = 0; i < NVE_XDP_MAX_NVES; i++) {
    const nve_xdp_nve n = prog_.nve(i);
    if (!n.valid) continue;
    // In use until prune(): never handed to another NVE while a route may
    // still point at it.
    used[i] = true;
    top = i + 1;
    if (n.outer_family != 4 && n.outer_family != 6) continue;
    IpAddress nve;
    nve.family = n.outer_family;
    // The outer destination: IPv4's at byte 16 of its header, IPv6's at 24.
    std::memcpy(nve.bytes.data(), n.hdr + 14 + (nve.is_v4() ? 16 : 24), nve.is_v4() ? 4 : 16);
    if (nves_.count(nve)) continue;  // (one index per NVE: a second is freed by prune)
    // Rebuilt with this configuration's gateway and source. One it cannot
    // build (its family's address gone) is cleared: no route tunnels with
    // the old source or port; stale routes to it drop on drop_nve_unknown.
    if (write_nve(nve, i)) {
      prog_.set_nve(i, nve_xdp_nve{});
      continue;
    }
    nves_[nve] = Nve{i, 0};
  }
  next_nve_ = top;
  free_nves_.clear();
  for (uint32_t i = top; i-- > 0;)
    if (!used[i]) free_nves_.push_back(i);
}

size_t XdpRoutes::prune() {
  adopting_ = false;
  size_t removed = 0;
  for (const nve_xdp_key &k : prog_.route_keys()) {
    IpAddress a;
    a.family = k.family;
    std::memcpy(a.bytes.data(), k.addr, k.family == 4 ? 4 : 16);
    auto it = routes_.find(key_of(HostRoute{k.vn, a}));
    if (it != routes_.end() && !std::holds_alternative<OwnEndpoint>(it->second.action)) continue;
    prog_.delete_route(k);
    removed++;
  }
  for (auto it = nves_.begin(); it != nves_.end();) {
    if (it->second.routes == 0) {
      prog_.set_nve(it->second.index, nve_xdp_nve{});
      free_nves_.push_back(it->second.index);
      it = nves_.erase(it);
    } else {
      ++it;
    }
  }
  // Entries adopt() kept but no NVE of ours holds (a second header for one
  // NVE, an unknown family): freed now that no route points at them.
  std::vector<bool> held(next_nve_), free(next_nve_);
  for (const auto &[address, n] : nves_) held[n.index] = true;
  for (uint32_t i : free_nves_) free[i] = true;
  for (uint32_t i = 0; i < next_nve_; i++) {
    if (held[i] || free[i]) continue;
    prog_.set_nve(i, nve_xdp_nve{});
    free_nves_.push_back(i);
  }
  return removed;
}

void XdpRoutes::set_fabric(const dp::FabricParams &fabric) {
  fabric_ = fabric;
  for (const auto &[address, nve] : nves_) write_nve(address, nve.index);
}

}  // namespace nvmove::drivers
