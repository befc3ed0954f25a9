// Packets received as chains of mbufs (RX scatter, a driver that chains a
// frame larger than one mbuf) take every path a one-segment packet takes and
// leave with the same bytes and the same counters: encapsulation (IPv4 and
// IPv6 outer), decapsulation, local delivery, ICMP errors whose quote crosses
// segments, fragmentation of a chained packet, echo replies, Neighbour
// Discovery, and jumbo frames in 2 KiB segments. The reference is the same
// frame in one mbuf, whose bytes the golden table and the traffic scenarios
// check against scapy.
#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/burst_pipeline.h"
#include "dataplane/mbuf_chain.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {

using testbed::hex;

std::vector<uint8_t> bytes_of(const char *text) {
  const IpAddress a = testbed::addr(text);
  return {a.bytes.begin(), a.bytes.begin() + (a.family == kFamilyV4 ? 4 : 16)};
}

std::vector<uint8_t> ethernet(const MacAddress &dst, uint16_t ethertype) {
  std::vector<uint8_t> f(dst.begin(), dst.end());
  const uint8_t src[6] = {2, 0, 0, 0, 0x99, 0x99};
  f.insert(f.end(), src, src + 6);
  f.push_back(static_cast<uint8_t>(ethertype >> 8));
  f.push_back(static_cast<uint8_t>(ethertype));
  return f;
}

// An IPv4 header (checksum set) followed by `payload`.
std::vector<uint8_t> ipv4(const char *src, const char *dst, uint8_t proto, const std::vector<uint8_t> &payload,
                          uint8_t ttl = 64, bool df = true) {
  std::vector<uint8_t> p(20, 0);
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(p.data());
  ip->version_ihl = 0x45;
  ip->total_length = rte_cpu_to_be_16(static_cast<uint16_t>(20 + payload.size()));
  ip->packet_id = rte_cpu_to_be_16(0x1234);
  ip->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  ip->time_to_live = ttl;
  ip->next_proto_id = proto;
  std::memcpy(&ip->src_addr, bytes_of(src).data(), 4);
  std::memcpy(&ip->dst_addr, bytes_of(dst).data(), 4);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

std::vector<uint8_t> ipv6(const char *src, const char *dst, uint8_t proto, const std::vector<uint8_t> &payload,
                          uint8_t hop = 64) {
  std::vector<uint8_t> p(40, 0);
  auto *ip6 = reinterpret_cast<rte_ipv6_hdr *>(p.data());
  ip6->vtc_flow = rte_cpu_to_be_32(6u << 28);
  ip6->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(payload.size()));
  ip6->proto = proto;
  ip6->hop_limits = hop;
  std::memcpy(ip6->src_addr, bytes_of(src).data(), 16);
  std::memcpy(ip6->dst_addr, bytes_of(dst).data(), 16);
  p.insert(p.end(), payload.begin(), payload.end());
  // ICMPv6 needs its checksum (ND is checked); the data plane reads no other.
  if (proto == IPPROTO_ICMPV6) {
    auto *h = reinterpret_cast<rte_ipv6_hdr *>(p.data());
    p[42] = p[43] = 0;
    const uint16_t ck = rte_ipv6_udptcp_cksum(h, p.data() + 40);
    std::memcpy(p.data() + 42, &ck, 2);
  }
  return p;
}

// A UDP datagram of `size` bytes (ports 4000 -> 5000), payload counting up.
std::vector<uint8_t> udp(size_t size) {
  std::vector<uint8_t> u(size);
  u[0] = 0x0f, u[1] = 0xa0, u[2] = 0x13, u[3] = 0x88;
  u[4] = static_cast<uint8_t>(size >> 8), u[5] = static_cast<uint8_t>(size);
  for (size_t i = 8; i < size; i++) u[i] = static_cast<uint8_t>(i * 7);
  return u;
}

std::vector<uint8_t> echo_request(uint8_t type, size_t size) {
  std::vector<uint8_t> e(size, 0x42);
  e[0] = type;
  e[1] = e[2] = e[3] = 0;
  if (type == 8) {  // ICMPv4: checksum over the message
    const uint16_t ck = static_cast<uint16_t>(~rte_raw_cksum(e.data(), e.size()));
    std::memcpy(e.data() + 2, &ck, 2);
  }
  return e;
}

std::vector<uint8_t> frame(const MacAddress &dst, const std::vector<uint8_t> &l3) {
  std::vector<uint8_t> f = ethernet(dst, (l3[0] >> 4) == 4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
  f.insert(f.end(), l3.begin(), l3.end());
  return f;
}

struct Case {
  const char *what;
  uint16_t port;
  std::vector<uint8_t> frame;
  uint16_t tunnel_mtu = 1500;
};

// What one packet made: each port's frames (hex) and every counter.
struct Outcome {
  std::vector<std::string> out[3];
  std::vector<uint64_t> counters;
};

class ChainedMbufTest : public ::testing::Test {
 protected:
  void SetUp() override { tb_ = std::make_unique<testbed::Fixture>(std::to_string(reinterpret_cast<uintptr_t>(this))); }
  void TearDown() override {
    tb_->drain_outputs();
    EXPECT_EQ(tb_->in_use(), 0u) << "an mbuf leaked";
    tb_.reset();
  }

  WorkerContext &ctx() { return tb_->ctx(); }

  // Runs one packet from a fixed worker state (the outer IPv4 ID counter).
  Outcome run(uint16_t port, rte_mbuf *m) {
    ctx().counters.clear();
    ctx().next_ip_id = 100;
    process_burst(ctx(), port, &m, 1);
    Outcome o;
    for (uint16_t p = 0; p < 3; p++) {
      const OutQueue &q = ctx().out[p];
      for (uint16_t i = 0; i < q.n; i++) {
        const char *why = nullptr;
        EXPECT_EQ(rte_mbuf_check(q.pkts[i], 1, &why), 0) << "port " << p << ": " << (why ? why : "");
        std::vector<uint8_t> buf(rte_pktmbuf_pkt_len(q.pkts[i]));
        const auto *b = static_cast<const uint8_t *>(
            rte_pktmbuf_read(q.pkts[i], 0, static_cast<uint32_t>(buf.size()), buf.data()));
        o.out[p].push_back(hex(b, buf.size()));
      }
    }
    for (size_t c = 0; c < kCounterCount; c++) o.counters.push_back(ctx().counters.get(static_cast<Counter>(c)));
    tb_->drain_outputs();
    return o;
  }

  // The frame in one mbuf and as a chain of (first, rest)-byte segments: the
  // same outputs, byte for byte, and the same counters.
  void expect_same_as_one_segment(const Case &c, size_t first, size_t rest) {
    SCOPED_TRACE(std::string(c.what) + ", segments " + std::to_string(first) + "+" + std::to_string(rest) + "...");
    tb_->settings().tunnel_mtu = c.tunnel_mtu;
    const Outcome one = run(c.port, tb_->mbuf(c.frame.data(), c.frame.size()));
    rte_mbuf *m = tb_->chain(c.frame.data(), c.frame.size(), first, rest);
    ASSERT_GT(m->nb_segs, 1) << "the case must be a chain";
    const Outcome chained = run(c.port, m);
    size_t produced = 0;
    for (uint16_t p = 0; p < 3; p++) {
      EXPECT_EQ(chained.out[p], one.out[p]) << "port " << p;
      produced += one.out[p].size();
    }
    EXPECT_GT(produced, 0u) << "the case must produce a packet";
    for (size_t k = 0; k < kCounterCount; k++)
      EXPECT_EQ(chained.counters[k], one.counters[k]) << kCounterInfo[k].name;
  }

  std::unique_ptr<testbed::Fixture> tb_;
};

std::vector<Case> cases() {
  using testbed::kAccessMac;
  using testbed::kFabricMac;
  std::vector<Case> v;
  v.push_back({"IPv4 to a moved VM, IPv4 outer", 1, frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(1380)))});
  v.push_back({"IPv6 to a moved VM, IPv6 outer", 1, frame(kAccessMac, ipv6("fd00::5", "fd00::10", 17, udp(1360)))});
  v.push_back({"IPv4 from the fabric to a local VM", 0, frame(kFabricMac, ipv4("10.7.0.1", "10.0.0.5", 17, udp(1380)))});
  v.push_back({"IPv4-in-IPv4 decapsulated to a local VM", 0,
               frame(kFabricMac, ipv4("198.51.100.2", "192.0.2.1", IPPROTO_IPIP,
                                      ipv4("10.7.0.1", "10.0.0.5", 17, udp(1300))))});
  v.push_back({"IPv6-in-IPv6 decapsulated to a local VM", 0,
               frame(kFabricMac, ipv6("2001:db8::2", "2001:db8::1", IPPROTO_IPV6,
                                      ipv6("fd00::7", "fd00::5", 17, udp(1300))))});
  v.push_back({"IPv4 TTL 1: Time Exceeded", 1, frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(1380), 1))});
  v.push_back({"IPv6 hop limit 1: Time Exceeded quoting 1232 bytes across segments", 1,
               frame(kAccessMac, ipv6("fd00::5", "fd00::10", 17, udp(1360), 1))});
  v.push_back({"IPv4 with DF over the tunnel MTU: Fragmentation Needed", 1,
               frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(1380))), 1000});
  v.push_back({"IPv4 without DF over the tunnel MTU: fragmented, each fragment encapsulated", 1,
               frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(1380), 64, false)), 600});
  v.push_back({"IPv6 over the tunnel MTU: Packet Too Big", 1,
               frame(kAccessMac, ipv6("fd00::5", "fd00::10", 17, udp(1360))), 1320});
  v.push_back({"echo request to this NVE (IPv4)", 0, frame(kFabricMac, ipv4("10.7.0.1", "192.0.2.1", 1, echo_request(8, 1380)))});
  v.push_back({"echo request to this NVE (IPv6)", 0,
               frame(kFabricMac, ipv6("2001:db8::7", "2001:db8::1", IPPROTO_ICMPV6, echo_request(128, 1360)))});
  // A Neighbour Solicitation for our address made long by a nonce option
  // (RFC 3971: 8-byte units) of 30 units: 264 bytes of ICMPv6.
  std::vector<uint8_t> ns(24 + 8 + 240, 0);
  ns[0] = 135;
  const auto target = bytes_of("2001:db8::1");
  std::memcpy(ns.data() + 8, target.data(), 16);
  ns[24] = 1, ns[25] = 1, ns[26] = 2, ns[31] = 7;  // source link-layer address
  ns[32] = 14, ns[33] = 30;                        // nonce
  v.push_back({"long Neighbour Solicitation for this NVE", 0, frame(kFabricMac, ipv6("2001:db8::7", "2001:db8::1", IPPROTO_ICMPV6, ns, 255))});
  return v;
}

}  // namespace

TEST_F(ChainedMbufTest, EveryPathGivesWhatOneSegmentGives) {
  for (const Case &c : cases()) {
    expect_same_as_one_segment(c, kChainHeadBytes, 512);
    if (c.frame.size() > 1000) expect_same_as_one_segment(c, 1000, 100);
  }
}

// 9000-byte IP packets in 2 KiB segments (RX scatter on a NIC) against the
// same frame in one large mbuf: encapsulation into a jumbo tunnel, IPv6 too,
// decapsulation of a jumbo outer packet, fragmentation into a 1500 tunnel,
// Fragmentation Needed.
TEST_F(ChainedMbufTest, JumboFramesInTwoKilobyteSegments) {
  using testbed::kAccessMac;
  using testbed::kFabricMac;
  const std::vector<Case> jumbo = {
      {"jumbo IPv4 encapsulated", 1, frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(8980))), 9000},
      {"jumbo IPv6 encapsulated", 1, frame(kAccessMac, ipv6("fd00::5", "fd00::10", 17, udp(8920))), 9000},
      {"jumbo IPv4-in-IPv4 decapsulated", 0,
       frame(kFabricMac, ipv4("198.51.100.2", "192.0.2.1", IPPROTO_IPIP, ipv4("10.7.0.1", "10.0.0.5", 17, udp(8960)))),
       9000},
      {"jumbo IPv4 fragmented into a 1500 tunnel", 1,
       frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(8980), 64, false)), 1500},
      {"jumbo IPv4 with DF into a 1500 tunnel", 1, frame(kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(8980))), 1500},
  };
  for (const Case &c : jumbo) expect_same_as_one_segment(c, 2048, 2048);
}

// A chain whose first segment ends inside the headers is not parsed across
// segments: dropped on its counter, nothing read past the segment.
TEST_F(ChainedMbufTest, HeadersBeyondTheFirstSegmentAreDropped) {
  const auto f = frame(testbed::kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(1380)));
  const Outcome o = run(1, tb_->chain(f.data(), f.size(), 40, 512));
  EXPECT_EQ(o.counters[static_cast<size_t>(Counter::drop_multisegment)], 1u);
  for (const auto &p : o.out) EXPECT_TRUE(p.empty());
}

// A port whose driver sends only one segment gets a copy; one too large for
// any mbuf at hand is dropped on its counter, never sent cut.
TEST_F(ChainedMbufTest, APortWithoutChainsGetsACopyOrACountedDrop) {
  const auto f = frame(testbed::kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(1380)));
  const Outcome one = run(1, tb_->mbuf(f.data(), f.size()));
  tb_->settings().ports[0].tx_multi_seg = false;
  rte_mbuf *m = tb_->chain(f.data(), f.size(), kChainHeadBytes, 512);
  ctx().counters.clear();
  ctx().next_ip_id = 100;
  process_burst(ctx(), 1, &m, 1);
  ASSERT_EQ(ctx().out[0].n, 1);
  EXPECT_EQ(ctx().out[0].pkts[0]->nb_segs, 1);
  EXPECT_EQ(ctx().counters.get(Counter::tx_linearized), 1u);
  std::vector<uint8_t> buf(rte_pktmbuf_pkt_len(ctx().out[0].pkts[0]));
  std::memcpy(buf.data(), rte_pktmbuf_mtod(ctx().out[0].pkts[0], uint8_t *), buf.size());
  EXPECT_EQ(hex(buf.data(), buf.size()), one.out[0].at(0));
  tb_->drain_outputs();

  // 9000 bytes in 2 KiB mbufs with no large pool (tx_linear_pool unset): the
  // head's pool is too small, so is the payload's.
  tb_->settings().tunnel_mtu = 9000;
  const auto j = frame(testbed::kAccessMac, ipv4("10.0.0.5", "10.0.0.9", 17, udp(8960)));  // fits the tunnel
  m = tb_->chain(j.data(), j.size(), 2048, 2048);
  const Outcome dropped = run(1, m);
  EXPECT_EQ(dropped.counters[static_cast<size_t>(Counter::drop_tx_multisegment)], 1u);
  EXPECT_TRUE(dropped.out[0].empty());

  // With a pool of large mbufs (what nved creates for such a port with
  // rx_scatter): one segment, the bytes one large mbuf would have given.
  tb_->settings().ports[0].tx_multi_seg = true;
  const Outcome whole = run(1, tb_->mbuf(j.data(), j.size()));
  tb_->settings().ports[0].tx_multi_seg = false;
  ctx().tx_linear_pool = tb_->large_pool();
  m = tb_->chain(j.data(), j.size(), 2048, 2048);
  ctx().counters.clear();
  ctx().next_ip_id = 100;
  process_burst(ctx(), 1, &m, 1);
  ASSERT_EQ(ctx().out[0].n, 1);
  EXPECT_EQ(ctx().out[0].pkts[0]->nb_segs, 1);
  EXPECT_EQ(ctx().out[0].pkts[0]->pool, tb_->large_pool());
  EXPECT_EQ(ctx().counters.get(Counter::tx_linearized), 1u);
  std::vector<uint8_t> big(rte_pktmbuf_pkt_len(ctx().out[0].pkts[0]));
  std::memcpy(big.data(), rte_pktmbuf_mtod(ctx().out[0].pkts[0], uint8_t *), big.size());
  EXPECT_EQ(hex(big.data(), big.size()), whole.out[0].at(0));
  ctx().tx_linear_pool = nullptr;
}

// trim_chain / set_frame: the segments past the new end are freed, the
// counts follow.
TEST_F(ChainedMbufTest, TrimmingFreesTheSegmentsPastTheEnd) {
  std::vector<uint8_t> f(1000, 0x11);
  rte_mbuf *m = tb_->chain(f.data(), f.size(), 300, 300);  // 300 + 300 + 300 + 100
  ASSERT_EQ(m->nb_segs, 4);
  set_frame(m, rte_pktmbuf_mtod(m, uint8_t *) + 14, 500);  // 286 + 214
  EXPECT_EQ(m->nb_segs, 2);
  EXPECT_EQ(m->pkt_len, 500u);
  EXPECT_EQ(m->data_len, 286);
  EXPECT_EQ(m->next->data_len, 214);
  EXPECT_EQ(m->next->next, nullptr);
  set_frame(m, rte_pktmbuf_mtod(m, uint8_t *) - 20, 100);  // room for a header, then short
  EXPECT_EQ(m->nb_segs, 1);
  EXPECT_EQ(m->data_len, 100);
  EXPECT_EQ(m->next, nullptr);
  rte_pktmbuf_free(m);
}
