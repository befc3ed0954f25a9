// The split-NVE VM interface state machine of RFC 8394 section 2: the
// hypervisor associates a VM interface with the NVE (resources reserved,
// mapping known), activates it (forwarding populated), deactivates it
// (forwarding removed, association kept: a pause or a move away) and
// disassociates it (back to Init).
#pragma once

#include <optional>
#include <string>

namespace nvmove::agent {

enum class VmState { Init, Associated, Activated };
enum class VmEvent { Associate, Activate, Deactivate, Disassociate };

const char *vm_state_name(VmState s);
const char *vm_event_name(VmEvent e);
std::optional<VmEvent> parse_vm_event(const std::string &word);

struct Transition {
  bool allowed = false;
  VmState to = VmState::Init;
  std::string why;  // when not allowed
};

// Associate in Associated updates the addresses (RFC 8394: adding or removing
// addresses does not change the state); repeating Activate or Deactivate in
// the state it leads to is a no-op, so a retried hypervisor call is harmless.
Transition next_state(VmState from, VmEvent event);

}  // namespace nvmove::agent
