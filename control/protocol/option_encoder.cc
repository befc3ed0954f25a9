#include "control/protocol/option_encoder.h"

#include <algorithm>
#include <string>

#include "control/protocol/option_layout.h"

namespace nvmove::proto {
namespace {

CodecError encode_error(const ByteWriter &out, CodecErrc code, OptionType type,
                        std::string detail) {
  return CodecError{code, out.size(), static_cast<uint8_t>(type), std::move(detail)};
}

std::optional<CodecError> check_allowed(const Message &message, const ByteWriter &out,
                                        OptionType type) {
  if (option_allowed_in(type, message.type)) return std::nullopt;
  return encode_error(out, CodecErrc::OptionNotAllowed, type, "set in a message of this type");
}

void write_option_header(ByteWriter &out, OptionType type, size_t value_length) {
  out.u8(static_cast<uint8_t>(type));
  out.u8(static_cast<uint8_t>(value_length));
}

// Decoded IPv4 addresses have bytes 4..15 zero; insisting on the same here
// keeps decode(encode(m)) == m for every message encode() accepts.
bool ipv4_tail_is_zero(const IpAddress &address) {
  return std::all_of(address.bytes.begin() + 4, address.bytes.end(),
                     [](uint8_t b) { return b == 0; });
}

std::optional<CodecError> write_address(ByteWriter &out, OptionType type,
                                        const IpAddress &address) {
  if (address.is_v4()) {
    if (!ipv4_tail_is_zero(address))
      return encode_error(out, CodecErrc::BadOptionValue, type,
                          "IPv4 address has non-zero bytes after the fourth");
    write_option_header(out, type, kIpv4AddressValueLength);
    out.u8(kAddressFamilyIpv4);
    out.u8(0);
    out.bytes(std::span(address.bytes).first(4));
    return std::nullopt;
  }
  if (address.is_v6()) {
    write_option_header(out, type, kIpv6AddressValueLength);
    out.u8(kAddressFamilyIpv6);
    out.u8(0);
    out.bytes(address.bytes);
    return std::nullopt;
  }
  return encode_error(out, CodecErrc::BadOptionValue, type,
                      "address family " + std::to_string(address.family) + " is neither 4 nor 6");
}

std::optional<CodecError> write_nve(const Message &message, ByteWriter &out, OptionType type,
                                    const NveAddresses &nve) {
  if (nve.empty()) return std::nullopt;
  if (auto err = check_allowed(message, out, type)) return err;
  if (nve.ipv4) {
    if (!nve.ipv4->is_v4())
      return encode_error(out, CodecErrc::BadOptionValue, type, "IPv4 slot holds a non-IPv4 address");
    if (auto err = write_address(out, type, *nve.ipv4)) return err;
  }
  if (nve.ipv6) {
    if (!nve.ipv6->is_v6())
      return encode_error(out, CodecErrc::BadOptionValue, type, "IPv6 slot holds a non-IPv6 address");
    if (auto err = write_address(out, type, *nve.ipv6)) return err;
  }
  return std::nullopt;
}

std::optional<CodecError> write_vm_id(const Message &message, ByteWriter &out) {
  if (!message.vm_id) return std::nullopt;
  if (auto err = check_allowed(message, out, OptionType::VmIdentifier)) return err;
  const VmId &id = *message.vm_id;
  if (id.empty() || id.size() > kVmIdMaxBytes)
    return encode_error(out, CodecErrc::BadOptionValue, OptionType::VmIdentifier,
                        "VM-ID is " + std::to_string(id.size()) + " bytes, must be 1 to 253");
  size_t value_length = vm_id_value_length(id.size());
  write_option_header(out, OptionType::VmIdentifier, value_length);
  out.u8(static_cast<uint8_t>(id.size()));
  out.bytes(id);
  out.zeros(value_length - 1 - id.size());
  return std::nullopt;
}

// VM Address and Redirecting NVE Address: any number, no two equal.
std::optional<CodecError> write_address_list(const Message &message, ByteWriter &out, OptionType type,
                                             const std::vector<IpAddress> &addresses) {
  if (addresses.empty()) return std::nullopt;
  if (auto err = check_allowed(message, out, type)) return err;
  for (auto it = addresses.begin(); it != addresses.end(); ++it) {
    if (std::find(addresses.begin(), it, *it) != it)
      return encode_error(out, CodecErrc::DuplicateOption, type, "the same address is listed twice");
    if (auto err = write_address(out, type, *it)) return err;
  }
  return std::nullopt;
}

}  // namespace

std::optional<CodecError> encode_options(const Message &message, ByteWriter &out) {
  if (auto err = write_vm_id(message, out)) return err;
  if (message.vm_mac) {
    if (auto err = check_allowed(message, out, OptionType::VmMacAddress)) return err;
    write_option_header(out, OptionType::VmMacAddress, kVmMacValueLength);
    out.bytes(*message.vm_mac);
  }
  if (message.virtual_network) {
    write_option_header(out, OptionType::VirtualNetwork, kVirtualNetworkValueLength);
    out.zeros(2);
    out.u32(*message.virtual_network);
  }
  if (auto err = write_address_list(message, out, OptionType::VmAddress, message.vm_addresses)) return err;
  if (auto err = write_nve(message, out, OptionType::ServingNve, message.serving_nve)) return err;
  if (auto err = write_nve(message, out, OptionType::PreviousNve, message.previous_nve)) return err;
  if (message.timestamp_ns) {
    write_option_header(out, OptionType::Timestamp, kTimestampValueLength);
    out.zeros(2);
    out.u64(*message.timestamp_ns);
  }
  if (message.expected_sequence) {
    if (auto err = check_allowed(message, out, OptionType::ExpectedSequence)) return err;
    write_option_header(out, OptionType::ExpectedSequence, kExpectedSequenceValueLength);
    out.u16(*message.expected_sequence);
  }
  if (auto err = write_address_list(message, out, OptionType::RedirectingNve, message.redirecting_nves))
    return err;
  return std::nullopt;
}

}  // namespace nvmove::proto
