#include "control/protocol/address_text.h"

#include <arpa/inet.h>

namespace nvmove::proto {

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string terminated(text);  // inet_pton needs a NUL-terminated string
  IpAddress address;
  if (inet_pton(AF_INET, terminated.c_str(), address.bytes.data()) == 1) {
    address.family = 4;
    return address;
  }
  if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) == 1) {
    address.family = 6;
    return address;
  }
  return std::nullopt;
}

std::string format_ip_address(const IpAddress &address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.is_v4()) inet_ntop(AF_INET, address.bytes.data(), text, sizeof text);
  else if (address.is_v6()) inet_ntop(AF_INET6, address.bytes.data(), text, sizeof text);
  else return "unset";
  return text;
}

}  // namespace nvmove::proto
