// The registrar's work that is not a Registration Request: acknowledgements
// of move notifications, timers, operator actions and restoring after a
// restart.
#include <spdlog/spdlog.h>

#include "control/nvad/flap_detection.h"
#include "control/nvad/registrar.h"
#include "control/nvad/text_format.h"

namespace nvmove::nvad {

Outcome Registrar::handle_reply(const Inbound &in) {
  counters_.replies_received++;
  Outcome out;
  heard_from(in, out);
  auto key = notifier_.find_outstanding(in.peer, in.message.sequence);
  const Binding *existing = key ? cache_.find(*key) : nullptr;
  if (existing) {
    Binding binding = *existing;
    if (notifier_.on_reply(binding, in.peer, in.message, out)) {
      save(std::move(binding), out);
      return out;
    }
  }
  counters_.drop(DropReason::UnexpectedReply);
  out.dropped = DropReason::UnexpectedReply;
  return out;
}

Outcome Registrar::on_timers() {
  Outcome out;
  Instant now = clock_.now();
  while (auto event = timers_.pop_due(now)) {
    const Binding *existing = cache_.find(event->key);
    if (!existing) continue;  // deleted since: a stale entry
    if (event->kind == TimerKind::BindingDeadline) {
      if (existing->expires_at > now) continue;  // refreshed since
      if (existing->state == BindingState::Active) {
        counters_.expirations++;
        spdlog::info("VM {} expired: NVE {} did not refresh it", vm_id_text(existing->vm_id),
                     existing->serving.control.to_string());
        // Ended like a de-registration: kept for the grace period, and the
        // previous NVEs told to end their redirects (lifetime 0).
        Binding ended = *existing;
        ended.state = BindingState::DeregisteredGrace;
        ended.granted_lifetime = 0;
        ended.expires_at = now + policy_.deregistration_grace;
        notifier_.notify_previous(ended, out);
        schedule_deadline(ended);
        save(std::move(ended), out);
        continue;
      }
      counters_.grace_deletions++;
      remove(*existing, out);
      continue;
    }
    Binding binding = *existing;
    PreviousNve *previous = binding.find_previous(event->peer);
    if (!previous || previous->state != NotificationState::Pending || previous->next_retransmit > now)
      continue;  // acknowledged, re-armed or removed since
    notifier_.on_retransmit_due(binding, *previous, out);
    save(std::move(binding), out);
  }
  return out;
}

std::optional<Outcome> Registrar::clear_flap(const BindingKey &key) {
  const Binding *existing = cache_.find(key);
  if (!existing || !existing->flapping) return std::nullopt;
  Binding binding = *existing;
  clear_flap_state(binding);
  counters_.flaps_cleared++;
  spdlog::info("VM {}: flap state cleared by an operator; moves accepted again", vm_id_text(key.vm_id));
  Outcome out;
  save(std::move(binding), out);
  return out;
}

void Registrar::restore(StoredState state) {
  // Replaces whatever was there: a standby that becomes the leader, or a
  // leader whose store write failed, reads the store again (cluster.h).
  cache_ = BindingCache{};
  timers_ = TimerQueue{};
  notifier_.clear();
  peers_.restore(std::move(state.peers));
  for (auto &binding : state.bindings) {
    schedule_deadline(binding);
    notifier_.restore_binding(binding);
    cache_.put(std::move(binding));
  }
}

}  // namespace nvmove::nvad
