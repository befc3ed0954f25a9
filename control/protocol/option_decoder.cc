#include "control/protocol/option_decoder.h"

#include <algorithm>
#include <string>

#include "control/protocol/byte_io.h"
#include "control/protocol/option_layout.h"

namespace nvmove::proto {
namespace {

// One option as found on the wire; `value` is already known to lie inside
// the message.
struct RawOption {
  uint8_t type = 0;
  size_t offset = 0;  // of the Type byte
  std::span<const uint8_t> value;
};

CodecError option_error(const RawOption &option, CodecErrc code, std::string detail) {
  return CodecError{code, option.offset, option.type, std::move(detail)};
}

std::optional<CodecError> expect_length(const RawOption &option, size_t expected) {
  if (option.value.size() == expected) return std::nullopt;
  return option_error(option, CodecErrc::BadOptionLength,
                      "length " + std::to_string(option.value.size()) + ", expected " +
                          std::to_string(expected));
}

std::optional<CodecError> duplicate(const RawOption &option) {
  return option_error(option, CodecErrc::DuplicateOption, "may appear only once");
}

std::optional<CodecError> decode_address(const RawOption &option, IpAddress &out) {
  ByteReader in(option.value);
  if (option.value.size() == kIpv4AddressValueLength) {
    if (in.u8() != kAddressFamilyIpv4)
      return option_error(option, CodecErrc::BadOptionValue, "length 6 needs address family 1 (IPv4)");
    in.skip(1);
    out = IpAddress{};
    out.family = 4;
    std::ranges::copy(in.take(4), out.bytes.begin());
    return std::nullopt;
  }
  if (option.value.size() == kIpv6AddressValueLength) {
    if (in.u8() != kAddressFamilyIpv6)
      return option_error(option, CodecErrc::BadOptionValue, "length 18 needs address family 2 (IPv6)");
    in.skip(1);
    out = IpAddress{};
    out.family = 6;
    std::ranges::copy(in.take(16), out.bytes.begin());
    return std::nullopt;
  }
  return option_error(option, CodecErrc::BadOptionLength,
                      "length " + std::to_string(option.value.size()) +
                          ", expected 6 (IPv4) or 18 (IPv6)");
}

std::optional<CodecError> decode_nve(const RawOption &option, NveAddresses &nve) {
  IpAddress address;
  if (auto err = decode_address(option, address)) return err;
  auto &slot = address.is_v4() ? nve.ipv4 : nve.ipv6;
  if (slot)
    return option_error(option, CodecErrc::DuplicateOption, "at most one address per family");
  slot = address;
  return std::nullopt;
}

std::optional<CodecError> decode_vm_id(const RawOption &option, Message &message) {
  if (message.vm_id) return duplicate(option);
  if (option.value.empty())
    return option_error(option, CodecErrc::BadOptionLength, "no ID Length byte");
  size_t id_bytes = option.value[0];
  if (id_bytes == 0) return option_error(option, CodecErrc::BadOptionValue, "ID Length is 0");
  // Exactly the padded length: anything else is either truncated or carries
  // bytes whose meaning is undefined.
  if (option.value.size() != vm_id_value_length(id_bytes))
    return option_error(option, CodecErrc::BadOptionLength,
                        "length " + std::to_string(option.value.size()) + " for ID Length " +
                            std::to_string(id_bytes) + ", expected " +
                            std::to_string(vm_id_value_length(id_bytes)));
  auto id = option.value.subspan(1, id_bytes);
  message.vm_id = VmId(id.begin(), id.end());
  return std::nullopt;
}

// VM Address and Redirecting NVE Address: any number, no two equal.
std::optional<CodecError> decode_address_list(const RawOption &option, std::vector<IpAddress> &list) {
  IpAddress address;
  if (auto err = decode_address(option, address)) return err;
  if (std::ranges::find(list, address) != list.end())
    return option_error(option, CodecErrc::DuplicateOption, "the same address is listed twice");
  list.push_back(address);
  return std::nullopt;
}

std::optional<CodecError> decode_authentication(const RawOption &option, AuthTrailer &auth) {
  if (auto err = expect_length(option, kAuthenticationValueLength)) return err;
  ByteReader in(option.value);
  in.skip(2);
  auth.key_id = in.u32();
  if (auth.key_id == 0)
    return option_error(option, CodecErrc::BadOptionValue, "key id 0 is reserved");
  std::ranges::copy(in.take(kHmacSize), auth.mac.begin());
  auth.mac_offset = option.offset + kAuthMacOffsetInOption;
  return std::nullopt;
}

std::optional<CodecError> decode_unknown(const RawOption &option, DecodedMessage &out) {
  if (option.type & kOptionMustUnderstand)
    return option_error(option, CodecErrc::UnknownMandatoryOption,
                        "type has bit 7 set: the message must be discarded");
  out.skipped_option_types.push_back(option.type);
  return std::nullopt;
}

std::optional<CodecError> decode_one(const RawOption &option, DecodedMessage &out) {
  Message &message = out.message;
  auto type = static_cast<OptionType>(option.type);
  switch (type) {
    case OptionType::VmIdentifier:
    case OptionType::VmMacAddress:
    case OptionType::VirtualNetwork:
    case OptionType::VmAddress:
    case OptionType::ServingNve:
    case OptionType::PreviousNve:
    case OptionType::Timestamp:
    case OptionType::ExpectedSequence:
    case OptionType::Authentication:
    case OptionType::RedirectingNve:
      if (!option_allowed_in(type, message.type))
        return option_error(option, CodecErrc::OptionNotAllowed, "not allowed in this message type");
      break;
    default:
      return decode_unknown(option, out);
  }

  ByteReader in(option.value);
  switch (type) {
    case OptionType::VmIdentifier:
      return decode_vm_id(option, message);
    case OptionType::VmMacAddress:
      if (message.vm_mac) return duplicate(option);
      if (auto err = expect_length(option, kVmMacValueLength)) return err;
      message.vm_mac.emplace();
      std::ranges::copy(in.take(6), message.vm_mac->begin());
      return std::nullopt;
    case OptionType::VirtualNetwork:
      if (message.virtual_network) return duplicate(option);
      if (auto err = expect_length(option, kVirtualNetworkValueLength)) return err;
      in.skip(2);
      message.virtual_network = in.u32();
      return std::nullopt;
    case OptionType::VmAddress:
      return decode_address_list(option, message.vm_addresses);
    case OptionType::ServingNve:
      return decode_nve(option, message.serving_nve);
    case OptionType::PreviousNve:
      return decode_nve(option, message.previous_nve);
    case OptionType::Timestamp:
      if (message.timestamp_ns) return duplicate(option);
      if (auto err = expect_length(option, kTimestampValueLength)) return err;
      in.skip(2);
      message.timestamp_ns = in.u64();
      return std::nullopt;
    case OptionType::ExpectedSequence:
      if (message.expected_sequence) return duplicate(option);
      if (auto err = expect_length(option, kExpectedSequenceValueLength)) return err;
      message.expected_sequence = in.u16();
      return std::nullopt;
    case OptionType::Authentication:
      return decode_authentication(option, out.auth);
    case OptionType::RedirectingNve:
      return decode_address_list(option, message.redirecting_nves);
  }
  return std::nullopt;  // not reached: unknown types returned above
}

}  // namespace

std::optional<CodecError> decode_options(std::span<const uint8_t> message, DecodedMessage &out) {
  size_t offset = kHeaderSize;
  bool authentication_seen = false;
  while (offset < message.size()) {
    size_t remaining = message.size() - offset;
    if (remaining < kOptionHeaderSize)
      return CodecError{CodecErrc::TruncatedOption, offset, 0, "no room for Type and Length"};
    RawOption option{message[offset], offset, {}};
    size_t value_length = message[offset + 1];
    if (value_length > remaining - kOptionHeaderSize)
      return option_error(option, CodecErrc::TruncatedOption,
                          "length " + std::to_string(value_length) + " but only " +
                              std::to_string(remaining - kOptionHeaderSize) + " bytes left");
    if (!is_aligned_option_size(value_length))
      return option_error(option, CodecErrc::MisalignedOption,
                          "2 + length " + std::to_string(value_length) + " is not a multiple of 4");
    // The MAC covers everything before it; bytes after it would be unauthenticated.
    if (authentication_seen)
      return option_error(option, CodecErrc::AuthenticationNotLast,
                          "option follows the Authentication option");
    option.value = message.subspan(offset + kOptionHeaderSize, value_length);
    if (auto err = decode_one(option, out)) return err;
    authentication_seen = option.type == static_cast<uint8_t>(OptionType::Authentication);
    offset += kOptionHeaderSize + value_length;
  }
  if (!authentication_seen)
    return CodecError{CodecErrc::MissingAuthentication, message.size(), 0,
                      "every message must end with an Authentication option"};
  return std::nullopt;
}

}  // namespace nvmove::proto
