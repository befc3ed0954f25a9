// RouteHash on its own, with hashes chosen by the test so that buckets fill,
// overflow chains form and signatures collide: the cases random keys rarely
// reach. The route table tests cover it with real keys and a concurrent reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "dataplane/route_hash.h"

using namespace nvmove::dp;

namespace {

struct Fixture {
  std::vector<RouteEntry> entries;
  RouteHash hash;
  explicit Fixture(uint32_t capacity) : entries(capacity + 8), hash(capacity, entries.data(), -1) {
    for (uint32_t i = 0; i < entries.size(); i++) {
      make_key_v4(entries[i].key, 7, &i);  // distinct keys
      entries[i].kind = kRouteLocal;
    }
  }
  // Every entry's hash is chosen, not computed: `same` puts them all in one bucket.
  static uint32_t forced_hash(uint32_t i, bool same) { return same ? 0x80000000u : i * 2654435761u; }
};

}  // namespace

TEST(RouteHash, OneBucketOverflowsIntoAChainAndEveryKeyStaysReachable) {
  constexpr uint32_t kKeys = 40;  // 6 buckets' worth, all in one main bucket
  Fixture f(kKeys);
  for (uint32_t i = 0; i < kKeys; i++) ASSERT_TRUE(f.hash.insert(Fixture::forced_hash(i, true), i));
  EXPECT_EQ(f.hash.overflow_buckets_used(), 5u);
  const RouteHashView v = f.hash.view();
  for (uint32_t i = 0; i < kKeys; i++) {
    const RouteHash::Slot s = f.hash.find(f.entries[i].key, Fixture::forced_hash(i, true));
    ASSERT_TRUE(s) << i;
    EXPECT_EQ(f.hash.entry_at(s), i);
    EXPECT_EQ(route_lookup_one(v, f.entries[i].key, Fixture::forced_hash(i, true)), &f.entries[i]);
  }
  // The bulk path: every key shares one signature, so every lookup has many
  // candidates and a chain to follow.
  RouteKey keys[kKeys + 1];
  uint32_t hashes[kKeys + 1];
  const RouteEntry *out[kKeys + 1];
  for (uint32_t i = 0; i < kKeys; i++) {
    keys[i] = f.entries[i].key;
    hashes[i] = Fixture::forced_hash(i, true);
  }
  make_key_v4(keys[kKeys], 8, &hashes[0]);  // absent: other VN
  hashes[kKeys] = Fixture::forced_hash(0, true);
  const uint64_t hits = route_lookup_bulk(v, keys, hashes, kKeys + 1, out);
  EXPECT_EQ(hits, (uint64_t{1} << kKeys) - 1);
  for (uint32_t i = 0; i < kKeys; i++) EXPECT_EQ(out[i], &f.entries[i]);
  EXPECT_EQ(out[kKeys], nullptr);
}

TEST(RouteHash, EraseFreesTheSlotForTheNextInsertWithoutGrowingTheChain) {
  constexpr uint32_t kKeys = 14;  // exactly two buckets
  Fixture f(kKeys);
  for (uint32_t i = 0; i < kKeys; i++) ASSERT_TRUE(f.hash.insert(Fixture::forced_hash(i, true), i));
  EXPECT_EQ(f.hash.overflow_buckets_used(), 1u);
  const RouteHash::Slot s3 = f.hash.find(f.entries[3].key, Fixture::forced_hash(3, true));
  ASSERT_TRUE(s3);
  f.hash.erase(s3);
  EXPECT_FALSE(f.hash.find(f.entries[3].key, Fixture::forced_hash(3, true)));
  EXPECT_EQ(route_lookup_one(f.hash.view(), f.entries[3].key, Fixture::forced_hash(3, true)), nullptr);
  ASSERT_TRUE(f.hash.insert(Fixture::forced_hash(kKeys, true), kKeys));
  EXPECT_EQ(f.hash.overflow_buckets_used(), 1u);  // reused the freed slot
  uint32_t seen = 0;
  f.hash.for_each([&](uint32_t idx) {
    EXPECT_NE(idx, 3u);
    seen++;
  });
  EXPECT_EQ(seen, kKeys);
}

// Issue 13: the walk that `show routes` uses skipped main bucket 0 (its
// number is also the "no overflow bucket" marker). Keys in bucket 0, in its
// overflow chain, and in the last main bucket must all be listed.
TEST(RouteHash, ForEachListsEveryBucketIncludingBucketZeroAndItsChain) {
  constexpr uint32_t kKeys = 30;
  Fixture f(kKeys);
  // Hash 0..small lands in main bucket 0; 20 keys there make a chain.
  for (uint32_t i = 0; i < 20; i++) ASSERT_TRUE(f.hash.insert(i, i));
  ASSERT_EQ(route_bucket_of(0, f.hash.view().n_main), 0u);
  ASSERT_GT(f.hash.overflow_buckets_used(), 0u);
  for (uint32_t i = 20; i < kKeys; i++) ASSERT_TRUE(f.hash.insert(0xffffffffu - i, i));  // last bucket
  std::vector<uint32_t> seen;
  f.hash.for_each([&](uint32_t idx) { seen.push_back(idx); });
  std::sort(seen.begin(), seen.end());
  ASSERT_EQ(seen.size(), kKeys);
  for (uint32_t i = 0; i < kKeys; i++) EXPECT_EQ(seen[i], i);
}

// Issue 13: show routes comes in pages so that nved's control thread runs
// between them. Pages of any size from bucket 0 to the end list every key
// exactly once, bucket 0's chain and the last bucket included, and each page
// holds at least the keys asked for unless it is the last.
TEST(RouteHash, PagesListEveryKeyOnceWhateverTheirSize) {
  constexpr uint32_t kKeys = 300;
  Fixture f(kKeys);
  for (uint32_t i = 0; i < 20; i++) ASSERT_TRUE(f.hash.insert(i, i));  // bucket 0 and its chain
  for (uint32_t i = 20; i < 40; i++) ASSERT_TRUE(f.hash.insert(0xffffffffu - i, i));  // the last bucket
  for (uint32_t i = 40; i < kKeys; i++) ASSERT_TRUE(f.hash.insert(Fixture::forced_hash(i, false), i));
  for (size_t page : {size_t{1}, size_t{7}, size_t{50}, size_t{1000}}) {
    SCOPED_TRACE(page);
    std::vector<uint32_t> seen;
    uint32_t b = 0;
    size_t pages = 0;
    while (b < f.hash.n_main()) {
      const size_t before = seen.size();
      b = f.hash.for_each_from(b, page, [&](uint32_t idx) { seen.push_back(idx); });
      if (b < f.hash.n_main()) EXPECT_GE(seen.size() - before, page);
      pages++;
    }
    std::sort(seen.begin(), seen.end());
    ASSERT_EQ(seen.size(), kKeys);
    for (uint32_t i = 0; i < kKeys; i++) EXPECT_EQ(seen[i], i);
    if (page == 1000) EXPECT_EQ(pages, 1u);
  }
}

TEST(RouteHash, ReplaceRepointsTheKey) {
  Fixture f(16);
  ASSERT_TRUE(f.hash.insert(Fixture::forced_hash(1, false), 1));
  const RouteHash::Slot s = f.hash.find(f.entries[1].key, Fixture::forced_hash(1, false));
  ASSERT_TRUE(s);
  f.entries[9].key = f.entries[1].key;  // the new entry carries the same key
  f.hash.replace(s, 9);
  EXPECT_EQ(route_lookup_one(f.hash.view(), f.entries[1].key, Fixture::forced_hash(1, false)), &f.entries[9]);
}

TEST(RouteHash, CapacityKeysFitEvenAllInOneChain) {
  constexpr uint32_t kCap = 1000;
  Fixture f(kCap);
  for (uint32_t i = 0; i < kCap; i++) ASSERT_TRUE(f.hash.insert(Fixture::forced_hash(i, true), i)) << i;
  for (uint32_t i = 0; i < kCap; i += 97)
    EXPECT_TRUE(f.hash.find(f.entries[i].key, Fixture::forced_hash(i, true))) << i;
}

TEST(RouteHash, SpreadKeysRarelyOverflow) {
  constexpr uint32_t kCap = 100000;
  Fixture f(kCap);
  for (uint32_t i = 0; i < kCap; i++) ASSERT_TRUE(f.hash.insert(route_key_hash(f.entries[i].key), i));
  // About 4 keys per 7-slot bucket: a few percent of buckets overflow.
  EXPECT_LT(f.hash.overflow_buckets_used(), kCap / 4 / 10);
  for (uint32_t i = 0; i < kCap; i++) ASSERT_TRUE(f.hash.find(f.entries[i].key, route_key_hash(f.entries[i].key)));
}

// The hash is CRC32C, which is linear: how keys spread over the buckets
// depends on which bits differ between them. The address plans a data centre
// uses (sequential VM addresses, one per /24 or per /64, strided) must spread
// at least about as well as uniformly random hashes, which at a full table
// (4 keys per 7-slot bucket) leave about 2.1% of keys in overflow buckets
// (CRC'ing the IPv4 address as a zero-extended 64-bit word left 6.3% of
// sequential addresses there).
namespace {

struct Spread {
  double overflow_share;  // keys beyond a bucket's 7 slots
  uint32_t max_per_bucket;
};

template <typename MakeKey>
Spread spread_of(uint32_t n, MakeKey make_key) {
  const uint32_t n_main = (n + 3) / 4;  // RouteHash's sizing at capacity n
  std::vector<uint16_t> count(n_main, 0);
  RouteKey k;
  for (uint32_t i = 0; i < n; i++) {
    make_key(k, i);
    count[route_bucket_of(route_key_hash(k), n_main)]++;
  }
  uint64_t over = 0;
  uint32_t most = 0;
  for (uint16_t c : count) {
    if (c > kRouteBucketSlots) over += c - kRouteBucketSlots;
    most = std::max<uint32_t>(most, c);
  }
  return {double(over) / n, most};
}

void v4(RouteKey &k, uint32_t host_order) {
  const uint32_t a = __builtin_bswap32(host_order);
  make_key_v4(k, 1, &a);
}

void v6(RouteKey &k, uint32_t at, uint32_t value, uint8_t last) {
  uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
  for (int b = 0; b < 4; b++) a[at + b] = static_cast<uint8_t>(value >> (24 - 8 * b));
  a[15] |= last;
  make_key_v6(k, 1, a);
}

}  // namespace

TEST(RouteHash, CommonAddressPlansSpreadOverTheBuckets) {
  constexpr uint32_t kN = 1'000'000;
  const struct {
    const char *plan;
    Spread s;
  } plans[] = {
      {"IPv4 10.0.0.0 + i", spread_of(kN, [](RouteKey &k, uint32_t i) { v4(k, 0x0a000000u + i); })},
      {"IPv4 one per /24 (10.x.y.1)", spread_of(kN, [](RouteKey &k, uint32_t i) { v4(k, 0x0a000001u + (i << 8)); })},
      {"IPv4 every 7th", spread_of(kN, [](RouteKey &k, uint32_t i) { v4(k, 0x0a000000u + 7 * i); })},
      {"IPv6 2001:db8::i", spread_of(kN, [](RouteKey &k, uint32_t i) { v6(k, 12, i, 0); })},
      {"IPv6 one per /64 (2001:db8:i::1)", spread_of(kN, [](RouteKey &k, uint32_t i) { v6(k, 4, i, 1); })},
      {"IPv6 every 7th", spread_of(kN, [](RouteKey &k, uint32_t i) { v6(k, 12, 7 * i, 0); })},
  };
  for (const auto &p : plans) {
    EXPECT_LT(p.s.overflow_share, 0.025) << p.plan;
    EXPECT_LE(p.s.max_per_bucket, 20u) << p.plan;
    std::printf("  %-34s %.2f%% of keys in overflow buckets, at most %u in one bucket\n", p.plan,
                100 * p.s.overflow_share, p.s.max_per_bucket);
  }
}
