// nvad: lifetimes granted and expiring, de-registration and its grace period.
#include <gtest/gtest.h>

#include "control/nvad/testing/nvad_test_support.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using proto::Status;

bool has_erase(const Outcome &outcome, const BindingKey &erased) {
  for (const auto &write : outcome.writes)
    if (auto *erase = std::get_if<EraseBinding>(&write); erase && erase->key == erased) return true;
  return false;
}

TEST(NvadLifetime, GrantsTheAskedLifetimeCappedAtTheConfiguredMaximum) {
  RegistrationPolicy policy;
  policy.max_lifetime = 150;
  RegistrarHarness h(policy);

  auto capped = h.register_vm(nve_a(), 1, 300);
  EXPECT_EQ(reply_status(capped), Status::Accepted);
  EXPECT_EQ(capped.reply->message.lifetime, 150);
  EXPECT_EQ(h.binding(1).granted_lifetime, 150);

  auto asked = h.register_vm(nve_a(), 2, 10);
  EXPECT_EQ(asked.reply->message.lifetime, 10);
  EXPECT_EQ(h.binding(2).expires_at, h.clock.now() + 40s);
  EXPECT_EQ(h.registrar.counters().registrations, 2u);
}

TEST(NvadLifetime, ReplyGoesToTheRequestersAddressAndPortAndEchoesTheRequest) {
  RegistrarHarness h;
  auto request = h.request(nve_a(), 1);
  auto outcome = h.send(nve_a(), request);
  ASSERT_TRUE(outcome.reply);
  EXPECT_EQ(outcome.reply->to, (Destination{nve_a().control, nve_a().port}));
  EXPECT_TRUE(proto::is_reply_to(outcome.reply->message, request));
  EXPECT_TRUE(outcome.notifications.empty());
  ASSERT_FALSE(outcome.writes.empty());
}

TEST(NvadLifetime, BindingExpiresWhenItsLifetimeEndsWithoutRefresh) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1, 10);  // 40 s
  EXPECT_EQ(h.registrar.next_deadline(), h.clock.now() + 40s);

  h.clock.advance(40s - 1ms);
  h.registrar.on_timers();
  EXPECT_TRUE(h.has(1));

  // Ended as a de-registration is: kept for the grace period (the previous
  // NVEs are told to end their redirects), then deleted.
  h.clock.advance(1ms);
  h.registrar.on_timers();
  ASSERT_TRUE(h.has(1));
  EXPECT_EQ(h.binding(1).state, BindingState::DeregisteredGrace);
  EXPECT_EQ(h.registrar.counters().expirations, 1u);
  h.clock.advance(RegistrationPolicy{}.deregistration_grace);
  auto outcome = h.registrar.on_timers();
  EXPECT_FALSE(h.has(1));
  EXPECT_TRUE(has_erase(outcome, key(1)));
}

TEST(NvadLifetime, RefreshFromTheServingNveExtendsTheLifetime) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1, 10);
  h.clock.advance(30s);
  EXPECT_EQ(reply_status(h.register_vm(nve_a(), 1, 10)), Status::Accepted);
  EXPECT_EQ(h.registrar.counters().refreshes, 1u);

  h.clock.advance(11s);  // past the first lifetime: the stale deadline is ignored
  h.registrar.on_timers();
  EXPECT_TRUE(h.has(1));

  h.clock.advance(29s);  // 40 s after the refresh
  h.registrar.on_timers();
  EXPECT_EQ(h.binding(1).state, BindingState::DeregisteredGrace);
  EXPECT_EQ(h.registrar.counters().expirations, 1u);
}

TEST(NvadLifetime, DeregistrationKeepsTheEntryForTheGracePeriodThenDeletesIt) {
  RegistrationPolicy policy;
  policy.deregistration_grace = 10s;
  RegistrarHarness h(policy);
  h.register_vm(nve_a(), 1);

  auto outcome = h.deregister(nve_a(), 1);
  EXPECT_EQ(reply_status(outcome), Status::Accepted);
  EXPECT_EQ(outcome.reply->message.lifetime, 0);
  EXPECT_EQ(h.binding(1).state, BindingState::DeregisteredGrace);
  EXPECT_EQ(h.registrar.counters().deregistrations, 1u);

  h.clock.advance(10s - 1ms);
  h.registrar.on_timers();
  EXPECT_TRUE(h.has(1));
  h.clock.advance(1ms);
  auto deleted = h.registrar.on_timers();
  EXPECT_FALSE(h.has(1));
  EXPECT_TRUE(has_erase(deleted, key(1)));
  EXPECT_EQ(h.registrar.counters().grace_deletions, 1u);
  EXPECT_EQ(h.registrar.counters().expirations, 0u);
}

TEST(NvadLifetime, RegisteringAgainDuringTheGracePeriodKeepsTheBinding) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  h.deregister(nve_a(), 1);
  h.clock.advance(5s);
  EXPECT_EQ(reply_status(h.register_vm(nve_a(), 1)), Status::Accepted);
  EXPECT_EQ(h.binding(1).state, BindingState::Active);

  h.clock.advance(10s);
  h.registrar.on_timers();
  EXPECT_TRUE(h.has(1));
}

TEST(NvadLifetime, DeregistrationFromAnNveThatNoLongerServesTheVmChangesNothing) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  h.register_vm(nve_b(), 1);  // moved to B
  auto outcome = h.deregister(nve_a(), 1);  // A cleaning up late
  EXPECT_EQ(reply_status(outcome), Status::Accepted);
  EXPECT_EQ(h.binding(1).state, BindingState::Active);
  EXPECT_EQ(h.binding(1).serving.control, nve_b().control);
  EXPECT_EQ(h.registrar.counters().stale_deregistrations, 1u);
}

TEST(NvadLifetime, DeregistrationOfAnUnknownVmIsAcceptedAndCreatesNothing) {
  RegistrarHarness h;
  EXPECT_EQ(reply_status(h.deregister(nve_a(), 9)), Status::Accepted);
  EXPECT_EQ(h.registrar.cache().size(), 0u);
}

TEST(NvadLifetime, RegistrationAtAnotherNveDuringTheGracePeriodIsAMove) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  h.deregister(nve_a(), 1);  // the VM left A first...
  auto outcome = h.register_vm(nve_b(), 1);  // ...and arrives at B
  EXPECT_EQ(reply_status(outcome), Status::Accepted);
  ASSERT_EQ(outcome.notifications.size(), 1u);
  EXPECT_EQ(outcome.notifications[0].to.address, nve_a().control);
  EXPECT_EQ(h.binding(1).state, BindingState::Active);
  EXPECT_EQ(h.registrar.counters().moves, 1u);
}

}  // namespace
}  // namespace nvmove::nvad
