// decode() on bad input: every refusal has its own error code and points at
// the offending bytes; no input crashes it or makes it read out of bounds
// (run these under -fsanitize=address to make the second half meaningful).
#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

#include "control/protocol/address_text.h"
#include "control/protocol/codec.h"

using namespace nvmove::proto;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kRequest = 1, kReply = 2;

// Authentication option with key id 1 and a zero MAC: decode() does not
// verify MACs, so this is structurally complete.
Bytes auth_option() {
  Bytes option = {0x89, 38, 0, 0, 0, 0, 0, 1};
  option.resize(40, 0);
  return option;
}

// A header (sequence 1, lifetime 16) and the given options, Length filled in.
Bytes raw_message(uint8_t type, std::initializer_list<Bytes> options, bool with_auth = true) {
  Bytes wire = {1, type, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0};
  for (const Bytes &option : options) wire.insert(wire.end(), option.begin(), option.end());
  if (with_auth) {
    Bytes auth = auth_option();
    wire.insert(wire.end(), auth.begin(), auth.end());
  }
  wire[10] = static_cast<uint8_t>(wire.size() >> 8);
  wire[11] = static_cast<uint8_t>(wire.size());
  return wire;
}

const Bytes kVmId = {0x81, 6, 4, 1, 2, 3, 4, 0};
const Bytes kMac = {0x82, 6, 2, 0, 0, 0, 0, 1};
const Bytes kVn = {0x83, 6, 0, 0, 0, 0, 0, 7};
const Bytes kV4 = {0x84, 6, 1, 0, 10, 0, 0, 5};
const Bytes kTimestamp = {0x87, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

CodecError error_of(const Bytes &wire) {
  auto decoded = decode(wire);
  EXPECT_FALSE(decoded.ok()) << "decoded, expected an error";
  return decoded.ok() ? CodecError{} : decoded.error();
}

CodecErrc errc_of(const Bytes &wire) { return error_of(wire).code; }

TEST(ProtocolMalformed, WellFormedBaselineDecodes) {
  auto decoded = decode(raw_message(kRequest, {kVmId, kMac, kVn, kV4, kTimestamp}));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->message.vm_id, (VmId{1, 2, 3, 4}));
  EXPECT_EQ(decoded->message.virtual_network, 7u);
}

TEST(ProtocolMalformed, HeaderErrors) {
  for (size_t n = 0; n < kHeaderSize; n++)
    EXPECT_EQ(errc_of(Bytes(n, 1)), CodecErrc::MessageTooShort) << n;
  Bytes huge = raw_message(kRequest, {});
  huge.resize(kMaxMessageSize + 1, 0);
  EXPECT_EQ(errc_of(huge), CodecErrc::MessageTooLong);

  Bytes wire = raw_message(kRequest, {kVmId});
  for (uint8_t version : {0, 2, 255}) {
    Bytes v = wire;
    v[0] = version;
    EXPECT_EQ(errc_of(v), CodecErrc::UnsupportedVersion);
  }
  for (uint8_t type : {0, 3, 255}) {
    Bytes t = wire;
    t[1] = type;
    EXPECT_EQ(errc_of(t), CodecErrc::UnknownMessageType);
  }
  Bytes longer = wire;
  longer[11] += 4;  // header claims more than the datagram holds
  EXPECT_EQ(errc_of(longer), CodecErrc::LengthMismatch);
  Bytes trailing = wire;
  trailing.insert(trailing.end(), 4, 0);  // datagram has bytes the header does not claim
  EXPECT_EQ(errc_of(trailing), CodecErrc::LengthMismatch);
  Bytes odd = wire;
  odd.push_back(0);
  odd[11] += 1;
  EXPECT_EQ(errc_of(odd), CodecErrc::BadMessageLength);
}

TEST(ProtocolMalformed, TruncatedAndOversizedOptions) {
  // Length 0xff runs past the end of the message.
  CodecError err = error_of(raw_message(kRequest, {kVmId, {0x84, 0xff, 1, 0}}, false));
  EXPECT_EQ(err.code, CodecErrc::TruncatedOption);
  EXPECT_EQ(err.offset, 20u);
  EXPECT_EQ(err.option_type, 0x84);
  // The Authentication option cut short by the end of the message.
  Bytes cut = raw_message(kRequest, {kVmId});
  cut.erase(cut.end() - 4, cut.end());
  cut[11] -= 4;
  EXPECT_EQ(errc_of(cut), CodecErrc::TruncatedOption);
}

TEST(ProtocolMalformed, MisalignedOption) {
  CodecError err = error_of(raw_message(kRequest, {{0x84, 5, 1, 0, 10, 0, 0, 0}}));
  EXPECT_EQ(err.code, CodecErrc::MisalignedOption);
  EXPECT_EQ(err.offset, kHeaderSize);
  // The rule applies to unknown options too: that is what lets them be skipped.
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x10, 1, 0, 0}})), CodecErrc::MisalignedOption);
}

TEST(ProtocolMalformed, BadLengthsForKnownOptions) {
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x82, 10, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0}})),
            CodecErrc::BadOptionLength);  // MAC
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x83, 2, 0, 7}})), CodecErrc::BadOptionLength);  // VN
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x84, 10, 1, 0, 1, 2, 3, 4, 0, 0, 0, 0}})),
            CodecErrc::BadOptionLength);  // address
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x87, 6, 0, 0, 0, 0, 0, 1}})),
            CodecErrc::BadOptionLength);  // timestamp
  EXPECT_EQ(errc_of(raw_message(kReply, {{0x08, 6, 0, 1, 0, 0, 0, 0}})),
            CodecErrc::BadOptionLength);  // expected sequence
  Bytes short_auth = {0x89, 34, 0, 0, 0, 0, 0, 1};
  short_auth.resize(36, 0);
  EXPECT_EQ(errc_of(raw_message(kRequest, {short_auth}, false)), CodecErrc::BadOptionLength);
  // VM Identifier: Length must be exactly the padded 1 + ID Length.
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x81, 6, 16, 1, 2, 3, 4, 5}})),
            CodecErrc::BadOptionLength);  // claims 16 bytes of ID, carries 5
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x81, 6, 1, 9, 0, 0, 0, 0}})),
            CodecErrc::BadOptionLength);  // 1 byte of ID, 4 of padding
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x81, 2, 0, 0}})), CodecErrc::BadOptionValue);
}

TEST(ProtocolMalformed, BadOptionValues) {
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x84, 6, 2, 0, 10, 0, 0, 5}})),
            CodecErrc::BadOptionValue);  // family IPv6, length of IPv4
  Bytes v6_as_v4 = {0x85, 18, 1, 0};
  v6_as_v4.resize(20, 0);
  EXPECT_EQ(errc_of(raw_message(kRequest, {v6_as_v4})), CodecErrc::BadOptionValue);
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x06, 6, 3, 0, 10, 0, 0, 5}})),
            CodecErrc::BadOptionValue);  // family 3
  Bytes key_id_zero = auth_option();
  key_id_zero[7] = 0;
  EXPECT_EQ(errc_of(raw_message(kRequest, {key_id_zero}, false)), CodecErrc::BadOptionValue);
}

TEST(ProtocolMalformed, DuplicateOptions) {
  EXPECT_EQ(errc_of(raw_message(kRequest, {kVmId, kVmId})), CodecErrc::DuplicateOption);
  EXPECT_EQ(errc_of(raw_message(kRequest, {kMac, kMac})), CodecErrc::DuplicateOption);
  EXPECT_EQ(errc_of(raw_message(kRequest, {kVn, kVn})), CodecErrc::DuplicateOption);
  EXPECT_EQ(errc_of(raw_message(kRequest, {kV4, kV4})), CodecErrc::DuplicateOption);
  EXPECT_EQ(errc_of(raw_message(kRequest, {kTimestamp, kTimestamp})), CodecErrc::DuplicateOption);
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x85, 6, 1, 0, 1, 1, 1, 1}, {0x85, 6, 1, 0, 2, 2, 2, 2}})),
            CodecErrc::DuplicateOption);  // two IPv4 serving NVEs
  EXPECT_EQ(errc_of(raw_message(kReply, {{0x08, 2, 0, 1}, {0x08, 2, 0, 2}})),
            CodecErrc::DuplicateOption);
  EXPECT_EQ(errc_of(raw_message(kReply, {{0x0a, 6, 1, 0, 1, 1, 1, 1}, {0x0a, 6, 1, 0, 1, 1, 1, 1}})),
            CodecErrc::DuplicateOption);  // the same redirecting NVE twice
  EXPECT_TRUE(decode(raw_message(kReply, {{0x0a, 6, 1, 0, 1, 1, 1, 1}, {0x0a, 6, 1, 0, 2, 2, 2, 2}})).ok());
  // Two different VM addresses are fine, as are one serving NVE per family.
  Bytes v6 = {0x85, 18, 2, 0, 0x20, 0x01, 0x0d, 0xb8};
  v6.resize(20, 0);
  EXPECT_TRUE(decode(raw_message(kRequest, {kV4, {0x84, 6, 1, 0, 10, 0, 0, 6},
                                            {0x85, 6, 1, 0, 1, 1, 1, 1}, v6}))
                  .ok());
}

TEST(ProtocolMalformed, UnknownSkippableOptionsAreSkipped) {
  auto decoded = decode(raw_message(kRequest, {{0x10, 2, 0xaa, 0xbb}, kVmId, {0x7f, 6, 1, 2, 3, 4, 5, 6},
                                               {0x00, 2, 0, 0}}));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->skipped_option_types, (std::vector<uint8_t>{0x10, 0x7f, 0x00}));
  EXPECT_EQ(decoded->message.vm_id, (VmId{1, 2, 3, 4}));
}

TEST(ProtocolMalformed, UnknownMandatoryOptionsRejectTheMessage) {
  for (uint8_t type : {0x80, 0x8a, 0x90, 0xff}) {
    CodecError err = error_of(raw_message(kRequest, {kVmId, {type, 2, 0, 0}}));
    EXPECT_EQ(err.code, CodecErrc::UnknownMandatoryOption) << int(type);
    EXPECT_EQ(err.offset, 20u);
    EXPECT_EQ(err.option_type, type);
  }
}

TEST(ProtocolMalformed, OptionsInTheWrongMessageType) {
  EXPECT_EQ(errc_of(raw_message(kReply, {kMac})), CodecErrc::OptionNotAllowed);
  EXPECT_EQ(errc_of(raw_message(kReply, {kV4})), CodecErrc::OptionNotAllowed);
  EXPECT_EQ(errc_of(raw_message(kReply, {{0x85, 6, 1, 0, 1, 1, 1, 1}})), CodecErrc::OptionNotAllowed);
  EXPECT_EQ(errc_of(raw_message(kReply, {{0x06, 6, 1, 0, 1, 1, 1, 1}})), CodecErrc::OptionNotAllowed);
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x08, 2, 0, 1}})), CodecErrc::OptionNotAllowed);
  EXPECT_EQ(errc_of(raw_message(kRequest, {{0x0a, 6, 1, 0, 1, 1, 1, 1}})), CodecErrc::OptionNotAllowed);
}

TEST(ProtocolMalformed, AuthenticationMustBePresentAndLast) {
  EXPECT_EQ(errc_of(raw_message(kRequest, {kVmId}, false)), CodecErrc::MissingAuthentication);
  EXPECT_EQ(errc_of(raw_message(kRequest, {}, false)), CodecErrc::MissingAuthentication);
  Bytes wire = raw_message(kRequest, {kVmId});
  Bytes after = wire;
  for (uint8_t b : {0x10, 2, 0, 0}) after.push_back(b);  // even a skippable option
  after[11] += 4;
  EXPECT_EQ(errc_of(after), CodecErrc::AuthenticationNotLast);
  EXPECT_EQ(errc_of(raw_message(kRequest, {auth_option()})), CodecErrc::AuthenticationNotLast);
}

const AuthKey kKey{1, Bytes(32, 0x42)};

Bytes valid_wire() {
  Message m;
  m.vm_id = VmId(16, 0x11);
  m.vm_mac = MacAddress{2, 0, 0, 0, 0, 1};
  m.virtual_network = 5001;
  m.vm_addresses = {parse_ip_address("192.0.2.10").value(), parse_ip_address("2001:db8:1::10").value()};
  m.serving_nve.ipv4 = parse_ip_address("198.51.100.2").value();
  m.timestamp_ns = 12345;
  return encode(m, kKey).value();
}

TEST(ProtocolMalformed, EveryTruncationIsRefused) {
  Bytes wire = valid_wire();
  for (size_t n = 0; n < wire.size(); n++) {
    Bytes cut(wire.begin(), wire.begin() + static_cast<long>(n));
    EXPECT_FALSE(decode(cut).ok()) << n;
    // Also with Length patched to match, so the option walk sees the cut.
    if (n >= kHeaderSize) {
      cut[10] = static_cast<uint8_t>(n >> 8);
      cut[11] = static_cast<uint8_t>(n);
      EXPECT_FALSE(decode(cut).ok()) << n;
    }
  }
}

TEST(ProtocolMalformed, NoSingleBitFlipIsAcceptedAsAuthentic) {
  Bytes wire = valid_wire();
  for (size_t bit = 0; bit < wire.size() * 8; bit++) {
    Bytes flipped = wire;
    flipped[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto decoded = decode(flipped);
    if (decoded.ok()) {
      EXPECT_NE(verify_authentication(flipped, decoded->auth, kKey), AuthVerdict::Authentic)
          << "bit " << bit;
    }
  }
}

}  // namespace
