#include "control/agent/nve_agent.h"

#include <spdlog/spdlog.h>

#include <cctype>

#include "control/protocol/codec.h"
#include "control/protocol/names.h"

namespace nvmove::agent {

NveAgent::NveAgent(AgentConfig cfg, RouteBackend &routes, AgentTransport &net, const proto::KeyTable &keys,
                   const Clock &clock)
    : cfg_(std::move(cfg)),
      routes_(routes),
      net_(net),
      keys_(keys),
      clock_(clock),
      replay_(proto::TimestampWindow{cfg_.timestamp_window}),
      // Start where a previous run of this NVE is unlikely to have been; nvad
      // answers "bad sequence number" with the value it expects otherwise.
      next_sequence_(static_cast<uint16_t>(clock.wall_ns() / 1000)),
      limited_log_(std::chrono::seconds(10), clock) {}

std::optional<std::string> NveAgent::vm_event(VmEvent event, const VmSpec &spec, proto::MobilityMode mobility) {
  if (spec.id.empty() || spec.id.size() > 253) return "VM-ID must be 1..253 bytes";
  auto it = vms_.find(spec.id);
  const VmState from = it == vms_.end() ? VmState::Init : it->second.state;
  const Transition t = next_state(from, event);
  if (!t.allowed) return std::string(t.why);
  if (event == VmEvent::Associate && spec.addresses.empty()) return "associate needs at least one address";

  if (it == vms_.end()) it = vms_.emplace(spec.id, LocalVm{}).first;
  LocalVm &vm = it->second;
  if (event == VmEvent::Associate) {
    if (from == VmState::Associated) remove_local_routes(vm.spec);  // address change
    vm.spec = spec;
  }
  vm.state = t.to;
  spdlog::info("vm {}: {} -> {} ({})", vm_id_text(spec.id), vm_state_name(from), vm_state_name(t.to),
               vm_event_name(event));

  switch (event) {
    case VmEvent::Associate:
      break;  // resources reserved; forwarding not populated yet (RFC 8394)
    case VmEvent::Activate:
      if (from != VmState::Activated) {
        vm.mobility = mobility;
        install_local(vm);
        register_vm(vm, cfg_.lifetime_units);
      }
      break;
    case VmEvent::Deactivate:
      remove_local_routes(vm.spec);
      break;
    case VmEvent::Disassociate:
      remove_local_routes(vm.spec);
      if (vm.registered && !bul_.count(vm.spec.id)) {
        register_vm(vm, 0);  // de-register; the entry goes once nvad answers
      } else {
        vms_.erase(it);
      }
      break;
  }
  return std::nullopt;
}

void NveAgent::install_local(const LocalVm &vm) {
  std::vector<RouteChange> batch;
  for (const auto &a : vm.spec.addresses) {
    RouteChange c;
    c.route = {vm.spec.vn, a};
    c.action = DeliverLocal{vm.spec.port, vm.spec.mac, vm.spec.vlan};
    batch.push_back(c);
  }
  const auto res = routes_.apply(batch);
  for (const auto &e : res.errors)
    spdlog::error("vm {}: route {} not installed: {}", vm_id_text(vm.spec.id),
                  vm.spec.addresses[e.index].to_string(), e.reason);
  // The VM came back to us: its old tunnel is gone with the routes above.
  if (bul_.erase(vm.spec.id)) spdlog::info("vm {}: back on this NVE, binding update entry removed", vm_id_text(vm.spec.id));
}

void NveAgent::remove_local_routes(const VmSpec &vm) {
  std::vector<RouteChange> batch;
  for (const auto &a : vm.addresses) {
    auto v = routes_.find({vm.vn, a});
    const auto *local = v ? std::get_if<DeliverLocal>(&v->action) : nullptr;
    if (!local || local->port != vm.port || local->vm_mac != vm.mac) continue;
    RouteChange c;
    c.op = RouteChange::Op::Remove;
    c.route = {vm.vn, a};
    batch.push_back(c);
  }
  if (!batch.empty()) routes_.apply(batch);
}

void NveAgent::remove_routes(uint32_t vn, const std::vector<IpAddress> &addrs) {
  std::vector<RouteChange> batch;
  for (const auto &a : addrs) {
    auto v = routes_.find({vn, a});
    if (!v) continue;
    RouteChange c;
    c.op = RouteChange::Op::Remove;
    c.route = {vn, a};
    batch.push_back(c);
  }
  if (!batch.empty()) routes_.apply(batch);
}

void NveAgent::send_message(const proto::Message &m) {
  const proto::AuthKey *key = keys_.sending_key(cfg_.nvad);
  if (!key) {
    spdlog::error("no key for the management node {}: message not sent", cfg_.nvad.to_string());
    return;
  }
  auto wire = proto::encode(m, *key);
  if (!wire) {
    spdlog::error("cannot encode {}: {}", proto::message_type_name(m.type), wire.error().describe());
    return;
  }
  net_.send(cfg_.nvad, cfg_.nvad_port, wire.value());
}

void NveAgent::on_datagram(const IpAddress &from, uint16_t from_port, std::span<const uint8_t> data) {
  // Only the management node may talk to us; anything else is dropped
  // unanswered (answering would make us a reflector).
  if (from != cfg_.nvad) {
    counters_.dropped_datagrams++;
    warn_limited(from, "not nvad", "datagram from " + from.to_string() + " dropped: not the management node");
    return;
  }
  auto decoded = proto::decode(data);
  if (!decoded) {
    counters_.dropped_datagrams++;
    warn_limited(from, "undecodable", "undecodable message from " + from.to_string() + ": " + decoded.error().describe());
    return;
  }
  const proto::AuthKey *key = keys_.find(from, decoded->auth.key_id);
  const auto verdict = proto::verify_authentication(data, decoded->auth, key);
  if (verdict != proto::AuthVerdict::Authentic) {
    counters_.dropped_datagrams++;
    warn_limited(from, proto::auth_verdict_name(verdict),
                 "message from " + from.to_string() + " dropped: " + proto::auth_verdict_name(verdict));
    return;
  }
  const proto::Message &m = decoded->message;
  if (m.is_reply()) on_reply(m);
  else if (m.notification) on_notification(m, from, from_port);
  else counters_.dropped_datagrams++;  // nvad sends us requests only as notifications
}

void NveAgent::warn_limited(const IpAddress &peer, const std::string &reason, const std::string &line) {
  if (auto admitted = limited_log_.admit(peer, reason, line)) spdlog::warn("{}", *admitted);
}

void NveAgent::tick() {
  const uint64_t now = clock_.now_ms();
  for (auto it = vms_.begin(); it != vms_.end();) {
    LocalVm &vm = it->second;
    if (vm.pending && now >= vm.pending->next_send_ms) {
      if (vm.pending->sent > cfg_.retransmit_count) {
        counters_.registrations_failed++;
        spdlog::error("vm {}: nvad did not answer {} registrations: giving up", vm_id_text(vm.spec.id),
                      vm.pending->sent);
        const bool dereg = vm.pending->request.lifetime == 0;
        vm.pending.reset();
        vm.refresh_at_ms = now + cfg_.retransmit_max_ms;  // try again later
        if (dereg) {
          it = vms_.erase(it);
          continue;
        }
      } else {
        counters_.retransmissions++;
        send_pending(vm);
      }
    } else if (!vm.pending && vm.state == VmState::Activated && vm.refresh_at_ms && now >= vm.refresh_at_ms) {
      register_vm(vm, cfg_.lifetime_units);
    }
    ++it;
  }
  expire_bul(now);
}

std::optional<VmState> NveAgent::vm_state(const proto::VmId &id) const {
  auto it = vms_.find(id);
  if (it == vms_.end()) return std::nullopt;
  return it->second.state;
}

bool NveAgent::registered(const proto::VmId &id) const {
  auto it = vms_.find(id);
  return it != vms_.end() && it->second.registered;
}

nlohmann::json NveAgent::vms_json() const {
  nlohmann::json out = nlohmann::json::array();
  const uint64_t now = clock_.now_ms();
  for (const auto &[id, vm] : vms_) {
    nlohmann::json addrs = nlohmann::json::array();
    for (const auto &a : vm.spec.addresses) addrs.push_back(a.to_string());
    out.push_back({{"vm_id", vm_id_text(id)}, {"state", vm_state_name(vm.state)}, {"vn", vm.spec.vn},
                   {"mac", mac_to_string(vm.spec.mac)}, {"port", vm.spec.port}, {"vlan", vm.spec.vlan},
                   {"addresses", addrs}, {"registered", vm.registered},
                   {"granted_lifetime_s", proto::lifetime_seconds(vm.granted_lifetime)},
                   {"refresh_in_ms", vm.refresh_at_ms > now ? vm.refresh_at_ms - now : 0},
                   {"awaiting_reply", vm.pending.has_value()}});
  }
  return out;
}

nlohmann::json NveAgent::bul_json() const {
  nlohmann::json out = nlohmann::json::array();
  const uint64_t now = clock_.now_ms();
  for (const auto &[id, b] : bul_) {
    nlohmann::json addrs = nlohmann::json::array();
    for (const auto &a : b.addresses) addrs.push_back(a.to_string());
    out.push_back({{"vm_id", vm_id_text(id)}, {"vn", b.vn}, {"addresses", addrs},
                   {"new_nve_ipv4", b.new_nve.ipv4 ? b.new_nve.ipv4->to_string() : ""},
                   {"new_nve_ipv6", b.new_nve.ipv6 ? b.new_nve.ipv6->to_string() : ""},
                   {"age_ms", now - b.created_ms}, {"idle_ms", now - b.last_activity_ms},
                   {"expires_in_ms", b.expires_ms > now ? b.expires_ms - now : 0}, {"hits", b.last_hits}});
  }
  return out;
}

}  // namespace nvmove::agent
