// Round trips through encode() and decode(), and what encode() refuses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/protocol/address_text.h"
#include "control/protocol/codec.h"
#include "control/protocol/names.h"

using namespace nvmove::proto;

namespace {

IpAddress ip(const char *text) { return parse_ip_address(text).value(); }

const AuthKey kKey{7, std::vector<uint8_t>(32, 0xa5)};

Message registration() {
  Message m;
  m.sequence = 1;
  m.lifetime = 150;
  m.vm_id = VmId{1, 2, 3, 4};
  m.vm_mac = MacAddress{0x02, 0, 0, 0, 0, 1};
  m.virtual_network = 7;
  m.vm_addresses = {ip("10.0.0.5"), ip("fd00::5")};
  m.serving_nve.ipv4 = ip("192.0.2.1");
  m.timestamp_ns = 1'700'000'000'000'000'000ull;
  return m;
}

Message reply(Status status) {
  Message m;
  m.type = MessageType::RegistrationReply;
  m.sequence = 9;
  m.status = status;
  m.vm_id = VmId{9};
  m.virtual_network = 7;
  m.timestamp_ns = 5;
  if (status == Status::BadSequenceNumber) m.expected_sequence = 10;
  return m;
}

Message round_trip(const Message &m) {
  auto wire = encode(m, kKey);
  EXPECT_TRUE(wire.ok()) << wire.error().describe();
  if (!wire.ok()) return {};
  EXPECT_EQ(wire->size() % 4, 0u);
  auto decoded = decode(wire.value());
  EXPECT_TRUE(decoded.ok()) << decoded.error().describe();
  if (!decoded.ok()) return {};
  EXPECT_EQ(verify_authentication(wire.value(), decoded->auth, kKey), AuthVerdict::Authentic);
  return decoded->message;
}

CodecErrc encode_error(const Message &m, const AuthKey &key = kKey) {
  auto wire = encode(m, key);
  EXPECT_FALSE(wire.ok());
  return wire.ok() ? CodecErrc::CryptoFailure : wire.error().code;
}

TEST(ProtocolCodec, RegistrationRoundTrips) {
  Message m = registration();
  EXPECT_EQ(round_trip(m), m);
}

TEST(ProtocolCodec, LifetimeExtremesRoundTrip) {
  for (uint16_t lifetime : {uint16_t{0}, uint16_t{1}, uint16_t{0xFFFF}}) {
    Message m = registration();
    m.lifetime = lifetime;
    EXPECT_EQ(round_trip(m).lifetime, lifetime);
  }
  EXPECT_EQ(lifetime_seconds(0xFFFF), 262140u);
}

TEST(ProtocolCodec, SequenceExtremesRoundTrip) {
  for (uint16_t sequence : {uint16_t{0}, uint16_t{0x7FFF}, uint16_t{0x8000}, uint16_t{0xFFFF}}) {
    Message m = registration();
    m.sequence = sequence;
    EXPECT_EQ(round_trip(m).sequence, sequence);
  }
}

TEST(ProtocolCodec, EveryFlagCombinationRoundTrips) {
  for (bool notification : {false, true}) {
    for (auto mode : {MobilityMode::None, MobilityMode::Cold, MobilityMode::Warm, MobilityMode::Hot}) {
      Message m = registration();
      m.notification = notification;
      m.mobility = mode;
      EXPECT_EQ(round_trip(m), m) << mobility_mode_name(mode);
    }
  }
}

TEST(ProtocolCodec, ReservedFlagBitsAreIgnoredOnReceipt) {
  auto wire = encode(registration(), kKey).value();
  wire[2] |= 0x0F;  // reserved flag bits (0x10 is R, section 3.1)
  wire[3] = 0xFF;
  wire[9] = 0xFF;  // reserved header byte
  auto decoded = decode(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_FALSE(decoded->message.notification);
  EXPECT_EQ(decoded->message.mobility, MobilityMode::None);
}

TEST(ProtocolCodec, FieldsMeaninglessForTheTypeAreIgnoredOnReceipt) {
  auto request = encode(registration(), kKey).value();
  request[8] = 135;  // Status in a request
  auto decoded_request = decode(request);
  ASSERT_TRUE(decoded_request.ok());
  EXPECT_EQ(decoded_request->message.status, Status::Accepted);

  auto wire = encode(reply(Status::Accepted), kKey).value();
  wire[2] = 0xE0;  // N and M = hot in a reply
  auto decoded_reply = decode(wire);
  ASSERT_TRUE(decoded_reply.ok());
  EXPECT_FALSE(decoded_reply->message.notification);
  EXPECT_EQ(decoded_reply->message.mobility, MobilityMode::None);
}

TEST(ProtocolCodec, FieldsMeaninglessForTheTypeAreNotSent) {
  Message request = registration();
  request.status = Status::NotAuthorized;
  EXPECT_EQ(encode_error(request), CodecErrc::BadHeaderField);
  Message r = reply(Status::Accepted);
  r.notification = true;
  EXPECT_EQ(encode_error(r), CodecErrc::BadHeaderField);
  r = reply(Status::Accepted);
  r.mobility = MobilityMode::Cold;
  EXPECT_EQ(encode_error(r), CodecErrc::BadHeaderField);
}

TEST(ProtocolCodec, RouterFlagTravelsOnlyWithTheNotificationFlag) {
  Message m = registration();
  m.notification = true;
  m.router = true;
  auto wire = encode(m, kKey).value();
  EXPECT_EQ(wire[2], 0x90);  // N (0x8000) and R (0x1000), section 3.1
  EXPECT_EQ(round_trip(m), m);
  wire[2] = 0x10;  // R alone, in a request
  auto decoded = decode(wire);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, CodecErrc::BadHeaderField);
  m.notification = false;
  EXPECT_EQ(encode_error(m), CodecErrc::BadHeaderField);
  Message r = reply(Status::Accepted);
  r.router = true;
  EXPECT_EQ(encode_error(r), CodecErrc::BadHeaderField);
}

TEST(ProtocolCodec, EveryStatusRoundTrips) {
  EXPECT_EQ(round_trip(reply(Status::Accepted)), reply(Status::Accepted));
  for (Status status : kRejectionStatuses) {
    EXPECT_FALSE(is_accepted(status)) << status_name(status);
    Message m = reply(status);
    Message back = round_trip(m);
    EXPECT_EQ(back, m) << status_name(status);
    EXPECT_EQ(back.status, status);
  }
}

TEST(ProtocolCodec, UnassignedStatusValuesKeepTheirMeaning) {
  for (uint8_t raw : {uint8_t{1}, uint8_t{127}, uint8_t{128}, uint8_t{200}, uint8_t{255}}) {
    Message m = reply(static_cast<Status>(raw));
    Message back = round_trip(m);
    EXPECT_EQ(static_cast<uint8_t>(back.status), raw);
    EXPECT_EQ(is_accepted(back.status), raw < 128);
  }
  EXPECT_STREQ(status_name(static_cast<Status>(1)), "Unassigned accepted");
  EXPECT_STREQ(status_name(static_cast<Status>(200)), "Unassigned rejected");
}

TEST(ProtocolCodec, VmIdLengthsFromOneTo253RoundTripAndStayAligned) {
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{16}, size_t{36}, size_t{253}}) {
    Message m = registration();
    m.vm_id = VmId(n, 0x5a);
    auto wire = encode(m, kKey);
    ASSERT_TRUE(wire.ok()) << n;
    EXPECT_EQ(wire->size() % 4, 0u);
    EXPECT_EQ(round_trip(m).vm_id, m.vm_id) << n;
  }
}

TEST(ProtocolCodec, MinimalMessagesRoundTrip) {
  Message request;  // no options at all: structurally valid, semantically not
  EXPECT_EQ(round_trip(request), request);
  auto wire = encode(request, kKey).value();
  EXPECT_EQ(wire.size(), kHeaderSize + 40);  // header + Authentication
}

TEST(ProtocolCodec, NveAddressesPerFamilyRoundTrip) {
  Message m = registration();
  m.serving_nve.ipv6 = ip("2001:db8::1");
  m.previous_nve.ipv4 = ip("192.0.2.9");
  m.previous_nve.ipv6 = ip("2001:db8::9");
  EXPECT_EQ(round_trip(m), m);
}

TEST(ProtocolCodec, RedirectingNvesRoundTripInAnAcceptedReply) {
  Message r = reply(Status::Accepted);
  r.lifetime = 150;
  r.redirecting_nves = {ip("198.51.100.1"), ip("2001:db8:ff::1"), ip("198.51.100.2")};
  EXPECT_EQ(round_trip(r), r);
}

TEST(ProtocolCodec, RedirectingNvesAreReplyOnlyAndNeverListedTwice) {
  Message m = registration();
  m.redirecting_nves = {ip("198.51.100.1")};
  EXPECT_EQ(encode_error(m), CodecErrc::OptionNotAllowed);
  Message r = reply(Status::Accepted);
  r.redirecting_nves = {ip("198.51.100.1"), ip("198.51.100.1")};
  EXPECT_EQ(encode_error(r), CodecErrc::DuplicateOption);
}

TEST(ProtocolCodec, LargestMessageFitsAndOneMoreAddressDoesNot) {
  Message m = registration();
  m.vm_addresses.clear();
  // Fill with IPv6 addresses (20 bytes each) up to the 1232-byte limit.
  auto size_of = [](const Message &msg) { return encode(msg, kKey); };
  for (int i = 1;; i++) {
    IpAddress a = ip("fd00::");
    a.bytes[14] = static_cast<uint8_t>(i >> 8);
    a.bytes[15] = static_cast<uint8_t>(i);
    m.vm_addresses.push_back(a);
    auto wire = size_of(m);
    if (!wire.ok()) {
      EXPECT_EQ(wire.error().code, CodecErrc::MessageTooLong);
      m.vm_addresses.pop_back();
      break;
    }
  }
  auto wire = encode(m, kKey);
  ASSERT_TRUE(wire.ok());
  EXPECT_LE(wire->size(), kMaxMessageSize);
  EXPECT_GT(wire->size() + 20, kMaxMessageSize);
  EXPECT_EQ(round_trip(m), m);
}

TEST(ProtocolCodec, EncodeRefusesWhatDecodeWouldRefuse) {
  Message m = registration();
  m.vm_id = VmId{};
  EXPECT_EQ(encode_error(m), CodecErrc::BadOptionValue);
  m.vm_id = VmId(254, 1);
  EXPECT_EQ(encode_error(m), CodecErrc::BadOptionValue);

  m = registration();
  m.vm_addresses.push_back(m.vm_addresses.front());
  EXPECT_EQ(encode_error(m), CodecErrc::DuplicateOption);

  m = registration();
  m.vm_addresses.push_back(IpAddress{});  // family 0
  EXPECT_EQ(encode_error(m), CodecErrc::BadOptionValue);

  m = registration();
  m.vm_addresses.front().bytes[7] = 1;  // IPv4 with garbage after byte 4
  EXPECT_EQ(encode_error(m), CodecErrc::BadOptionValue);

  m = registration();
  m.serving_nve.ipv4 = ip("2001:db8::1");  // wrong slot
  EXPECT_EQ(encode_error(m), CodecErrc::BadOptionValue);

  m = registration();
  m.expected_sequence = 3;  // reply-only option in a request
  EXPECT_EQ(encode_error(m), CodecErrc::OptionNotAllowed);

  Message r = reply(Status::Accepted);
  r.vm_mac = MacAddress{};
  EXPECT_EQ(encode_error(r), CodecErrc::OptionNotAllowed);
  r = reply(Status::Accepted);
  r.serving_nve.ipv4 = ip("192.0.2.1");
  EXPECT_EQ(encode_error(r), CodecErrc::OptionNotAllowed);

  m = registration();
  m.mobility = static_cast<MobilityMode>(4);
  EXPECT_EQ(encode_error(m), CodecErrc::BadHeaderField);
  m = registration();
  m.type = static_cast<MessageType>(3);
  EXPECT_EQ(encode_error(m), CodecErrc::UnknownMessageType);
}

TEST(ProtocolCodec, EncodeRefusesUnusableKeys) {
  EXPECT_EQ(encode_error(registration(), AuthKey{1, std::vector<uint8_t>(31, 1)}), CodecErrc::BadKey);
  EXPECT_EQ(encode_error(registration(), AuthKey{1, std::vector<uint8_t>(65, 1)}), CodecErrc::BadKey);
  EXPECT_EQ(encode_error(registration(), AuthKey{0, std::vector<uint8_t>(32, 1)}), CodecErrc::BadKey);
  EXPECT_TRUE(encode(registration(), AuthKey{1, std::vector<uint8_t>(64, 1)}).ok());
}

TEST(ProtocolCodec, ErrorsDescribeThemselves) {
  Message m = registration();
  m.vm_id = VmId{};
  auto wire = encode(m, kKey);
  ASSERT_FALSE(wire.ok());
  std::string text = wire.error().describe();
  EXPECT_NE(text.find("bad option value"), std::string::npos) << text;
  EXPECT_NE(text.find("0x81 VM Identifier"), std::string::npos) << text;
  EXPECT_NE(text.find("must be 1 to 253"), std::string::npos) << text;
}

}  // namespace
