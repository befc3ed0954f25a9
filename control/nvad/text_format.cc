#include "control/nvad/text_format.h"

#include <cstdio>

#include "control/protocol/address_text.h"

namespace nvmove::nvad {

std::string address_text(const proto::IpAddress &address) {
  return address.to_string();
}

std::vector<std::string> addresses_text(const std::vector<proto::IpAddress> &addresses) {
  std::vector<std::string> out;
  out.reserve(addresses.size());
  for (const auto &address : addresses) out.push_back(address.to_string());
  return out;
}

std::vector<std::string> endpoints_text(const proto::NveAddresses &endpoints) {
  std::vector<std::string> out;
  if (endpoints.ipv4) out.push_back((*endpoints.ipv4).to_string());
  if (endpoints.ipv6) out.push_back((*endpoints.ipv6).to_string());
  return out;
}

std::string endpoints_line(const proto::NveAddresses &endpoints) {
  std::string line;
  for (const auto &text : endpoints_text(endpoints)) line += (line.empty() ? "" : ",") + text;
  return line.empty() ? "none" : line;
}

}  // namespace nvmove::nvad
