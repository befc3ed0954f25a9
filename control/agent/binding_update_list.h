// The binding update list: VMs that were here (or that we tunnelled for) and
// now live behind another NVE. nvad's move notification turns their routes
// into tunnels toward the new NVE, so packets still in flight follow the VM.
// An entry ends when no packet has used its tunnel for the idle time, or when
// nvad says the binding ended (lifetime 0); at the end of its lifetime a busy
// entry is renewed, an idle one removed (seed 003 section 5). A functional core: it returns route changes and the reply
// to nvad (AgentOutcome) and reads routes only for their hit counters.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "control/agent/agent_config.h"
#include "control/agent/agent_counters.h"
#include "control/agent/activity_lifetime.h"
#include "control/agent/agent_outcome.h"
#include "control/agent/notification_gate.h"
#include "control/base/clock.h"

namespace nvmove::agent {

class BindingUpdateList {
 public:
  BindingUpdateList(const AgentConfig &cfg, NotificationGate &gate, const Clock &clock, AgentCounters &counters);

  // An authenticated move notification from nvad, admitted by the gate. `activated_here`: the VM
  // is still active on this NVE (worth a warning). When the outcome installs
  // tunnels, its if_routes_fail says how to back out; the shell counts the
  // notification accepted or refused once it knows.
  AgentOutcome on_notification(const proto::Message &m, const IpAddress &from, uint16_t from_port,
                               const RouteBackend &routes, bool activated_here);
  // Entries whose tunnel went idle or whose lifetime ended: their routes go.
  AgentOutcome expire(const RouteBackend &routes);
  // Forgets the VM's entry (it came back, or its tunnels could not be
  // installed); false if there was none.
  bool forget(const proto::VmId &vm) { return entries_.erase(vm) > 0; }
  bool contains(const proto::VmId &vm) const { return entries_.count(vm) > 0; }
  size_t size() const { return entries_.size(); }
  nlohmann::json json() const;
  // What survives a restart: each entry's VM, addresses and new NVE. A
  // restored entry gets its tunnels back and a fresh lifetime; whether
  // traffic still uses it decides the rest (idle timer, renewal).
  nlohmann::json export_state() const;
  AgentOutcome restore(const nlohmann::json &entries);

 private:
  struct Entry {
    proto::VmId id;
    uint32_t vn = 0;
    std::vector<IpAddress> addresses;
    proto::NveAddresses new_nve;
    ActivityLifetime life;
  };

  static nlohmann::json identity_json(const Entry &entry);
  std::optional<IpAddress> tunnel_endpoint(const IpAddress &vm_addr, const proto::NveAddresses &nve) const;
  // The tunnel routes of a VM's addresses toward `nve`; nullopt (with the
  // address in `why`) if one has no usable endpoint.
  std::optional<std::vector<RouteChange>> tunnel_routes(uint32_t vn, const std::vector<IpAddress> &addresses,
                                                        const proto::NveAddresses &nve, std::string &why) const;

  const AgentConfig &cfg_;
  NotificationGate &gate_;
  const Clock &clock_;
  AgentCounters &counters_;
  std::map<proto::VmId, Entry> entries_;
};

}  // namespace nvmove::agent
