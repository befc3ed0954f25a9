// Reading IP address text for the key file and the configuration.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "control/protocol/message.h"

namespace nvmove::proto {

// Dotted quad or RFC 4291 text; nullopt for anything else (zone ids included).
std::optional<IpAddress> parse_ip_address(std::string_view text);

}  // namespace nvmove::proto
