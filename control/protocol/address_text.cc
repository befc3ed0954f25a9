#include "control/protocol/address_text.h"

#include <arpa/inet.h>

namespace nvmove::proto {

// The same text form as everywhere else (IpAddress::parse in
// common/net_types.cc); this only adapts the interface (string_view in,
// length-checked). Printing is IpAddress::to_string, the one IP-to-text.
std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  return IpAddress::parse(std::string(text));
}

}  // namespace nvmove::proto
