// Rules about options that the encoder and the decoder must agree on, kept in
// one place so that they cannot drift apart (decode(encode(m)) == m relies on it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "control/protocol/wire_format.h"

namespace nvmove::proto {

// Section 4.1, table "Where options may appear". A known option in the wrong
// message type is a malformed message, not something to skip.
constexpr bool option_allowed_in(OptionType option, MessageType message) {
  switch (option) {
    case OptionType::VmIdentifier:
    case OptionType::VirtualNetwork:
    case OptionType::Timestamp:
    case OptionType::Authentication:
      return true;
    case OptionType::VmMacAddress:
    case OptionType::VmAddress:
    case OptionType::ServingNve:
    case OptionType::PreviousNve:
      return message == MessageType::RegistrationRequest;
    case OptionType::ExpectedSequence:
    case OptionType::RedirectingNve:
      return message == MessageType::RegistrationReply;
  }
  return false;
}

constexpr bool is_valid_message_type(uint8_t type) {
  return type == static_cast<uint8_t>(MessageType::RegistrationRequest) ||
         type == static_cast<uint8_t>(MessageType::RegistrationReply);
}

constexpr bool is_aligned_option_size(size_t value_length) {
  return (kOptionHeaderSize + value_length) % kOptionAlignment == 0;
}

// Length field of a VM Identifier option carrying `id_bytes` bytes of ID: the
// ID Length byte plus the ID, padded so that the option stays 4-byte aligned.
constexpr size_t vm_id_value_length(size_t id_bytes) {
  size_t unpadded = 1 + id_bytes;
  return unpadded + (kOptionAlignment - (kOptionHeaderSize + unpadded) % kOptionAlignment) %
                        kOptionAlignment;
}

static_assert(vm_id_value_length(16) == 18);
static_assert(vm_id_value_length(kVmIdMaxBytes) == 254);
static_assert(is_aligned_option_size(kAuthenticationValueLength));
static_assert(is_aligned_option_size(kTimestampValueLength));
static_assert(is_aligned_option_size(kIpv4AddressValueLength));
static_assert(is_aligned_option_size(kIpv6AddressValueLength));

}  // namespace nvmove::proto
