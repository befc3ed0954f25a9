#include "control/nvad/timer_queue.h"

namespace nvmove::nvad {

void TimerQueue::schedule(TimerEvent event) { heap_.push(std::move(event)); }

std::optional<Instant> TimerQueue::next_deadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.top().when;
}

std::optional<TimerEvent> TimerQueue::pop_due(Instant now) {
  if (heap_.empty() || heap_.top().when > now) return std::nullopt;
  TimerEvent event = heap_.top();
  heap_.pop();
  return event;
}

}  // namespace nvmove::nvad
