// nvad: one binding or one peer as the JSON value of an etcd key
// (store_record.h). What is written reads back the same; a damaged or
// foreign value is refused with a reason that names the field, never
// half-read and never thrown.
#include <gtest/gtest.h>

#include "control/nvad/store_record.h"
#include "control/nvad/testing/nvad_test_support.h"

namespace nvmove::nvad {
namespace {

using namespace testing;
using nlohmann::json;

// A binding with some history: registered at A, moved to B (A is a previous
// NVE with a notification on its way), flap state and last requests filled.
const Binding &moved_binding(RegistrarHarness &h) {
  h.register_vm(nve_a(), 7);
  h.clock.advance(std::chrono::seconds(3));
  h.register_vm(nve_b(), 7);
  return h.binding(7);
}

TEST(StoreRecord, BindingReadsBackAsWritten) {
  RegistrarHarness h;
  const Binding &b = moved_binding(h);
  ASSERT_FALSE(b.previous.empty());
  const json written = store_record::binding(b, h.clock);
  auto parsed = store_record::parse_binding(written, h.clock);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const Binding &r = parsed.value();
  EXPECT_EQ(r.key(), b.key());
  EXPECT_EQ(r.mac, b.mac);
  EXPECT_EQ(r.addresses, b.addresses);
  EXPECT_EQ(r.serving.control, b.serving.control);
  ASSERT_EQ(r.previous.size(), b.previous.size());
  EXPECT_EQ(r.previous[0].nve.control, nve_a().control);
  EXPECT_EQ(r.previous[0].state, b.previous[0].state);
  EXPECT_EQ(r.move_count, b.move_count);
  EXPECT_EQ(r.last_requests.size(), b.last_requests.size());
  // Every field survives: the record of what was read is the record written.
  EXPECT_EQ(store_record::binding(r, h.clock), written);
}

TEST(StoreRecord, PeerReadsBackAsWritten) {
  PeerState state;
  state.received.record(41, 1'700'000'000'000'000'000ull);
  state.next_sequence = 9;
  state.last_sent_timestamp_ns = 1'700'000'000'000'000'123ull;
  state.port = 4434;
  const json written = store_record::peer(ip("2001:db8::1"), state);
  auto parsed = store_record::parse_peer(written);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value().first, ip("2001:db8::1"));
  EXPECT_EQ(store_record::peer(parsed.value().first, parsed.value().second), written);

  PeerState fresh;  // never heard from: no received sequence
  auto again = store_record::parse_peer(store_record::peer(ip("192.0.2.9"), fresh));
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(again.value().second.received.has_history());
}

// The reason a damaged binding record is refused, or "" if it is accepted.
std::string refusal(RegistrarHarness &h, const std::function<void(json &)> &damage) {
  json record = store_record::binding(moved_binding(h), h.clock);
  damage(record);
  auto parsed = store_record::parse_binding(record, h.clock);
  return parsed.ok() ? "" : parsed.error();
}

// Times far beyond any clock (the store fuzzer's 2^63 ns and more, which
// overflowed the conversion: UBSan) read back a century away, not as UB.
TEST(StoreRecord, TimesBeyondAnyClockReadBackACenturyAway) {
  RegistrarHarness h;
  json written = store_record::binding(moved_binding(h), h.clock);
  written["registered_at_ns"] = uint64_t{1} << 63;
  written["expires_at_ns"] = ~uint64_t{0};
  auto parsed = store_record::parse_binding(written, h.clock);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_GT(parsed.value().expires_at, h.clock.now() + std::chrono::hours(24 * 365 * 99));
  EXPECT_EQ(from_wall_ns(0, h.clock), h.clock.now() - std::chrono::duration_cast<Duration>(
                                                          std::chrono::nanoseconds(h.clock.wall_ns())));
}

TEST(StoreRecord, DamagedBindingsAreRefusedWithTheField) {
  struct Case {
    const char *what;
    std::function<void(json &)> damage;
    const char *reason;
  };
  const std::vector<Case> cases = {
      {"not an object", [](json &r) { r = json::array({1, 2}); }, "not a JSON object"},
      {"a newer format", [](json &r) { r["format"] = 2; }, "format 2"},
      {"no format", [](json &r) { r.erase("format"); }, "'format'"},
      {"a missing field", [](json &r) { r.erase("serving"); }, "'serving'"},
      {"text for a number", [](json &r) { r["virtual_network"] = "5"; }, "'virtual_network'"},
      {"a negative number", [](json &r) { r["granted_lifetime"] = -1; }, "'granted_lifetime'"},
      {"out of range", [](json &r) { r["granted_lifetime"] = 70000; }, "'granted_lifetime'"},
      {"a state beyond the enum", [](json &r) { r["state"] = 99; }, "'state'"},
      {"a bad MAC", [](json &r) { r["mac"] = "52:54:00"; }, "'mac'"},
      {"a bad VM id", [](json &r) { r["vm_id"] = "hex:zz"; }, "'vm_id'"},
      {"a bad address", [](json &r) { r["serving"]["control"] = "192.0.2.300"; }, "'control'"},
      {"previous not a list", [](json &r) { r["previous"] = json::object(); }, "'previous'"},
      {"a previous NVE not an object", [](json &r) { r["previous"] = json::array({7}); }, "previous NVE"},
      {"a bad last request", [](json &r) { r["last_requests"][0]["address"] = "x"; }, "'address'"},
      {"a last request without its sequence", [](json &r) { r["last_requests"][0].erase("sequence"); }, "'sequence'"},
      {"flapping not a boolean", [](json &r) { r["flapping"] = 1; }, "'flapping'"},
  };
  for (const auto &c : cases) {
    RegistrarHarness h;
    const std::string why = refusal(h, c.damage);
    EXPECT_NE(why.find(c.reason), std::string::npos) << c.what << ": refused with '" << why << "'";
  }
}

TEST(StoreRecord, DamagedPeersAreRefused) {
  const json good = store_record::peer(ip("192.0.2.9"), PeerState{});
  for (const char *name : {"address", "next_sequence", "port", "format"}) {
    json r = good;
    r.erase(name);
    auto parsed = store_record::parse_peer(r);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_NE(parsed.error().find(name), std::string::npos) << parsed.error();
  }
  json r = good;
  r["port"] = 65536;
  EXPECT_FALSE(store_record::parse_peer(r).ok());
  EXPECT_FALSE(store_record::parse_peer(json("a string")).ok());
  EXPECT_FALSE(store_record::parse_peer(json(nullptr)).ok());
}

}  // namespace
}  // namespace nvmove::nvad
