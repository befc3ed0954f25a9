// Mandatory options (docs/protocol.md section 4.2), building replies and
// matching them to requests, and the names used in logs.
#include <gtest/gtest.h>

#include "control/protocol/address_text.h"
#include "control/protocol/mandatory_options.h"
#include "control/protocol/names.h"
#include "control/protocol/reply_builder.h"

using namespace nvmove::proto;

namespace {

IpAddress ip(const char *text) { return parse_ip_address(text).value(); }

Message registration() {
  Message m;
  m.sequence = 10;
  m.lifetime = 150;
  m.vm_id = VmId{1};
  m.vm_mac = MacAddress{2, 0, 0, 0, 0, 1};
  m.virtual_network = 7;
  m.vm_addresses = {ip("10.0.0.5"), ip("fd00::5")};
  m.serving_nve.ipv4 = ip("192.0.2.1");
  m.timestamp_ns = 1000;
  return m;
}

std::optional<OptionType> missing_of(const Message &m) {
  auto missing = find_missing_option(m);
  if (!missing) return std::nullopt;
  return missing->option;
}

TEST(ProtocolRules, CompleteRegistrationHasEverything) {
  EXPECT_EQ(missing_of(registration()), std::nullopt);
}

TEST(ProtocolRules, EveryRequestNeedsIdentityNetworkServingNveAndTimestamp) {
  for (uint16_t lifetime : {uint16_t{0}, uint16_t{150}}) {
    for (bool notification : {false, true}) {
      Message m = registration();
      m.lifetime = lifetime;
      m.notification = notification;
      Message no_id = m, no_vn = m, no_nve = m, no_ts = m;
      no_id.vm_id.reset();
      no_vn.virtual_network.reset();
      no_nve.serving_nve = {};
      no_ts.timestamp_ns.reset();
      EXPECT_EQ(missing_of(no_id), OptionType::VmIdentifier);
      EXPECT_EQ(missing_of(no_vn), OptionType::VirtualNetwork);
      EXPECT_EQ(missing_of(no_nve), OptionType::ServingNve);
      EXPECT_EQ(missing_of(no_ts), OptionType::Timestamp);
    }
  }
}

TEST(ProtocolRules, RegistrationNeedsAddressesAndMac) {
  Message m = registration();
  m.vm_addresses.clear();
  EXPECT_EQ(missing_of(m), OptionType::VmAddress);
  m = registration();
  m.vm_mac.reset();
  EXPECT_EQ(missing_of(m), OptionType::VmMacAddress);
}

TEST(ProtocolRules, NotificationNeedsAddressesButNotMac) {
  Message m = registration();
  m.notification = true;
  m.vm_mac.reset();
  EXPECT_EQ(missing_of(m), std::nullopt);
  m.vm_addresses.clear();
  EXPECT_EQ(missing_of(m), OptionType::VmAddress);
}

TEST(ProtocolRules, DeregistrationNeedsNeitherAddressesNorMac) {
  Message m = registration();
  m.lifetime = 0;
  m.vm_addresses.clear();
  m.vm_mac.reset();
  EXPECT_EQ(missing_of(m), std::nullopt);
}

TEST(ProtocolRules, AnyServingNveFamilyCarriesAnyVmFamily) {
  // The dataplane does IPv4-in-IPv6 and IPv6-in-IPv4, so no per-family rule.
  Message m = registration();
  m.serving_nve = {};
  m.serving_nve.ipv6 = ip("2001:db8::1");
  EXPECT_EQ(missing_of(m), std::nullopt);
}

TEST(ProtocolRules, BadSequenceReplyNeedsExpectedSequence) {
  Message reply = make_reply(registration(), Status::BadSequenceNumber, 0);
  EXPECT_EQ(missing_of(reply), OptionType::ExpectedSequence);
  EXPECT_EQ(missing_of(make_bad_sequence_reply(registration(), 11)), std::nullopt);
  EXPECT_EQ(missing_of(make_reply(registration(), Status::Accepted, 10)), std::nullopt);
}

TEST(ProtocolRules, ReplyEchoesAndCapsTheLifetime) {
  Message request = registration();
  Message reply = make_reply(request, Status::Accepted, 75);
  EXPECT_TRUE(reply.is_reply());
  EXPECT_EQ(reply.sequence, request.sequence);
  EXPECT_EQ(reply.lifetime, 75);
  EXPECT_EQ(reply.vm_id, request.vm_id);
  EXPECT_EQ(reply.virtual_network, request.virtual_network);
  EXPECT_EQ(reply.timestamp_ns, request.timestamp_ns);
  EXPECT_FALSE(reply.vm_mac.has_value());
  EXPECT_TRUE(reply.vm_addresses.empty());
  EXPECT_EQ(make_reply(request, Status::Accepted, 0xFFFF).lifetime, 150);  // never extended
  EXPECT_EQ(make_reply(request, Status::NotAuthorized, 75).lifetime, 0);
  Message bad_seq = make_bad_sequence_reply(request, 11);
  EXPECT_EQ(bad_seq.status, Status::BadSequenceNumber);
  EXPECT_EQ(bad_seq.expected_sequence, 11);
  EXPECT_EQ(bad_seq.sequence, request.sequence);
}

TEST(ProtocolRules, ReplyMatchingNeedsSequenceAndTimestamp) {
  Message request = registration();
  Message reply = make_reply(request, Status::Accepted, 75);
  EXPECT_TRUE(is_reply_to(reply, request));
  Message later = request;  // same sequence 65536 requests later
  later.timestamp_ns = 2000;
  EXPECT_FALSE(is_reply_to(reply, later));
  Message other_seq = reply;
  other_seq.sequence = 11;
  EXPECT_FALSE(is_reply_to(other_seq, request));
  EXPECT_FALSE(is_reply_to(request, request));  // a request is not a reply
  Message no_ts = request;
  no_ts.timestamp_ns.reset();
  EXPECT_FALSE(is_reply_to(make_reply(no_ts, Status::Accepted, 1), no_ts));
  // The VM-ID and VN echoed too (section 5.3 step 3): an answer about another
  // VM, or the same VM in another VN, answers nothing.
  Message other_vm = reply;
  other_vm.vm_id = VmId{'o', 't', 'h', 'e', 'r'};
  EXPECT_FALSE(is_reply_to(other_vm, request));
  Message other_vn = reply;
  other_vn.virtual_network = *request.virtual_network + 1;
  EXPECT_FALSE(is_reply_to(other_vn, request));
  Message no_vm = reply;
  no_vm.vm_id.reset();
  EXPECT_FALSE(is_reply_to(no_vm, request));
}

TEST(ProtocolRules, Names) {
  EXPECT_STREQ(status_name(Status::BadSequenceNumber), "Bad sequence number");
  EXPECT_STREQ(status_name(Status::UnknownVirtualNetwork), "Unknown virtual network");
  for (Status s : kRejectionStatuses) EXPECT_STRNE(status_name(s), "Unassigned rejected");
  EXPECT_STREQ(option_type_name(0x85), "Serving NVE Address");
  EXPECT_STREQ(option_type_name(0x42), "Unknown");
  EXPECT_STREQ(message_type_name(MessageType::RegistrationReply), "Registration Reply");
  EXPECT_STREQ(mobility_mode_name(MobilityMode::Warm), "warm");
}

}  // namespace
