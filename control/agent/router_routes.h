// The default-router role (seed 003 section 7.2, docs/protocol.md 7): nvad
// tells the router of an NVE a VM left where the VM went (a notification
// with the R flag), and the router routes the VM's addresses natively to the
// serving NVE, so correspondents behind it stop taking the detour through
// the old NVE's tunnel. A functional core like the binding update list: it
// returns route changes and the reply (AgentOutcome).
//
// A host route goes out of the fabric port to the MAC of the serving NVE,
// which must be on a link of the router (on_link): a gateway would route the
// VM's address straight back toward its old subnet, through this router.
// Next-hop MACs come from the shell (on_neighbour: ARP and ND on the
// fabric); a route waits for its next hop's MAC before it is installed, and
// until then packets keep their old path (to the old NVE, which redirects
// them). Routes live like redirects (ActivityLifetime): renewed while used,
// removed when idle or when nvad sends Lifetime 0; a refused notification
// withdraws the VM's old routes (they point where it no longer is). A route
// this NVE holds for its own reasons (a local VM, a redirect) is never
// replaced: it knows better where the VM is.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "control/agent/activity_lifetime.h"
#include "control/agent/agent_config.h"
#include "control/agent/agent_counters.h"
#include "control/agent/agent_outcome.h"
#include "control/agent/notification_gate.h"
#include "control/base/clock.h"

namespace nvmove::agent {

class RouterHostRoutes {
 public:
  RouterHostRoutes(const AgentConfig &cfg, NotificationGate &gate, const Clock &clock, AgentCounters &counters);

  // A notification with the R flag, admitted by the gate.
  AgentOutcome on_notification(const proto::Message &m, const IpAddress &from, uint16_t from_port,
                               const RouteBackend &routes);
  // A next hop's MAC, learnt or changed: routes waiting for it are installed,
  // routes through it follow it.
  AgentOutcome on_neighbour(const IpAddress &next_hop, const MacAddress &mac, const RouteBackend &routes);
  // Idle entries go; busy ones are renewed at the end of their lifetime.
  AgentOutcome expire(const RouteBackend &routes);
  // The next hops routes need a MAC for (to resolve, and to keep resolved).
  std::set<IpAddress> next_hops() const;
  bool forget(const proto::VmId &vm, uint32_t vn) { return entries_.erase({vn, vm}) > 0; }
  size_t size() const { return entries_.size(); }
  nlohmann::json json() const;
  // Entries survive a restart: each comes back waiting for its next hops.
  nlohmann::json export_state() const;
  void restore(const nlohmann::json &entries);

 private:
  struct Hop {
    IpAddress address;             // the VM's
    std::optional<IpAddress> via;  // its next hop
    bool installed = false;
    bool blocked = false;  // this NVE has a route of its own for the address
  };
  struct Entry {
    proto::VmId id;
    uint32_t vn = 0;
    proto::NveAddresses serving;
    std::vector<Hop> hops;
    ActivityLifetime life;
  };
  using Key = std::pair<uint32_t, proto::VmId>;

  std::optional<IpAddress> next_hop_for(const IpAddress &vm_address, const proto::NveAddresses &serving) const;
  // Why the notification cannot be followed, or nullopt.
  std::optional<std::pair<proto::Status, std::string>> refusal(const proto::Message &m) const;
  // Is the route at `route` one of ours (or absent), so that we may write it?
  bool ours_or_free(const HostRoute &route, const RouteBackend &routes) const;
  void install(Entry &entry, Hop &hop, const RouteBackend &routes, AgentOutcome &out);
  // Removes the entry's installed routes, but those of addresses in `keep`.
  void withdraw(const Entry &entry, const RouteBackend &routes, AgentOutcome &out,
                const std::vector<IpAddress> &keep = {});
  uint64_t hits(const Entry &entry, const RouteBackend &routes) const;

  const AgentConfig &cfg_;
  NotificationGate &gate_;
  const Clock &clock_;
  AgentCounters &counters_;
  std::map<Key, Entry> entries_;
  std::map<IpAddress, MacAddress> neighbours_;
};

}  // namespace nvmove::agent
