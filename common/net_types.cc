#include "common/net_types.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

namespace nvmove {

std::optional<IpAddress> IpAddress::parse(const std::string &text) {
  IpAddress a;
  if (inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = 4;
    return a;
  }
  if (inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.family = 6;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 4) inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  else if (family == 6) inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  else return "unset";
  return buf;
}

std::optional<IpPrefix> IpPrefix::parse(const std::string &text) {
  const auto slash = text.find('/');
  auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const uint64_t max = address->is_v4() ? 32 : 128;
  uint64_t length = max;
  if (slash != std::string::npos) {
    auto n = parse_decimal(std::string_view(text).substr(slash + 1), max);
    if (!n) return std::nullopt;
    length = *n;
  }
  IpPrefix p{*address, static_cast<uint8_t>(length)};
  for (size_t bit = length; bit < max; bit++) {
    if (p.address.bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;  // host bits set: a typo
  }
  return p;
}

bool IpPrefix::contains(const IpAddress &a) const {
  if (a.family != address.family) return false;
  size_t bit = 0;
  for (; bit + 8 <= length; bit += 8)
    if (a.bytes[bit / 8] != address.bytes[bit / 8]) return false;
  if (bit == length) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> (length - bit));
  return (a.bytes[bit / 8] & mask) == address.bytes[bit / 8];
}

std::string IpPrefix::to_string() const { return address.to_string() + "/" + std::to_string(length); }

std::optional<std::string> not_a_host_address(const IpAddress &a) {
  const auto &b = a.bytes;
  if (a.is_v4()) {
    if (b[0] == 0) return "an IPv4 address of network 0 (unspecified)";
    if (b[0] == 127) return "a loopback address";
    if (b[0] >= 224 && b[0] <= 239) return "a multicast address";
    if (b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255) return "the limited broadcast address";
    return std::nullopt;
  }
  if (a.is_v6()) {
    bool zero = true;
    for (size_t i = 0; i < 15; i++) zero = zero && b[i] == 0;
    if (zero && b[15] == 0) return "the unspecified address";
    if (zero && b[15] == 1) return "the loopback address";
    if (b[0] == 0xff) return "a multicast address";
    return std::nullopt;
  }
  return "not an address";
}

std::optional<MacAddress> parse_mac(const std::string &text) {
  MacAddress m{};
  unsigned v[6];
  char tail;
  if (std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5], &tail) != 6)
    return std::nullopt;
  for (int i = 0; i < 6; i++) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
  uint64_t v = 0;
  const char *end = text.data() + text.size();
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || v > max) return std::nullopt;
  return v;
}

std::string mac_to_string(const MacAddress &m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

}  // namespace nvmove
