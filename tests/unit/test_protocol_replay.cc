// Serial-number arithmetic, the timestamp window and per-peer replay state.
#include <gtest/gtest.h>

#include "control/protocol/address_text.h"
#include "control/protocol/replay.h"

using namespace nvmove::proto;
using namespace std::chrono_literals;

namespace {

TEST(ProtocolReplay, SeqNewerOrdinaryCases) {
  EXPECT_TRUE(seq_newer(2, 1));
  EXPECT_FALSE(seq_newer(1, 2));
  EXPECT_FALSE(seq_newer(5, 5));
  EXPECT_TRUE(seq_newer(0x7FFF, 0));  // 32767 ahead: still newer
  EXPECT_FALSE(seq_newer(0, 0x7FFF));
}

TEST(ProtocolReplay, SeqNewerAcrossTheWrap) {
  EXPECT_TRUE(seq_newer(0, 65535));
  EXPECT_FALSE(seq_newer(65535, 0));
  EXPECT_TRUE(seq_newer(10, 65530));
  EXPECT_FALSE(seq_newer(65530, 10));
  EXPECT_EQ(seq_next(65535), 0);
  // The naive "cur > prev && cur < prev + 32768" gets exactly this wrong.
  uint16_t prev = 65535, cur = 0;
  EXPECT_FALSE(cur > prev && cur < prev + 32768);
  EXPECT_TRUE(seq_newer(cur, prev));
}

TEST(ProtocolReplay, SeqNewerHalfWayIsNeitherWay) {
  for (uint32_t b : {0u, 1u, 0x7FFFu, 0x8000u, 0xFFFFu}) {
    auto a = static_cast<uint16_t>(b + 0x8000);
    EXPECT_FALSE(seq_newer(a, static_cast<uint16_t>(b))) << b;
    EXPECT_FALSE(seq_newer(static_cast<uint16_t>(b), a)) << b;
  }
  EXPECT_TRUE(seq_newer(static_cast<uint16_t>(0x8000 - 1), 0));
  EXPECT_TRUE(seq_newer(0, static_cast<uint16_t>(0x8000 + 1)));
}

TEST(ProtocolReplay, SeqNewerIsAStrictOrderOnEveryNonHalfwayPair) {
  // Exhaustive over one operand, a spread of the other: exactly one of
  // newer(a,b), newer(b,a), a==b, half-way holds.
  for (uint32_t a = 0; a < 65536; a += 1) {
    for (uint32_t b : {0u, 1u, 12345u, 32767u, 32768u, 65535u}) {
      auto x = static_cast<uint16_t>(a), y = static_cast<uint16_t>(b);
      int count = seq_newer(x, y) + seq_newer(y, x) + (x == y) +
                  (static_cast<uint16_t>(x - y) == 0x8000);
      ASSERT_EQ(count, 1) << a << " " << b;
    }
  }
}

constexpr uint64_t kNow = 1'750'000'000'000'000'000ull;

TEST(ProtocolReplay, TimestampWindowIsSymmetricAndInclusive) {
  TimestampWindow window;  // default
  EXPECT_EQ(window.half_width, 300ms);
  const uint64_t w = 300'000'000;
  EXPECT_TRUE(window.contains(kNow, kNow));
  EXPECT_TRUE(window.contains(kNow - w, kNow));
  EXPECT_TRUE(window.contains(kNow + w, kNow));
  EXPECT_FALSE(window.contains(kNow - w - 1, kNow));
  EXPECT_FALSE(window.contains(kNow + w + 1, kNow));
  // Extremes do not overflow.
  EXPECT_FALSE(window.contains(0, UINT64_MAX));
  EXPECT_FALSE(window.contains(UINT64_MAX, 0));
  TimestampWindow narrow{5ms};
  EXPECT_FALSE(narrow.contains(kNow + 6'000'000, kNow));
  TimestampWindow negative{-1ms};
  EXPECT_TRUE(negative.contains(kNow, kNow));
  EXPECT_FALSE(negative.contains(kNow + 1, kNow));
}

TEST(ProtocolReplay, FirstContactOnlyChecksTheWindow) {
  PeerReplayState state;
  TimestampWindow window;
  EXPECT_FALSE(state.has_history());
  EXPECT_EQ(state.check(12345, kNow, kNow, window), ReplayVerdict::Fresh);
  EXPECT_EQ(state.check(12345, kNow - 1'000'000'000, kNow, window), ReplayVerdict::OutsideWindow);
  EXPECT_FALSE(state.expected_sequence().has_value());
}

TEST(ProtocolReplay, VerdictsInOrder) {
  TimestampWindow window;
  PeerReplayState state;
  state.record(100, kNow);
  EXPECT_EQ(state.check(100, kNow, kNow, window), ReplayVerdict::Duplicate);
  EXPECT_EQ(state.check(101, kNow + 10, kNow, window), ReplayVerdict::Fresh);
  EXPECT_EQ(state.check(101, kNow + 10, kNow + 2'000'000'000, window), ReplayVerdict::OutsideWindow);
  EXPECT_EQ(state.check(101, kNow, kNow, window), ReplayVerdict::TimestampNotNewer);
  EXPECT_EQ(state.check(101, kNow - 5, kNow, window), ReplayVerdict::TimestampNotNewer);
  EXPECT_EQ(state.check(100, kNow + 10, kNow, window), ReplayVerdict::SequenceNotNewer);
  EXPECT_EQ(state.check(99, kNow + 10, kNow, window), ReplayVerdict::SequenceNotNewer);
  EXPECT_EQ(state.check(100 + 0x8000, kNow + 10, kNow, window), ReplayVerdict::SequenceNotNewer);
  EXPECT_EQ(state.expected_sequence(), 101);
}

// Issue 14: one request from a clock up to the window ahead became the floor,
// so every later request at the true time failed with 157 until real time
// caught up (up to the window, which may be configured to an hour). The
// floor is now the lower of the timestamp and the receiver's clock when it
// accepted it; the exact timestamp still spots a duplicate.
TEST(ProtocolReplay, ASkewedRequestCannotLockThePeerOut) {
  TimestampWindow window;  // 300 ms
  PeerReplayState state;
  const uint64_t ahead = kNow + 250'000'000;  // 250 ms in the future
  ASSERT_EQ(state.check(100, ahead, kNow, window), ReplayVerdict::Fresh);
  state.record(100, ahead, kNow);
  EXPECT_EQ(state.check(100, ahead, kNow + 1, window), ReplayVerdict::Duplicate);
  EXPECT_EQ(state.check(101, kNow + 1'000'000, kNow + 1'000'000, window), ReplayVerdict::Fresh);
  EXPECT_EQ(state.check(101, kNow, kNow + 1'000'000, window), ReplayVerdict::TimestampNotNewer);
  // An old request replayed inside the window: refused by its sequence number.
  EXPECT_EQ(state.check(99, kNow + 2'000'000, kNow + 2'000'000, window), ReplayVerdict::SequenceNotNewer);
  // Without the receiver's time (restored state), the floor is the timestamp.
  PeerReplayState restored;
  restored.record(100, ahead);
  EXPECT_EQ(restored.check(101, kNow + 1'000'000, kNow + 1'000'000, window), ReplayVerdict::TimestampNotNewer);
}

TEST(ProtocolReplay, AnExactCopyOfARefusedRequestIsADuplicate) {
  TimestampWindow window;
  PeerReplayState state;
  const uint64_t stale = kNow - 1'000'000'000;
  ASSERT_EQ(state.check(7, stale, kNow, window), ReplayVerdict::OutsideWindow);
  state.record_refused(7, stale);
  EXPECT_EQ(state.check(7, stale, kNow + 1, window), ReplayVerdict::Duplicate);
  EXPECT_EQ(state.check(8, stale, kNow + 1, window), ReplayVerdict::OutsideWindow);  // not a copy
}

TEST(ProtocolReplay, SequenceWrapIsAccepted) {
  TimestampWindow window;
  PeerReplayState state;
  state.record(65535, kNow);
  EXPECT_EQ(state.check(0, kNow + 1, kNow, window), ReplayVerdict::Fresh);
  EXPECT_EQ(state.expected_sequence(), 0);
  state.record(0, kNow + 1);
  EXPECT_EQ(state.check(65535, kNow + 2, kNow, window), ReplayVerdict::SequenceNotNewer);
  EXPECT_EQ(state.expected_sequence(), 1);
}

TEST(ProtocolReplay, RejectionStatusesMatchTheSpec) {
  EXPECT_FALSE(rejection_status(ReplayVerdict::Fresh).has_value());
  EXPECT_FALSE(rejection_status(ReplayVerdict::Duplicate).has_value());
  EXPECT_EQ(rejection_status(ReplayVerdict::OutsideWindow), Status::TimestampMismatch);
  EXPECT_EQ(rejection_status(ReplayVerdict::TimestampNotNewer), Status::TimestampLowerThanPrevious);
  EXPECT_EQ(rejection_status(ReplayVerdict::SequenceNotNewer), Status::BadSequenceNumber);
}

TEST(ProtocolReplay, GuardKeepsOneStatePerPeer) {
  IpAddress a = parse_ip_address("192.0.2.1").value();
  IpAddress b = parse_ip_address("2001:db8::1").value();
  ReplayGuard guard;
  guard.record(a, 500, kNow, kNow);
  EXPECT_EQ(guard.check(a, 400, kNow + 1, kNow), ReplayVerdict::SequenceNotNewer);
  EXPECT_EQ(guard.check(b, 400, kNow + 1, kNow), ReplayVerdict::Fresh);
  EXPECT_EQ(guard.expected_sequence(a), 501);
  EXPECT_FALSE(guard.expected_sequence(b).has_value());
  guard.forget(a);
  EXPECT_EQ(guard.check(a, 400, kNow + 1, kNow), ReplayVerdict::Fresh);
  ReplayGuard narrow(TimestampWindow{1ms});
  EXPECT_EQ(narrow.check(a, 1, kNow + 2'000'000, kNow), ReplayVerdict::OutsideWindow);
}

}  // namespace
