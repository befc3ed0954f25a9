// EVPN-style MAC mobility damping (RFC 7432 section 15.1 and what router
// vendors build on it): a VM that moves more than `max_moves` times within
// `window` is flapping, usually two hypervisors both claiming it (a split
// brain after a failed migration, or a duplicated VM). Following it would
// send its traffic back and forth; nvad freezes the binding where it is and
// asks an operator to look.
#pragma once

#include "control/nvad/binding.h"
#include "control/nvad/nvad_config.h"

namespace nvmove::nvad {

// Records a move at `now` in binding.recent_moves, forgetting moves older
// than the window, and returns true if the binding has just become flapping
// (it sets binding.flapping and flap_detected_at). A binding already
// flapping never gets here: its moves are refused.
bool record_move(Binding &binding, Instant now, const FlapPolicy &policy);

// Operator action: accept moves again and start counting afresh.
void clear_flap_state(Binding &binding);

}  // namespace nvmove::nvad
