// The fast path's IPv4 checksum shortcuts against DPDK's generic one's
// complement sum (rte_raw_cksum), on many random headers and the edge cases.
#include <gtest/gtest.h>
#include <rte_ip.h>

#include <cstring>
#include <random>

#include "dataplane/checksum.h"
#include "dataplane/ip_validate.h"

using namespace nvmove::dp;

namespace {

bool reference_ok(const uint8_t *h) { return rte_raw_cksum(h, 20) == 0xffff; }

// Over 20 bytes whatever the (random) IHL says.
void set_checksum(uint8_t *h) {
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(h);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = static_cast<uint16_t>(~rte_raw_cksum(h, 20));
}

}  // namespace

TEST(Ipv4HeaderChecksum, AgreesWithTheGenericSumOnRandomHeaders) {
  std::mt19937_64 rng(1);
  uint8_t h[20];
  unsigned good = 0;
  for (int i = 0; i < 1'000'000; i++) {
    for (auto &b : h) b = static_cast<uint8_t>(rng());
    if (i % 2) set_checksum(h);  // half of them right, the rest almost always wrong
    ASSERT_EQ(ipv4_header_checksum_ok(h, 20), reference_ok(h)) << "header " << i;
    good += reference_ok(h);
  }
  EXPECT_GE(good, 500'000u);
}

TEST(Ipv4HeaderChecksum, EdgeCases) {
  uint8_t h[20] = {};
  // All zero: the sum is +0, not -0 (0xffff): wrong.
  EXPECT_FALSE(ipv4_header_checksum_ok(h, 20));
  EXPECT_EQ(ipv4_header_checksum_ok(h, 20), reference_ok(h));
  // All ones: every word is -0, the sum is -0: right by the arithmetic.
  std::memset(h, 0xff, sizeof h);
  EXPECT_EQ(ipv4_header_checksum_ok(h, 20), reference_ok(h));
  // The largest 32-bit words: the 64-bit sum carries past 32 bits.
  const uint8_t big[20] = {0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
  EXPECT_EQ(ipv4_header_checksum_ok(big, 20), reference_ok(big));
  // A real header, then each single-bit corruption of it.
  const uint8_t real[20] = {0x45, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0x00, 0x00, 0xcb, 0x00, 0x71, 0x07, 0x0a, 0x00, 0x00, 0x01};
  std::memcpy(h, real, 20);
  set_checksum(h);
  EXPECT_TRUE(ipv4_header_checksum_ok(h, 20));
  for (int bit = 0; bit < 160; bit++) {
    uint8_t c[20];
    std::memcpy(c, h, 20);
    c[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(ipv4_header_checksum_ok(c, 20)) << "bit " << bit;
  }
}

TEST(Ipv4HeaderChecksum, OptionsTakeTheGenericSum) {
  uint8_t h[24] = {0x46, 0, 0, 24, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 1, 1, 1, 0};
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(h);
  ip->hdr_checksum = static_cast<uint16_t>(~rte_raw_cksum(h, 24));
  EXPECT_TRUE(ipv4_header_checksum_ok(h, 24));
  h[21] ^= 1;
  EXPECT_FALSE(ipv4_header_checksum_ok(h, 24));
}

TEST(Ipv4DecTtl, MatchesARecomputedChecksum) {
  std::mt19937_64 rng(2);
  uint8_t h[20];
  for (int i = 0; i < 100'000; i++) {
    for (auto &b : h) b = static_cast<uint8_t>(rng());
    auto *ip = reinterpret_cast<rte_ipv4_hdr *>(h);
    if (ip->time_to_live == 0) ip->time_to_live = 1;
    set_checksum(h);
    ipv4_dec_ttl(ip);
    ASSERT_TRUE(reference_ok(h)) << "header " << i;
  }
}
