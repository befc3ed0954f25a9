#include "control/agent/nve_agent.h"

#include <spdlog/spdlog.h>

#include "control/protocol/codec.h"
#include "control/protocol/names.h"

namespace nvmove::agent {

NveAgent::NveAgent(AgentConfig cfg, RouteBackend &routes, AgentTransport &net, const proto::KeyTable &keys,
                   const Clock &clock)
    : cfg_(std::move(cfg)),
      routes_(routes),
      net_(net),
      keys_(keys),
      limited_log_(std::chrono::seconds(10), clock),
      client_(cfg_, keys_, clock, counters_),
      gate_(cfg_, keys_, clock, counters_, limited_log_),
      bul_(cfg_, gate_, clock, counters_),
      router_(cfg_, gate_, clock, counters_),
      peers_(clock, counters_) {}

std::optional<std::string> NveAgent::vm_event(VmEvent event, const VmSpec &spec, proto::MobilityMode mobility) {
  auto r = client_.vm_event(event, spec, mobility, routes_, bul_.contains(spec.id));
  if (r.refused) return r.refused;
  // The VM came back to us: its old tunnel goes with the local routes.
  state_version_++;
  if (r.installed_locally && bul_.forget(spec.id))
    spdlog::info("vm {}: back on this NVE, binding update entry removed", vm_id_text(spec.id));
  apply(std::move(r.outcome));
  return std::nullopt;
}

bool NveAgent::on_vm_announcement(uint16_t port, uint16_t vlan, const MacAddress &mac, const IpAddress &address) {
  const auto spec = client_.associated_vm(port, vlan, mac, address);
  if (!spec) {
    counters_.vm_announcements_ignored++;
    return false;
  }
  spdlog::info("vm {}: announced itself ({} at {} on port {}): activating", vm_id_text(spec->id),
               address.to_string(), mac_to_string(mac), port);
  if (auto refused = vm_event(VmEvent::Activate, *spec, proto::MobilityMode::Hot)) {
    counters_.vm_announcements_ignored++;
    spdlog::warn("vm {}: activation on its announcement refused: {}", vm_id_text(spec->id), *refused);
    return false;
  }
  counters_.vm_announcements_activated++;
  return true;
}

void NveAgent::drop(const IpAddress &from, const std::string &reason, const std::string &line) {
  counters_.dropped_datagrams++;
  if (auto admitted = limited_log_.admit(from, reason, line)) spdlog::warn("{}", *admitted);
}

void NveAgent::on_datagram(const IpAddress &from, uint16_t from_port, std::span<const uint8_t> data) {
  // Only the management node may talk to us; anything else is dropped
  // unanswered (answering would make us a reflector).
  if (!cfg_.is_nvad(from))
    return drop(from, "not nvad", "datagram from " + from.to_string() + " dropped: not the management node");
  auto decoded = proto::decode(data);
  if (!decoded)
    return drop(from, "undecodable",
                "undecodable message from " + from.to_string() + ": " + decoded.error().describe());
  const proto::AuthKey *key = keys_.find(from, decoded->auth.key_id);
  const auto verdict = proto::verify_authentication(data, decoded->auth, key);
  if (verdict != proto::AuthVerdict::Authentic)
    return drop(from, proto::auth_verdict_name(verdict),
                "message from " + from.to_string() + " dropped: " + proto::auth_verdict_name(verdict));
  const proto::Message &m = decoded->message;
  if (m.is_reply()) {
    auto out = client_.on_reply(m, from);
    if (!out) {
      counters_.dropped_datagrams++;  // a reply to nothing we asked (late or replayed)
      return;
    }
    // The previous NVEs now tunnel this VM's packets in flight to us.
    if (proto::is_accepted(m.status) && m.lifetime > 0)
      out->append(peers_.learn(m.redirecting_nves, proto::lifetime_seconds(m.lifetime)));
    return apply(std::move(*out));
  }
  if (!m.notification) {
    counters_.dropped_datagrams++;  // nvad sends us requests only as notifications
    return;
  }
  if (auto answered = gate_.admit(m, from, from_port)) return apply(std::move(*answered));
  if (m.router) return apply(router_.on_notification(m, from, from_port, routes_));
  const bool activated_here = m.vm_id && client_.vm_state(*m.vm_id) == VmState::Activated;
  apply(bul_.on_notification(m, from, from_port, routes_, activated_here));
}

void NveAgent::on_neighbour(const IpAddress &address, const MacAddress &mac) {
  apply(router_.on_neighbour(address, mac, routes_));
}

void NveAgent::tick() {
  AgentOutcome out = client_.tick();
  out.append(bul_.expire(routes_));
  out.append(peers_.expire());
  out.append(router_.expire(routes_));
  apply(std::move(out));
}

void NveAgent::restore_state(const nlohmann::json &state) {
  for (const auto &vm : RegistrationClient::parse_state(state.value("vms", nlohmann::json::array()))) {
    auto refused = vm_event(VmEvent::Associate, vm.spec);
    if (!refused && vm.state == VmState::Activated)
      refused = vm_event(VmEvent::Activate, vm.spec,
                         vm.mobility == proto::MobilityMode::None ? proto::MobilityMode::Hot : vm.mobility);
    if (refused) spdlog::warn("vm {}: not restored: {}", vm_id_text(vm.spec.id), *refused);
  }
  apply(bul_.restore(state.value("bul", nlohmann::json::array())));
  apply(peers_.restore(state.value("tunnel_peers", nlohmann::json::array())));
  router_.restore(state.value("router_routes", nlohmann::json::array()));
  state_version_++;
}

void NveAgent::apply(AgentOutcome o) {
  if (!o.empty()) state_version_++;  // routes or messages: something changed
  if (!o.routes.empty()) {
    const auto res = routes_.apply(o.routes);
    for (const auto &e : res.errors) {
      const RouteChange &c = o.routes[e.index];
      spdlog::error("route vn {} {} not {}: {}", c.route.vn, c.route.address.to_string(),
                    c.op == RouteChange::Op::Remove ? "removed" : "installed", e.reason);
    }
    if (o.if_routes_fail && !res.errors.empty()) return back_out(o, res);
  }
  if (o.if_routes_fail) counters_.notifications_accepted++;
  for (const auto &d : o.datagrams) net_.send(d.to, d.port, d.bytes);
}

void NveAgent::back_out(const AgentOutcome &o, const RouteBatchResult &res) {
  // All or nothing: take back the tunnels that did apply.
  std::vector<RouteChange> undo;
  for (size_t i = 0; i < o.routes.size(); i++) {
    bool failed = false;
    for (const auto &e : res.errors) failed = failed || e.index == i;
    if (!failed && o.routes[i].op == RouteChange::Op::Upsert)
      undo.push_back(route_removal(o.routes[i].route.vn, o.routes[i].route.address));
  }
  if (!undo.empty()) routes_.apply(undo);
  if (o.if_routes_fail->router) router_.forget(o.if_routes_fail->vm, o.if_routes_fail->vn);
  else bul_.forget(o.if_routes_fail->vm);
  counters_.notifications_rejected++;
  spdlog::warn("vm {}: move notification refused: {}", vm_id_text(o.if_routes_fail->vm), res.errors[0].reason);
  if (const auto &d = o.if_routes_fail->refusal) net_.send(d->to, d->port, d->bytes);
}

}  // namespace nvmove::agent
