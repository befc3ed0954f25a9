#include <gtest/gtest.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "dataplane/rcu.h"
#include "dataplane/route_table.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {

IpAddress ip(const char *s) { return *IpAddress::parse(s); }

IpAddress v4(uint32_t host_order) {
  IpAddress a;
  a.family = 4;
  a.bytes[0] = host_order >> 24;
  a.bytes[1] = host_order >> 16;
  a.bytes[2] = host_order >> 8;
  a.bytes[3] = host_order;
  return a;
}

struct Qsbr {
  explicit Qsbr(uint32_t threads) {
    v = static_cast<rte_rcu_qsbr *>(rte_zmalloc("t_qsbr", rte_rcu_qsbr_get_memsize(threads), 64));
    rte_rcu_qsbr_init(v, threads);
  }
  ~Qsbr() { rte_free(v); }
  rte_rcu_qsbr *v;
};

FabricParams fabric() {
  FabricParams f;
  f.port = 0;
  f.port_mac = {0x02, 0, 0, 0, 0, 0x01};
  f.gateway_mac_v4 = MacAddress{0x02, 0, 0, 0, 0, 0xfe};
  f.own_v4 = ip("192.0.2.1");
  f.own_v6 = ip("2001:db8::1");
  return f;
}

RouteChange upsert(uint32_t vn, IpAddress a, RouteAction act) {
  RouteChange c;
  c.route = HostRoute{vn, a};
  c.action = act;
  return c;
}

RouteChange remove(uint32_t vn, IpAddress a) {
  RouteChange c;
  c.op = RouteChange::Op::Remove;
  c.route = HostRoute{vn, a};
  return c;
}

}  // namespace

TEST(RouteTable, AddFindChangeRemove) {
  Qsbr q(1);
  RouteTableConfig cfg;
  cfg.name = "t_basic";
  cfg.capacity = 1024;
  RouteTable t(cfg, q.v);
  t.set_fabric(fabric());

  std::vector<RouteChange> batch = {
      upsert(0, ip("10.0.0.5"), DeliverLocal{1, {2, 0, 0, 0, 1, 1}, 0}),
      upsert(0, ip("fd00::9"), TunnelToNve{ip("198.51.100.2")}),
      upsert(3, ip("10.0.0.5"), TunnelToNve{ip("2001:db8::2")}),
  };
  auto r = t.apply(batch);
  EXPECT_EQ(r.applied, 3u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.nve_count(), 2u);

  auto v = t.find({0, ip("10.0.0.5")});
  ASSERT_TRUE(v);
  EXPECT_EQ(std::get<DeliverLocal>(v->action).port, 1);
  v = t.find({3, ip("10.0.0.5")});  // same address, other virtual network
  ASSERT_TRUE(v);
  EXPECT_EQ(std::get<TunnelToNve>(v->action).nve, ip("2001:db8::2"));
  EXPECT_FALSE(t.find({1, ip("10.0.0.5")}));

  // The VM moves: the local route becomes a tunnel.
  const uint64_t before = t.version();
  std::vector<RouteChange> move = {upsert(0, ip("10.0.0.5"), TunnelToNve{ip("198.51.100.2")})};
  r = t.apply(move);
  EXPECT_EQ(r.applied, 1u);
  EXPECT_GT(t.version(), before);
  EXPECT_EQ(std::get<TunnelToNve>(t.find({0, ip("10.0.0.5")})->action).nve, ip("198.51.100.2"));
  EXPECT_EQ(t.size(), 3u);

  std::vector<RouteChange> del = {remove(0, ip("10.0.0.5")), remove(0, ip("10.0.0.77"))};
  r = t.apply(del);
  EXPECT_EQ(r.applied, 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].index, 1u);
  EXPECT_EQ(r.errors[0].reason, "no such route");
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.list().size(), 2u);
}

TEST(RouteTable, RejectsWhatCannotWork) {
  Qsbr q(1);
  RouteTableConfig cfg;
  cfg.name = "t_reject";
  cfg.capacity = 64;
  cfg.max_nves = 2;
  RouteTable t(cfg, q.v);
  FabricParams f = fabric();
  f.own_v6 = {};  // no IPv6 underlay address
  t.set_fabric(f);
  std::vector<RouteChange> b = {
      upsert(0, ip("10.0.0.1"), TunnelToNve{ip("192.0.2.1")}),
      upsert(0, ip("10.0.0.2"), TunnelToNve{ip("2001:db8::2")}),
      upsert(0, ip("10.0.0.3"), TunnelToNve{ip("198.51.100.1")}),
      upsert(0, ip("10.0.0.4"), TunnelToNve{ip("198.51.100.2")}),
      upsert(0, ip("10.0.0.5"), TunnelToNve{ip("198.51.100.3")}),
  };
  const auto r = t.apply(b);
  EXPECT_EQ(r.applied, 2u);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_EQ(r.errors[0].reason, "tunnel destination 192.0.2.1 is this NVE's own address");
  EXPECT_EQ(r.errors[1].reason,
            "NVE 2001:db8::2 is IPv6 but this NVE has no IPv6 underlay address");
  EXPECT_EQ(r.errors[2].reason, "NVE table full (2 destination NVEs)");
}

TEST(RouteTable, CapacityIsEnforcedAndFreedSlotsComeBack) {
  Qsbr q(1);
  RouteTableConfig cfg;
  cfg.name = "t_cap";
  cfg.capacity = 256;
  RouteTable t(cfg, q.v);
  t.set_fabric(fabric());
  std::vector<RouteChange> b;
  for (uint32_t i = 0; i < 300; i++) b.push_back(upsert(0, v4(0x0a000000 + i), DeliverLocal{1, {}, 0}));
  auto r = t.apply(b);
  EXPECT_EQ(r.applied, 256u);
  EXPECT_EQ(r.errors.size(), 44u);
  EXPECT_EQ(r.errors.back().reason, "route table full (256 routes)");
  // Remove and re-add many times: slots return after each grace period.
  for (int round = 0; round < 20; round++) {
    std::vector<RouteChange> del, add;
    for (uint32_t i = 0; i < 256; i++) {
      del.push_back(remove(0, v4(0x0a000000 + i)));
      add.push_back(upsert(0, v4(0x0a000000 + i), TunnelToNve{v4(0xc6336400 + i % 7)}));
    }
    EXPECT_EQ(t.apply(del).applied, 256u);
    EXPECT_EQ(t.apply(add).applied, 256u);
  }
  EXPECT_EQ(t.size(), 256u);
  EXPECT_EQ(t.nve_count(), 7u);
}

// A reader looks routes up with the same bulk call as the workers while the
// writer churns hundreds of thousands of changes. Every entry the reader sees
// must be whole and belong to the key it looked up: entries carry the key's
// address in the VM MAC (local) or map it to a known NVE (tunnel), and freed
// entries are poisoned (kind 0), so a use after free or a torn entry fails;
// keys that are only ever changed, never removed, must never be missed.
TEST(RouteTable, ConcurrentReaderNeverSeesFreedOrTornEntries) {
  Qsbr q(1);
  RouteTableConfig cfg;
  cfg.name = "t_conc";
  cfg.capacity = 4096;
  cfg.max_nves = 64;
  cfg.workers = 1;
  RouteTable t(cfg, q.v);
  t.set_fabric(fabric());
  constexpr uint32_t kKeys = 2048, kStable = 256;
  auto nve_for = [](uint32_t i, uint32_t gen) { return v4(0xc6336400 + (i + gen) % 32); };
  // Stable keys are changed all the time but never removed: a reader must
  // never miss them, whatever else is inserted or deleted around them.
  for (uint32_t i = kKeys; i < kKeys + kStable; i++)
    ASSERT_EQ(t.apply(std::vector<RouteChange>{upsert(0, v4(0x0a000000 + i), TunnelToNve{nve_for(i, 0)})}).applied, 1u);

  std::atomic<bool> stop{false}, reader_started{false};
  std::atomic<uint64_t> lookups{0}, hits{0}, bad{0}, stable_missed{0};
  const RouteTableView view = t.view();
  std::thread reader([&] {
    rte_rcu_qsbr_thread_register(q.v, 0);
    rte_rcu_qsbr_thread_online(q.v, 0);
    RouteKey keys[32];
    uint32_t hashes[32];
    const RouteEntry *found[32];
    uint32_t next = 0;
    while (!stop.load(std::memory_order_acquire)) {
      // 28 churned keys and 4 stable ones per burst.
      for (int i = 0; i < 32; i++) {
        const IpAddress a = i < 28 ? v4(0x0a000000 + (next++ % kKeys)) : v4(0x0a000000 + kKeys + next % kStable);
        make_key_v4(keys[i], 0, a.bytes.data());
        hashes[i] = route_key_hash(keys[i]);
      }
      const uint64_t mask = route_lookup_bulk(view.hash, keys, hashes, 32, found);
      for (int i = 0; i < 32; i++) {
        if (!(mask & (1ull << i))) {
          if (i >= 28) stable_missed++;
          continue;
        }
        hits.fetch_add(1, std::memory_order_relaxed);
        const RouteEntry *e = found[i];
        if (std::memcmp(&e->key, &keys[i], sizeof(RouteKey)) != 0) bad++;
        if (e->kind == kRouteLocal) {
          if (std::memcmp(e->vm_mac, keys[i].addr, 4) != 0) bad++;
        } else if (e->kind == kRouteTunnel) {
          const TunnelTemplate *tt = view.nves[e->nve_idx & view.nve_mask].load(std::memory_order_acquire);
          // The outer destination must be one of the 32 NVEs this test uses.
          if (!tt || tt->hdr[14 + 16] != 198 || tt->hdr[14 + 17] != 51 || tt->hdr[14 + 18] != 100 ||
              tt->hdr[14 + 19] >= 32)
            bad++;
        } else {
          bad++;
        }
      }
      lookups.fetch_add(32, std::memory_order_relaxed);
      reader_started.store(true, std::memory_order_release);
      rcu_quiescent(q.v, 0);
    }
    rte_rcu_qsbr_thread_offline(q.v, 0);
    rte_rcu_qsbr_thread_unregister(q.v, 0);
  });

  // Start latch: the churn begins only once the reader is looking up, and
  // the lookups counted between the churn's start and end prove the two
  // overlapped (a reader that ran only before or after would prove nothing).
  while (!reader_started.load(std::memory_order_acquire)) std::this_thread::yield();
  const uint64_t lookups_before_churn = lookups.load(std::memory_order_relaxed);
  uint64_t changes = 0;
  for (uint32_t gen = 0; changes < 300000; gen++) {
    std::vector<RouteChange> b;
    for (uint32_t i = kKeys + gen % 7; i < kKeys + kStable; i += 7)
      b.push_back(upsert(0, v4(0x0a000000 + i), TunnelToNve{nve_for(i, gen)}));
    for (uint32_t i = gen % 3; i < kKeys; i += 3) {
      const IpAddress a = v4(0x0a000000 + i);
      switch ((i + gen) % 4) {
        case 0: b.push_back(remove(0, a)); break;
        case 1: {
          MacAddress mac{};
          std::memcpy(mac.data(), a.bytes.data(), 4);
          mac[4] = static_cast<uint8_t>(gen);
          b.push_back(upsert(0, a, DeliverLocal{1, mac, 0}));
          break;
        }
        default: b.push_back(upsert(0, a, TunnelToNve{nve_for(i, gen)}));
      }
    }
    changes += b.size();
    t.apply(b);  // removing an absent key is a counted error, not a problem
    t.reclaim();
  }
  const uint64_t lookups_during_churn = lookups.load(std::memory_order_relaxed) - lookups_before_churn;
  stop.store(true, std::memory_order_release);
  reader.join();
  EXPECT_GT(lookups_during_churn, 0u) << "the reader never ran while the table changed";
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_EQ(stable_missed.load(), 0u);
  EXPECT_GT(lookups.load(), 0u);
  EXPECT_GT(hits.load(), 0u);
  std::printf("concurrency: %llu changes, %llu lookups (%llu during the churn), %llu hits\n",
              (unsigned long long)changes, (unsigned long long)lookups.load(),
              (unsigned long long)lookups_during_churn, (unsigned long long)hits.load());
}
