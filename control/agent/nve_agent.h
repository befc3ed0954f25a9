// The NVE agent: the control-plane side of nved for VM mobility, wired to a
// route backend and a UDP transport. The decisions live in two functional
// cores that return what to do (AgentOutcome):
//  - RegistrationClient: split-NVE lifecycle events for local VMs (RFC 8394),
//    their local routes, registrations with nvad, refreshes, retransmissions;
//  - BindingUpdateList: move notifications from nvad turn a VM's routes into
//    tunnels toward its new NVE until no packet uses them any more;
//  - RouterHostRoutes: in the default-router role, notifications with the R
//    flag install native host routes toward a moved VM's serving NVE.
// This class is the shell: it admits datagrams (only from nvad, decodable,
// authentic), hands them to the right core, and applies the outcomes: route
// batches through RouteBackend, datagrams through AgentTransport. It runs
// (and is tested) without DPDK.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "common/route_change.h"
#include "control/agent/agent_config.h"
#include "control/agent/agent_counters.h"
#include "control/agent/agent_outcome.h"
#include "control/agent/binding_update_list.h"
#include "control/agent/notification_gate.h"
#include "control/agent/registration_client.h"
#include "control/agent/router_routes.h"
#include "control/agent/tunnel_peers.h"
#include "control/agent/vm_lifecycle.h"
#include "control/base/clock.h"
#include "control/base/rate_limited_log.h"
#include "control/protocol/keys.h"
#include "control/protocol/message.h"
#include "control/protocol/vm_id_text.h"

namespace nvmove::agent {

class AgentTransport {
 public:
  virtual ~AgentTransport() = default;
  virtual void send(const IpAddress &to, uint16_t port, std::span<const uint8_t> datagram) = 0;
};

class NveAgent {
 public:
  NveAgent(AgentConfig cfg, RouteBackend &routes, AgentTransport &net, const proto::KeyTable &keys,
           const Clock &clock);

  // A lifecycle event from the hypervisor side. Returns an error text when
  // the event is refused (nothing changed then). `mobility` is the hint sent
  // with the registration on activate (hot by default).
  std::optional<std::string> vm_event(VmEvent event, const VmSpec &spec,
                                      proto::MobilityMode mobility = proto::MobilityMode::Hot);

  // A VM announced itself on an access port (gratuitous ARP / unsolicited
  // NA, seed 003 section 8): an associated VM whose port, VLAN, MAC and
  // address match is activated (hot: it just moved in), exactly as
  // `vm activate` would. True if it was.
  bool on_vm_announcement(uint16_t port, uint16_t vlan, const MacAddress &mac, const IpAddress &address);

  // A datagram received on the protocol socket.
  void on_datagram(const IpAddress &from, uint16_t from_port, std::span<const uint8_t> data);

  // A fabric neighbour's MAC (ARP / ND on the fabric port, or a static
  // gateway MAC): next hops of the default router's host routes.
  void on_neighbour(const IpAddress &address, const MacAddress &mac);
  // The next hops the default router needs MACs for.
  std::set<IpAddress> router_next_hops() const { return router_.next_hops(); }

  // Retransmissions, refreshes and binding update list expiry. Call often
  // (every control loop pass); cheap when there is nothing due.
  void tick();

  // The state that survives a restart ({"vms", "bul", "tunnel_peers"}), and
  // its replay into a fresh agent (VMs re-associated and re-activated,
  // redirects and learnt tunnel peers re-installed). state_version() grows with every change worth
  // saving.
  nlohmann::json export_state() const {
    return {{"vms", client_.export_state()},
            {"bul", bul_.export_state()},
            {"tunnel_peers", peers_.json()},
            {"router_routes", router_.export_state()}};
  }
  void restore_state(const nlohmann::json &state);
  uint64_t state_version() const { return state_version_; }

  nlohmann::json vms_json() const { return client_.vms_json(); }
  // The nvad registrations go to now (of agent.nvad's list).
  const IpAddress &current_nvad() const { return client_.current_nvad(); }
  nlohmann::json bul_json() const { return bul_.json(); }
  nlohmann::json tunnel_peers_json() const { return peers_.json(); }
  nlohmann::json router_routes_json() const { return router_.json(); }
  const AgentCounters &counters() const { return counters_; }
  // Test and CLI view.
  std::optional<VmState> vm_state(const proto::VmId &id) const { return client_.vm_state(id); }
  bool registered(const proto::VmId &id) const { return client_.registered(id); }
  size_t bul_size() const { return bul_.size(); }

 private:
  void apply(AgentOutcome outcome);
  // A move notification's tunnels the table refused: undo the rest, refuse.
  void back_out(const AgentOutcome &outcome, const RouteBatchResult &result);
  void drop(const IpAddress &from, const std::string &reason, const std::string &line);

  AgentConfig cfg_;
  RouteBackend &routes_;
  AgentTransport &net_;
  const proto::KeyTable &keys_;
  AgentCounters counters_;
  RateLimitedLog limited_log_;
  RegistrationClient client_;
  NotificationGate gate_;
  BindingUpdateList bul_;
  RouterHostRoutes router_;
  LearntTunnelPeers peers_;
  uint64_t state_version_ = 0;
};

// VM-IDs have one text form everywhere (control/protocol/vm_id_text.h).
using proto::vm_id_text;

}  // namespace nvmove::agent
