#include "control/nvad/text_format.h"

#include <cstdio>

#include "control/protocol/address_text.h"

namespace nvmove::nvad {
namespace {

constexpr size_t kUuidBytes = 16;
constexpr std::string_view kHexPrefix = "hex:";

void append_hex(std::string &out, uint8_t byte) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += kDigits[byte >> 4];
  out += kDigits[byte & 0xf];
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<proto::VmId> parse_hex_bytes(std::string_view digits) {
  if (digits.empty() || digits.size() % 2 != 0) return std::nullopt;
  proto::VmId bytes;
  for (size_t i = 0; i < digits.size(); i += 2) {
    int high = hex_value(digits[i]), low = hex_value(digits[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return bytes;
}

}  // namespace

std::string vm_id_text(const proto::VmId &vm) {
  std::string out;
  if (vm.size() != kUuidBytes) {
    out = kHexPrefix;
    for (uint8_t byte : vm) append_hex(out, byte);
    return out;
  }
  for (size_t i = 0; i < vm.size(); i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    append_hex(out, vm[i]);
  }
  return out;
}

std::optional<proto::VmId> parse_vm_id(std::string_view text) {
  if (text.starts_with(kHexPrefix)) {
    auto bytes = parse_hex_bytes(text.substr(kHexPrefix.size()));
    if (!bytes || bytes->size() > proto::kVmIdMaxBytes) return std::nullopt;
    return bytes;
  }
  // UUID: 36 characters, dashes at 8, 13, 18 and 23.
  if (text.size() != 36) return std::nullopt;
  std::string digits;
  for (size_t i = 0; i < text.size(); i++) {
    bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here != (text[i] == '-')) return std::nullopt;
    if (!dash_here) digits += text[i];
  }
  return parse_hex_bytes(digits);
}

std::string mac_text(const proto::MacAddress &mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

std::string address_text(const proto::IpAddress &address) {
  return proto::format_ip_address(address);
}

std::vector<std::string> addresses_text(const std::vector<proto::IpAddress> &addresses) {
  std::vector<std::string> out;
  out.reserve(addresses.size());
  for (const auto &address : addresses) out.push_back(address_text(address));
  return out;
}

std::vector<std::string> endpoints_text(const proto::NveAddresses &endpoints) {
  std::vector<std::string> out;
  if (endpoints.ipv4) out.push_back(address_text(*endpoints.ipv4));
  if (endpoints.ipv6) out.push_back(address_text(*endpoints.ipv6));
  return out;
}

std::string endpoints_line(const proto::NveAddresses &endpoints) {
  std::string line;
  for (const auto &text : endpoints_text(endpoints)) line += (line.empty() ? "" : ",") + text;
  return line.empty() ? "none" : line;
}

std::string duration_text(Duration duration) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "s";
}

}  // namespace nvmove::nvad
