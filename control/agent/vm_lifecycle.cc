#include "control/agent/vm_lifecycle.h"

namespace nvmove::agent {

const char *vm_state_name(VmState s) {
  switch (s) {
    case VmState::Init: return "init";
    case VmState::Associated: return "associated";
    case VmState::Activated: return "activated";
  }
  return "?";
}

const char *vm_event_name(VmEvent e) {
  switch (e) {
    case VmEvent::Associate: return "associate";
    case VmEvent::Activate: return "activate";
    case VmEvent::Deactivate: return "deactivate";
    case VmEvent::Disassociate: return "disassociate";
  }
  return "?";
}

std::optional<VmEvent> parse_vm_event(const std::string &w) {
  if (w == "associate") return VmEvent::Associate;
  if (w == "activate") return VmEvent::Activate;
  if (w == "deactivate") return VmEvent::Deactivate;
  if (w == "disassociate") return VmEvent::Disassociate;
  return std::nullopt;
}

Transition next_state(VmState from, VmEvent e) {
  auto ok = [](VmState to) { return Transition{true, to, {}}; };
  auto no = [from](const char *why) { return Transition{false, from, why}; };
  switch (e) {
    case VmEvent::Associate:
      if (from == VmState::Activated) return no("VM is activated: deactivate it before associating again");
      return ok(VmState::Associated);
    case VmEvent::Activate:
      if (from == VmState::Init) return no("VM is not associated");
      return ok(VmState::Activated);
    case VmEvent::Deactivate:
      if (from == VmState::Init) return no("VM is not associated");
      return ok(VmState::Associated);
    case VmEvent::Disassociate:
      if (from == VmState::Init) return no("VM is not associated");
      return ok(VmState::Init);
  }
  return no("unknown event");
}

}  // namespace nvmove::agent
