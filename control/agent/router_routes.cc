#include "control/agent/router_routes.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/protocol/reply_builder.h"
#include "control/protocol/vm_id_text.h"

namespace nvmove::agent {

using proto::vm_id_text;

RouterHostRoutes::RouterHostRoutes(const AgentConfig &cfg, NotificationGate &gate, const Clock &clock,
                                   AgentCounters &counters)
    : cfg_(cfg), gate_(gate), clock_(clock), counters_(counters) {}

std::optional<IpAddress> RouterHostRoutes::next_hop_for(const IpAddress &vm_address,
                                                        const proto::NveAddresses &serving) const {
  // The serving NVE's address of the VM address's family first: Ethernet
  // does not care, but an operator reading `show default-router` does.
  const auto &same = vm_address.is_v4() ? serving.ipv4 : serving.ipv6;
  const auto &other = vm_address.is_v4() ? serving.ipv6 : serving.ipv4;
  for (const auto *nve : {&same, &other})
    if (*nve && std::ranges::any_of(cfg_.router.on_link, [&](const IpPrefix &p) { return p.contains(**nve); }))
      return *nve;
  return std::nullopt;
}

std::optional<std::pair<proto::Status, std::string>> RouterHostRoutes::refusal(const proto::Message &m) const {
  using proto::Status;
  const uint32_t vn = m.virtual_network.value_or(0);
  if (!cfg_.router.enabled) return {{Status::AdministrativelyProhibited, "this NVE is not a default router (agent.router)"}};
  if (!cfg_.router.vns.contains(vn))
    return {{Status::AdministrativelyProhibited, "VN " + std::to_string(vn) + " is not this router's fabric VN"}};
  if (m.lifetime == 0) return std::nullopt;  // a withdrawal needs no next hop
  for (const auto &a : m.vm_addresses) {
    if (!cfg_.router.prefixes.empty() &&
        !std::ranges::any_of(cfg_.router.prefixes, [&](const IpPrefix &p) { return p.contains(a); }))
      return {{Status::AdministrativelyProhibited, a.to_string() + " is outside agent.router.prefixes"}};
    if (!next_hop_for(a, m.serving_nve))
      return {{Status::Unspecified, "the serving NVE of " + a.to_string() + " is not on a link of this router "
                                    "(agent.router.on_link)"}};
  }
  return std::nullopt;
}

bool RouterHostRoutes::ours_or_free(const HostRoute &route, const RouteBackend &routes) const {
  const auto v = routes.find(route);
  if (!v) return true;
  const auto *local = std::get_if<DeliverLocal>(&v->action);
  return local && local->port == cfg_.router.fabric_port;
}

void RouterHostRoutes::install(Entry &entry, Hop &hop, const RouteBackend &routes, AgentOutcome &out) {
  if (!hop.via) return;
  auto mac = neighbours_.find(*hop.via);
  if (mac == neighbours_.end()) return;  // waits for on_neighbour()
  const HostRoute route{entry.vn, hop.address};
  hop.blocked = !ours_or_free(route, routes);
  if (hop.blocked) {
    spdlog::info("vm {}: {} has a route of this NVE's own: no host route toward the serving NVE",
                 vm_id_text(entry.id), hop.address.to_string());
    return;
  }
  RouteChange c;
  c.route = route;
  c.action = DeliverLocal{cfg_.router.fabric_port, mac->second, 0};
  out.routes.push_back(c);
  if (!hop.installed) counters_.router_routes_installed++;
  hop.installed = true;
}

void RouterHostRoutes::withdraw(const Entry &entry, const RouteBackend &routes, AgentOutcome &out,
                                const std::vector<IpAddress> &keep) {
  for (const auto &hop : entry.hops) {
    if (std::ranges::find(keep, hop.address) != keep.end()) continue;
    const HostRoute route{entry.vn, hop.address};
    if (!hop.installed || !routes.find(route) || !ours_or_free(route, routes)) continue;
    out.routes.push_back(route_removal(entry.vn, hop.address));
    counters_.router_routes_removed++;
  }
}

uint64_t RouterHostRoutes::hits(const Entry &entry, const RouteBackend &routes) const {
  uint64_t n = 0;
  for (const auto &hop : entry.hops)
    if (hop.installed)
      if (auto v = routes.find({entry.vn, hop.address}); v && ours_or_free({entry.vn, hop.address}, routes))
        n += v->hits;
  return n;
}

AgentOutcome RouterHostRoutes::on_notification(const proto::Message &m, const IpAddress &from,
                                               uint16_t from_port, const RouteBackend &routes) {
  const uint32_t vn = m.virtual_network.value_or(0);
  const Key key{vn, *m.vm_id};
  const auto old = entries_.find(key);
  if (auto why = refusal(m)) {
    AgentOutcome out = gate_.refuse(m, why->first, why->second, from, from_port);
    // The VM is no longer where the old routes point.
    if (old != entries_.end()) {
      withdraw(old->second, routes, out);
      entries_.erase(old);
    }
    return out;
  }
  AgentOutcome out;
  if (m.lifetime == 0) {
    if (old != entries_.end()) {
      withdraw(old->second, routes, out);
      entries_.erase(old);
      spdlog::info("vm {}: host routes withdrawn by nvad (lifetime 0)", vm_id_text(*m.vm_id));
    }
    counters_.notifications_accepted++;
  } else {
    Entry entry;
    entry.id = *m.vm_id;
    entry.vn = vn;
    entry.serving = m.serving_nve;
    for (const auto &a : m.vm_addresses) entry.hops.push_back({a, next_hop_for(a, m.serving_nve)});
    const uint64_t lifetime_ms = uint64_t{proto::lifetime_seconds(m.lifetime)} * 1000;
    // Replacing the routes keeps their counters: the activity baseline.
    entry.life = ActivityLifetime::start(clock_.now_ms(), lifetime_ms, old == entries_.end() ? 0 : hits(old->second, routes));
    for (auto &hop : entry.hops) install(entry, hop, routes, out);
    // An old route the new entry does not replace at once (the address is
    // gone, or its new next hop is not resolved yet) points where the VM no
    // longer is: it goes, and until the new one is in packets take the
    // default path (the old NVE, which redirects them).
    if (old != entries_.end()) {
      std::vector<IpAddress> replaced;
      for (const auto &hop : entry.hops)
        if (hop.installed) replaced.push_back(hop.address);
      withdraw(old->second, routes, out, replaced);
    }
    spdlog::info("vm {}: host route(s) in VN {} toward {} ({} waiting for the next hop's MAC)", vm_id_text(entry.id),
                 vn, (m.serving_nve.ipv4 ? m.serving_nve.ipv4 : m.serving_nve.ipv6)->to_string(),
                 std::ranges::count_if(entry.hops, [](const Hop &h) { return !h.installed && !h.blocked; }));
    entries_[key] = std::move(entry);
    AgentOutcome::IfRoutesFail fail{*m.vm_id, std::nullopt, true, vn};
    fail.refusal = gate_.reply(proto::make_reply(m, proto::Status::InsufficientResources, 0), from, from_port);
    out.if_routes_fail = std::move(fail);
  }
  if (auto d = gate_.reply(proto::make_reply(m, proto::Status::Accepted, m.lifetime), from, from_port))
    out.datagrams.push_back(std::move(*d));
  return out;
}

AgentOutcome RouterHostRoutes::on_neighbour(const IpAddress &next_hop, const MacAddress &mac,
                                            const RouteBackend &routes) {
  AgentOutcome out;
  auto [it, fresh] = neighbours_.try_emplace(next_hop, mac);
  if (!fresh && it->second == mac) return out;
  it->second = mac;
  for (auto &[key, entry] : entries_)
    for (auto &hop : entry.hops)
      if (hop.via == next_hop) install(entry, hop, routes, out);
  return out;
}

AgentOutcome RouterHostRoutes::expire(const RouteBackend &routes) {
  AgentOutcome out;
  const uint64_t now = clock_.now_ms();
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry &entry = it->second;
    const auto verdict = entry.life.observe(hits(entry, routes), now, cfg_.bul_idle_ms);
    if (verdict == ActivityLifetime::Verdict::Renewed) counters_.router_routes_renewed++;
    if (verdict != ActivityLifetime::Verdict::Ended) {
      ++it;
      continue;
    }
    counters_.router_routes_idle_expired++;
    withdraw(entry, routes, out);
    spdlog::info("vm {}: host route(s) in VN {} removed (no traffic for {} s)", vm_id_text(entry.id), entry.vn,
                 cfg_.bul_idle_ms / 1000);
    it = entries_.erase(it);
  }
  return out;
}

std::set<IpAddress> RouterHostRoutes::next_hops() const {
  std::set<IpAddress> out;
  for (const auto &[key, entry] : entries_)
    for (const auto &hop : entry.hops)
      if (hop.via) out.insert(*hop.via);
  return out;
}

namespace {
std::string text_of(const std::optional<IpAddress> &a) { return a ? a->to_string() : ""; }
}  // namespace

nlohmann::json RouterHostRoutes::json() const {
  nlohmann::json out = nlohmann::json::array();
  const uint64_t now = clock_.now_ms();
  for (const auto &[key, entry] : entries_) {
    for (const auto &hop : entry.hops) {
      auto mac = hop.via ? neighbours_.find(*hop.via) : neighbours_.end();
      out.push_back({{"vm_id", vm_id_text(entry.id)},
                     {"vn", entry.vn},
                     {"address", hop.address.to_string()},
                     {"serving_nve", text_of(entry.serving.ipv4 ? entry.serving.ipv4 : entry.serving.ipv6)},
                     {"next_hop", text_of(hop.via)},
                     {"next_hop_mac", mac == neighbours_.end() ? "" : mac_to_string(mac->second)},
                     {"state", hop.installed ? "installed"
                               : hop.blocked ? "not installed: this NVE has a route of its own"
                                             : "waiting for the next hop's MAC"},
                     {"idle_ms", now - entry.life.last_activity_ms},
                     {"expires_in_ms", entry.life.expires_ms > now ? entry.life.expires_ms - now : 0},
                     {"hits", entry.life.last_hits}});
    }
  }
  return out;
}

nlohmann::json RouterHostRoutes::export_state() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto &[key, entry] : entries_) {
    nlohmann::json addresses = nlohmann::json::array();
    for (const auto &hop : entry.hops) addresses.push_back(hop.address.to_string());
    out.push_back({{"vm_id", vm_id_text(entry.id)},
                   {"vn", entry.vn},
                   {"addresses", addresses},
                   {"serving_ipv4", text_of(entry.serving.ipv4)},
                   {"serving_ipv6", text_of(entry.serving.ipv6)},
                   {"lifetime_ms", entry.life.lifetime_ms}});
  }
  return out;
}

void RouterHostRoutes::restore(const nlohmann::json &entries) {
  if (!entries.is_array() || !cfg_.router.enabled) return;
  const uint64_t now = clock_.now_ms();
  for (const auto &e : entries) {
    if (!e.is_object()) continue;
    auto id = proto::parse_vm_id(e.value("vm_id", std::string()));
    Entry entry;
    entry.vn = e.value("vn", 0u);
    if (auto v4 = IpAddress::parse(e.value("serving_ipv4", std::string()))) entry.serving.ipv4 = *v4;
    if (auto v6 = IpAddress::parse(e.value("serving_ipv6", std::string()))) entry.serving.ipv6 = *v6;
    bool ok = id && cfg_.router.vns.contains(entry.vn) && !entry.serving.empty();
    for (const auto &a : e.value("addresses", nlohmann::json::array())) {
      auto ip = a.is_string() ? IpAddress::parse(a.get<std::string>()) : std::nullopt;
      auto via = ip ? next_hop_for(*ip, entry.serving) : std::nullopt;
      ok = ok && via;
      if (ok) entry.hops.push_back({*ip, via});
    }
    const uint64_t lifetime_ms = e.value("lifetime_ms", uint64_t{0});
    if (!ok || entry.hops.empty() || lifetime_ms == 0) {
      spdlog::warn("router host route entry not restored: {}", e.dump());
      continue;
    }
    entry.id = *id;
    entry.life = ActivityLifetime::start(now, lifetime_ms, 0);
    spdlog::info("vm {}: host route(s) restored after a restart, waiting for next hops", vm_id_text(entry.id));
    entries_[{entry.vn, entry.id}] = std::move(entry);
  }
}

}  // namespace nvmove::agent
