#include "control/protocol/codec.h"

#include <algorithm>
#include <string>

#include "control/protocol/byte_io.h"
#include "control/protocol/option_decoder.h"
#include "control/protocol/option_encoder.h"
#include "control/protocol/option_layout.h"

namespace nvmove::proto {
namespace {

// Header layout (section 3): offsets of the fields that are patched or
// checked individually.
constexpr size_t kLengthFieldOffset = 10;

uint16_t pack_flags(const Message &message) {
  uint16_t flags = message.notification ? kFlagNotification : 0;
  flags |= static_cast<uint16_t>(static_cast<uint16_t>(message.mobility) << kMobilityModeShift);
  if (message.router) flags |= kFlagRouter;
  return flags;
}

void unpack_flags(uint16_t flags, Message &message) {
  // Bits outside N, M and R are reserved: sent as zero, ignored on receipt.
  message.notification = (flags & kFlagNotification) != 0;
  message.router = (flags & kFlagRouter) != 0;
  message.mobility = static_cast<MobilityMode>((flags & kMobilityModeMask) >> kMobilityModeShift);
}

std::optional<CodecError> check_header_fields(const Message &message) {
  if (!is_valid_message_type(static_cast<uint8_t>(message.type)))
    return CodecError{CodecErrc::UnknownMessageType, 1, 0,
                      "type " + std::to_string(static_cast<unsigned>(message.type))};
  if (static_cast<uint8_t>(message.mobility) > static_cast<uint8_t>(MobilityMode::Hot))
    return CodecError{CodecErrc::BadHeaderField, 2, 0,
                      "mobility mode " + std::to_string(static_cast<unsigned>(message.mobility))};
  // Section 3: fields that mean nothing in this message type are sent as 0.
  if (message.is_request() && message.status != Status::Accepted)
    return CodecError{CodecErrc::BadHeaderField, 8, 0, "Status is sent as 0 in a request"};
  if (message.is_reply() && (message.notification || message.router || message.mobility != MobilityMode::None))
    return CodecError{CodecErrc::BadHeaderField, 2, 0, "flags are sent as 0 in a reply"};
  if (message.router && !message.notification)
    return CodecError{CodecErrc::BadHeaderField, 2, 0, "R is set only with N"};
  return std::nullopt;
}

void write_header(const Message &message, ByteWriter &out) {
  out.u8(kProtocolVersion);
  out.u8(static_cast<uint8_t>(message.type));
  out.u16(pack_flags(message));
  out.u16(message.sequence);
  out.u16(message.lifetime);
  out.u8(static_cast<uint8_t>(message.status));
  out.u8(0);  // reserved
  out.u16(0);  // Length: patched once the options are written
}

void write_authentication_option(const AuthKey &key, ByteWriter &out) {
  out.u8(static_cast<uint8_t>(OptionType::Authentication));
  out.u8(kAuthenticationValueLength);
  out.zeros(2);
  out.u32(key.key_id);
  out.zeros(kHmacSize);  // the MAC is computed over the message with these zero
}

CodecError header_error(CodecErrc code, size_t offset, std::string detail) {
  return CodecError{code, offset, 0, std::move(detail)};
}

}  // namespace

Result<std::vector<uint8_t>, CodecError> encode(const Message &message, const AuthKey &key) {
  if (auto problem = key_problem(key)) return CodecError{CodecErrc::BadKey, 0, 0, *problem};
  if (auto err = check_header_fields(message)) return *err;

  std::vector<uint8_t> wire;
  wire.reserve(256);
  ByteWriter out(wire);
  write_header(message, out);
  if (auto err = encode_options(message, out)) return *err;
  size_t auth_option_offset = out.size();
  write_authentication_option(key, out);
  if (wire.size() > kMaxMessageSize)
    return CodecError{CodecErrc::MessageTooLong, kMaxMessageSize, 0,
                      std::to_string(wire.size()) + " bytes, at most " +
                          std::to_string(kMaxMessageSize) + " allowed"};
  out.patch_u16(kLengthFieldOffset, static_cast<uint16_t>(wire.size()));

  auto mac = compute_mac(wire, key.secret);
  if (!mac) return CodecError{CodecErrc::CryptoFailure, 0, 0, "HMAC-SHA-256 failed"};
  std::ranges::copy(*mac, wire.begin() + static_cast<std::ptrdiff_t>(auth_option_offset +
                                                                     kAuthMacOffsetInOption));
  return wire;
}

Result<DecodedMessage, CodecError> decode(std::span<const uint8_t> wire) {
  if (wire.size() < kHeaderSize)
    return header_error(CodecErrc::MessageTooShort, 0,
                        std::to_string(wire.size()) + " bytes, the header alone is 12");
  if (wire.size() > kMaxMessageSize)
    return header_error(CodecErrc::MessageTooLong, kMaxMessageSize,
                        std::to_string(wire.size()) + " bytes, at most " +
                            std::to_string(kMaxMessageSize) + " allowed");
  ByteReader in(wire);
  uint8_t version = in.u8();
  if (version != kProtocolVersion)
    return header_error(CodecErrc::UnsupportedVersion, 0,
                        "version " + std::to_string(version) + ", only 1 is known");
  uint8_t type = in.u8();
  if (!is_valid_message_type(type))
    return header_error(CodecErrc::UnknownMessageType, 1, "type " + std::to_string(type));

  DecodedMessage out;
  Message &message = out.message;
  message.type = static_cast<MessageType>(type);
  uint16_t flags = in.u16();
  message.sequence = in.u16();
  message.lifetime = in.u16();
  uint8_t status = in.u8();
  in.skip(1);  // reserved
  // Ignored on receipt where they mean nothing (flags in replies, Status in
  // requests), so that they cannot reach the caller.
  if (message.is_request()) unpack_flags(flags, message);
  else message.status = static_cast<Status>(status);
  uint16_t length = in.u16();
  if (length != wire.size())
    return header_error(CodecErrc::LengthMismatch, kLengthFieldOffset,
                        "header says " + std::to_string(length) + " bytes, datagram has " +
                            std::to_string(wire.size()));
  if (length % kOptionAlignment != 0)
    return header_error(CodecErrc::BadMessageLength, kLengthFieldOffset,
                        std::to_string(length) + " is not a multiple of 4");
  // Section 3.1: R only with N; one without is malformed, as encode() says.
  if (message.router && !message.notification)
    return header_error(CodecErrc::BadHeaderField, 2, "R is set only with N");

  if (auto err = decode_options(wire, out)) return *err;
  return out;
}

}  // namespace nvmove::proto
