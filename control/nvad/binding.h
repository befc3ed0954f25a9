// One binding cache entry: what nvad knows about one VM (seed 003 section 5).
// Plain data; the rules that change it live in registrar.cc and notifier.cc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "control/base/clock.h"
#include "control/protocol/message.h"

namespace nvmove::nvad {

using proto::IpAddress;
using proto::MacAddress;
using proto::VmId;

// Bindings are keyed by (virtual network, VM-ID) (docs/protocol.md 4.5): a
// VM with interfaces in two networks has one binding in each.
struct BindingKey {
  uint32_t virtual_network = 0;
  VmId vm_id;
  bool operator==(const BindingKey &) const = default;
  auto operator<=>(const BindingKey &) const = default;
};

// An NVE as nvad knows it. `control` is the address its requests come from:
// the key file is keyed by it, notifications go to it, and it is what makes
// two NVEs different. `endpoints` are the tunnel endpoints it announced in the
// Serving NVE option, which can differ (nved's fabric port belongs to DPDK, so
// its control traffic often leaves through a management interface).
struct NveRef {
  IpAddress control;
  uint16_t port = 0;  // UDP source port of its last request
  proto::NveAddresses endpoints;
  bool operator==(const NveRef &) const = default;
};

enum class NotificationState : uint8_t { Pending, Acknowledged, Failed };
const char *notification_state_name(NotificationState state);

// What identifies one request: its sequence number and timestamp (a reply
// must echo both). Used for each transmission of a move notification (every
// retransmission is a new request: the NVE silently drops an exact copy of
// one it already answered, so resending the same bytes after a lost
// acknowledgement would never succeed), and for the last request received.
struct RequestStamp {
  uint16_t sequence = 0;
  uint64_t timestamp_ns = 0;
  bool operator==(const RequestStamp &) const = default;
};

// Who a notification goes to: a previous serving NVE (it tunnels packets in
// flight), or the default router of one (R flag, docs/protocol.md 7: it
// routes the VM's addresses natively to the serving NVE; seed 003 7.2).
enum class PreviousRole : uint8_t { Nve = 0, Router = 1 };
const char *previous_role_name(PreviousRole role);

// A previous serving NVE, or a default router, and the state of the
// notification telling it where the VM went.
struct PreviousNve {
  NveRef nve;
  PreviousRole role = PreviousRole::Nve;
  // Until when it may redirect packets in flight to the serving NVE: the
  // lifetime nvad asked for, or the one the NVE granted in its reply (shown
  // by show bindings). The NVE renews a redirect that still carries traffic,
  // so every later move is told to every previous NVE (docs/protocol.md 7).
  Instant redirect_until{};
  NotificationState state = NotificationState::Pending;
  unsigned retries = 0;            // retransmissions so far; the first send is not one
  Instant next_retransmit{};       // meaningful while Pending
  std::vector<RequestStamp> attempts;   // all transmissions of the current notification
  std::optional<proto::Status> rejected_with;  // a rejecting reply, when Failed by one
};

enum class BindingState : uint8_t {
  Active,
  DeregisteredGrace,  // lifetime 0 received: kept until expires_at, then deleted
};
const char *binding_state_name(BindingState state);

struct Binding {
  VmId vm_id;
  uint32_t virtual_network = 0;
  MacAddress mac{};
  std::vector<IpAddress> addresses;
  NveRef serving;
  // Oldest first, no address twice, never `serving`; default routers follow
  // the NVE whose move added them.
  std::vector<PreviousNve> previous;
  BindingState state = BindingState::Active;

  uint16_t granted_lifetime = 0;  // units of 4 s
  Instant registered_at{};        // last accepted registration or refresh
  Instant expires_at{};           // end of the lifetime, or of the grace period

  proto::MobilityMode last_move_mode = proto::MobilityMode::None;
  uint64_t move_count = 0;            // since the binding was created
  std::vector<Instant> recent_moves;  // inside the flap window, oldest first
  bool flapping = false;              // frozen: moves refused until clear_flap()
  std::optional<Instant> flap_detected_at;

  // The last request accepted for this VM from each NVE that registered it,
  // for `show bindings`. Replay protection itself is per peer, across all
  // VMs (peer_table.h), as docs/protocol.md section 5 wants.
  std::map<IpAddress, RequestStamp> last_requests;

  BindingKey key() const { return {virtual_network, vm_id}; }
  PreviousNve *find_previous(const IpAddress &control);
  const PreviousNve *find_previous(const IpAddress &control) const;
  size_t pending_notifications() const;
};

}  // namespace nvmove::nvad
