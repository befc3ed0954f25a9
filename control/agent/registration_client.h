// The registration client: this NVE's local VMs through the split-NVE
// lifecycle (RFC 8394, vm_lifecycle.h), their registrations with nvad,
// refreshes before the lifetime runs out, retransmissions with exponential
// backoff, and nvad's replies. A functional core: it returns the route
// changes and datagrams (AgentOutcome) and never applies or sends anything
// itself; it reads routes only to leave alone the ones that no longer
// deliver to a VM here.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/agent/agent_config.h"
#include "control/agent/agent_counters.h"
#include "control/agent/agent_outcome.h"
#include "control/agent/vm_lifecycle.h"
#include "control/base/clock.h"
#include "control/protocol/keys.h"

namespace nvmove::agent {

// Upper bound of the retry interval after a policy refusal (129, 154, 158,
// 159, 192): the cause needs an operator, so the agent asks rarely.
inline constexpr uint64_t kPolicyRetryMaxMs = 600000;

class RegistrationClient {
 public:
  RegistrationClient(const AgentConfig &cfg, const proto::KeyTable &keys, const Clock &clock,
                     AgentCounters &counters);

  struct EventResult {
    std::optional<std::string> refused;  // the event was refused: nothing changed
    AgentOutcome outcome;
    bool installed_locally = false;  // the VM's routes deliver here again
  };
  // A lifecycle event from the hypervisor side. `tunnelled_away`: the
  // binding update list tunnels this VM's packets to its new NVE (it moved),
  // so a disassociate needs no de-registration of ours.
  EventResult vm_event(VmEvent event, const VmSpec &spec, proto::MobilityMode mobility, const RouteBackend &routes,
                       bool tunnelled_away);
  // A reply from nvad (already authenticated); nullopt if it answers nothing
  // we asked (late or replayed).
  std::optional<AgentOutcome> on_reply(const proto::Message &reply, const IpAddress &from);
  // The nvad requests go to now (agent.nvad: the one that last answered).
  const IpAddress &current_nvad() const { return cfg_.nvads[nvad_index_]; }
  // Retransmissions and refreshes that are due.
  AgentOutcome tick();

  // The VM associated (not yet active) here whose interface this is: same
  // access port, VLAN, MAC, and one of its addresses.
  std::optional<VmSpec> associated_vm(uint16_t port, uint16_t vlan, const MacAddress &mac,
                                      const IpAddress &address) const;
  std::optional<VmState> vm_state(const proto::VmId &id) const;
  // What survives a restart: every VM's interface, state and mobility hint.
  // restore() replays them as the hypervisor's events would (an activated VM
  // gets its local routes and registers again: a refresh for nvad).
  nlohmann::json export_state() const;
  struct Restored {
    VmSpec spec;
    VmState state;
    proto::MobilityMode mobility;
  };
  static std::vector<Restored> parse_state(const nlohmann::json &vms);
  bool registered(const proto::VmId &id) const;
  nlohmann::json vms_json() const;

 private:
  struct Outstanding {
    proto::Message request;  // as last sent
    uint64_t next_send_ms = 0;
    uint32_t interval_ms = 0;
    uint32_t sent = 0;
    // Every transmission's (sequence, timestamp): each stays outstanding
    // until one is answered (docs/protocol.md 7), so a late answer to an
    // earlier one still counts.
    std::vector<std::pair<uint16_t, uint64_t>> attempts;
    uint32_t not_active = 0;  // answers 133: sent on at once until every nvad was asked
    bool answered_by(const proto::Message &reply) const;
  };
  struct LocalVm {
    VmSpec spec;
    VmState state = VmState::Init;
    proto::MobilityMode mobility = proto::MobilityMode::Hot;
    bool registered = false;
    uint16_t granted_lifetime = 0;
    uint64_t refresh_at_ms = 0;
    std::optional<Outstanding> pending;
    // After nvad refused a registration: why, and when to ask again (with
    // the backoff so far). Cleared by an acceptance.
    std::optional<proto::Status> refused_with;
    uint64_t retry_at_ms = 0;
    uint64_t retry_interval_ms = 0;
  };

  static nlohmann::json interface_json(const LocalVm &vm);
  void register_vm(LocalVm &vm, uint16_t lifetime, AgentOutcome &out);
  // A refused registration: the reaction docs/protocol.md section 7 gives
  // its status (retry later, with backoff and jitter; never at once).
  void schedule_retry(LocalVm &vm, proto::Status status);
  uint64_t jittered(uint64_t interval_ms);
  // to_next_nvad: after a standby's 133, the same transmission to the next
  // nvad (no back-off, not a retransmission).
  void send_pending(LocalVm &vm, AgentOutcome &out, bool to_next_nvad = false);
  static void install_local(const LocalVm &vm, AgentOutcome &out);
  // Only the routes that still deliver to this VM here: after a move
  // notification the same addresses tunnel packets in flight, and a
  // deactivate that arrives later must not take those away.
  static void remove_local_routes(const VmSpec &vm, const RouteBackend &routes, AgentOutcome &out);

  const AgentConfig &cfg_;
  const proto::KeyTable &keys_;
  const Clock &clock_;
  AgentCounters &counters_;
  std::map<proto::VmId, LocalVm> vms_;
  // Failover between the agent.nvad addresses (a cluster): requests go to
  // nvads[nvad_index_]; a retransmission moves to the next one when the
  // current one has said nothing for a first retransmission timeout (at most
  // once per such timeout, so that a thousand pending VMs move once).
  void fail_over(uint64_t now_ms);
  size_t nvad_index_ = 0;
  uint64_t nvad_heard_ms_ = 0;
  uint64_t nvad_switched_ms_ = 0;
  uint16_t next_sequence_;
  // Timestamps this NVE sends strictly increase (protocol.md 5.2, status
  // 157), even for two VMs registered within one clock tick.
  uint64_t last_timestamp_ns_ = 0;
  uint64_t jitter_state_;  // xorshift: retry jitter, so NVEs refused together do not retry together
};

}  // namespace nvmove::agent
