#include "control/nved/route_commands.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "control/base/clock.h"

namespace nvmove {

using ctl::Reply;
using Args = std::vector<std::string>;

uint64_t number_argument(const std::string &s, const char *what, uint64_t max) {
  if (auto v = parse_decimal(s, max)) return *v;
  throw std::invalid_argument(std::string(what) + ": expected a number 0.." + std::to_string(max) + ", got '" + s + "'");
}

namespace {

std::string action_kind(const RouteAction &a) {
  if (std::holds_alternative<DeliverLocal>(a)) return "local";
  if (std::holds_alternative<TunnelToNve>(a)) return "tunnel";
  if (std::holds_alternative<TunnelPeer>(a)) return "peer";
  return "endpoint";
}

// "tunnel to 198.51.100.2", "local port 1 02:00:00:00:01:01 vlan 100": for logs.
std::string action_text(const RouteAction &a) {
  if (const auto *t = std::get_if<TunnelToNve>(&a)) return "tunnel to " + t->nve.to_string();
  if (const auto *l = std::get_if<DeliverLocal>(&a))
    return "local port " + std::to_string(l->port) + " " + mac_to_string(l->vm_mac) +
           (l->vlan ? " vlan " + std::to_string(l->vlan) : "");
  if (std::holds_alternative<TunnelPeer>(a)) return "tunnel peer";
  return "endpoint of vn " + std::to_string(std::get<OwnEndpoint>(a).vn);
}

// Seconds since a route's last hit, "never" if none: "0.250s ago".
ctl::Cell last_hit_cell(std::optional<double> ago) {
  if (!ago) return ctl::Cell::shown_as(nullptr, "never");
  return ctl::Cell::shown_as(*ago, ago_text(*ago));
}

// Whether the backend's hits are packets (the DPDK table) or ticks of use
// (the XDP maps): the listing's heading and explain's label say which.
bool counts_packets(const ListedRouteBackend &routes) { return std::string_view(routes.hits_unit()) == "packets"; }

// (A literal: a table's headings are views.)
const char *hits_heading(const ListedRouteBackend &routes) { return counts_packets(routes) ? "HITS" : "USED-TICKS"; }

}  // namespace

void RouteCommands::register_all(ctl::CtlServer &s) {
  s.on("show routes", [this](const Args &a) { return show_routes(a); });
  s.on("show tunnel-peers", [this](const Args &a) { return show_tunnel_peers(a); });
  s.on("route add", [this](const Args &a) { return route_add(a); });
  s.on("route del", [this](const Args &a) { return route_del(a); });
  s.on("explain", [this](const Args &a) { return explain(a); });
}

Reply RouteCommands::summary() const {
  struct Kinds {
    uint64_t local = 0, tunnel = 0, endpoint = 0;
  };
  std::map<uint32_t, Kinds> per_vn;
  Kinds all;
  for (const auto &v : routes_.list()) {
    if (v.route.vn == kTunnelPeerVn) continue;  // not a VN's: show tunnel-peers
    Kinds &k = per_vn[v.route.vn];
    for (Kinds *t : {&k, &all}) {
      if (std::holds_alternative<DeliverLocal>(v.action)) t->local++;
      else if (std::holds_alternative<TunnelToNve>(v.action)) t->tunnel++;
      else t->endpoint++;
    }
  }
  ctl::Table t({{"vn", "VN", 10}, {"local", "LOCAL", 12}, {"tunnel", "TUNNEL", 12}, {"endpoint", "ENDPOINT", 12},
                {"total", "TOTAL"}});
  for (const auto &[vn, k] : per_vn) t.add({vn, k.local, k.tunnel, k.endpoint, k.local + k.tunnel + k.endpoint});
  t.add({ctl::Cell::shown_as(nullptr, "all"), all.local, all.tunnel, all.endpoint,
         all.local + all.tunnel + all.endpoint});
  return Reply::of(std::move(t));
}

// The listing of `routes`, sorted by (VN, address).
ctl::Table RouteCommands::listing(std::vector<RouteView> routes) const {
  std::sort(routes.begin(), routes.end(), [](const RouteView &x, const RouteView &y) { return x.route < y.route; });
  ctl::Table t({{"vn", "VN", 10}, {"address", "ADDRESS", 41}, {"kind", "KIND", 8}, {"", "DESTINATION", 41},
                {"hits", hits_heading(routes_), 14}, {"last_hit_seconds_ago", "LAST-HIT"}});
  for (const auto &v : routes) {
    std::string dest;
    nlohmann::json extra;
    if (const auto *l = std::get_if<DeliverLocal>(&v.action)) {
      dest = "port " + std::to_string(l->port) + " " + mac_to_string(l->vm_mac) + (l->vlan ? " vlan " + std::to_string(l->vlan) : "");
      extra = {{"port", l->port}, {"mac", mac_to_string(l->vm_mac)}, {"vlan", l->vlan}};
    } else if (const auto *tn = std::get_if<TunnelToNve>(&v.action)) {
      dest = tn->nve.to_string();
      extra = {{"nve", dest}};
    } else if (std::holds_alternative<TunnelPeer>(v.action)) {
      dest = "tunnels from this NVE are decapsulated";
    } else {
      const uint32_t carried = std::get<OwnEndpoint>(v.action).vn;
      dest = "this NVE, tunnels of vn " + std::to_string(carried);
      extra = {{"carries_vn", carried}};
    }
    t.add({v.route.vn, v.route.address.to_string(), action_kind(v.action), dest, v.hits,
           last_hit_cell(routes_.seconds_since_hit(v))})
        .extra = std::move(extra);
  }
  return t;
}

// show routes [vn N] [ADDRESS] | summary: one answer, sorted.
// The paged form nvectl uses for whole listings, so that the control thread
// (the agent, route changes, ARP) runs between pages of a table of millions:
// show routes [vn N] page CURSOR SIZE, the first page at cursor 0, the next
// cursor in the answer (none after the last).
Reply RouteCommands::show_routes(const Args &a) const {
  if (a.size() == 1 && a[0] == "summary") return summary();
  std::optional<uint32_t> vn;
  std::optional<IpAddress> addr;
  std::optional<uint64_t> cursor;
  size_t page = 0;
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i] == "vn" && i + 1 < a.size()) {
      vn = static_cast<uint32_t>(number_argument(a[++i], "vn", 0xffffff));
    } else if (a[i] == "page" && i + 2 < a.size()) {
      cursor = number_argument(a[++i], "page cursor", UINT64_MAX);
      page = number_argument(a[++i], "page size", 1000000);
      if (page == 0) return Reply::bad_usage("page size: expected 1..1000000");
    } else if (auto ip = IpAddress::parse(a[i])) {
      addr = *ip;
    } else {
      return Reply::bad_usage("'" + a[i] + "' is not an address");
    }
  }
  // Learnt tunnel peers are no VN's routes: show tunnel-peers lists them.
  auto wanted = [&](const RouteView &r) {
    return (vn ? r.route.vn == *vn : r.route.vn != kTunnelPeerVn) && (!addr || r.route.address == *addr);
  };
  std::vector<RouteView> routes;
  if (cursor) {
    const bool first_page = *cursor == 0;
    for (auto &r : routes_.list_page(*cursor, page))
      if (wanted(r)) routes.push_back(std::move(r));
    return Reply::page(listing(std::move(routes)), *cursor ? nlohmann::json(*cursor) : nlohmann::json(), first_page);
  }
  if (addr && vn) {  // one key: a direct lookup
    if (auto r = routes_.find({*vn, *addr})) routes.push_back(*r);
  } else {
    for (auto &r : routes_.list())
      if (wanted(r)) routes.push_back(std::move(r));
  }
  return Reply::of(listing(std::move(routes)));
}

// Who may tunnel to us (docs/protocol.md 7): the configured prefixes, then
// the NVEs the agent learnt from nvad, with when each last tunnelled here.
Reply RouteCommands::show_tunnel_peers(const Args &a) const {
  if (!a.empty()) return Reply::bad_usage();
  ctl::Table t({{"peer", "PEER", 41}, {"source", "SOURCE", 13}, {"hits", "TUNNELS", 14}, {"last_hit_seconds_ago", "LAST"}});
  for (const IpPrefix &p : cfg_.tunnel_peers)
    t.add({p.to_string(), "tunnel.peers", ctl::Cell::shown_as(nullptr, "-"), ctl::Cell::shown_as(nullptr, "-")});
  std::vector<RouteView> learnt;
  for (auto &r : routes_.list())
    if (r.route.vn == kTunnelPeerVn) learnt.push_back(r);
  std::sort(learnt.begin(), learnt.end(), [](const RouteView &x, const RouteView &y) { return x.route < y.route; });
  for (const auto &v : learnt)
    t.add({v.route.address.to_string(), "nvad", v.hits, last_hit_cell(routes_.seconds_since_hit(v))});
  return Reply::of(std::move(t));
}

Reply RouteCommands::route_add(const Args &a) {
  if (a.size() < 5 || a[0] != "vn") return Reply::bad_usage();
  const auto vn = static_cast<uint32_t>(number_argument(a[1], "vn", 0xffffff));
  RouteWordsError err;
  auto parsed = parse_route_words(vn, std::span<const std::string>(a).subspan(2), cfg_, err);
  if (!parsed) return err.structural ? Reply::bad_usage() : Reply::fail(err.why, true);
  const RouteChange c = *parsed;
  const auto res = routes_.apply(std::span<const RouteChange>(&c, 1));
  if (!res.errors.empty()) return Reply::fail(res.errors[0].reason);
  changes_.push_back(c);
  spdlog::info("route vn {} {} -> {} (operator, table version {})", c.route.vn, c.route.address.to_string(),
               action_text(c.action), res.table_version);
  Reply r;
  r.text = "route vn " + std::to_string(c.route.vn) + " " + c.route.address.to_string() + " installed (table version " +
           std::to_string(res.table_version) + ")\n";
  r.data = {{"table_version", res.table_version}};
  return r;
}

Reply RouteCommands::route_del(const Args &a) {
  if (a.size() != 3 || a[0] != "vn") return Reply::bad_usage();
  RouteChange c;
  c.op = RouteChange::Op::Remove;
  c.route.vn = static_cast<uint32_t>(number_argument(a[1], "vn", 0xffffff));
  auto ip = IpAddress::parse(a[2]);
  if (!ip) return Reply::fail("'" + a[2] + "' is not an IPv4 or IPv6 address", true);
  c.route.address = *ip;
  const auto res = routes_.apply(std::span<const RouteChange>(&c, 1));
  if (!res.errors.empty()) return Reply::fail("route vn " + a[1] + " " + a[2] + ": " + res.errors[0].reason);
  changes_.push_back(c);
  spdlog::info("route vn {} {} deleted (operator, table version {})", c.route.vn, c.route.address.to_string(),
               res.table_version);
  Reply r;
  r.text = "route vn " + std::to_string(c.route.vn) + " " + c.route.address.to_string() + " deleted (table version " +
           std::to_string(res.table_version) + ")\n";
  r.data = {{"table_version", res.table_version}};
  return r;
}

// What the fast path does with a packet to ADDRESS in VN N, from its route.
Reply RouteCommands::explain(const Args &a) const {
  if (a.size() != 3 || a[0] != "vn") return Reply::bad_usage();
  const auto vn = static_cast<uint32_t>(number_argument(a[1], "vn", 0xffffff));
  const auto address = IpAddress::parse(a[2]);
  if (!address) return Reply::bad_usage("'" + a[2] + "' is not an IPv4 or IPv6 address");
  ctl::Record rec(12, 0);
  rec.add({"vn", vn});
  rec.add({"address", address->to_string()});
  const auto route = routes_.find({vn, *address});
  if (!route) {
    rec.add({"route", ctl::Cell::shown_as(nullptr, "none")});
    rec.add({"action", no_route_});
    return Reply::of(std::move(rec));
  }
  if (const auto *l = std::get_if<DeliverLocal>(&route->action)) {
    rec.add({"route", "local"});
    rec.add({"action", "delivered on port " + std::to_string(l->port) + " to " + mac_to_string(l->vm_mac) +
                           (l->vlan ? " vlan " + std::to_string(l->vlan) : "") + ", TTL / hop limit - 1 (delivered_local)"});
  } else if (const auto *tn = std::get_if<TunnelToNve>(&route->action)) {
    rec.add({"route", "tunnel"});
    const bool v4 = tn->nve.is_v4();
    const IpAddress &src = v4 ? cfg_.nve_ipv4 : cfg_.nve_ipv6;
    const std::string inner = address->is_v4() ? "IPv4" : "IPv6";
    rec.add({"action", inner + "-in-" + (v4 ? "IPv4" : "IPv6") + " from " + src.to_string() + " to " +
                           tn->nve.to_string() + " via the fabric gateway, outer TTL " +
                           std::to_string(cfg_.tunnel_ttl) + ", DSCP " +
                           (cfg_.tunnel_dscp < 0 ? std::string("copied") : std::to_string(cfg_.tunnel_dscp)) +
                           ", tunnel MTU " + std::to_string(cfg_.tunnel_mtu) + " (encap_" +
                           (address->is_v4() ? "ipv4" : "ipv6") + "_in_" + (v4 ? "ipv4" : "ipv6") + ")"});
  } else if (const auto *own = std::get_if<OwnEndpoint>(&route->action)) {
    const uint32_t carried = own->vn;
    rec.add({"route", "endpoint"});
    rec.add({"action", "this NVE's tunnel endpoint for vn " + std::to_string(carried) +
                           ": a tunnel to it from a tunnel peer is decapsulated into vn " + std::to_string(carried)});
  }
  rec.add({"hits", route->hits, counts_packets(routes_) ? "hits" : "used ticks"});
  return Reply::of(std::move(rec));
}

}  // namespace nvmove
