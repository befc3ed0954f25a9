#include "control/agent/registration_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"
#include "control/protocol/vm_id_text.h"
#include "control/protocol/wire_format.h"

namespace nvmove::agent {

using proto::vm_id_text;

RegistrationClient::RegistrationClient(const AgentConfig &cfg, const proto::KeyTable &keys, const Clock &clock,
                                       AgentCounters &counters)
    : cfg_(cfg),
      keys_(keys),
      clock_(clock),
      counters_(counters),
      // Start where a previous run of this NVE is unlikely to have been; nvad
      // answers "bad sequence number" with the value it expects otherwise.
      next_sequence_(static_cast<uint16_t>(clock.wall_ns() / 1000)),
      jitter_state_(clock.wall_ns() | 1) {}

namespace {
// Refusals whose cause an operator must fix (configuration, keys, identity
// conflicts): retried rarely. The others (128, 130, 156, 157, unknown) are
// transient: retried like an unanswered request.
bool is_policy_refusal(proto::Status s) {
  switch (s) {
    case proto::Status::AdministrativelyProhibited:
    case proto::Status::NotAuthorized:
    case proto::Status::MissingMandatoryOption:
    case proto::Status::VmIdentityMismatch:
    case proto::Status::UnknownVirtualNetwork:
      return true;
    default:
      return false;
  }
}
}  // namespace

uint64_t RegistrationClient::jittered(uint64_t interval_ms) {
  // +-25%: xorshift64, enough to spread NVEs refused by the same event.
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 7;
  jitter_state_ ^= jitter_state_ << 17;
  const uint64_t spread = interval_ms / 2;
  return interval_ms - interval_ms / 4 + (spread ? jitter_state_ % (spread + 1) : 0);
}

void RegistrationClient::schedule_retry(LocalVm &vm, proto::Status status) {
  const bool policy = is_policy_refusal(status);
  const uint64_t first = policy ? cfg_.retransmit_max_ms : cfg_.retransmit_initial_ms;
  const uint64_t cap = policy ? std::max<uint64_t>(kPolicyRetryMaxMs, cfg_.retransmit_max_ms) : cfg_.retransmit_max_ms;
  vm.retry_interval_ms = vm.retry_interval_ms ? std::min(vm.retry_interval_ms * 2, cap) : first;
  vm.retry_at_ms = clock_.now_ms() + jittered(vm.retry_interval_ms);
  vm.refresh_at_ms = 0;  // the retry replaces the refresh: never both, never a storm
  // Logged once per cause, not once per retry.
  if (vm.refused_with != status)
    spdlog::error("vm {}: registration refused by nvad: {}{}; retrying every {} s at most", vm_id_text(vm.spec.id),
                  proto::status_name(status), policy ? " (needs a configuration change)" : "",
                  (policy ? cap : cfg_.retransmit_max_ms) / 1000);
  vm.refused_with = status;
}

RegistrationClient::EventResult RegistrationClient::vm_event(VmEvent event, const VmSpec &spec,
                                                             proto::MobilityMode mobility,
                                                             const RouteBackend &routes, bool tunnelled_away) {
  EventResult r;
  if (spec.id.empty() || spec.id.size() > proto::kVmIdMaxBytes) {
    r.refused = "VM-ID must be 1..253 bytes";
    return r;
  }
  auto it = vms_.find(spec.id);
  const VmState from = it == vms_.end() ? VmState::Init : it->second.state;
  const Transition t = next_state(from, event);
  if (!t.allowed) {
    r.refused = t.why;
    return r;
  }
  if (event == VmEvent::Associate && spec.addresses.empty()) {
    r.refused = "associate needs at least one address";
    return r;
  }
  if (event == VmEvent::Associate) {
    // One VM per MAC and per address in a VN (nvad refuses the same with
    // 159 later; here the second VM would silently take the first one's
    // route and a deactivate would then remove it).
    for (const auto &[other_id, other] : vms_) {
      if (other_id == spec.id || other.spec.vn != spec.vn) continue;
      if (other.spec.mac == spec.mac) {
        r.refused = "MAC " + mac_to_string(spec.mac) + " in VN " + std::to_string(spec.vn) + " belongs to VM " +
                    vm_id_text(other_id);
        return r;
      }
      for (const auto &a : spec.addresses)
        if (std::find(other.spec.addresses.begin(), other.spec.addresses.end(), a) != other.spec.addresses.end()) {
          r.refused = "address " + a.to_string() + " in VN " + std::to_string(spec.vn) + " belongs to VM " +
                      vm_id_text(other_id);
          return r;
        }
    }
  }

  if (it == vms_.end()) it = vms_.emplace(spec.id, LocalVm{}).first;
  LocalVm &vm = it->second;
  if (event == VmEvent::Associate) {
    if (from == VmState::Associated) remove_local_routes(vm.spec, routes, r.outcome);  // address change
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
        install_local(vm, r.outcome);
        r.installed_locally = true;
        register_vm(vm, cfg_.lifetime_units, r.outcome);
      }
      break;
    case VmEvent::Deactivate:
      remove_local_routes(vm.spec, routes, r.outcome);
      break;
    case VmEvent::Disassociate:
      remove_local_routes(vm.spec, routes, r.outcome);
      if (vm.registered && !tunnelled_away) {
        register_vm(vm, 0, r.outcome);  // de-register; the entry goes once nvad answers
      } else {
        vms_.erase(it);
      }
      break;
  }
  return r;
}

void RegistrationClient::install_local(const LocalVm &vm, AgentOutcome &out) {
  for (const auto &a : vm.spec.addresses) {
    RouteChange c;
    c.route = {vm.spec.vn, a};
    c.action = DeliverLocal{vm.spec.port, vm.spec.mac, vm.spec.vlan};
    out.routes.push_back(c);
  }
}

void RegistrationClient::remove_local_routes(const VmSpec &vm, const RouteBackend &routes, AgentOutcome &out) {
  for (const auto &a : vm.addresses) {
    auto v = routes.find({vm.vn, a});
    const auto *local = v ? std::get_if<DeliverLocal>(&v->action) : nullptr;
    if (!local || local->port != vm.port || local->vm_mac != vm.mac) continue;
    out.routes.push_back(route_removal(vm.vn, a));
  }
}

void RegistrationClient::register_vm(LocalVm &vm, uint16_t lifetime, AgentOutcome &out) {
  proto::Message m;
  m.type = proto::MessageType::RegistrationRequest;
  m.mobility = lifetime ? vm.mobility : proto::MobilityMode::None;
  m.lifetime = lifetime;
  m.vm_id = vm.spec.id;
  m.vm_mac = vm.spec.mac;
  m.virtual_network = vm.spec.vn;
  m.vm_addresses = vm.spec.addresses;
  m.serving_nve = cfg_.endpoints_for(vm.spec.vn);
  vm.pending = Outstanding{m, 0, cfg_.retransmit_initial_ms, 0, {}};
  send_pending(vm, out);
}

bool RegistrationClient::Outstanding::answered_by(const proto::Message &reply) const {
  proto::Message sent = request;
  for (const auto &[sequence, timestamp_ns] : attempts) {
    sent.sequence = sequence;
    sent.timestamp_ns = timestamp_ns;
    if (proto::is_reply_to(reply, sent)) return true;
  }
  return false;
}

void RegistrationClient::send_pending(LocalVm &vm, AgentOutcome &out, bool to_next_nvad) {
  Outstanding &p = *vm.pending;
  // Every transmission is a new request to nvad's replay guard: new
  // sequence number and timestamp (a retransmission of the same bytes would
  // be taken for a replay).
  p.request.sequence = next_sequence_;
  next_sequence_ = proto::seq_next(next_sequence_);
  last_timestamp_ns_ = std::max(clock_.wall_ns(), last_timestamp_ns_ + 1);
  p.request.timestamp_ns = last_timestamp_ns_;
  p.attempts.emplace_back(p.request.sequence, *p.request.timestamp_ns);
  if (auto d = seal(p.request, current_nvad(), cfg_.nvad_port, keys_)) out.datagrams.push_back(std::move(*d));
  counters_.requests_sent++;
  // The same transmission handed to the next nvad after a standby's 133:
  // neither a retransmission (counted against retransmit_count) nor a reason
  // to back off; the transmission's timer runs on.
  if (to_next_nvad) return;
  p.not_active = 0;  // a new transmission may go round every nvad again
  p.sent++;
  p.next_send_ms = clock_.now_ms() + p.interval_ms;
  p.interval_ms = std::min(p.interval_ms * 2, cfg_.retransmit_max_ms);
}

void RegistrationClient::fail_over(uint64_t now_ms) {
  if (cfg_.nvads.size() < 2) return;
  nvad_index_ = (nvad_index_ + 1) % cfg_.nvads.size();
  nvad_switched_ms_ = now_ms;
  counters_.nvad_failovers++;
  spdlog::warn("requests to nvad {} from now on", current_nvad().to_string());
}

std::optional<AgentOutcome> RegistrationClient::on_reply(const proto::Message &reply, const IpAddress &from) {
  for (auto it = vms_.begin(); it != vms_.end(); ++it) {
    LocalVm &vm = it->second;
    if (!vm.pending || !vm.pending->answered_by(reply)) continue;
    AgentOutcome out;
    const uint64_t now = clock_.now_ms();
    if (reply.status == proto::Status::NotActiveManagementNode) {
      // A standby of an nvad cluster: the request goes to the next nvad, at
      // once the first time round, then at the retransmission pace (all of
      // them standbys: an election is under way).
      counters_.replies_not_active++;
      if (from == current_nvad()) fail_over(now);
      if (++vm.pending->not_active < cfg_.nvads.size()) send_pending(vm, out, true);
      return out;
    }
    // Whoever answered anything else is the active nvad.
    nvad_heard_ms_ = now;
    for (size_t i = 0; i < cfg_.nvads.size(); i++)
      if (cfg_.nvads[i] == from) nvad_index_ = i;
    const bool dereg = vm.pending->request.lifetime == 0;
    if (proto::is_accepted(reply.status)) {
      counters_.replies_accepted++;
      vm.pending.reset();
      if (dereg) {
        spdlog::info("vm {}: de-registered", vm_id_text(vm.spec.id));
        vms_.erase(it);
        return out;
      }
      vm.registered = true;
      vm.granted_lifetime = reply.lifetime;
      if (vm.refused_with)
        spdlog::info("vm {}: registration accepted after refusals ({})", vm_id_text(vm.spec.id),
                     proto::status_name(*vm.refused_with));
      vm.refused_with.reset();
      vm.retry_at_ms = vm.retry_interval_ms = 0;
      // Refresh at three quarters of the granted lifetime.
      const uint64_t life_ms = uint64_t{proto::lifetime_seconds(reply.lifetime)} * 1000;
      vm.refresh_at_ms = clock_.now_ms() + life_ms * 3 / 4;
      spdlog::info("vm {}: registered, lifetime {} s", vm_id_text(vm.spec.id), proto::lifetime_seconds(reply.lifetime));
      return out;
    }
    counters_.replies_rejected++;
    if (reply.status == proto::Status::BadSequenceNumber && reply.expected_sequence) {
      // nvad remembers a later sequence (we restarted): continue from there.
      next_sequence_ = *reply.expected_sequence;
      spdlog::info("vm {}: nvad expects sequence {}: resending", vm_id_text(vm.spec.id), next_sequence_);
      vm.pending->interval_ms = cfg_.retransmit_initial_ms;
      send_pending(vm, out);
      return out;
    }
    counters_.registrations_failed++;
    vm.pending.reset();
    if (dereg) {
      // nvad expires the binding anyway: nothing to insist on.
      spdlog::warn("vm {}: de-registration refused: {}", vm_id_text(vm.spec.id), proto::status_name(reply.status));
      vms_.erase(it);
      return out;
    }
    schedule_retry(vm, reply.status);
    return out;
  }
  return std::nullopt;
}

AgentOutcome RegistrationClient::tick() {
  AgentOutcome out;
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
        if (now - nvad_heard_ms_ >= cfg_.retransmit_initial_ms && now - nvad_switched_ms_ >= cfg_.retransmit_initial_ms)
          fail_over(now);
        send_pending(vm, out);
      }
    } else if (!vm.pending && vm.state == VmState::Activated && vm.retry_at_ms && now >= vm.retry_at_ms) {
      vm.retry_at_ms = 0;  // after a refusal: one request, then its reply decides
      register_vm(vm, cfg_.lifetime_units, out);
    } else if (!vm.pending && vm.state == VmState::Activated && vm.refresh_at_ms && now >= vm.refresh_at_ms) {
      register_vm(vm, cfg_.lifetime_units, out);
    }
    ++it;
  }
  return out;
}

std::optional<VmSpec> RegistrationClient::associated_vm(uint16_t port, uint16_t vlan, const MacAddress &mac,
                                                       const IpAddress &address) const {
  for (const auto &[id, vm] : vms_) {
    if (vm.state != VmState::Associated || vm.spec.port != port || vm.spec.vlan != vlan || vm.spec.mac != mac)
      continue;
    for (const auto &a : vm.spec.addresses)
      if (a == address) return vm.spec;
  }
  return std::nullopt;
}

// The VM's interface and lifecycle state: shown by `show vms` and saved in
// the state file alike.
nlohmann::json RegistrationClient::interface_json(const LocalVm &vm) {
  nlohmann::json addrs = nlohmann::json::array();
  for (const auto &a : vm.spec.addresses) addrs.push_back(a.to_string());
  return {{"vm_id", vm_id_text(vm.spec.id)}, {"state", vm_state_name(vm.state)}, {"vn", vm.spec.vn},
          {"mac", mac_to_string(vm.spec.mac)}, {"port", vm.spec.port}, {"vlan", vm.spec.vlan},
          {"addresses", addrs}};
}

nlohmann::json RegistrationClient::export_state() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto &[id, vm] : vms_) {
    nlohmann::json v = interface_json(vm);
    v["mobility"] = static_cast<int>(vm.mobility);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<RegistrationClient::Restored> RegistrationClient::parse_state(const nlohmann::json &vms) {
  std::vector<Restored> out;
  if (!vms.is_array()) return out;
  for (const auto &v : vms) {
    Restored r;
    auto id = proto::parse_vm_id(v.value("vm_id", std::string()));
    auto mac = parse_mac(v.value("mac", std::string()));
    const std::string state = v.value("state", std::string());
    if (!id || !mac) continue;
    r.spec.id = *id;
    r.spec.mac = *mac;
    r.spec.vn = v.value("vn", 0u);
    r.spec.port = v.value("port", uint16_t{0});
    r.spec.vlan = v.value("vlan", uint16_t{0});
    for (const auto &a : v.value("addresses", nlohmann::json::array()))
      if (a.is_string())
        if (auto ip = IpAddress::parse(a.get<std::string>())) r.spec.addresses.push_back(*ip);
    if (state == vm_state_name(VmState::Activated)) r.state = VmState::Activated;
    else if (state == vm_state_name(VmState::Associated)) r.state = VmState::Associated;
    else continue;
    r.mobility = static_cast<proto::MobilityMode>(v.value("mobility", 0));
    if (!r.spec.addresses.empty()) out.push_back(r);
  }
  return out;
}

std::optional<VmState> RegistrationClient::vm_state(const proto::VmId &id) const {
  auto it = vms_.find(id);
  if (it == vms_.end()) return std::nullopt;
  return it->second.state;
}

bool RegistrationClient::registered(const proto::VmId &id) const {
  auto it = vms_.find(id);
  return it != vms_.end() && it->second.registered;
}

nlohmann::json RegistrationClient::vms_json() const {
  nlohmann::json out = nlohmann::json::array();
  const uint64_t now = clock_.now_ms();
  for (const auto &[id, vm] : vms_) {
    nlohmann::json v = interface_json(vm);
    v["registered"] = vm.registered;
    v["granted_lifetime_s"] = proto::lifetime_seconds(vm.granted_lifetime);
    v["refresh_in_ms"] = vm.refresh_at_ms > now ? vm.refresh_at_ms - now : 0;
    v["awaiting_reply"] = vm.pending.has_value();
    v["refused_with"] = vm.refused_with ? nlohmann::json(proto::status_name(*vm.refused_with)) : nlohmann::json();
    v["retry_in_ms"] = vm.retry_at_ms > now ? vm.retry_at_ms - now : 0;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace nvmove::agent
