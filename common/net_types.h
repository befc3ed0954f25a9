// Network addresses both planes and every program use, and their text forms:
// the one place an IP address or a MAC is parsed or printed.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nvmove {

// An IPv4 or IPv6 address in network byte order. IPv4 uses the first 4 bytes.
struct IpAddress {
  uint8_t family = 0;  // 4 or 6; 0 = unset
  std::array<uint8_t, 16> bytes{};

  static std::optional<IpAddress> parse(const std::string &text);
  std::string to_string() const;
  bool is_v4() const { return family == 4; }
  bool is_v6() const { return family == 6; }
  bool operator==(const IpAddress &) const = default;
  auto operator<=>(const IpAddress &) const = default;
};

// An address prefix ("198.51.100.0/24", "2001:db8::/32"; an address alone is
// a host prefix). Bits past the length are zero.
struct IpPrefix {
  IpAddress address;
  uint8_t length = 0;

  static std::optional<IpPrefix> parse(const std::string &text);
  bool contains(const IpAddress &a) const;
  std::string to_string() const;
  bool operator==(const IpPrefix &) const = default;
};

// Why `a` cannot be a host's unicast address (a VM's, an NVE's): unspecified,
// multicast, limited broadcast, loopback, IPv4 network 0; nullopt if it can.
std::optional<std::string> not_a_host_address(const IpAddress &a);

using MacAddress = std::array<uint8_t, 6>;
std::optional<MacAddress> parse_mac(const std::string &text);
// A decimal whole number 0..max: digits only (no sign, space or base prefix).
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max);
std::string mac_to_string(const MacAddress &mac);

}  // namespace nvmove
