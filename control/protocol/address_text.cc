#include "control/protocol/address_text.h"

#include <arpa/inet.h>

namespace nvmove::proto {

// The same text forms as everywhere else (common/route_change.cc); these
// only adapt the interface (string_view in, length-checked).
std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  return IpAddress::parse(std::string(text));
}

std::string format_ip_address(const IpAddress &address) { return address.to_string(); }

}  // namespace nvmove::proto
