#include "control/protocol/names.h"

namespace nvmove::proto {

const char *message_type_name(MessageType type) {
  switch (type) {
    case MessageType::RegistrationRequest: return "Registration Request";
    case MessageType::RegistrationReply: return "Registration Reply";
  }
  return "Unknown";
}

const char *status_name(Status status) {
  switch (status) {
    case Status::Accepted: return "Accepted";
    case Status::Unspecified: return "Unspecified";
    case Status::AdministrativelyProhibited: return "Administratively prohibited";
    case Status::InsufficientResources: return "Insufficient resources";
    case Status::NotActiveManagementNode: return "Not the active management node";
    case Status::BadSequenceNumber: return "Bad sequence number";
    case Status::NotAuthorized: return "Not authorized";
    case Status::TimestampMismatch: return "Timestamp mismatch";
    case Status::TimestampLowerThanPrevious: return "Timestamp lower than previous accepted";
    case Status::MissingMandatoryOption: return "Missing mandatory option";
    case Status::VmIdentityMismatch: return "VM identity mismatch";
    case Status::UnknownVirtualNetwork: return "Unknown virtual network";
  }
  // Receivers must treat any value below 128 as accepted (section 3.2).
  return is_accepted(status) ? "Unassigned accepted" : "Unassigned rejected";
}

const char *option_type_name(uint8_t type) {
  switch (static_cast<OptionType>(type)) {
    case OptionType::VmIdentifier: return "VM Identifier";
    case OptionType::VmMacAddress: return "VM MAC Address";
    case OptionType::VirtualNetwork: return "Virtual Network";
    case OptionType::VmAddress: return "VM Address";
    case OptionType::ServingNve: return "Serving NVE Address";
    case OptionType::PreviousNve: return "Previous NVE Address";
    case OptionType::RedirectingNve: return "Redirecting NVE Address";
    case OptionType::Timestamp: return "Timestamp";
    case OptionType::ExpectedSequence: return "Expected Sequence Number";
    case OptionType::Authentication: return "Authentication";
  }
  return "Unknown";
}

const char *mobility_mode_name(MobilityMode mode) {
  switch (mode) {
    case MobilityMode::None: return "none";
    case MobilityMode::Cold: return "cold";
    case MobilityMode::Warm: return "warm";
    case MobilityMode::Hot: return "hot";
  }
  return "invalid";
}

}  // namespace nvmove::proto
