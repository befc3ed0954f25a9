#include "control/nvad/peer_table.h"

#include <algorithm>

namespace nvmove::nvad {

bool PeerState::admit_refusal(Instant now) {
  if (refusals_refilled != Instant{} && now > refusals_refilled) {
    const double seconds = std::chrono::duration<double>(now - refusals_refilled).count();
    refusal_tokens = std::min(kRefusalBurst, refusal_tokens + seconds * kRefusalsPerSecond);
  }
  refusals_refilled = now;
  if (refusal_tokens < 1) return false;
  refusal_tokens -= 1;
  return true;
}

PeerState &PeerTable::get(const IpAddress &peer) {
  auto it = peers_.find(peer);
  if (it != peers_.end()) return it->second;
  PeerState fresh;
  fresh.next_sequence = static_cast<uint16_t>(random_());
  return peers_.emplace(peer, fresh).first->second;
}

const PeerState *PeerTable::find(const IpAddress &peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

RequestStamp PeerTable::next_stamp(const IpAddress &peer, uint64_t wall_ns) {
  PeerState &state = get(peer);
  RequestStamp stamp{state.next_sequence, std::max(wall_ns, state.last_sent_timestamp_ns + 1)};
  state.next_sequence = proto::seq_next(state.next_sequence);
  state.last_sent_timestamp_ns = stamp.timestamp_ns;
  return stamp;
}

}  // namespace nvmove::nvad
