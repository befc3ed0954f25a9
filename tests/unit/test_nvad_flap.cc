// nvad: a VM moving back and forth too often is frozen until an operator
// clears it (EVPN MAC mobility damping).
#include <gtest/gtest.h>

#include "control/nvad/testing/nvad_test_support.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;
using proto::Status;

// Moves VM 1 between A and B `count` times, `gap` apart, starting at A.
struct Flapper : RegistrarHarness {
  using RegistrarHarness::RegistrarHarness;
  Outcome move(Duration gap = 10s) {
    clock.advance(gap);
    at_a = !at_a;
    return register_vm(at_a ? nve_a() : nve_b(), 1);
  }
  bool at_a = true;
};

TEST(NvadFlap, MoreThanMaxMovesInTheWindowFreezesTheVm) {
  Flapper h;  // 5 moves in 180 s
  h.register_vm(nve_a(), 1);
  for (int i = 0; i < 5; i++) EXPECT_EQ(reply_status(h.move()), Status::Accepted);
  EXPECT_FALSE(h.binding(1).flapping);

  // The sixth is accepted (the VM is where it registered last) and reported.
  EXPECT_EQ(reply_status(h.move()), Status::Accepted);
  EXPECT_TRUE(h.binding(1).flapping);
  EXPECT_EQ(h.registrar.counters().flaps_detected, 1u);
  IpAddress frozen_at = h.binding(1).serving.control;

  auto refused = h.move();
  EXPECT_EQ(reply_status(refused), Status::AdministrativelyProhibited);
  EXPECT_TRUE(refused.notifications.empty());
  EXPECT_EQ(h.binding(1).serving.control, frozen_at);
  EXPECT_EQ(h.registrar.counters().rejected_with(Status::AdministrativelyProhibited), 1u);
  EXPECT_EQ(h.binding(1).move_count, 6u);

  // Waiting does not unfreeze it: only an operator does.
  h.clock.advance(1h);
  h.at_a = frozen_at == nve_a().control;
  EXPECT_EQ(reply_status(h.move()), Status::AdministrativelyProhibited);
}

TEST(NvadFlap, ServingNveCanStillRefreshAFrozenVm) {
  Flapper h;
  h.register_vm(nve_a(), 1);
  for (int i = 0; i < 6; i++) h.move();
  ASSERT_TRUE(h.binding(1).flapping);
  const Nve serving = h.at_a ? nve_a() : nve_b();
  EXPECT_EQ(reply_status(h.register_vm(serving, 1)), Status::Accepted);
  EXPECT_EQ(reply_status(h.deregister(serving, 1)), Status::Accepted);
}

TEST(NvadFlap, ClearFlapAcceptsMovesAgain) {
  Flapper h;
  h.register_vm(nve_a(), 1);
  for (int i = 0; i < 6; i++) h.move();
  ASSERT_TRUE(h.binding(1).flapping);

  auto cleared = h.registrar.clear_flap(key(1));
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->writes.size(), 1u);  // persisted
  EXPECT_FALSE(h.binding(1).flapping);
  EXPECT_TRUE(h.binding(1).recent_moves.empty());
  EXPECT_EQ(h.registrar.counters().flaps_cleared, 1u);
  EXPECT_EQ(reply_status(h.move()), Status::Accepted);

  EXPECT_FALSE(h.registrar.clear_flap(key(1)));  // not flapping
  EXPECT_FALSE(h.registrar.clear_flap(key(9)));  // no such VM
}

TEST(NvadFlap, MovesSpreadBeyondTheWindowNeverFreeze) {
  Flapper h;
  h.register_vm(nve_a(), 1);
  // One move every 36 s: exactly 5 in any 180 s (the window excludes its edge).
  for (int i = 0; i < 30; i++) EXPECT_EQ(reply_status(h.move(36s)), Status::Accepted);
  EXPECT_FALSE(h.binding(1).flapping);
  EXPECT_EQ(h.binding(1).recent_moves.size(), 5u);
  EXPECT_EQ(h.binding(1).move_count, 30u);
}

TEST(NvadFlap, ThresholdsAreConfigurableAndDetectionCanBeOff) {
  RegistrationPolicy policy;
  policy.flap.max_moves = 2;
  policy.flap.window = 60s;
  Flapper strict(policy);
  strict.register_vm(nve_a(), 1);
  strict.move();
  strict.move();
  EXPECT_FALSE(strict.binding(1).flapping);
  strict.move();
  EXPECT_TRUE(strict.binding(1).flapping);

  policy.flap.enabled = false;
  Flapper off(policy);
  off.register_vm(nve_a(), 1);
  for (int i = 0; i < 20; i++) EXPECT_EQ(reply_status(off.move(1s)), Status::Accepted);
  EXPECT_FALSE(off.binding(1).flapping);
}

}  // namespace
}  // namespace nvmove::nvad
