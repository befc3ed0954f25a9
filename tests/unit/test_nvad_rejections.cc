// nvad: every way a Registration Request is refused, with its status, and
// what gets no reply at all.
#include <gtest/gtest.h>

#include "control/nvad/testing/nvad_test_support.h"
#include "control/nvad/wire_gate.h"
#include "control/protocol/codec.h"
#include "control/protocol/names.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using proto::Status;

// Checks the reply and the counter of one refusal.
void expect_rejected(RegistrarHarness &h, const Outcome &outcome, Status status) {
  ASSERT_TRUE(outcome.reply) << proto::status_name(status);
  EXPECT_EQ(outcome.reply->message.status, status);
  EXPECT_TRUE(outcome.reply->message.is_reply());
  EXPECT_EQ(outcome.reply->message.lifetime, 0);
  ASSERT_TRUE(outcome.rejection);
  EXPECT_EQ(outcome.rejection->status, status);
  EXPECT_FALSE(outcome.rejection->reason.empty());
  EXPECT_EQ(h.registrar.counters().rejected_with(status), 1u);
  EXPECT_TRUE(outcome.notifications.empty());
}

TEST(NvadRejections, MissingMandatoryOption) {
  RegistrarHarness h;
  auto request = h.request(nve_a(), 1);
  request.vm_mac.reset();
  auto outcome = h.send(nve_a(), request);
  expect_rejected(h, outcome, Status::MissingMandatoryOption);
  EXPECT_NE(outcome.rejection->reason.find("MAC"), std::string::npos);
  EXPECT_FALSE(h.has(1));
}

// A 158 to a request without a Timestamp could match nothing at its sender
// (replies are matched by the echoed Timestamp), and such a request escapes
// the replay check, so every copy was answered: dropped and counted instead.
TEST(NvadRejections, RequestWithoutTimestampIsDroppedUnanswered) {
  RegistrarHarness h;
  auto request = h.request(nve_a(), 1);
  request.timestamp_ns.reset();
  auto outcome = h.send(nve_a(), request);
  EXPECT_FALSE(outcome.reply);
  EXPECT_EQ(outcome.dropped, DropReason::NoTimestamp);
  EXPECT_EQ(h.registrar.counters().dropped_for(DropReason::NoTimestamp), 1u);
  EXPECT_EQ(h.registrar.counters().rejected_with(Status::MissingMandatoryOption), 0u);
  EXPECT_FALSE(h.has(1));
}

TEST(NvadRejections, BadSequenceNumberCarriesTheExpectedValue) {
  RegistrarHarness h;
  auto first = registration(nve_a(), 1, 10, h.clock.wall_ns(), 150);
  EXPECT_EQ(reply_status(h.send(nve_a(), first)), Status::Accepted);
  h.clock.advance(1ms);
  auto stale = registration(nve_a(), 1, 5, h.clock.wall_ns(), 150);
  auto outcome = h.send(nve_a(), stale);
  expect_rejected(h, outcome, Status::BadSequenceNumber);
  EXPECT_EQ(outcome.reply->message.expected_sequence, 11);
  EXPECT_EQ(outcome.reply->message.sequence, 5);  // echoed
}

TEST(NvadRejections, SequenceNumbersAreComparedWithSerialArithmetic) {
  RegistrarHarness h;
  EXPECT_EQ(reply_status(h.send(nve_a(), registration(nve_a(), 1, 65535, h.clock.wall_ns(), 150))),
            Status::Accepted);
  h.clock.advance(1ms);
  // 0 is newer than 65535 (RFC 1982).
  EXPECT_EQ(reply_status(h.send(nve_a(), registration(nve_a(), 1, 0, h.clock.wall_ns(), 150))),
            Status::Accepted);
  h.clock.advance(1ms);
  // 32768 apart: neither is newer, so it is refused.
  auto outcome = h.send(nve_a(), registration(nve_a(), 1, 32768, h.clock.wall_ns(), 150));
  expect_rejected(h, outcome, Status::BadSequenceNumber);
  EXPECT_EQ(outcome.reply->message.expected_sequence, 1);
}

TEST(NvadRejections, SequenceStateIsPerPeerAcrossVms) {
  RegistrarHarness h;
  h.send(nve_a(), registration(nve_a(), 1, 100, h.clock.wall_ns(), 150));
  h.clock.advance(1ms);
  // Another VM, same NVE: its counter is per peer (docs/protocol.md 5.1).
  auto outcome = h.send(nve_a(), registration(nve_a(), 2, 100, h.clock.wall_ns(), 150));
  expect_rejected(h, outcome, Status::BadSequenceNumber);
}

TEST(NvadRejections, TimestampOutsideTheWindow) {
  RegistrarHarness h;  // 300 ms
  auto old = registration(nve_a(), 1, 1, h.clock.wall_ns() - 301'000'000, 150);
  expect_rejected(h, h.send(nve_a(), old), Status::TimestampMismatch);
  auto future = registration(nve_a(), 1, 2, h.clock.wall_ns() + 301'000'000, 150);
  EXPECT_EQ(reply_status(h.send(nve_a(), future)), Status::TimestampMismatch);
  auto edge = registration(nve_a(), 1, 3, h.clock.wall_ns() - 300'000'000, 150);
  EXPECT_EQ(reply_status(h.send(nve_a(), edge)), Status::Accepted);
}

// A refused request used to leave no trace: a captured stale datagram could
// be replayed forever, each copy answered 156. An exact copy of a refused
// request is now a duplicate, dropped unanswered.
TEST(NvadRejections, AReplayOfARefusedRequestIsNotAnsweredAgain) {
  RegistrarHarness h;
  auto old = registration(nve_a(), 1, 1, h.clock.wall_ns() - 301'000'000, 150);
  expect_rejected(h, h.send(nve_a(), old), Status::TimestampMismatch);
  h.clock.advance(5ms);
  auto copy = h.send(nve_a(), old);
  EXPECT_FALSE(copy.reply);
  EXPECT_EQ(copy.dropped, DropReason::Duplicate);
  EXPECT_EQ(h.registrar.counters().rejected_with(Status::TimestampMismatch), 1u);
}

// Refusals answered per peer: 20 at once, then 10 a second (protocol.md 6.4);
// the rest are dropped and counted once, as refusal_rate_limited.
TEST(NvadRejections, RefusalsToOnePeerAreRateLimited) {
  RegistrarHarness h;
  auto refused = [&](uint16_t seq) {
    auto r = registration(nve_a(), 1, seq, h.clock.wall_ns() + seq, 150);
    r.vm_mac.reset();  // 158
    return h.send(nve_a(), r);
  };
  int answered = 0;
  for (uint16_t seq = 1; seq <= 25; seq++) answered += refused(seq).reply ? 1 : 0;
  EXPECT_EQ(answered, 20);
  EXPECT_EQ(h.registrar.counters().dropped_for(DropReason::RefusalRateLimited), 5u);
  EXPECT_EQ(h.registrar.counters().rejected_with(Status::MissingMandatoryOption), 20u);
  h.clock.advance(1s);
  answered = 0;
  for (uint16_t seq = 26; seq <= 40; seq++) answered += refused(seq).reply ? 1 : 0;
  EXPECT_EQ(answered, 10);
  // Another peer has its own budget; and an accepted request is never limited.
  EXPECT_TRUE(h.send(nve_b(), registration(nve_b(), 2, 1, h.clock.wall_ns(), 150)).reply);
  EXPECT_EQ(reply_status(h.send(nve_a(), registration(nve_a(), 3, 41, h.clock.wall_ns() + 100, 150))),
            Status::Accepted);
}

// Over the refusal rate, a 135 has no reply to fill in its Expected Sequence
// Number: it used to write through an empty reply (a crash), e.g. when an
// nved restarted without its state re-registers many VMs at once.
TEST(NvadRejections, StaleSequenceNumbersOverTheRefusalRateAreDroppedNotCrashed) {
  RegistrarHarness h;
  EXPECT_EQ(reply_status(h.send(nve_a(), registration(nve_a(), 1, 1000, h.clock.wall_ns(), 150))), Status::Accepted);
  int answered = 0;
  for (uint16_t i = 0; i < 30; i++) {
    auto out = h.send(nve_a(), registration(nve_a(), 1, static_cast<uint16_t>(500 + i), h.clock.wall_ns() + 1 + i, 150));
    if (out.reply) {
      answered++;
      EXPECT_EQ(out.reply->message.status, Status::BadSequenceNumber);
      EXPECT_EQ(out.reply->message.expected_sequence, 1001);
    } else {
      EXPECT_EQ(out.dropped, DropReason::RefusalRateLimited);
    }
  }
  EXPECT_EQ(answered, 20);
  EXPECT_EQ(h.registrar.counters().dropped_for(DropReason::RefusalRateLimited), 10u);
}

TEST(NvadRejections, TimestampLowerThanPreviousAccepted) {
  RegistrarHarness h;
  uint64_t now = h.clock.wall_ns();
  EXPECT_EQ(reply_status(h.send(nve_a(), registration(nve_a(), 1, 1, now, 150))), Status::Accepted);
  auto older = registration(nve_a(), 1, 2, now - 1, 150);
  expect_rejected(h, h.send(nve_a(), older), Status::TimestampLowerThanPrevious);
}

TEST(NvadRejections, ExactDuplicateIsDroppedWithoutReply) {
  RegistrarHarness h;
  auto request = h.request(nve_a(), 1);
  EXPECT_EQ(reply_status(h.send(nve_a(), request)), Status::Accepted);
  auto again = h.send(nve_a(), request);
  EXPECT_FALSE(again.reply);
  EXPECT_EQ(again.dropped, DropReason::Duplicate);
  EXPECT_EQ(h.registrar.counters().dropped_for(DropReason::Duplicate), 1u);
}

TEST(NvadRejections, RefusedRequestIsStillRecordedAgainstReplay) {
  RegistrationPolicy policy;
  policy.allowed_virtual_networks = std::set<uint32_t>{7};
  RegistrarHarness h(policy);
  auto request = h.request(nve_a(), 1);
  EXPECT_EQ(reply_status(h.send(nve_a(), request)), Status::UnknownVirtualNetwork);
  EXPECT_EQ(h.send(nve_a(), request).dropped, DropReason::Duplicate);
}

TEST(NvadRejections, NotificationFlagFromAnNveIsNotAuthorized) {
  RegistrarHarness h;
  auto request = h.request(nve_a(), 1);
  request.notification = true;
  expect_rejected(h, h.send(nve_a(), request), Status::NotAuthorized);
}

TEST(NvadRejections, PeerMissingFromThePeersListIsNotAuthorized) {
  RegistrationPolicy policy;
  policy.peers = std::map<IpAddress, PeerPolicy>{{nve_a().control, {}}};
  RegistrarHarness h(policy);
  EXPECT_EQ(reply_status(h.register_vm(nve_a(), 1)), Status::Accepted);
  expect_rejected(h, h.register_vm(nve_b(), 2), Status::NotAuthorized);
  EXPECT_FALSE(h.has(2));
}

TEST(NvadRejections, ServingNveAddressMustBelongToTheSender) {
  RegistrarHarness h;
  Nve liar = nve_a();
  liar.endpoint = nve_b().control;  // A pointing a VM's traffic at B
  auto outcome = h.register_vm(liar, 1);
  expect_rejected(h, outcome, Status::NotAuthorized);
  EXPECT_NE(outcome.rejection->reason.find("not its own"), std::string::npos);
}

TEST(NvadRejections, ConfiguredEndpointsMayDifferFromTheControlAddress) {
  RegistrationPolicy policy;
  Nve a = nve_a();
  a.endpoint = ip("198.51.100.1");
  policy.peers = std::map<IpAddress, PeerPolicy>{{a.control, PeerPolicy{{a.endpoint}, {}}}};
  RegistrarHarness h(policy);
  EXPECT_EQ(reply_status(h.register_vm(a, 1)), Status::Accepted);
  Nve own_address = nve_a();  // not in its configured list
  EXPECT_EQ(reply_status(h.register_vm(own_address, 2)), Status::NotAuthorized);
}

TEST(NvadRejections, UnknownVirtualNetwork) {
  RegistrationPolicy policy;
  policy.allowed_virtual_networks = std::set<uint32_t>{kVn + 1};
  RegistrarHarness h(policy);
  expect_rejected(h, h.register_vm(nve_a(), 1), Status::UnknownVirtualNetwork);
}

TEST(NvadRejections, PeerNotAllowedToServeTheVirtualNetwork) {
  RegistrationPolicy policy;
  policy.peers = std::map<IpAddress, PeerPolicy>{
      {nve_a().control, PeerPolicy{{}, std::set<uint32_t>{kVn + 1}}}};
  RegistrarHarness h(policy);
  expect_rejected(h, h.register_vm(nve_a(), 1), Status::AdministrativelyProhibited);
}

TEST(NvadRejections, SameVmIdWithAnotherMacIsAnIdentityMismatch) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  auto request = h.request(nve_b(), 1);
  request.vm_mac = vm_mac(99);
  expect_rejected(h, h.send(nve_b(), request), Status::VmIdentityMismatch);
  EXPECT_EQ(h.binding(1).serving.control, nve_a().control);  // not moved
}

TEST(NvadRejections, AnotherVmsMacOrAddressIsAnIdentityMismatch) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  auto same_mac = h.request(nve_b(), 2);
  same_mac.vm_mac = vm_mac(1);
  expect_rejected(h, h.send(nve_b(), same_mac), Status::VmIdentityMismatch);

  auto same_address = h.request(nve_b(), 3);
  same_address.vm_addresses.push_back(vm_address(1));
  EXPECT_EQ(reply_status(h.send(nve_b(), same_address)), Status::VmIdentityMismatch);
  EXPECT_EQ(h.registrar.counters().rejected_with(Status::VmIdentityMismatch), 2u);
}

TEST(NvadRejections, SameVmIdInAnotherVirtualNetworkIsAnotherBinding) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  auto other_network = h.request(nve_b(), 1);
  other_network.virtual_network = kVn + 1;
  EXPECT_EQ(reply_status(h.send(nve_b(), other_network)), Status::Accepted);
  EXPECT_EQ(h.registrar.cache().size(), 2u);
  EXPECT_EQ(h.registrar.counters().moves, 0u);
}

TEST(NvadRejections, AddressOfAVmInItsGracePeriodCanBeTakenOver) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  h.deregister(nve_a(), 1);
  auto replacement = h.request(nve_b(), 2);
  replacement.vm_mac = vm_mac(1);
  replacement.vm_addresses = {vm_address(1)};
  EXPECT_EQ(reply_status(h.send(nve_b(), replacement)), Status::Accepted);
}

TEST(NvadRejections, FullBindingCacheIsInsufficientResources) {
  RegistrationPolicy policy;
  policy.max_bindings = 1;
  RegistrarHarness h(policy);
  EXPECT_EQ(reply_status(h.register_vm(nve_a(), 1)), Status::Accepted);
  expect_rejected(h, h.register_vm(nve_a(), 2), Status::InsufficientResources);
  EXPECT_EQ(reply_status(h.register_vm(nve_a(), 1)), Status::Accepted);  // refresh still fine
}

// The wire gate: what is dropped before the registrar ever sees it.
struct Gate : ::testing::Test {
  Gate() {
    std::string text = "192.0.2.1 1 " + std::string(64, 'a') + "\n192.0.2.2 1 " + std::string(64, 'b') + "\n";
    auto parsed = proto::parse_key_file(text, "test-keys");
    EXPECT_TRUE(parsed.ok());
    keys = std::move(parsed).value();
  }
  std::vector<uint8_t> wire_from(const IpAddress &peer, const proto::Message &message) {
    auto wire = seal(message, peer, keys);
    EXPECT_TRUE(wire.ok());
    return wire.ok() ? wire.value() : std::vector<uint8_t>{};
  }
  proto::KeyTable keys;
  proto::Message request = registration(nve_a(), 1, 1, 1, 150);
};

TEST_F(Gate, AdmitsAnAuthenticMessage) {
  auto wire = wire_from(nve_a().control, request);
  auto admitted = admit(wire, nve_a().control, 5000, keys);
  ASSERT_TRUE(admitted.ok());
  EXPECT_EQ(admitted->peer, nve_a().control);
  EXPECT_EQ(admitted->port, 5000);
  EXPECT_EQ(admitted->message, request);
}

TEST_F(Gate, DropsWhatItCannotTrust) {
  auto wire = wire_from(nve_a().control, request);
  auto unknown = admit(wire, nve_c().control, 5000, keys);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason, DropReason::UnknownPeer);

  auto signed_by_b = wire_from(nve_b().control, request);
  auto forged = admit(signed_by_b, nve_a().control, 5000, keys);  // B's key, A's address
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().reason, DropReason::BadMac);

  auto other_key = proto::encode(request, proto::AuthKey{2, std::vector<uint8_t>(32, 1)});
  ASSERT_TRUE(other_key.ok());
  auto unknown_id = admit(other_key.value(), nve_a().control, 5000, keys);
  ASSERT_FALSE(unknown_id.ok());
  EXPECT_EQ(unknown_id.error().reason, DropReason::UnknownKeyId);

  wire.resize(wire.size() - 4);
  auto truncated = admit(wire, nve_a().control, 5000, keys);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().reason, DropReason::Malformed);
  EXPECT_FALSE(truncated.error().detail.empty());
}

TEST_F(Gate, CannotSealForAPeerWithoutKey) {
  EXPECT_FALSE(seal(request, nve_c().control, keys).ok());
}

}  // namespace
}  // namespace nvmove::nvad
