// The management node's logic: Registration Requests in, replies, move
// notifications and store writes out (outcome.h). No sockets, no files, no
// threads; time comes from the injected Clock, so every rule is testable
// with FakeClock.
//
// Request handling follows docs/protocol.md section 5.3 (each refusal names
// the reply's status): mandatory options (158); replay check against the
// peer's state (silent drop of a duplicate, 156, 157, 135 + Expected
// Sequence Number), then the request is recorded whatever follows; role and
// policy: no N flag (154), peer in the peers list (154), Serving NVE Address
// its own (154), virtual network configured (192) and allowed to this peer
// (129), same VM identity and no other VM's MAC or address (159); then
// de-registration, first registration (130 when full), refresh, or move
// (129 while the VM is frozen for flapping).
#pragma once

#include <optional>
#include <string>

#include "control/nvad/binding_cache.h"
#include "control/nvad/counters.h"
#include "control/nvad/notifier.h"
#include "control/nvad/nvad_config.h"
#include "control/nvad/outcome.h"
#include "control/nvad/peer_table.h"
#include "control/nvad/request_checks.h"
#include "control/nvad/store.h"
#include "control/nvad/timer_queue.h"

namespace nvmove::nvad {

// A decoded message whose authentication trailer the server has verified
// with the key of `peer`, its UDP source address.
struct Inbound {
  IpAddress peer;
  uint16_t port = 0;
  proto::Message message;
};

class Registrar {
 public:
  Registrar(RegistrationPolicy policy, const Clock &clock);
  Registrar(const Registrar &) = delete;
  Registrar &operator=(const Registrar &) = delete;

  Outcome handle_request(const Inbound &in);
  // Acknowledgements of move notifications.
  Outcome handle_reply(const Inbound &in);
  // Lifetimes, grace periods and retransmissions that are due now.
  Outcome on_timers();
  std::optional<Instant> next_deadline() const { return timers_.next_deadline(); }

  // Operator action: accept moves of a VM frozen for flapping again.
  // nullopt if there is no such VM or it is not flapping.
  std::optional<Outcome> clear_flap(const BindingKey &key);

  // After a restart, before the first message, or when the store is read
  // again (a standby taking over): bindings and per-peer state from the
  // store replace what was in memory; timers resume (deadlines already past
  // fire at once). Counters carry on.
  void restore(StoredState state);

  const BindingCache &cache() const { return cache_; }
  const Counters &counters() const { return counters_; }
  Counters &counters() { return counters_; }
  const RegistrationPolicy &policy() const { return policy_; }
  const PeerTable &peers() const { return peers_; }

 private:
  Outcome reject(const Inbound &in, Refusal refusal, Outcome out);
  Outcome reject_replay(const Inbound &in, proto::ReplayVerdict verdict,
                        std::optional<uint16_t> expected, Outcome out);
  void heard_from(const Inbound &in, Outcome &out);
  Outcome deregister(const Inbound &in, std::optional<Binding> binding, Outcome out);
  Outcome create(const Inbound &in, Outcome out);
  Outcome refresh(const Inbound &in, Binding binding, Outcome out);
  Outcome move(const Inbound &in, Binding binding, Outcome out);

  void grant_lifetime(Binding &binding, const Inbound &in);
  void accept(const Inbound &in, uint16_t granted_lifetime, Outcome &out);
  // Accepted with the binding's lifetime, naming the NVEs that redirect to it.
  void accept(const Inbound &in, const Binding &binding, Outcome &out);
  void save(Binding binding, Outcome &out);
  void schedule_deadline(const Binding &binding);
  void remove(const Binding &binding, Outcome &out);

  RegistrationPolicy policy_;
  const Clock &clock_;
  Counters counters_;
  BindingCache cache_;
  TimerQueue timers_;
  PeerTable peers_;
  Notifier notifier_;
};

}  // namespace nvmove::nvad
