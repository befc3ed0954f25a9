// Human-readable names for the protocol's numbers, for logs and test output.
#pragma once

#include <cstdint>

#include "control/protocol/message.h"

namespace nvmove::proto {

const char *message_type_name(MessageType type);
const char *status_name(Status status);  // "Unassigned accepted"/"Unassigned rejected" if unknown
const char *option_type_name(uint8_t type);  // "Unknown" if not defined here
const char *mobility_mode_name(MobilityMode mode);

}  // namespace nvmove::proto
