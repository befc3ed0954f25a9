// Registrations this NVE sends for its local VMs, and nvad's replies.
#include <spdlog/spdlog.h>

#include "control/agent/nve_agent.h"
#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"

namespace nvmove::agent {

void NveAgent::register_vm(LocalVm &vm, uint16_t lifetime) {
  proto::Message m;
  m.type = proto::MessageType::RegistrationRequest;
  m.mobility = lifetime ? vm.mobility : proto::MobilityMode::None;
  m.lifetime = lifetime;
  m.vm_id = vm.spec.id;
  m.vm_mac = vm.spec.mac;
  m.virtual_network = vm.spec.vn;
  m.vm_addresses = vm.spec.addresses;
  m.serving_nve = cfg_.self;
  vm.pending = Outstanding{m, 0, cfg_.retransmit_initial_ms, 0};
  send_pending(vm);
}

void NveAgent::send_pending(LocalVm &vm) {
  Outstanding &p = *vm.pending;
  // Every transmission is a new request to nvad's replay guard: new
  // sequence number and timestamp (a retransmission of the same bytes would
  // be taken for a replay).
  p.request.sequence = next_sequence_;
  next_sequence_ = proto::seq_next(next_sequence_);
  p.request.timestamp_ns = clock_.wall_ns();
  send_message(p.request);
  counters_.requests_sent++;
  p.sent++;
  p.next_send_ms = clock_.now_ms() + p.interval_ms;
  p.interval_ms = std::min(p.interval_ms * 2, cfg_.retransmit_max_ms);
}

void NveAgent::on_reply(const proto::Message &reply) {
  for (auto it = vms_.begin(); it != vms_.end(); ++it) {
    LocalVm &vm = it->second;
    if (!vm.pending || !proto::is_reply_to(reply, vm.pending->request)) continue;
    const bool dereg = vm.pending->request.lifetime == 0;
    if (proto::is_accepted(reply.status)) {
      counters_.replies_accepted++;
      vm.pending.reset();
      if (dereg) {
        spdlog::info("vm {}: de-registered", vm_id_text(vm.spec.id));
        vms_.erase(it);
        return;
      }
      vm.registered = true;
      vm.granted_lifetime = reply.lifetime;
      // Refresh at three quarters of the granted lifetime.
      const uint64_t life_ms = uint64_t{proto::lifetime_seconds(reply.lifetime)} * 1000;
      vm.refresh_at_ms = clock_.now_ms() + life_ms * 3 / 4;
      spdlog::info("vm {}: registered, lifetime {} s", vm_id_text(vm.spec.id), proto::lifetime_seconds(reply.lifetime));
      return;
    }
    counters_.replies_rejected++;
    if (reply.status == proto::Status::BadSequenceNumber && reply.expected_sequence) {
      // nvad remembers a later sequence (we restarted): continue from there.
      next_sequence_ = *reply.expected_sequence;
      spdlog::info("vm {}: nvad expects sequence {}: resending", vm_id_text(vm.spec.id), next_sequence_);
      vm.pending->interval_ms = cfg_.retransmit_initial_ms;
      send_pending(vm);
      return;
    }
    spdlog::error("vm {}: registration rejected: {}", vm_id_text(vm.spec.id), proto::status_name(reply.status));
    counters_.registrations_failed++;
    vm.pending.reset();
    if (dereg) vms_.erase(it);
    return;
  }
  counters_.dropped_datagrams++;  // a reply to nothing we asked (late or replayed)
}

}  // namespace nvmove::agent
