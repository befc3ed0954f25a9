#include "control/nvad/flap_detection.h"

#include <algorithm>

namespace nvmove::nvad {

bool record_move(Binding &binding, Instant now, const FlapPolicy &policy) {
  binding.move_count++;
  auto &moves = binding.recent_moves;
  // A move exactly `window` ago is outside it: "within 180 s" excludes 180.
  std::erase_if(moves, [&](Instant t) { return now - t >= policy.window; });
  moves.push_back(now);
  if (!policy.enabled || moves.size() <= policy.max_moves) return false;
  binding.flapping = true;
  binding.flap_detected_at = now;
  return true;
}

void clear_flap_state(Binding &binding) {
  binding.flapping = false;
  binding.flap_detected_at.reset();
  binding.recent_moves.clear();
}

}  // namespace nvmove::nvad
