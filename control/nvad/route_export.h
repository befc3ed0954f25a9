// Route optimisation, seed 003 section 7.3: the host routes of moved VMs,
// announced in BGP so that correspondents stop sending through the VM's old
// NVE. This is the policy and the bookkeeping, without sockets: which host
// routes a binding should have announced now, and the changes (upserts and
// removals, common/route_change.h) that take the announced set there. A
// RouteBackend applies them (exabgp_export.h drives ExaBGP); nvad's registrar
// never knows which.
//
// A VM address is announced, as a /32 or /128 with the serving NVE's endpoint
// of the same family as next hop, while the VM is served by an NVE other than
// the home NVE of the prefix covering the address (export.home: where the
// VM's subnet is routed without host routes). It is withdrawn when the VM
// returns home, when its binding ends, or when the address leaves it.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/net_types.h"
#include "common/route_change.h"
#include "control/nvad/binding.h"

namespace nvmove::nvad {

struct ExportHome {
  IpPrefix prefix;
  IpAddress nve;  // the home NVE's control address (peers[].address)
};

struct ExportPolicy {
  bool enabled = false;
  std::string socket;  // where the speaker's bridge connects (nvmove-exabgp)
  std::vector<ExportHome> home;
  std::set<uint32_t> virtual_networks{0};
  std::vector<std::string> communities;        // "65001:100"
  std::vector<std::string> large_communities;  // "65001:1:100"
  size_t max_routes = 10000;  // a flood of moves cannot flood the peers
};

class RouteExport {
 public:
  explicit RouteExport(ExportPolicy policy) : policy_(std::move(policy)) {}

  // The host routes `binding` should have announced now: VM address ->
  // next hop (the serving NVE's endpoint of that family).
  std::map<IpAddress, IpAddress> wanted(const Binding &binding) const;

  // The binding under `key` is now `binding` (nullptr: erased): the changes
  // that take what is announced for it to what is wanted, in kTunnelPeerVn's
  // absence a plain (VN, address) -> TunnelToNve{next hop} route each.
  std::vector<RouteChange> update(const BindingKey &key, const Binding *binding);

  // The backend refused to announce `address` (export.max_routes): not
  // announced, so the binding's next update (a refresh, a move) tries again.
  void not_announced(const BindingKey &key, const IpAddress &address);

  // VM addresses whose serving NVE has no endpoint of their family, so
  // nothing can be announced for them (counted per update).
  uint64_t without_next_hop() const { return without_next_hop_; }
  const ExportPolicy &policy() const { return policy_; }

 private:
  const ExportHome *home_of(const IpAddress &address) const;

  ExportPolicy policy_;
  std::map<BindingKey, std::map<IpAddress, IpAddress>> announced_;
  uint64_t without_next_hop_ = 0;
};

}  // namespace nvmove::nvad
