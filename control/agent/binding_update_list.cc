#include "control/agent/binding_update_list.h"

#include <spdlog/spdlog.h>

#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"
#include "control/protocol/vm_id_text.h"

namespace nvmove::agent {

using proto::vm_id_text;

BindingUpdateList::BindingUpdateList(const AgentConfig &cfg, NotificationGate &gate, const Clock &clock,
                                     AgentCounters &counters)
    : cfg_(cfg), gate_(gate), clock_(clock), counters_(counters) {}

std::optional<IpAddress> BindingUpdateList::tunnel_endpoint(const IpAddress &vm_addr,
                                                            const proto::NveAddresses &nve) const {
  // Same family as the VM address when the NVE has one (no cross-family
  // overhead), else the other: the dataplane does 4-in-6 and 6-in-4.
  const auto &same = vm_addr.is_v4() ? nve.ipv4 : nve.ipv6;
  const auto &other = vm_addr.is_v4() ? nve.ipv6 : nve.ipv4;
  const auto &ours = vm_addr.is_v4() ? cfg_.self.ipv4 : cfg_.self.ipv6;
  const auto &ours_other = vm_addr.is_v4() ? cfg_.self.ipv6 : cfg_.self.ipv4;
  if (same && ours) return same;
  if (other && ours_other) return other;
  if (same && ours_other) return same;  // cross family needs our address of the NVE's family
  if (other && ours) return other;
  return std::nullopt;
}

AgentOutcome BindingUpdateList::on_notification(const proto::Message &m, const IpAddress &from, uint16_t from_port,
                                                const RouteBackend &routes, bool activated_here) {
  // The caller has admitted it (NotificationGate::admit).
  const proto::VmId id = *m.vm_id;
  const uint32_t vn = m.virtual_network.value_or(0);
  AgentOutcome out;
  auto accept = [&] {
    if (auto d = gate_.reply(proto::make_reply(m, proto::Status::Accepted, m.lifetime), from, from_port))
      out.datagrams.push_back(std::move(*d));
  };
  if (cfg_.is_self(m.serving_nve)) {
    // The VM is (back) here: its local route serves; nothing to tunnel.
    counters_.notifications_accepted++;
    accept();
    return out;
  }

  if (m.lifetime == 0) {
    // An older source NVE of a cold move, or the binding ended: forget the
    // VM. (A cold move's last source NVE gets a lifetime: it redirects.)
    for (const auto &a : m.vm_addresses)
      if (routes.find({vn, a})) out.routes.push_back(route_removal(vn, a));
    entries_.erase(id);
    spdlog::info("vm {}: redirect ended by nvad (lifetime 0): routes removed", vm_id_text(id));
    counters_.notifications_accepted++;
  } else {
    std::string why;
    auto tunnels = tunnel_routes(vn, m.vm_addresses, m.serving_nve, why);
    if (!tunnels) return gate_.refuse(m, proto::Status::Unspecified, why, from, from_port);
    out.routes = std::move(*tunnels);
    uint64_t hits = 0;  // a replaced route keeps its counters: start from them
    for (const auto &a : m.vm_addresses)
      if (auto v = routes.find({vn, a})) hits += v->hits;
    const uint64_t now = clock_.now_ms();
    const uint64_t lifetime_ms = uint64_t{proto::lifetime_seconds(m.lifetime)} * 1000;
    entries_[id] = Entry{id, vn, m.vm_addresses, m.serving_nve, ActivityLifetime::start(now, lifetime_ms, hits)};
    AgentOutcome::IfRoutesFail fail{id, std::nullopt};
    fail.refusal = gate_.reply(proto::make_reply(m, proto::Status::InsufficientResources, 0), from, from_port);
    out.if_routes_fail = std::move(fail);
    spdlog::info("vm {}: moved to {}: tunnelling packets in flight", vm_id_text(id),
                 (m.serving_nve.ipv4 ? m.serving_nve.ipv4 : m.serving_nve.ipv6)->to_string());
  }
  if (activated_here) spdlog::warn("vm {}: nvad says it moved but it is still activated here", vm_id_text(id));
  accept();
  return out;
}

std::optional<std::vector<RouteChange>> BindingUpdateList::tunnel_routes(uint32_t vn,
                                                                         const std::vector<IpAddress> &addresses,
                                                                         const proto::NveAddresses &nve,
                                                                         std::string &why) const {
  std::vector<RouteChange> out;
  for (const auto &a : addresses) {
    auto ep = tunnel_endpoint(a, nve);
    if (!ep) {
      why = "no usable tunnel endpoint for " + a.to_string();
      return std::nullopt;
    }
    RouteChange c;
    c.route = {vn, a};
    c.action = TunnelToNve{*ep};
    out.push_back(c);
  }
  return out;
}

// The fields that say which redirect an entry is: shown by `show bul` and
// saved in the state file alike.
nlohmann::json BindingUpdateList::identity_json(const Entry &b) {
  nlohmann::json addrs = nlohmann::json::array();
  for (const auto &a : b.addresses) addrs.push_back(a.to_string());
  return {{"vm_id", vm_id_text(b.id)}, {"vn", b.vn}, {"addresses", addrs},
          {"new_nve_ipv4", b.new_nve.ipv4 ? b.new_nve.ipv4->to_string() : ""},
          {"new_nve_ipv6", b.new_nve.ipv6 ? b.new_nve.ipv6->to_string() : ""}};
}

nlohmann::json BindingUpdateList::export_state() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto &[id, b] : entries_) {
    nlohmann::json e = identity_json(b);
    e["lifetime_ms"] = b.life.lifetime_ms;
    out.push_back(std::move(e));
  }
  return out;
}

AgentOutcome BindingUpdateList::restore(const nlohmann::json &entries) {
  AgentOutcome out;
  if (!entries.is_array()) return out;
  const uint64_t now = clock_.now_ms();
  for (const auto &e : entries) {
    auto id = proto::parse_vm_id(e.value("vm_id", std::string()));
    if (!id) continue;
    Entry b;
    b.id = *id;
    b.vn = e.value("vn", 0u);
    for (const auto &a : e.value("addresses", nlohmann::json::array()))
      if (a.is_string())
        if (auto ip = IpAddress::parse(a.get<std::string>())) b.addresses.push_back(*ip);
    if (auto v4 = IpAddress::parse(e.value("new_nve_ipv4", std::string()))) b.new_nve.ipv4 = *v4;
    if (auto v6 = IpAddress::parse(e.value("new_nve_ipv6", std::string()))) b.new_nve.ipv6 = *v6;
    const uint64_t lifetime_ms = e.value("lifetime_ms", uint64_t{0});
    std::string why;
    auto tunnels = tunnel_routes(b.vn, b.addresses, b.new_nve, why);
    if (b.addresses.empty() || lifetime_ms == 0 || !tunnels) {
      spdlog::warn("vm {}: binding update list entry not restored: {}", vm_id_text(b.id),
                   why.empty() ? "incomplete" : why);
      continue;
    }
    b.life = ActivityLifetime::start(now, lifetime_ms, 0);
    out.routes.insert(out.routes.end(), tunnels->begin(), tunnels->end());
    entries_[b.id] = b;
    spdlog::info("vm {}: redirect restored after a restart", vm_id_text(b.id));
  }
  return out;
}

AgentOutcome BindingUpdateList::expire(const RouteBackend &routes) {
  AgentOutcome out;
  const uint64_t now = clock_.now_ms();
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry &b = it->second;
    uint64_t hits = 0;
    for (const auto &a : b.addresses)
      if (auto v = routes.find({b.vn, a}); v && std::holds_alternative<TunnelToNve>(v->action)) hits += v->hits;
    // nvad ends an entry explicitly (a notification with lifetime 0) when the
    // binding at the new NVE ends; idleness ends it anyway.
    const auto verdict = b.life.observe(hits, now, cfg_.bul_idle_ms);
    if (verdict == ActivityLifetime::Verdict::Renewed) {
      counters_.bul_renewed++;
      spdlog::debug("vm {}: redirect still carries traffic: renewed for {} s", vm_id_text(it->first),
                    b.life.lifetime_ms / 1000);
    }
    if (verdict != ActivityLifetime::Verdict::Ended) {
      ++it;
      continue;
    }
    counters_.bul_idle_expired++;
    for (const auto &a : b.addresses) {
      auto v = routes.find({b.vn, a});
      if (!v || !std::holds_alternative<TunnelToNve>(v->action)) continue;  // replaced meanwhile
      out.routes.push_back(route_removal(b.vn, a));
    }
    spdlog::info("vm {}: tunnel to {} removed (no traffic for {} s)", vm_id_text(it->first),
                 (b.new_nve.ipv4 ? b.new_nve.ipv4 : b.new_nve.ipv6)->to_string(), cfg_.bul_idle_ms / 1000);
    it = entries_.erase(it);
  }
  return out;
}

nlohmann::json BindingUpdateList::json() const {
  nlohmann::json out = nlohmann::json::array();
  const uint64_t now = clock_.now_ms();
  for (const auto &[id, b] : entries_) {
    nlohmann::json e = identity_json(b);
    e["age_ms"] = now - b.life.created_ms;
    e["idle_ms"] = now - b.life.last_activity_ms;
    e["expires_in_ms"] = b.life.expires_ms > now ? b.life.expires_ms - now : 0;
    e["hits"] = b.life.last_hits;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace nvmove::agent
