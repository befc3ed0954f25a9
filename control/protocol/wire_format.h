// Numbers that appear on the wire. docs/protocol.md is the normative text;
// every constant here names the section that defines it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nvmove::proto {

// Section 2. IANA never assigns Dynamic ports (49152-65535), so this cannot
// collide with a registered service (4789 is VXLAN, 4790 VXLAN-GPE, 4791
// RoCEv2); 61434 is also above Linux's default ephemeral range (32768-60999),
// so an outgoing connection is not holding it when nved or nvad starts.
inline constexpr uint16_t kDefaultUdpPort = 61434;

// Section 3.
inline constexpr uint8_t kProtocolVersion = 1;
inline constexpr size_t kHeaderSize = 12;
// 1280 (IPv6 minimum link MTU) - 40 (IPv6 header) - 8 (UDP header): a message
// never needs fragmenting, on any path, in either address family.
inline constexpr size_t kMaxMessageSize = 1232;
inline constexpr uint32_t kLifetimeUnitSeconds = 4;

enum class MessageType : uint8_t {
  RegistrationRequest = 1,
  RegistrationReply = 2,
};

// Section 3.1: the 16-bit Flags field.
inline constexpr uint16_t kFlagNotification = 0x8000;  // N: nvad -> previous NVE
inline constexpr uint16_t kMobilityModeMask = 0x6000;  // M: 2-bit move hint
inline constexpr unsigned kMobilityModeShift = 13;
inline constexpr uint16_t kFlagRouter = 0x1000;  // R: with N, nvad -> a default router

// Section 4: options are Type (8) + Length (8) + Value, and every option's
// total size (2 + Length) is a multiple of 4, so each starts 4-byte aligned.
inline constexpr size_t kOptionHeaderSize = 2;
inline constexpr size_t kOptionAlignment = 4;

// Bit 7 of the type says what a receiver that does not know the type does:
// 0 = skip the option, 1 = discard the whole message.
inline constexpr uint8_t kOptionMustUnderstand = 0x80;

enum class OptionType : uint8_t {
  VmIdentifier = 0x81,
  VmMacAddress = 0x82,
  VirtualNetwork = 0x83,
  VmAddress = 0x84,
  ServingNve = 0x85,
  PreviousNve = 0x06,       // informational: safe to skip
  Timestamp = 0x87,
  ExpectedSequence = 0x08,  // a hint for resynchronising: safe to skip
  Authentication = 0x89,
  RedirectingNve = 0x0A,    // informational: safe to skip (a reply's tunnel sources)
};

// Value lengths (the Length field, not counting Type and Length).
inline constexpr uint8_t kVmMacValueLength = 6;
inline constexpr uint8_t kVirtualNetworkValueLength = 6;  // 2 reserved + 32-bit VN
inline constexpr uint8_t kIpv4AddressValueLength = 6;     // family, reserved, 4 bytes
inline constexpr uint8_t kIpv6AddressValueLength = 18;    // family, reserved, 16 bytes
inline constexpr uint8_t kTimestampValueLength = 10;      // 2 reserved + 64-bit ns
inline constexpr uint8_t kExpectedSequenceValueLength = 2;
inline constexpr uint8_t kAuthenticationValueLength = 38;  // 2 reserved, key id, MAC

// Address Family Numbers as IANA assigns them (also used by BGP and LISP).
inline constexpr uint8_t kAddressFamilyIpv4 = 1;
inline constexpr uint8_t kAddressFamilyIpv6 = 2;

// VM Identifier value: ID Length (1) + ID + 0-3 zero bytes of padding; the
// Length field can be at most 254 for a multiple-of-4 option, so 253 ID bytes.
inline constexpr size_t kVmIdMaxBytes = 253;

inline constexpr size_t kHmacSize = 32;  // HMAC-SHA-256, untruncated
// Offset of the MAC inside the Authentication option (type, length, 2
// reserved, 4 key id).
inline constexpr size_t kAuthMacOffsetInOption = 8;

}  // namespace nvmove::proto
