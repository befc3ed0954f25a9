// What nvad remembers per NVE, across all VMs (docs/protocol.md section 5):
// for receiving, the last accepted sequence number and timestamp (replay
// protection); for sending, its own sequence counter toward the NVE, the
// last timestamp it used, and the port the NVE last sent from (notifications
// go there). All of it is persisted, so a restarted nvad neither accepts a
// replay nor reuses a sequence number.
#pragma once

#include <cstdint>
#include <map>
#include <random>

#include "control/nvad/binding.h"
#include "control/protocol/replay.h"

namespace nvmove::nvad {

// Refusals answered per peer (docs/protocol.md 6.4): 20 at once, then 10 a
// second. A peer that sends more refused requests than that (a replayed
// capture, a broken NVE) gets no more answers, so nvad cannot be made to
// send a stream of replies at an address.
inline constexpr double kRefusalBurst = 20;
inline constexpr double kRefusalsPerSecond = 10;

struct PeerState {
  proto::PeerReplayState received;
  uint16_t next_sequence = 0;
  uint64_t last_sent_timestamp_ns = 0;
  uint16_t port = 0;  // 0 = not heard from yet
  // Refusal token bucket (in memory only: a restart refills it).
  double refusal_tokens = kRefusalBurst;
  Instant refusals_refilled{};
  // Takes a token if there is one, after refilling for the time since the
  // last refusal.
  bool admit_refusal(Instant now);
};

class PeerTable {
 public:
  PeerTable() : random_(std::random_device{}()) {}

  // Creates the peer on first use. Its sequence counter starts at a random
  // value (section 5.1), so that after a loss of the store a replay of old
  // notifications is unlikely to look new to the NVE.
  PeerState &get(const IpAddress &peer);
  const PeerState *find(const IpAddress &peer) const;

  // The sequence number and timestamp of the next request to `peer`, both
  // strictly increasing even if the wall clock repeats or steps back.
  RequestStamp next_stamp(const IpAddress &peer, uint64_t wall_ns);

  void restore(std::map<IpAddress, PeerState> peers) { peers_ = std::move(peers); }
  const std::map<IpAddress, PeerState> &all() const { return peers_; }

 private:
  std::map<IpAddress, PeerState> peers_;
  std::mt19937 random_;
};

}  // namespace nvmove::nvad
