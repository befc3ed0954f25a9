// Move notifications: after a move nvad sends a Registration Request with the
// N flag to every previous NVE of the VM, carrying the new serving NVE, and
// retransmits with exponential backoff until each one acknowledges with a
// Registration Reply, gives up, or rejects it.
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
#include "control/nvad/timer_queue.h"

namespace nvmove::nvad {

class Notifier {
 public:
  Notifier(const NotificationTimers &timers, const Clock &clock, Counters &counters,
           TimerQueue &queue)
      : timers_(timers), clock_(clock), counters_(counters), queue_(queue) {}

  // Starts a fresh notification to every previous NVE of `binding`,
  // replacing any still pending from an earlier move (they would name an
  // NVE the VM has left).
  void notify_previous(Binding &binding, Outcome &out);

  // A retransmission timer for `previous` came due: send again or give up.
  void on_retransmit_due(Binding &binding, PreviousNve &previous, Outcome &out);

  // Which binding has a notification outstanding to `peer` with this sequence
  // number. A hint only: on_reply() checks the binding itself.
  std::optional<VmId> find_outstanding(const IpAddress &peer, uint16_t sequence) const;

  // A reply from `peer`; false if it answers no notification outstanding in
  // `binding` (a late, duplicated or forged reply).
  bool on_reply(Binding &binding, const IpAddress &peer, const proto::Message &reply,
                Outcome &out);

  // Every authenticated message from a peer: notifications go to the port it
  // last sent from, which follows an NVE restart onto a new port.
  void heard_from(const IpAddress &peer, uint16_t port, Outcome &out);

  // Stops tracking `previous` (it is being removed or re-armed).
  void forget(const VmId &vm, PreviousNve &previous);
  void forget_all(Binding &binding);

  // After a restart: the per-peer state, then each binding's pending
  // notifications, whose retransmission timers resume where they were.
  void restore_peers(std::map<IpAddress, PeerSendState> peers) { peers_ = std::move(peers); }
  void restore_binding(const Binding &binding);

  const std::map<IpAddress, PeerSendState> &peers() const { return peers_; }

 private:
  void transmit(const Binding &binding, PreviousNve &previous, Outcome &out);
  void retransmit_or_fail(Binding &binding, PreviousNve &previous, Outcome &out);
  void fail(Binding &binding, PreviousNve &previous, std::optional<proto::Status> status);

  const NotificationTimers &timers_;
  const Clock &clock_;
  Counters &counters_;
  TimerQueue &queue_;
  std::map<IpAddress, PeerSendState> peers_;
  std::map<std::pair<IpAddress, uint16_t>, VmId> outstanding_;
};

// The notification itself (exposed for tests).
proto::Message make_move_notification(const Binding &binding, const RequestStamp &attempt);

}  // namespace nvmove::nvad
