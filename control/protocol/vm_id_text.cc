#include "control/protocol/vm_id_text.h"

namespace nvmove::proto {
namespace {

constexpr size_t kUuidBytes = 16;
constexpr size_t kUuidChars = 36;
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

std::optional<VmId> parse_hex_bytes(std::string_view digits) {
  if (digits.empty() || digits.size() % 2 != 0) return std::nullopt;
  VmId bytes;
  for (size_t i = 0; i < digits.size(); i += 2) {
    int high = hex_value(digits[i]), low = hex_value(digits[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return bytes;
}

bool is_dash_position(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

// 36 characters with dashes at 8, 13, 18 and 23 (the digits are checked when
// parsed): text of this shape is always read as a UUID.
bool has_uuid_shape(std::string_view text) {
  if (text.size() != kUuidChars) return false;
  for (size_t i = 0; i < text.size(); i++)
    if (is_dash_position(i) != (text[i] == '-')) return false;
  return true;
}

// Hex digits and dashes, with a dash, about a UUID's length: an attempt at a
// UUID. A mistyped one is refused rather than read as another VM's name.
bool looks_like_uuid(std::string_view text) {
  if (text.size() < 32 || text.size() > 40 || text.find('-') == std::string_view::npos) return false;
  for (char c : text)
    if (c != '-' && hex_value(c) < 0) return false;
  return true;
}

bool is_plain_text(const VmId &vm) {
  for (uint8_t c : vm)
    if (c <= ' ' || c > '~') return false;
  const std::string_view text(reinterpret_cast<const char *>(vm.data()), vm.size());
  return !text.starts_with(kHexPrefix) && !looks_like_uuid(text);
}

}  // namespace

std::string vm_id_text(const VmId &vm) {
  std::string out;
  if (!vm.empty() && is_plain_text(vm)) return std::string(vm.begin(), vm.end());
  if (vm.size() == kUuidBytes) {
    for (size_t i = 0; i < vm.size(); i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
      append_hex(out, vm[i]);
    }
    return out;
  }
  out = kHexPrefix;
  for (uint8_t byte : vm) append_hex(out, byte);
  return out;
}

std::optional<VmId> parse_vm_id(std::string_view text) {
  std::optional<VmId> vm;
  if (text.starts_with(kHexPrefix)) {
    vm = parse_hex_bytes(text.substr(kHexPrefix.size()));
  } else if (looks_like_uuid(text)) {
    if (!has_uuid_shape(text)) return std::nullopt;
    std::string digits;
    for (size_t i = 0; i < text.size(); i++)
      if (!is_dash_position(i)) digits += text[i];
    vm = parse_hex_bytes(digits);
  } else {
    vm = VmId(text.begin(), text.end());
    if (!is_plain_text(*vm)) return std::nullopt;  // spaces or control characters: use hex:
  }
  if (!vm || vm->empty() || vm->size() > kVmIdMaxBytes) return std::nullopt;
  return vm;
}

}  // namespace nvmove::proto
