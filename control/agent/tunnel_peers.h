// The NVEs the management node says may tunnel to us (docs/protocol.md 7,
// "Who may tunnel to an NVE"). nved decapsulates only tunnels from known
// NVEs: the configured tunnel.peers prefixes, and these. An accepted
// registration reply names the previous NVEs still redirecting the VM's
// packets in flight to us (Redirecting NVE Address options); each is known
// for the lifetime nvad granted, renewed by every refresh that names it
// again, and forgotten when that runs out. A functional core like the binding
// update list: it returns the route changes (TunnelPeer routes in
// kTunnelPeerVn) for the shell to apply.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <span>

#include "common/net_types.h"
#include "control/agent/agent_counters.h"
#include "control/agent/agent_outcome.h"
#include "control/base/clock.h"

namespace nvmove::agent {

// Far more than a data centre's NVEs that can redirect to one NVE at once; a
// bound so that a confused management node cannot fill the route table.
inline constexpr size_t kMaxLearntTunnelPeers = 4096;

class LearntTunnelPeers {
 public:
  LearntTunnelPeers(const Clock &clock, AgentCounters &counters) : clock_(clock), counters_(counters) {}

  // nvad named `peers` in a reply granting `lifetime_s`: known until then
  // (or later, if another reply said so).
  AgentOutcome learn(std::span<const IpAddress> peers, uint32_t lifetime_s);
  // Forgets the peers whose time has run out.
  AgentOutcome expire();

  bool contains(const IpAddress &peer) const { return until_ms_.contains(peer); }
  size_t size() const { return until_ms_.size(); }
  // [{"address", "expires_in_ms"}], for show tunnel-peers and the state file.
  nlohmann::json json() const;
  // The state file's entries back, with their remaining time.
  AgentOutcome restore(const nlohmann::json &entries);

 private:
  AgentOutcome learn_until(const IpAddress &peer, uint64_t until_ms);

  const Clock &clock_;
  AgentCounters &counters_;
  std::map<IpAddress, uint64_t> until_ms_;  // monotonic ms
  uint64_t earliest_ms_ = UINT64_MAX;        // no peer expires before this
};

}  // namespace nvmove::agent
