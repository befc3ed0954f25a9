#include "control/nvad/notifier.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/nvad/text_format.h"
#include "control/protocol/names.h"

namespace nvmove::nvad {

Duration NotificationTimers::timeout_after(unsigned sent_before) const {
  Duration timeout = initial_timeout;
  for (unsigned i = 0; i < sent_before && timeout < max_timeout; i++) timeout *= 2;
  return std::min(timeout, max_timeout);
}

proto::Message make_move_notification(const Binding &binding, const PreviousNve &previous,
                                      const RequestStamp &stamp, uint16_t lifetime) {
  proto::Message message;
  message.type = proto::MessageType::RegistrationRequest;
  message.notification = true;
  message.router = previous.role == PreviousRole::Router;
  message.mobility = binding.last_move_mode;
  message.sequence = stamp.sequence;
  message.timestamp_ns = stamp.timestamp_ns;
  message.lifetime = lifetime;
  message.vm_id = binding.vm_id;
  message.vm_mac = binding.mac;
  message.virtual_network = binding.virtual_network;
  message.vm_addresses = binding.addresses;
  message.serving_nve = binding.serving.endpoints;
  return message;
}

namespace {
// The NVE the VM left last (default routers follow the NVE that added them).
const PreviousNve *last_source(const Binding &binding) {
  for (auto it = binding.previous.rbegin(); it != binding.previous.rend(); ++it)
    if (it->role == PreviousRole::Nve) return &*it;
  return nullptr;
}
}  // namespace

uint16_t Notifier::lifetime_asked(const Binding &binding, const PreviousNve &previous) const {
  // Lifetime 0 in a notification: remove the redirect now. Once the binding
  // has ended (de-registered or expired at its new NVE) nobody is there to
  // redirect to. A cold move (seed 003 section 7): the NVE the VM just left
  // still gets packets from correspondents and must redirect them; the older
  // ones drop their entries. Warm is handled as hot (docs/protocol.md 7).
  // A default router's host route is about where the VM is, not about
  // packets in flight: it keeps it whatever the mode.
  if (binding.state == BindingState::DeregisteredGrace) return 0;
  if (previous.role == PreviousRole::Router) return timers_.redirect_lifetime;
  if (binding.last_move_mode == proto::MobilityMode::Cold && &previous != last_source(binding)) return 0;
  return timers_.redirect_lifetime;
}

void Notifier::notify_previous(Binding &binding, Outcome &out) {
  for (auto &previous : binding.previous) {
    // Every previous NVE, even one whose granted lifetime has passed: a
    // redirect that still carries traffic is renewed by its NVE (seed 003
    // section 5, docs/protocol.md section 7), so nvad cannot know it ended.
    forget(binding.key(), previous);
    previous.state = NotificationState::Pending;
    previous.retries = 0;
    previous.rejected_with.reset();
    counters_.notifications_sent++;
    transmit(binding, previous, out);
  }
}

void Notifier::transmit(const Binding &binding, PreviousNve &previous, Outcome &out) {
  const IpAddress &peer = previous.nve.control;
  RequestStamp stamp = peers_.next_stamp(peer, clock_.wall_ns());
  const PeerState &state = peers_.get(peer);
  out.write(PutPeerState{peer, state});

  uint16_t lifetime = lifetime_asked(binding, previous);
  Instant now = clock_.now();
  if (lifetime > 0) previous.redirect_until = now + std::chrono::seconds(proto::lifetime_seconds(lifetime));
  previous.attempts.push_back(stamp);
  outstanding_[{peer, stamp.sequence}] = binding.key();
  previous.next_retransmit = now + timers_.timeout_after(previous.retries);
  queue_.schedule({previous.next_retransmit, TimerKind::Retransmit, binding.key(), peer});

  uint16_t port = state.port != 0 ? state.port : previous.nve.port;
  out.notifications.push_back({{peer, port}, make_move_notification(binding, previous, stamp, lifetime)});
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
  forget(binding.key(), previous);
  previous.state = NotificationState::Failed;
  previous.rejected_with = status;
  counters_.notifications_failed++;
  // Packets in flight to that NVE are lost until it learns of the move some
  // other way; an operator needs to know which NVE and which VM.
  spdlog::warn("move notification for VM {} to {} {} failed: {}", vm_id_text(binding.vm_id),
               previous.role == PreviousRole::Router ? "default router" : "previous NVE",
               previous.nve.control.to_string(),
               status ? std::string("rejected with ") + proto::status_name(*status)
                      : "no acknowledgement after " + std::to_string(previous.retries) +
                            " retransmissions");
}

std::optional<BindingKey> Notifier::find_outstanding(const IpAddress &peer, uint16_t sequence) const {
  auto it = outstanding_.find({peer, sequence});
  if (it == outstanding_.end()) return std::nullopt;
  return it->second;
}

bool Notifier::on_reply(Binding &binding, const IpAddress &peer, const proto::Message &reply,
                        Outcome &out) {
  PreviousNve *previous = binding.find_previous(peer);
  if (!previous || previous->state != NotificationState::Pending) return false;
  // Same sequence number and same timestamp echoed (section 5.3): exact even
  // after the 16-bit sequence number wraps.
  bool answers = std::ranges::any_of(previous->attempts, [&](const RequestStamp &a) {
    return a.sequence == reply.sequence && reply.timestamp_ns == a.timestamp_ns;
  });
  // ... and the VM-ID and VN the notification carried (section 5.3 step 3):
  // an answer about another VM acknowledges nothing of this one.
  if (!answers || reply.vm_id != binding.vm_id || reply.virtual_network != binding.virtual_network) return false;

  if (proto::is_accepted(reply.status)) {
    forget(binding.key(), *previous);
    previous->state = NotificationState::Acknowledged;
    // The NVE may keep the redirect for less than asked, never more.
    Instant granted_until = clock_.now() + std::chrono::seconds(proto::lifetime_seconds(reply.lifetime));
    previous->redirect_until = std::min(previous->redirect_until, granted_until);
    counters_.notifications_acknowledged++;
    spdlog::debug("previous NVE {} acknowledged the move of VM {}", peer.to_string(),
                  vm_id_text(binding.vm_id));
    // After a cold move an older previous NVE was told Lifetime 0 and has
    // dropped its entry: nothing is left there for a later move to update.
    // The last source was told to redirect and still does: it stays, so a
    // later move or the end of the binding reaches it.
    if (binding.last_move_mode == proto::MobilityMode::Cold && lifetime_asked(binding, *previous) == 0)
      std::erase_if(binding.previous, [&](const PreviousNve &p) { return p.nve.control == peer; });
    return true;
  }
  if (reply.status == proto::Status::BadSequenceNumber && reply.expected_sequence) {
    // The NVE remembers a later sequence number from us than we do (the
    // store was lost or restored from a backup): continue from its value and
    // retransmit at once (section 7).
    PeerState &state = peers_.get(peer);
    state.next_sequence = *reply.expected_sequence;
    out.write(PutPeerState{peer, state});
    spdlog::info("previous NVE {} expects sequence {} from nvad: resynchronised", peer.to_string(),
                 *reply.expected_sequence);
    retransmit_or_fail(binding, *previous, out);
    return true;
  }
  if (reply.status == proto::Status::BadSequenceNumber) {
    // 135 without the Expected Sequence Number: nothing to resynchronise
    // to, but no refusal of the move either (section 7, reactions): a
    // transient failure; the retransmission timer carries on.
    spdlog::info("previous NVE {} refused sequence {} without saying which it expects: retransmitting",
                 peer.to_string(), reply.sequence);
    return true;
  }
  fail(binding, *previous, reply.status);
  return true;
}

void Notifier::forget(const BindingKey &key, PreviousNve &previous) {
  for (const auto &attempt : previous.attempts) {
    auto it = outstanding_.find({previous.nve.control, attempt.sequence});
    if (it != outstanding_.end() && it->second == key) outstanding_.erase(it);
  }
  previous.attempts.clear();
}

void Notifier::forget_all(Binding &binding) {
  for (auto &previous : binding.previous) forget(binding.key(), previous);
}

void Notifier::restore_binding(const Binding &binding) {
  for (const auto &previous : binding.previous) {
    if (previous.state != NotificationState::Pending) continue;
    for (const auto &attempt : previous.attempts)
      outstanding_[{previous.nve.control, attempt.sequence}] = binding.key();
    queue_.schedule({previous.next_retransmit, TimerKind::Retransmit, binding.key(),
                     previous.nve.control});
  }
}

}  // namespace nvmove::nvad
