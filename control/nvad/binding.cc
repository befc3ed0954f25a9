#include "control/nvad/binding.h"

#include <algorithm>

namespace nvmove::nvad {

const char *notification_state_name(NotificationState state) {
  switch (state) {
    case NotificationState::Pending: return "pending";
    case NotificationState::Acknowledged: return "acknowledged";
    case NotificationState::Failed: return "failed";
  }
  return "invalid";
}

const char *previous_role_name(PreviousRole role) {
  switch (role) {
    case PreviousRole::Nve: return "nve";
    case PreviousRole::Router: return "router";
  }
  return "invalid";
}

const char *binding_state_name(BindingState state) {
  switch (state) {
    case BindingState::Active: return "active";
    case BindingState::DeregisteredGrace: return "deregistered-grace";
  }
  return "invalid";
}

PreviousNve *Binding::find_previous(const IpAddress &control) {
  auto it = std::ranges::find(previous, control, [](const PreviousNve &p) { return p.nve.control; });
  return it == previous.end() ? nullptr : &*it;
}

const PreviousNve *Binding::find_previous(const IpAddress &control) const {
  return const_cast<Binding *>(this)->find_previous(control);
}

size_t Binding::pending_notifications() const {
  return static_cast<size_t>(std::ranges::count(previous, NotificationState::Pending, &PreviousNve::state));
}

}  // namespace nvmove::nvad
