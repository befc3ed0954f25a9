// Move notifications: after a move nvad sends a Registration Request with the
// N flag to each previous NVE of the VM, carrying the new serving NVE, and
// retransmits with exponential backoff until each one acknowledges with a
// Registration Reply, gives up, or is rejected (docs/protocol.md section 7).
//
// Who is told: every previous NVE whose redirect is still running, and the
// default routers of the NVEs the VM left (R flag: they route its addresses
// natively to the serving NVE, seed 003 section 7.2). What they
// are told depends on the move's mode (the M flag, copied from the
// registration): hot, warm or none: "redirect packets in flight to the new
// serving NVE for `redirect_lifetime`"; cold: "drop your entry" (Lifetime 0,
// M = cold): a VM that was shut down to move has no packets in flight.
//
// The Notifier changes the PreviousNve records inside a Binding the caller
// owns; the caller puts the binding back in the cache and persists it.
#pragma once

#include <map>
#include <optional>
#include <utility>

#include "control/nvad/binding.h"
#include "control/nvad/counters.h"
#include "control/nvad/nvad_config.h"
#include "control/nvad/outcome.h"
#include "control/nvad/peer_table.h"
#include "control/nvad/timer_queue.h"

namespace nvmove::nvad {

class Notifier {
 public:
  Notifier(const NotificationTimers &timers, const Clock &clock, Counters &counters,
           TimerQueue &queue, PeerTable &peers)
      : timers_(timers), clock_(clock), counters_(counters), queue_(queue), peers_(peers) {}

  // Starts a fresh notification to every previous NVE of `binding`,
  // replacing any pending one (it would name an NVE the VM has left). With
  // lifetime 0 once the binding has ended (de-registered or expired).
  void notify_previous(Binding &binding, Outcome &out);

  // A retransmission timer for `previous` came due: send again or give up.
  void on_retransmit_due(Binding &binding, PreviousNve &previous, Outcome &out);

  // Which binding has a notification outstanding to `peer` with this sequence
  // number. A hint only: on_reply() checks the binding itself.
  std::optional<BindingKey> find_outstanding(const IpAddress &peer, uint16_t sequence) const;

  // A reply from `peer`; false if it answers no notification outstanding in
  // `binding` (a late, duplicated or forged reply).
  bool on_reply(Binding &binding, const IpAddress &peer, const proto::Message &reply, Outcome &out);

  // Stops tracking `previous` (it is being removed or re-armed).
  void forget(const BindingKey &key, PreviousNve &previous);
  void forget_all(Binding &binding);

  // The Lifetime a notification to `previous` asks for now: 0 = it is told
  // to stop redirecting (the binding ended, or it is older than a cold
  // move's last source).
  uint16_t lifetime_asked(const Binding &binding, const PreviousNve &previous) const;

  // After a restart: each binding's pending notifications, whose
  // retransmission timers resume where they were.
  void restore_binding(const Binding &binding);
  // Forgets every outstanding notification (before a restore replaces the cache).
  void clear() { outstanding_.clear(); }

 private:
  void transmit(const Binding &binding, PreviousNve &previous, Outcome &out);
  void retransmit_or_fail(Binding &binding, PreviousNve &previous, Outcome &out);
  void fail(Binding &binding, PreviousNve &previous, std::optional<proto::Status> status);

  const NotificationTimers &timers_;
  const Clock &clock_;
  Counters &counters_;
  TimerQueue &queue_;
  PeerTable &peers_;
  std::map<std::pair<IpAddress, uint16_t>, BindingKey> outstanding_;
};

// The notification itself (exposed for tests): to a default router with the
// R flag.
proto::Message make_move_notification(const Binding &binding, const PreviousNve &previous,
                                      const RequestStamp &stamp, uint16_t lifetime);

}  // namespace nvmove::nvad
