#include "control/protocol/replay.h"

namespace nvmove::proto {

bool TimestampWindow::contains(uint64_t timestamp_ns, uint64_t now_ns) const {
  uint64_t distance = timestamp_ns > now_ns ? timestamp_ns - now_ns : now_ns - timestamp_ns;
  auto width = half_width.count();
  if (width < 0) return distance == 0;  // a negative window is treated as zero
  return distance <= static_cast<uint64_t>(width);
}

const char *replay_verdict_name(ReplayVerdict verdict) {
  switch (verdict) {
    case ReplayVerdict::Fresh: return "fresh";
    case ReplayVerdict::Duplicate: return "duplicate";
    case ReplayVerdict::OutsideWindow: return "timestamp outside window";
    case ReplayVerdict::TimestampNotNewer: return "timestamp not newer than last accepted";
    case ReplayVerdict::SequenceNotNewer: return "sequence number not newer than last accepted";
  }
  return "invalid";
}

std::optional<Status> rejection_status(ReplayVerdict verdict) {
  switch (verdict) {
    case ReplayVerdict::Fresh:
    case ReplayVerdict::Duplicate:
      return std::nullopt;
    case ReplayVerdict::OutsideWindow: return Status::TimestampMismatch;
    case ReplayVerdict::TimestampNotNewer: return Status::TimestampLowerThanPrevious;
    case ReplayVerdict::SequenceNotNewer: return Status::BadSequenceNumber;
  }
  return Status::Unspecified;
}

ReplayVerdict PeerReplayState::check(uint16_t sequence, uint64_t timestamp_ns, uint64_t now_ns,
                                     const TimestampWindow &window) const {
  // A copy the network duplicated (or an attacker replayed) of a request
  // already answered: answering again would only feed a reflection attack.
  if (has_history() && sequence == *last_sequence_ && timestamp_ns == *last_timestamp_ns_)
    return ReplayVerdict::Duplicate;
  if (last_refused_ && last_refused_->first == sequence && last_refused_->second == timestamp_ns)
    return ReplayVerdict::Duplicate;  // refused already: refusing again would only reflect
  if (!window.contains(timestamp_ns, now_ns)) return ReplayVerdict::OutsideWindow;
  if (!has_history()) return ReplayVerdict::Fresh;
  if (timestamp_ns <= timestamp_floor_ns_) return ReplayVerdict::TimestampNotNewer;
  if (!seq_newer(sequence, *last_sequence_)) return ReplayVerdict::SequenceNotNewer;
  return ReplayVerdict::Fresh;
}

void PeerReplayState::record(uint16_t sequence, uint64_t timestamp_ns, std::optional<uint64_t> accepted_at_ns) {
  last_sequence_ = sequence;
  last_timestamp_ns_ = timestamp_ns;
  timestamp_floor_ns_ = accepted_at_ns ? std::min(timestamp_ns, *accepted_at_ns) : timestamp_ns;
}

std::optional<uint16_t> PeerReplayState::expected_sequence() const {
  if (!last_sequence_) return std::nullopt;
  return seq_next(*last_sequence_);
}

ReplayVerdict ReplayGuard::check(const IpAddress &peer, uint16_t sequence, uint64_t timestamp_ns,
                                 uint64_t now_ns) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return PeerReplayState{}.check(sequence, timestamp_ns, now_ns, window_);
  return it->second.check(sequence, timestamp_ns, now_ns, window_);
}

void ReplayGuard::record(const IpAddress &peer, uint16_t sequence, uint64_t timestamp_ns, uint64_t accepted_at_ns) {
  peers_[peer].record(sequence, timestamp_ns, accepted_at_ns);
}

std::optional<uint16_t> ReplayGuard::expected_sequence(const IpAddress &peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  return it->second.expected_sequence();
}

}  // namespace nvmove::proto
