#include "control/agent/tunnel_peers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace nvmove::agent {
namespace {

RouteChange peer_route(RouteChange::Op op, const IpAddress &peer) {
  RouteChange c;
  c.op = op;
  c.route = HostRoute{kTunnelPeerVn, peer};
  c.action = TunnelPeer{};
  return c;
}

}  // namespace

AgentOutcome LearntTunnelPeers::learn_until(const IpAddress &peer, uint64_t until_ms) {
  AgentOutcome out;
  auto it = until_ms_.find(peer);
  if (it != until_ms_.end()) {
    it->second = std::max(it->second, until_ms);
    // Again on every naming: a route the table refused once (full) is
    // retried, and an upsert of a present route changes nothing.
    out.routes.push_back(peer_route(RouteChange::Op::Upsert, peer));
    return out;
  }
  if (until_ms_.size() >= kMaxLearntTunnelPeers) {
    counters_.tunnel_peers_refused++;
    return out;
  }
  until_ms_.emplace(peer, until_ms);
  earliest_ms_ = std::min(earliest_ms_, until_ms);
  counters_.tunnel_peers_learnt++;
  spdlog::info("tunnels from NVE {} accepted: nvad says it redirects packets in flight here",
               peer.to_string());
  out.routes.push_back(peer_route(RouteChange::Op::Upsert, peer));
  return out;
}

AgentOutcome LearntTunnelPeers::learn(std::span<const IpAddress> peers, uint32_t lifetime_s) {
  AgentOutcome out;
  const uint64_t until = clock_.now_ms() + uint64_t{lifetime_s} * 1000;
  for (const IpAddress &peer : peers) {
    if (!peer.is_v4() && !peer.is_v6()) continue;
    out.append(learn_until(peer, until));
  }
  return out;
}

AgentOutcome LearntTunnelPeers::expire() {
  AgentOutcome out;
  const uint64_t now = clock_.now_ms();
  if (now < earliest_ms_) return out;  // every control-loop pass: nothing due, nothing walked
  earliest_ms_ = UINT64_MAX;
  for (auto it = until_ms_.begin(); it != until_ms_.end();) {
    if (it->second > now) {
      earliest_ms_ = std::min(earliest_ms_, it->second);
      ++it;
      continue;
    }
    spdlog::info("tunnels from NVE {} no longer accepted: no registration names it any more",
                 it->first.to_string());
    counters_.tunnel_peers_expired++;
    out.routes.push_back(peer_route(RouteChange::Op::Remove, it->first));
    it = until_ms_.erase(it);
  }
  return out;
}

nlohmann::json LearntTunnelPeers::json() const {
  const uint64_t now = clock_.now_ms();
  nlohmann::json list = nlohmann::json::array();
  for (const auto &[peer, until] : until_ms_)
    list.push_back({{"address", peer.to_string()}, {"expires_in_ms", until > now ? until - now : 0}});
  return list;
}

AgentOutcome LearntTunnelPeers::restore(const nlohmann::json &entries) {
  AgentOutcome out;
  const uint64_t now = clock_.now_ms();
  for (const auto &e : entries) {
    auto peer = e.is_object() && e.value("address", nlohmann::json()).is_string()
                    ? IpAddress::parse(e["address"].get<std::string>())
                    : std::nullopt;
    const auto left = e.is_object() ? e.value("expires_in_ms", nlohmann::json()) : nlohmann::json();
    if (!peer || !left.is_number_unsigned()) {
      spdlog::warn("state file: tunnel peer entry {} skipped: expected {{address, expires_in_ms}}", e.dump());
      continue;
    }
    // At most the longest lifetime a reply can grant (65535 units of 4 s):
    // a hand-edited or corrupt file cannot keep a peer for ever.
    const uint64_t max_ms = uint64_t{65535} * 4 * 1000;
    out.append(learn_until(*peer, now + std::min(left.get<uint64_t>(), max_ms)));
  }
  return out;
}

}  // namespace nvmove::agent
