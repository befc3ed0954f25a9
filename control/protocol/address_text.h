// IP address text conversion for the key file and log messages, kept here so
// that the protocol library links without the rest of nvmove.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "control/protocol/message.h"

namespace nvmove::proto {

// Dotted quad or RFC 4291 text; nullopt for anything else (zone ids included).
std::optional<IpAddress> parse_ip_address(std::string_view text);
std::string format_ip_address(const IpAddress &address);  // "unset" if family is 0

}  // namespace nvmove::proto
