#include "control/nvad/registrar.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "control/nvad/flap_detection.h"
#include "control/nvad/text_format.h"
#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"

namespace nvmove::nvad {
namespace {

NveRef nve_of(const Inbound &in) { return NveRef{in.peer, in.port, in.message.serving_nve}; }

RequestStamp stamp_of(const proto::Message &request) {
  return RequestStamp{request.sequence, request.timestamp_ns.value_or(0)};
}

// At most this many Redirecting NVE Addresses in a reply: 32 IPv6 options are
// 640 bytes, which fits the 1232-byte message beside the largest VM-ID.
constexpr size_t kMaxRedirectingNves = 32;

}  // namespace

Registrar::Registrar(RegistrationPolicy policy, const Clock &clock)
    : policy_(std::move(policy)),
      clock_(clock),
      notifier_(policy_.notifications, clock_, counters_, timers_, peers_) {}

void Registrar::heard_from(const Inbound &in, Outcome &out) {
  // Notifications go to the port the NVE last sent from, which follows an
  // NVE restart onto a new port.
  PeerState &peer = peers_.get(in.peer);
  if (peer.port == in.port) return;
  peer.port = in.port;
  out.write(PutPeerState{in.peer, peer});
}

Outcome Registrar::handle_request(const Inbound &in) {
  counters_.requests_received++;
  Outcome out;
  const proto::Message &request = in.message;
  if (!request.timestamp_ns) {
    // A reply echoes the Timestamp to be matched (section 5.3 step 3): a 158
    // to this request could match nothing, and without a Timestamp it
    // escapes the replay check, so every copy would be answered.
    counters_.drop(DropReason::NoTimestamp);
    out.dropped = DropReason::NoTimestamp;
    return out;
  }
  if (auto refusal = check_mandatory_options(request)) return reject(in, *refusal, std::move(out));

  PeerState &peer = peers_.get(in.peer);
  auto verdict = peer.received.check(request.sequence, *request.timestamp_ns, clock_.wall_ns(),
                                     policy_.timestamp_window);
  if (verdict == proto::ReplayVerdict::Duplicate) {
    // Answered already; answering again would make nvad a reflector.
    counters_.drop(DropReason::Duplicate);
    out.dropped = DropReason::Duplicate;
    return out;
  }
  if (verdict != proto::ReplayVerdict::Fresh) {
    peer.received.record_refused(request.sequence, *request.timestamp_ns);
    return reject_replay(in, verdict, peer.received.expected_sequence(), std::move(out));
  }
  // Recorded whatever the answer, so that a replay of this very request is
  // dropped as a duplicate instead of being evaluated again.
  peer.received.record(request.sequence, *request.timestamp_ns, clock_.wall_ns());
  peer.port = in.port;
  out.write(PutPeerState{in.peer, peer});

  std::optional<Refusal> refusal = check_not_a_notification(request);
  if (!refusal) refusal = check_peer_listed(policy_, in.peer);
  if (!refusal) refusal = check_endpoints(policy_, in.peer, request);
  if (!refusal) refusal = check_virtual_network(policy_, in.peer, request);
  const Binding *existing = cache_.find({*request.virtual_network, *request.vm_id});
  if (!refusal) refusal = check_identity(cache_, existing, request);
  if (refusal) return reject(in, *refusal, std::move(out));

  std::optional<Binding> binding;
  if (existing) binding = *existing;
  if (request.lifetime == 0) return deregister(in, std::move(binding), std::move(out));
  if (!binding) return create(in, std::move(out));
  if (binding->serving.control == in.peer) return refresh(in, std::move(*binding), std::move(out));
  return move(in, std::move(*binding), std::move(out));
}

Outcome Registrar::reject(const Inbound &in, Refusal refusal, Outcome out) {
  if (!peers_.get(in.peer).admit_refusal(clock_.now())) {
    // Over the per-peer refusal rate: unanswered, counted once, as a drop.
    counters_.drop(DropReason::RefusalRateLimited);
    out.dropped = DropReason::RefusalRateLimited;
    return out;
  }
  counters_.reject(refusal.status);
  out.reply = Outgoing{{in.peer, in.port}, proto::make_reply(in.message, refusal.status, 0)};
  out.rejection = Rejection{in.peer, refusal.status, std::move(refusal.reason)};
  return out;
}

Outcome Registrar::reject_replay(const Inbound &in, proto::ReplayVerdict verdict,
                                 std::optional<uint16_t> expected, Outcome out) {
  auto status = proto::rejection_status(verdict).value_or(proto::Status::Unspecified);
  std::string reason = proto::replay_verdict_name(verdict);
  if (status != proto::Status::BadSequenceNumber)
    return reject(in, Refusal{status, std::move(reason)}, std::move(out));
  // Serial arithmetic (RFC 1982): the NVE resynchronises from this value.
  uint16_t next = expected.value_or(0);
  reason += ": got " + std::to_string(in.message.sequence) + ", expected " + std::to_string(next);
  out = reject(in, Refusal{status, std::move(reason)}, std::move(out));
  // No reply when the peer is over its refusal rate (reject() dropped it).
  if (out.reply) out.reply->message = proto::make_bad_sequence_reply(in.message, next);
  return out;
}

void Registrar::accept(const Inbound &in, uint16_t granted_lifetime, Outcome &out) {
  out.reply = Outgoing{{in.peer, in.port},
                       proto::make_reply(in.message, proto::Status::Accepted, granted_lifetime)};
}

void Registrar::accept(const Inbound &in, const Binding &binding, Outcome &out) {
  accept(in, binding.granted_lifetime, out);
  // The NVEs still redirecting this VM's packets in flight tunnel them to the
  // registering NVE, which decapsulates only from NVEs it knows: tell it
  // which (docs/protocol.md 7, "Who may tunnel to an NVE"). Every previous
  // NVE asked to redirect, whatever its redirect_until (it renews a busy
  // redirect on its own); newest first, so the bound drops the oldest.
  std::vector<IpAddress> &listed = out.reply->message.redirecting_nves;
  for (auto it = binding.previous.rbegin(); it != binding.previous.rend(); ++it) {
    // A default router routes natively: it never tunnels.
    if (it->role == PreviousRole::Router || notifier_.lifetime_asked(binding, *it) == 0) continue;
    for (const IpAddress &a : permitted_endpoints(policy_, it->nve.control))
      if (listed.size() < kMaxRedirectingNves && std::ranges::find(listed, a) == listed.end())
        listed.push_back(a);
  }
}

void Registrar::grant_lifetime(Binding &binding, const Inbound &in) {
  binding.granted_lifetime = std::min(in.message.lifetime, policy_.max_lifetime);
  binding.registered_at = clock_.now();
  binding.expires_at = binding.registered_at +
                       std::chrono::seconds(proto::lifetime_seconds(binding.granted_lifetime));
  binding.state = BindingState::Active;
  binding.last_requests[in.peer] = stamp_of(in.message);
}

Outcome Registrar::deregister(const Inbound &in, std::optional<Binding> binding, Outcome out) {
  if (!binding || binding->serving.control != in.peer) {
    // Nothing to remove, or the VM has moved on and this is its old NVE
    // cleaning up late: answered 0, and the binding stays as the new NVE
    // registered it (docs/protocol.md section 7).
    counters_.stale_deregistrations++;
    accept(in, 0, out);
    return out;
  }
  binding->state = BindingState::DeregisteredGrace;
  binding->granted_lifetime = 0;
  binding->last_requests[in.peer] = stamp_of(in.message);
  // Kept a little while, so that reordered messages about it are still
  // recognised and an NVE the VM moves to next still learns of this one.
  binding->expires_at = clock_.now() + policy_.deregistration_grace;
  counters_.deregistrations++;
  spdlog::debug("VM {} de-registered by NVE {}; deleted in {} unless registered again",
               vm_id_text(binding->vm_id), in.peer.to_string(),
               duration_text(policy_.deregistration_grace));
  // The previous NVEs' redirects end with it (lifetime 0).
  notifier_.notify_previous(*binding, out);
  schedule_deadline(*binding);
  save(std::move(*binding), out);
  accept(in, 0, out);
  return out;
}

Outcome Registrar::create(const Inbound &in, Outcome out) {
  const proto::Message &request = in.message;
  if (cache_.size() >= policy_.max_bindings)
    return reject(in,
                  Refusal{proto::Status::InsufficientResources,
                          "binding cache full (max_bindings " + std::to_string(policy_.max_bindings) + ")"},
                  std::move(out));
  Binding binding;
  binding.vm_id = *request.vm_id;
  binding.virtual_network = *request.virtual_network;
  binding.mac = *request.vm_mac;
  binding.addresses = request.vm_addresses;
  binding.serving = nve_of(in);
  grant_lifetime(binding, in);
  counters_.registrations++;
  spdlog::debug("VM {} registered at NVE {} (endpoints {}), virtual network {}, lifetime {} s",
               vm_id_text(binding.vm_id), in.peer.to_string(), endpoints_line(binding.serving.endpoints),
               binding.virtual_network, proto::lifetime_seconds(binding.granted_lifetime));
  accept(in, binding, out);
  schedule_deadline(binding);
  save(std::move(binding), out);
  return out;
}

Outcome Registrar::refresh(const Inbound &in, Binding binding, Outcome out) {
  const proto::Message &request = in.message;
  if (binding.state == BindingState::DeregisteredGrace) {
    // Registered again at the NVE that de-registered it: its previous NVEs
    // were told to stop redirecting (Lifetime 0) and did; a fresh start,
    // so that the reply names none of them as tunnelling here.
    notifier_.forget_all(binding);
    binding.previous.clear();
  }
  bool endpoints_changed = binding.serving.endpoints != request.serving_nve;
  binding.serving = nve_of(in);
  binding.addresses = request.vm_addresses;  // a registration replaces the set
  grant_lifetime(binding, in);
  counters_.refreshes++;
  accept(in, binding, out);
  // Previous NVEs redirect to the old endpoints: tell them the new ones.
  if (endpoints_changed) notifier_.notify_previous(binding, out);
  schedule_deadline(binding);
  save(std::move(binding), out);
  return out;
}

Outcome Registrar::move(const Inbound &in, Binding binding, Outcome out) {
  if (binding.flapping)
    return reject(in,
                  Refusal{proto::Status::AdministrativelyProhibited,
                          "VM " + vm_id_text(binding.vm_id) +
                              " is frozen for flapping; moves are refused until an operator clears it"},
                  std::move(out));
  // The NVE the VM comes back to is no longer a previous one, and the one it
  // left goes to the end: oldest first, each NVE once.
  PreviousNve left{binding.serving};
  // It still has the VM until it hears otherwise: its redirect starts now.
  left.redirect_until =
      clock_.now() + std::chrono::seconds(proto::lifetime_seconds(policy_.notifications.redirect_lifetime));
  for (auto &previous : binding.previous)
    if (previous.nve.control == in.peer || previous.nve.control == left.nve.control)
      notifier_.forget(binding.key(), previous);
  std::erase_if(binding.previous, [&](const PreviousNve &p) {
    return p.nve.control == in.peer || p.nve.control == left.nve.control;
  });
  const IpAddress left_control = left.nve.control;
  const Instant left_until = left.redirect_until;
  binding.previous.push_back(std::move(left));
  // The default router of the NVE the VM left takes its host routes (seed
  // 003 section 7.2) and, like a previous NVE, hears of every later move.
  if (const DefaultRouter *router = default_router_for(policy_, left_control, binding.virtual_network);
      router && !binding.find_previous(router->address)) {
    PreviousNve entry{NveRef{router->address, router->port, {}}, PreviousRole::Router};
    entry.redirect_until = left_until;
    binding.previous.push_back(std::move(entry));
  }
  // Beyond the limit the oldest previous NVE is forgotten (default routers do
  // not count: at most one per configured router, and each must hear when
  // the binding ends).
  auto nves = [&] {
    return std::ranges::count_if(binding.previous, [](const PreviousNve &p) { return p.role == PreviousRole::Nve; });
  };
  while (static_cast<size_t>(nves()) > policy_.max_previous_nves) {
    auto oldest = std::ranges::find_if(binding.previous, [](const PreviousNve &p) { return p.role == PreviousRole::Nve; });
    notifier_.forget(binding.key(), *oldest);
    binding.previous.erase(oldest);
  }

  const IpAddress from = binding.serving.control;
  binding.serving = nve_of(in);
  binding.addresses = in.message.vm_addresses;
  binding.last_move_mode = in.message.mobility;  // copied into the notifications
  grant_lifetime(binding, in);
  counters_.moves++;
  spdlog::debug("VM {} moved from NVE {} to NVE {} (mode {})", vm_id_text(binding.vm_id),
               from.to_string(), in.peer.to_string(), proto::mobility_mode_name(binding.last_move_mode));
  if (record_move(binding, clock_.now(), policy_.flap)) {
    // This move is accepted (the VM is where it registered last); the next
    // ones are refused until an operator has looked.
    counters_.flaps_detected++;
    spdlog::warn("VM {} is flapping: {} moves within {}, now at NVE {}; further moves refused until "
                 "cleared",
                 vm_id_text(binding.vm_id), binding.recent_moves.size(),
                 duration_text(policy_.flap.window), in.peer.to_string());
  }
  accept(in, binding, out);
  notifier_.notify_previous(binding, out);
  schedule_deadline(binding);
  save(std::move(binding), out);
  return out;
}

void Registrar::save(Binding binding, Outcome &out) {
  out.write(PutBinding{binding});
  cache_.put(std::move(binding));
}

void Registrar::schedule_deadline(const Binding &binding) {
  timers_.schedule({binding.expires_at, TimerKind::BindingDeadline, binding.key(), {}});
}

void Registrar::remove(const Binding &binding, Outcome &out) {
  Binding doomed = binding;
  notifier_.forget_all(doomed);
  out.write(EraseBinding{doomed.key()});
  cache_.erase(doomed.key());
}

}  // namespace nvmove::nvad
