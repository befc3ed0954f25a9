// Replay and ordering protection for received Registration Requests
// (docs/protocol.md section 5): 16-bit sequence numbers compared with serial
// arithmetic, timestamps that must be recent and must increase per peer.
// Replies are not checked here: a requester accepts only a reply that matches
// a request it still has outstanding (reply_builder.h, is_reply_to()).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>

#include "control/protocol/message.h"

namespace nvmove::proto {

// RFC 1982 with SERIAL_BITS = 16: true iff `a` is newer than `b`. 0 is newer
// than 65535. RFC 1982 leaves a pair exactly 2^15 apart undefined; here
// neither is newer than the other, so such a request is refused (a sender
// never legitimately jumps half the space) and the sender resynchronises
// from the Expected Sequence Number in the reply.
constexpr bool seq_newer(uint16_t a, uint16_t b) {
  uint16_t distance = static_cast<uint16_t>(a - b);
  return distance != 0 && distance < 0x8000;
}

constexpr uint16_t seq_next(uint16_t sequence) { return static_cast<uint16_t>(sequence + 1); }

// 300 ms either side of the receiver's clock. Data-centre hosts synchronised
// by NTP/PTP to local servers stay within about 1 ms of each other and the
// one-way delay is well under 1 ms, so this leaves two orders of magnitude
// for nvad's queue during a move storm. Within a peer, timestamps must also
// increase, so the window only bounds replays when no history exists (first
// contact or after a restart). It is the RFC 5213 default as well.
inline constexpr std::chrono::milliseconds kDefaultTimestampWindow{300};

struct TimestampWindow {
  std::chrono::nanoseconds half_width = kDefaultTimestampWindow;

  // |now - timestamp| <= half_width, with no overflow for any inputs.
  bool contains(uint64_t timestamp_ns, uint64_t now_ns) const;
};

enum class ReplayVerdict : uint8_t {
  Fresh,              // process it, then record()
  Duplicate,          // same sequence and timestamp as the last accepted: drop silently
  OutsideWindow,      // reply Timestamp mismatch (156)
  TimestampNotNewer,  // reply Timestamp lower than previous accepted (157)
  SequenceNotNewer,   // reply Bad sequence number (135) + Expected Sequence Number
};

const char *replay_verdict_name(ReplayVerdict verdict);

// The status to reply with; nullopt for Fresh (no rejection) and Duplicate
// (no reply: the original was answered already).
std::optional<Status> rejection_status(ReplayVerdict verdict);

// What one receiver remembers about one sending peer.
class PeerReplayState {
 public:
  // Checks in the order Duplicate, OutsideWindow, TimestampNotNewer,
  // SequenceNotNewer. Without history only the window applies.
  ReplayVerdict check(uint16_t sequence, uint64_t timestamp_ns, uint64_t now_ns,
                      const TimestampWindow &window) const;
  // Call for an authenticated request that check() found Fresh, whatever the
  // status of the reply, so that a replay of it is refused cheaply. Never for
  // an unauthenticated one: that keeps ReplayGuard's peers bounded by the
  // key table, and lets no forger move a peer's counters.
  // accepted_at_ns: the receiver's clock when it accepted the request. The
  // floor a later timestamp must exceed (157) is the lower of the two, so a
  // request from a clock up to the window ahead cannot lock the peer out
  // until real time catches up (docs/protocol.md 5.2). Without it (state
  // restored from a store) the floor is the timestamp itself.
  void record(uint16_t sequence, uint64_t timestamp_ns, std::optional<uint64_t> accepted_at_ns = std::nullopt);

  // A request the replay check refused (156, 157, 135): an exact copy of it
  // is then a Duplicate, dropped unanswered (docs/protocol.md 5.3). One slot:
  // alternating captures are answered, within the per-peer refusal rate.
  void record_refused(uint16_t sequence, uint64_t timestamp_ns) { last_refused_ = {sequence, timestamp_ns}; }

  bool has_history() const { return last_sequence_.has_value(); }
  std::optional<uint16_t> last_sequence() const { return last_sequence_; }
  std::optional<uint64_t> last_timestamp_ns() const { return last_timestamp_ns_; }
  // The smallest sequence number the peer can use next (last accepted + 1).
  std::optional<uint16_t> expected_sequence() const;

 private:
  std::optional<uint16_t> last_sequence_;
  std::optional<uint64_t> last_timestamp_ns_;  // exactly as received: spots a duplicate
  uint64_t timestamp_floor_ns_ = 0;            // a later timestamp must be above it (157)
  std::optional<std::pair<uint16_t, uint64_t>> last_refused_;
};

// One PeerReplayState per peer address, and the configured window.
class ReplayGuard {
 public:
  explicit ReplayGuard(TimestampWindow window = {}) : window_(window) {}

  ReplayVerdict check(const IpAddress &peer, uint16_t sequence, uint64_t timestamp_ns,
                      uint64_t now_ns) const;
  void record(const IpAddress &peer, uint16_t sequence, uint64_t timestamp_ns, uint64_t accepted_at_ns);
  void record_refused(const IpAddress &peer, uint16_t sequence, uint64_t timestamp_ns) {
    peers_[peer].record_refused(sequence, timestamp_ns);
  }
  std::optional<uint16_t> expected_sequence(const IpAddress &peer) const;
  void forget(const IpAddress &peer) { peers_.erase(peer); }
  const TimestampWindow &window() const { return window_; }

 private:
  TimestampWindow window_;
  std::map<IpAddress, PeerReplayState> peers_;
};

}  // namespace nvmove::proto
