// nvad: the small pieces the daemon leans on: rate-limited logging, VM-ID
// text, the timer queue, and the JSON views.
#include <gtest/gtest.h>

#include "control/base/rate_limited_log.h"
#include "control/nvad/state_json.h"
#include "control/nvad/testing/nvad_test_support.h"
#include "control/nvad/text_format.h"
#include "control/nvad/timer_queue.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using namespace std::chrono_literals;

TEST(NvadRateLimitedLog, FirstLineAtOnceThenOncePerIntervalWithTheCount) {
  FakeClock clock;
  RateLimitedLog log(10s, clock);
  IpAddress a = ip("192.0.2.1"), b = ip("192.0.2.2");
  EXPECT_EQ(log.admit(a, "bad_mac", "line 1"), "line 1");
  EXPECT_FALSE(log.admit(a, "bad_mac", "line 2"));
  EXPECT_FALSE(log.admit(a, "bad_mac", "line 3"));
  EXPECT_EQ(log.admit(a, "duplicate", "other reason"), "other reason");  // own slot
  EXPECT_EQ(log.admit(b, "bad_mac", "other peer"), "other peer");        // own slot
  clock.advance(10s);
  EXPECT_EQ(log.admit(a, "bad_mac", "line 4"),
            "line 4 (2 more like it suppressed since the last one)");
  EXPECT_FALSE(log.admit(a, "bad_mac", "line 5"));
}

TEST(NvadTextFormat, VmIdsRoundTrip) {
  VmId uuid = vm_id(0xab);
  EXPECT_EQ(vm_id_text(uuid), "11111111-1111-1111-1111-1111111111ab");
  EXPECT_EQ(parse_vm_id(vm_id_text(uuid)), uuid);
  VmId short_id = {0x01, 0xfe};
  EXPECT_EQ(vm_id_text(short_id), "hex:01fe");
  EXPECT_EQ(parse_vm_id("hex:01FE"), short_id);
  for (const char *bad : {"", "hex:", "hex:0", "hex:zz", "11111111-1111-1111-1111-1111111111a",
                          "111111111-111-1111-1111-1111111111ab"})
    EXPECT_FALSE(parse_vm_id(bad)) << bad;
  EXPECT_EQ(duration_text(1500ms), "1500ms");
  EXPECT_EQ(duration_text(180s), "180s");
}

TEST(NvadTimerQueue, PopsDueEventsInDeadlineOrder) {
  TimerQueue queue;
  Instant t0{};
  queue.schedule({t0 + 3s, TimerKind::Retransmit, key(3), ip("192.0.2.3")});
  queue.schedule({t0 + 1s, TimerKind::BindingDeadline, key(1), {}});
  queue.schedule({t0 + 2s, TimerKind::BindingDeadline, key(2), {}});
  EXPECT_EQ(queue.next_deadline(), t0 + 1s);
  EXPECT_FALSE(queue.pop_due(t0));
  auto first = queue.pop_due(t0 + 2s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->key, key(1));
  EXPECT_EQ(queue.pop_due(t0 + 2s)->key, key(2));
  EXPECT_FALSE(queue.pop_due(t0 + 2s));
  EXPECT_EQ(queue.pop_due(t0 + 5s)->kind, TimerKind::Retransmit);
  EXPECT_FALSE(queue.next_deadline());
}

TEST(NvadStateJson, ShowsBindingsPeersAndCounters) {
  RegistrarHarness h;
  h.register_vm(nve_a(), 1);
  h.register_vm(nve_b(), 1);
  auto bindings = bindings_json(h.registrar.cache(), h.clock);
  ASSERT_EQ(bindings.size(), 1u);
  const auto &b = bindings[0];
  EXPECT_EQ(b["vm_id"], vm_id_text(vm_id(1)));
  EXPECT_EQ(b["virtual_network"], kVn);
  EXPECT_EQ(b["mac"], "52:54:00:00:00:01");
  EXPECT_EQ(b["addresses"][0], "10.0.0.1");
  EXPECT_EQ(b["state"], "active");
  EXPECT_EQ(b["serving_nve"]["address"], "192.0.2.2");
  EXPECT_EQ(b["previous_nves"][0]["address"], "192.0.2.1");
  EXPECT_EQ(b["previous_nves"][0]["notification"], "pending");
  EXPECT_EQ(b["previous_nves"][0]["next_retransmit_in_ms"], 1000);
  EXPECT_EQ(b["registering_nves"].size(), 2u);
  EXPECT_EQ(b["expires_in_ms"], 600000);
  EXPECT_EQ(b["moves"], 1);
  EXPECT_EQ(b["flapping"], false);

  auto peers = peers_json(h.registrar, nullptr);
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0]["address"], "192.0.2.1");
  EXPECT_EQ(peers[0]["notifications_pending"], 1);
  EXPECT_EQ(peers[1]["vms_served"], 1);

  auto stats = protocol_stats_json(h.registrar);
  EXPECT_EQ(stats["bindings"], 1);
  EXPECT_EQ(stats["registrations"], 1);
  EXPECT_EQ(stats["moves"], 1);
  EXPECT_EQ(stats["notifications_sent"], 1);
  EXPECT_EQ(stats["rejected"].size(), proto::kRejectionStatuses.size());
  EXPECT_EQ(stats["rejected"]["bad_sequence_number"], 0);
  EXPECT_EQ(stats["dropped"]["unexpected_reply"], 0);
}

}  // namespace
}  // namespace nvmove::nvad

namespace nvmove::nvad {
namespace {

// Issue 13: 100,000 bindings in one answer held nvad's loop for seconds;
// nvectl now pages through the cache in key order.
TEST(NvadState, BindingsComeInPagesInKeyOrder) {
  RegistrarHarness h;
  for (uint8_t vm = 1; vm <= 5; vm++) h.register_vm(testing::nve_a(), vm);
  std::optional<BindingKey> next;
  std::vector<std::string> seen;
  auto page = bindings_page_json(h.registrar.cache(), h.clock, std::nullopt, 2, next);
  int pages = 1;
  for (;;) {
    for (const auto &b : page) seen.push_back(b["vm_id"].get<std::string>());
    if (!next) break;
    const auto after = next;
    page = bindings_page_json(h.registrar.cache(), h.clock, after, 2, next);
    pages++;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 5u);
  std::vector<std::string> all;
  for (const auto &b : bindings_json(h.registrar.cache(), h.clock)) all.push_back(b["vm_id"].get<std::string>());
  EXPECT_EQ(seen, all);  // the same bindings, in the same order, none twice
}

}  // namespace
}  // namespace nvmove::nvad
