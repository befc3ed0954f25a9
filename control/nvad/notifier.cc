#include "control/nvad/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/nvad/text_format.h"
#include "control/protocol/names.h"
#include "control/protocol/replay.h"

namespace nvmove::nvad {

Duration NotificationTimers::timeout_after(unsigned sent_before) const {
  Duration timeout = initial_timeout;
  for (unsigned i = 0; i < sent_before && timeout < max_timeout; i++) timeout *= 2;
  return std::min(timeout, max_timeout);
}

proto::Message make_move_notification(const Binding &binding, const RequestStamp &attempt) {
  proto::Message message;
  message.type = proto::MessageType::RegistrationRequest;
  message.notification = true;
  // Cold tells the NVE to drop its entry; hot and warm to tunnel packets in
  // flight to the new serving NVE.
  message.mobility = binding.last_move_mode;
  message.sequence = attempt.sequence;
  message.timestamp_ns = attempt.timestamp_ns;
  // Lifetime 0 would read as a de-registration; the binding's own lifetime
  // says how long the new location is good for.
  message.lifetime = std::max<uint16_t>(binding.granted_lifetime, 1);
  message.vm_id = binding.vm_id;
  message.vm_mac = binding.mac;
  message.virtual_network = binding.virtual_network;
  message.vm_addresses = binding.addresses;
  message.serving_nve = binding.serving.endpoints;
  // Informational: the NVE the VM has just left.
  if (!binding.previous.empty()) message.previous_nve = binding.previous.back().nve.endpoints;
  return message;
}

void Notifier::notify_previous(Binding &binding, Outcome &out) {
  for (auto &previous : binding.previous) {
    forget(binding.vm_id, previous);
    previous.state = NotificationState::Pending;
    previous.retries = 0;
    previous.rejected_with.reset();
    counters_.notifications_sent++;
    transmit(binding, previous, out);
  }
}

void Notifier::transmit(const Binding &binding, PreviousNve &previous, Outcome &out) {
  const IpAddress &peer = previous.nve.control;
  PeerSendState &state = peers_[peer];
  // Strictly increasing per peer even if the wall clock repeats a value
  // (coarse clocks, or two notifications in the same nanosecond).
  RequestStamp attempt{state.next_sequence, std::max(clock_.wall_ns(), state.last_timestamp_ns + 1)};
  state.next_sequence = proto::seq_next(state.next_sequence);
  state.last_timestamp_ns = attempt.timestamp_ns;
  out.writes.push_back(PutPeerSendState{peer, state});

  previous.attempts.push_back(attempt);
  outstanding_[{peer, attempt.sequence}] = binding.vm_id;
  previous.next_retransmit = clock_.now() + timers_.timeout_after(previous.retries);
  queue_.schedule({previous.next_retransmit, TimerKind::Retransmit, binding.vm_id, peer});

  uint16_t port = state.port != 0 ? state.port : previous.nve.port;
  out.notifications.push_back({{peer, port}, make_move_notification(binding, attempt)});
}

void Notifier::on_retransmit_due(Binding &binding, PreviousNve &previous, Outcome &out) {
  if (previous.state != NotificationState::Pending || previous.next_retransmit > clock_.now()) return;
  retransmit_or_fail(binding, previous, out);
}

void Notifier::retransmit_or_fail(Binding &binding, PreviousNve &previous, Outcome &out) {
  if (previous.retries >= timers_.retries) {
    fail(binding, previous, std::nullopt);
    return;
  }
  previous.retries++;
  counters_.retransmissions++;
  transmit(binding, previous, out);
}

void Notifier::fail(Binding &binding, PreviousNve &previous, std::optional<proto::Status> status) {
  forget(binding.vm_id, previous);
  previous.state = NotificationState::Failed;
  previous.rejected_with = status;
  counters_.notifications_failed++;
  // Packets in flight to that NVE are lost until it learns of the move some
  // other way; an operator needs to know which NVE and which VM.
  spdlog::warn("move notification for VM {} to previous NVE {} failed: {}", vm_id_text(binding.vm_id),
               address_text(previous.nve.control),
               status ? std::string("rejected with ") + proto::status_name(*status)
                      : "no acknowledgement after " + std::to_string(previous.retries) +
                            " retransmissions");
}

std::optional<VmId> Notifier::find_outstanding(const IpAddress &peer, uint16_t sequence) const {
  auto it = outstanding_.find({peer, sequence});
  if (it == outstanding_.end()) return std::nullopt;
  return it->second;
}

bool Notifier::on_reply(Binding &binding, const IpAddress &peer, const proto::Message &reply,
                        Outcome &out) {
  PreviousNve *previous = binding.find_previous(peer);
  if (!previous || previous->state != NotificationState::Pending) return false;
  // The echoed timestamp makes the match exact even after the 16-bit
  // sequence number wraps (reply_builder.h, is_reply_to()).
  bool answers = std::ranges::any_of(previous->attempts, [&](const RequestStamp &a) {
    return a.sequence == reply.sequence && reply.timestamp_ns == a.timestamp_ns;
  });
  if (!answers) return false;

  if (proto::is_accepted(reply.status)) {
    forget(binding.vm_id, *previous);
    previous->state = NotificationState::Acknowledged;
    counters_.notifications_acknowledged++;
    spdlog::debug("previous NVE {} acknowledged the move of VM {}", address_text(peer),
                  vm_id_text(binding.vm_id));
    // After a cold move the NVE has dropped its entry: nothing is left there
    // for a later move to update.
    if (binding.last_move_mode == proto::MobilityMode::Cold)
      std::erase_if(binding.previous, [&](const PreviousNve &p) { return p.nve.control == peer; });
    return true;
  }
  if (reply.status == proto::Status::BadSequenceNumber && reply.expected_sequence) {
    // The NVE remembers a later sequence from us than we do (our store was
    // lost or restored from a backup): continue from its value.
    PeerSendState &state = peers_[peer];
    state.next_sequence = *reply.expected_sequence;
    spdlog::info("previous NVE {} expects sequence {} from nvad: resynchronised", address_text(peer),
                 *reply.expected_sequence);
    retransmit_or_fail(binding, *previous, out);
    return true;
  }
  fail(binding, *previous, reply.status);
  return true;
}

void Notifier::heard_from(const IpAddress &peer, uint16_t port, Outcome &out) {
  PeerSendState &state = peers_[peer];
  if (state.port == port) return;
  state.port = port;
  out.writes.push_back(PutPeerSendState{peer, state});
}

void Notifier::forget(const VmId &vm, PreviousNve &previous) {
  for (const auto &attempt : previous.attempts) {
    auto it = outstanding_.find({previous.nve.control, attempt.sequence});
    if (it != outstanding_.end() && it->second == vm) outstanding_.erase(it);
  }
  previous.attempts.clear();
}

void Notifier::forget_all(Binding &binding) {
  for (auto &previous : binding.previous) forget(binding.vm_id, previous);
}

void Notifier::restore_binding(const Binding &binding) {
  for (const auto &previous : binding.previous) {
    if (previous.state != NotificationState::Pending) continue;
    for (const auto &attempt : previous.attempts)
      outstanding_[{previous.nve.control, attempt.sequence}] = binding.vm_id;
    queue_.schedule({previous.next_retransmit, TimerKind::Retransmit, binding.vm_id,
                     previous.nve.control});
  }
}

}  // namespace nvmove::nvad
