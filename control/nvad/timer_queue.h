// Deadlines for lifetimes and retransmissions, in a min-heap. Entries are
// never removed when a deadline moves: the owner just schedules the new one,
// and when a stale entry comes due it compares it with the binding's current
// deadline and ignores it. That keeps a refresh O(log n) with no search, at
// the cost of a few dead entries per binding (popped when they come due).
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

#include "control/nvad/binding.h"
#include "control/base/clock.h"

namespace nvmove::nvad {

enum class TimerKind : uint8_t {
  BindingDeadline,  // lifetime or grace period end
  Retransmit,       // a pending notification to `peer`
};

struct TimerEvent {
  Instant when{};
  TimerKind kind = TimerKind::BindingDeadline;
  BindingKey key;
  IpAddress peer;  // Retransmit only
};

class TimerQueue {
 public:
  void schedule(TimerEvent event);
  std::optional<Instant> next_deadline() const;
  // The earliest event due at `now`, removed from the queue.
  std::optional<TimerEvent> pop_due(Instant now);
  size_t size() const { return heap_.size(); }

 private:
  struct Later {
    bool operator()(const TimerEvent &a, const TimerEvent &b) const { return a.when > b.when; }
  };
  std::priority_queue<TimerEvent, std::vector<TimerEvent>, Later> heap_;
};

}  // namespace nvmove::nvad
