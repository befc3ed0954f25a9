// The burst pipeline on prebuilt packets, no ports: golden bytes for each
// encapsulation and decapsulation, TTL expiry, MTU handling and ARP. The
// golden packets were built with scapy (the expected side is an independent
// model, not nved's output).
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/burst_pipeline.h"
#include "dataplane/control_queue.h"
#include "dataplane/packet_trace.h"
#include "dataplane/route_table.h"
#include "tests/support/dataplane_testbed.h"
#include "tests/support/golden_packets.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {

using testbed::hex;
using testbed::addr;
using testbed::kDecapIn;
using testbed::kV4In;
using testbed::unhex;
using testbed::kAccessMac;
using testbed::kFabricMac;
using testbed::kGwMac;
using testbed::kVmMac;
using testbed::kVn5VmMac;

// One worker on the shared test bed (tests/support/dataplane_testbed.h).
class ForwardTest : public ::testing::Test {
 protected:
  void SetUp() override { tb_ = std::make_unique<testbed::Fixture>(std::to_string(reinterpret_cast<uintptr_t>(this))); }
  void TearDown() override { tb_.reset(); }

  void drain_outputs() { tb_->drain_outputs(); }

  rte_mbuf *mbuf(const std::vector<uint8_t> &bytes) { return tb_->mbuf(bytes.data(), bytes.size()); }

  // Sends one packet in on `port`; what left on each port stays in the
  // worker's output stage (out_hex).
  void send(uint16_t port, const std::string &hexframe) {
    rte_mbuf *m = mbuf(unhex(hexframe));
    process_burst(ctx(), port, &m, 1);
  }

  std::string out_hex(uint16_t port, uint16_t i = 0) {
    const OutQueue &q = ctx().out[port];
    if (i >= q.n) return "<none>";
    std::vector<uint8_t> buf(rte_pktmbuf_pkt_len(q.pkts[i]));
    const uint8_t *p = static_cast<const uint8_t *>(
        rte_pktmbuf_read(q.pkts[i], 0, static_cast<uint32_t>(buf.size()), buf.data()));
    return hex(p, buf.size());
  }

  WorkerContext &ctx() { return tb_->ctx(); }
  DataplaneSettings &settings() { return tb_->settings(); }
  RouteTable &routes() { return tb_->table(); }
  uint64_t count(Counter c) { return ctx().counters.get(c); }

  std::unique_ptr<testbed::Fixture> tb_;
};

// Recomputes the header checksum of the IPv4 header at l3 after an edit.
void fix_ipv4_checksum(uint8_t *l3) {
  auto *ip = reinterpret_cast<rte_ipv4_hdr *>(l3);
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);
}

// kV4In grown to `total` bytes of IPv4 (payload 0x5a), with or without DF.
std::string big_ipv4_frame(uint16_t total, bool df) {
  std::vector<uint8_t> f = unhex(kV4In);
  f.resize(14 + total, 0x5a);
  auto *iph = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
  iph->total_length = rte_cpu_to_be_16(total);
  iph->fragment_offset = df ? rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG) : 0;
  fix_ipv4_checksum(f.data() + 14);
  return hex(f.data(), f.size());
}

}  // namespace

// The golden rows (tests/support/golden_packets.cc) check bytes and counters;
// this one checks what the route table records of a hit.
TEST_F(ForwardTest, ARouteCountsItsHits) {
  send(0, kV4In);
  EXPECT_EQ(routes().find({0, addr("10.0.0.9")})->hits, 1u);
}

TEST_F(ForwardTest, TtlOneGetsTimeExceeded) {
  std::vector<uint8_t> f = unhex(kV4In);
  f[14 + 8] = 1;  // TTL
  fix_ipv4_checksum(f.data() + 14);
  send(0, hex(f.data(), f.size()));
  ASSERT_EQ(ctx().out[0].n, 1);
  const std::string o = out_hex(0);
  // Back to the sender's MAC, from ours; ICMP type 11 code 0 from 192.0.2.1.
  EXPECT_EQ(o.substr(0, 24), "0200000000fe020000000001");
  EXPECT_EQ(o.substr(2 * (14 + 12), 16), "c0000201cb007107");
  EXPECT_EQ(o.substr(2 * (14 + 20), 4), "0b00");
  EXPECT_EQ(count(Counter::drop_ttl_exceeded), 1u);
  EXPECT_EQ(count(Counter::icmp_time_exceeded_sent), 1u);
  // The quote is the original header + 8 bytes, TTL as received.
  EXPECT_EQ(o.substr(2 * (14 + 28)), hex(f.data() + 14, 28));
}

TEST_F(ForwardTest, OversizeWithDfGetsFragNeededAndWithoutDfIsFragmented) {
  settings().tunnel_mtu = 600;
  // 1000-byte IPv4/UDP with DF.
  send(0, big_ipv4_frame(1000, true));
  ASSERT_EQ(ctx().out[0].n, 1);
  const std::string o = out_hex(0);
  EXPECT_EQ(o.substr(2 * (14 + 20), 4), "0304");               // unreachable / frag needed
  EXPECT_EQ(o.substr(2 * (14 + 26), 4), "0244");               // next-hop MTU 580 = 600 - 20
  EXPECT_EQ(count(Counter::icmp_frag_needed_sent), 1u);

  // Without DF: fragmented to fit 580 bytes of inner, each fragment tunnelled.
  send(0, big_ipv4_frame(1000, false));
  const OutQueue &q = ctx().out[0];
  ASSERT_EQ(q.n, 1 + 2);
  uint32_t payload = 0;
  for (uint16_t i = 1; i < q.n; i++) {
    EXPECT_LE(rte_pktmbuf_pkt_len(q.pkts[i]), 14u + 600u);
    payload += rte_pktmbuf_pkt_len(q.pkts[i]) - 14 - 20 - 20;
  }
  EXPECT_EQ(payload, 1000u - 20u);
  EXPECT_EQ(count(Counter::ipv4_fragmented), 1u);
  EXPECT_EQ(count(Counter::ipv4_fragments_out), 2u);
}

// Issue 17: net_af_xdp sends only a chain's first segment. For a port
// without multi-segment TX the fragments leave as single mbufs, with the
// same bytes as the chained ones.
TEST_F(ForwardTest, FragmentsForAPortWithoutMultiSegmentTxLeaveLinearized) {
  settings().tunnel_mtu = 600;
  const std::string frame = big_ipv4_frame(1000, false);
  send(0, frame);
  ASSERT_EQ(ctx().out[0].n, 2);
  EXPECT_GT(ctx().out[0].pkts[0]->nb_segs, 1);  // chained by default
  const std::string chained[] = {out_hex(0, 0), out_hex(0, 1)};
  drain_outputs();

  settings().ports[0].tx_multi_seg = false;
  send(0, frame);
  ASSERT_EQ(ctx().out[0].n, 2);
  for (uint16_t i = 0; i < 2; i++) {
    EXPECT_EQ(ctx().out[0].pkts[i]->nb_segs, 1);
    // The same bytes, but for the outer IP ID (one more per fragment sent).
    std::string got = out_hex(0, i), want = chained[i];
    got.replace(2 * (14 + 4), 4, "....").replace(2 * (14 + 10), 4, "....");
    want.replace(2 * (14 + 4), 4, "....").replace(2 * (14 + 10), 4, "....");
    EXPECT_EQ(got, want) << "fragment " << i;
  }
  EXPECT_EQ(count(Counter::tx_linearized), 2u);
}

// RFC 1812 5.2.6: a packet larger than its egress port's mtu, here one with
// no host route going back to the gateway over a fabric port of mtu 1000: DF
// set, Fragmentation Needed naming 1000 out the port it came in on; without
// DF, TTL - 1 and pieces of at most 1000 bytes, each to the gateway.
TEST_F(ForwardTest, APacketLargerThanItsEgressPortIsAnsweredOrFragmented) {
  settings().ports[0].mtu = 1000;
  auto to_nowhere = [](bool df) {
    std::vector<uint8_t> f = unhex(big_ipv4_frame(1200, df));
    const uint8_t dst[4] = {10, 9, 9, 9};  // no host route
    std::memcpy(f.data() + 14 + 16, dst, 4);
    fix_ipv4_checksum(f.data() + 14);
    return hex(f.data(), f.size());
  };
  send(0, to_nowhere(true));
  ASSERT_EQ(ctx().out[0].n, 1);
  const std::string icmp = out_hex(0);
  EXPECT_EQ(icmp.substr(2 * (14 + 9), 2), "01") << "ICMP";
  EXPECT_EQ(icmp.substr(2 * (14 + 20), 4), "0304") << "type 3 code 4";
  EXPECT_EQ(icmp.substr(2 * (14 + 26), 4), "03e8") << "next-hop MTU 1000";
  EXPECT_EQ(count(Counter::drop_too_big), 1u);
  EXPECT_EQ(count(Counter::forwarded_default), 0u);
  drain_outputs();

  send(0, to_nowhere(false));
  ASSERT_EQ(ctx().out[0].n, 2);
  EXPECT_EQ(count(Counter::ipv4_fragmented), 1u);
  EXPECT_EQ(count(Counter::forwarded_default), 2u);
  for (uint16_t i = 0; i < 2; i++) {
    rte_mbuf *f = ctx().out[0].pkts[i];
    EXPECT_LE(rte_pktmbuf_pkt_len(f), 14u + 1000u);
    std::vector<uint8_t> b(rte_pktmbuf_pkt_len(f));
    const auto *p = static_cast<const uint8_t *>(rte_pktmbuf_read(f, 0, static_cast<uint32_t>(b.size()), b.data()));
    EXPECT_EQ(hex(p, 6), hex(kGwMac.data(), 6)) << "fragment " << i << " to the gateway";
    EXPECT_EQ(p[14 + 8], static_cast<uint8_t>(unhex(kV4In)[14 + 8] - 1)) << "TTL - 1";
    EXPECT_EQ(rte_raw_cksum(p + 14, 20), 0xffff) << "header checksum";
  }
}

TEST_F(ForwardTest, MalformedPacketsLandOnNamedCounters) {
  std::vector<uint8_t> f = unhex(kV4In);
  struct Case {
    const char *what;
    std::vector<uint8_t> frame;
    Counter expect;
  };
  auto with = [&](size_t off, uint8_t v) {
    auto g = f;
    g[off] = v;
    return g;
  };
  std::vector<Case> cases = {
      {"short ethernet", std::vector<uint8_t>(f.begin(), f.begin() + 10), Counter::drop_l2_truncated},
      {"short ipv4", std::vector<uint8_t>(f.begin(), f.begin() + 30), Counter::drop_ipv4_truncated},
      {"ihl 4", with(14, 0x44), Counter::drop_ipv4_bad_ihl},
      {"version 6 in ipv4", with(14, 0x65), Counter::drop_ipv4_bad_version},
      {"length beyond frame", with(14 + 2, 0x10), Counter::drop_ipv4_bad_length},
      {"bad checksum", with(14 + 11, 0x00), Counter::drop_ipv4_bad_checksum},
      {"unknown ethertype", with(12, 0x88), Counter::drop_l2_unsupported},
  };
  for (const auto &c : cases) {
    const uint64_t before = count(c.expect);
    send(0, hex(c.frame.data(), c.frame.size()));
    EXPECT_EQ(count(c.expect), before + 1) << c.what;
  }
  EXPECT_EQ(ctx().out[0].n + ctx().out[1].n, 0);
}

// RFC 1812 4.2.2.11 / 5.3.7: sources never forwarded, by first octet; the
// neighbours of each range are forwarded.
TEST_F(ForwardTest, Ipv4SourcesNeverForwarded) {
  const std::vector<uint8_t> f = unhex(kV4In);
  const struct {
    uint8_t a, b;
    bool bad;
  } sources[] = {{0, 0, true},    {0, 1, true},     {127, 0, true}, {224, 0, true}, {240, 1, true},
                 {255, 255, true}, {1, 0, false},   {126, 9, false}, {128, 1, false}, {223, 255, false}};
  for (const auto &src : sources) {
    auto g = f;
    g[14 + 12] = src.a;
    g[14 + 13] = src.b;
    fix_ipv4_checksum(g.data() + 14);
    const uint64_t before = count(Counter::drop_ipv4_bad_source);
    send(0, hex(g.data(), g.size()));
    EXPECT_EQ(count(Counter::drop_ipv4_bad_source), before + (src.bad ? 1 : 0)) << int(src.a) << "." << int(src.b);
    drain_outputs();
  }
}

TEST_F(ForwardTest, FullBurstMixedDestinations) {
  // 31 packets (a full burst's unrolled tail): alternating local and tunnel.
  std::vector<uint8_t> f = unhex(kV4In);
  rte_mbuf *pkts[31];
  for (int i = 0; i < 31; i++) {
    auto g = f;
    g[14 + 19] = (i % 2) ? 5 : 9;  // 10.0.0.5 local, 10.0.0.9 tunnel
    fix_ipv4_checksum(g.data() + 14);
    pkts[i] = mbuf(g);
  }
  process_burst(ctx(), 0, pkts, 31);
  EXPECT_EQ(ctx().out[0].n, 16);
  EXPECT_EQ(ctx().out[1].n, 15);
  EXPECT_EQ(count(Counter::rx_packets), 31u);
}

TEST_F(ForwardTest, DecapsulatedMulticastIsNotRouted) {
  // The decapsulation golden frame with its inner destination made 224.0.0.9.
  std::vector<uint8_t> f = unhex(kDecapIn);
  uint8_t *inner = f.data() + 14 + 20;
  const uint8_t group[4] = {224, 0, 0, 9};
  std::memcpy(inner + 16, group, 4);
  fix_ipv4_checksum(inner);
  send(0, hex(f.data(), f.size()));
  EXPECT_EQ(ctx().out[0].n + ctx().out[1].n, 0);
  EXPECT_EQ(count(Counter::drop_ip_multicast), 1u);
}

TEST_F(ForwardTest, ProxyNeighbourAdvertisementDoesNotOverride) {
  // A VM on the access port asks for another address: nved answers as its
  // gateway with Router and Solicited set, Override clear (RFC 4861 7.2.8).
  send(1,
       "3333ff00123402000000010186dd6000000000203afffd000000000000000000000000000005ff0200000000000000000001ff"
       "0012348700582f00000000fd0000000000000000000000000012340101020000000101");
  ASSERT_EQ(ctx().out[1].n, 1);
  const std::string o = out_hex(1);
  EXPECT_EQ(o.substr(2 * (14 + 40), 2), "88");      // Neighbour Advertisement
  EXPECT_EQ(o.substr(2 * (14 + 40 + 4), 2), "c0");  // R|S, no O
  EXPECT_EQ(count(Counter::nd_replied), 1u);
  // A multicast target is invalid (RFC 4861 7.1.1).
  send(1,
       "3333ff00123402000000010186dd6000000000183afffd000000000000000000000000000005ff0200000000000000000001ff"
       "00123487006c6a00000000ff020000000000000000000000000001");
  EXPECT_EQ(count(Counter::drop_nd_malformed), 1u);
}

// With RX checksum offload the port's verdict on the received IPv4 header
// replaces the software check: BAD is dropped even if the checksum is right,
// GOOD is forwarded without recomputing (the wrong checksum here proves the
// software check was skipped); UNKNOWN (no offload) is checked in software.
TEST_F(ForwardTest, RxChecksumOffloadFlagsDecideTheIpv4HeaderCheck) {
  const std::vector<uint8_t> good = unhex(kV4In);
  std::vector<uint8_t> wrong = good;
  wrong[14 + 11] ^= 0x01;
  auto send_flagged = [&](const std::vector<uint8_t> &f, uint64_t flags) {
    rte_mbuf *m = mbuf(f);
    m->ol_flags = flags;
    process_burst(ctx(), 0, &m, 1);
  };
  send_flagged(good, RTE_MBUF_F_RX_IP_CKSUM_BAD);
  EXPECT_EQ(count(Counter::drop_ipv4_bad_checksum), 1u);
  EXPECT_EQ(ctx().out[0].n + ctx().out[1].n, 0);
  send_flagged(wrong, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
  EXPECT_EQ(count(Counter::drop_ipv4_bad_checksum), 1u);
  EXPECT_EQ(ctx().out[0].n + ctx().out[1].n, 1);
  send_flagged(wrong, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
  EXPECT_EQ(count(Counter::drop_ipv4_bad_checksum), 2u);
}

// Issue 14, tenants: IP-in-IP carries no VN, so the outer destination names
// it (the golden rows decap_vn5 and decap_stranger check the delivery and
// the drop). VN 5's endpoint is not a route anyone can take over.
TEST_F(ForwardTest, AVnEndpointCannotBeTakenOverByARoute) {
  RouteChange steal;
  steal.route = {0, addr("192.0.2.5")};
  steal.action = DeliverLocal{1, kVmMac, 0};
  EXPECT_EQ(routes().apply(std::span<const RouteChange>(&steal, 1)).errors.size(), 1u);
}

// Issue 14, scope 4: an NVE the agent learnt from nvad (a TunnelPeer route
// in kTunnelPeerVn) may tunnel to us like one of tunnel.peers; forgetting it
// closes the door again. Its route counts the tunnels it sent.
TEST_F(ForwardTest, ATunnelFromALearntPeerIsDecapsulatedUntilItIsForgotten) {
  const auto rows = testbed::golden_packets();
  auto row = [&](const char *name) {
    return *std::find_if(rows.begin(), rows.end(), [&](const auto &g) { return std::string(g.name) == name; });
  };
  const auto stranger = row("decap_stranger"), accepted = row("decap_ipv4");
  RouteChange learn;
  learn.route = {kTunnelPeerVn, addr("203.0.113.9")};
  learn.action = TunnelPeer{};
  ASSERT_TRUE(routes().apply(std::span<const RouteChange>(&learn, 1)).errors.empty());
  const uint64_t dropped = count(Counter::drop_decap_unknown_peer);
  send(0, stranger.input);
  ASSERT_EQ(ctx().out[1].n, 1);
  EXPECT_EQ(out_hex(1), accepted.output);  // the same inner packet, delivered
  EXPECT_EQ(routes().find(learn.route)->hits, 1u);
  drain_outputs();

  RouteChange forget = learn;
  forget.op = RouteChange::Op::Remove;
  ASSERT_TRUE(routes().apply(std::span<const RouteChange>(&forget, 1)).errors.empty());
  send(0, stranger.input);
  EXPECT_EQ(ctx().out[1].n, 0);
  EXPECT_EQ(count(Counter::drop_decap_unknown_peer), dropped + 1);
}

// kTunnelPeerVn holds tunnel peers and nothing else, and a peer lives nowhere
// else: no VN's route can open the door, and no tenant's packet matches one.
TEST_F(ForwardTest, TunnelPeersLiveOnlyInTheirOwnKeySpace) {
  RouteChange c;
  c.route = {kTunnelPeerVn, addr("203.0.113.9")};
  c.action = DeliverLocal{1, kVmMac, 0};
  EXPECT_EQ(routes().apply(std::span<const RouteChange>(&c, 1)).errors.size(), 1u);
  c.route = {0, addr("203.0.113.9")};
  c.action = TunnelPeer{};
  EXPECT_EQ(routes().apply(std::span<const RouteChange>(&c, 1)).errors.size(), 1u);
}

// Every golden row (tests/support/golden_packets.cc) through the real burst
// pipeline on the test bed: bytes out where expected, nothing elsewhere,
// its counter counted.
TEST_F(ForwardTest, GoldenPacketTable) {
  for (const testbed::GoldenPacket &g : testbed::golden_packets()) {
    SCOPED_TRACE(g.description);
    const uint64_t before = count(g.counted);
    send(g.in_port, g.input);
    for (uint16_t p = 0; p < 3; p++) {
      if (p == g.out_port) {
        ASSERT_EQ(ctx().out[p].n, 1) << "port " << p;
        EXPECT_EQ(out_hex(p), g.output);
      } else {
        EXPECT_EQ(ctx().out[p].n, 0) << "port " << p;
      }
    }
    EXPECT_EQ(count(g.counted), before + 1);
    drain_outputs();
  }
}

// nvectl trace add: the armed worker runs the next N packets one by one
// through the same pipeline and records each one's counters and output;
// the rest of the burst is processed as usual, unrecorded.
TEST_F(ForwardTest, TracedPacketsRecordTheirCountersAndOutput) {
  const auto golden = testbed::golden_packets();
  std::vector<rte_mbuf *> burst;
  for (const char *name : {"encap_ipv4", "decap_ipv4", "arp_reply"})
    for (const auto &g : golden)
      if (std::string(g.name) == name) burst.push_back(mbuf(unhex(g.input)));
  ASSERT_EQ(burst.size(), 3u);
  ctx().trace.arm(0, 2);
  process_burst_traced(ctx(), 0, burst.data(), static_cast<uint16_t>(burst.size()));
  EXPECT_EQ(ctx().trace.remaining.load(), 0u);
  ASSERT_EQ(ctx().trace.written.load(), 2u);
  const TraceRecord &encap = ctx().trace.ring[0], &decap = ctx().trace.ring[1];
  EXPECT_TRUE(encap.moved(static_cast<size_t>(Counter::encap_ipv4_in_ipv4)));
  EXPECT_TRUE(encap.moved(static_cast<size_t>(Counter::rx_packets)));
  EXPECT_FALSE(encap.moved(static_cast<size_t>(Counter::delivered_local)));
  EXPECT_EQ(encap.out_port, 0);
  EXPECT_EQ(encap.out_len, encap.len + 20);  // the outer IPv4 header
  EXPECT_TRUE(decap.moved(static_cast<size_t>(Counter::delivered_local)));
  EXPECT_EQ(decap.out_port, 1);
  // All three processed: the ARP request was answered, unrecorded.
  EXPECT_EQ(count(Counter::rx_packets), 3u);
  EXPECT_EQ(count(Counter::arp_replied), 1u);
  // Another port's packets are not traced.
  ctx().trace.arm(1, 5);
  rte_mbuf *m = mbuf(unhex(golden[0].input));
  process_burst_traced(ctx(), 0, &m, 1);
  EXPECT_EQ(ctx().trace.written.load(), 2u);
  EXPECT_EQ(ctx().trace.remaining.load(), 5u);
}

// rte_flow steering (dataplane/control_queue.h): what the NIC steered to a
// port's control queue goes through the same pipeline on the control
// thread's context, and what that sends is handed to worker 0 through the
// control TX ring, marked with its port. A net_ring port with two RX queues
// stands in for the NIC (the rules themselves need a real one).
TEST_F(ForwardTest, AControlQueueIsServedByThePipelineAndSentThroughTheControlRing) {
  const auto golden = testbed::golden_packets();
  const auto arp = std::find_if(golden.begin(), golden.end(),
                                [](const auto &g) { return std::string(g.name) == "arp_reply"; });
  ASSERT_NE(arp, golden.end());
  const std::string tag = std::to_string(reinterpret_cast<uintptr_t>(this) & 0xffffff);
  rte_ring *rx[2] = {rte_ring_create(("cq_rx0_" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ),
                     rte_ring_create(("cq_rx1_" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ)};
  rte_ring *tx = rte_ring_create(("cq_tx_" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  rte_ring *handed = rte_ring_create(("cq_out_" + tag).c_str(), 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_TRUE(rx[0] && rx[1] && tx && handed);
  const int id = rte_eth_from_rings(("cq" + tag).c_str(), rx, 2, &tx, 1, 0);
  ASSERT_GE(id, 0);
  ASSERT_LT(id, static_cast<int>(kMaxPorts));
  const auto port = static_cast<uint16_t>(id);
  rte_eth_conf conf{};
  ASSERT_EQ(rte_eth_dev_configure(port, 2, 1, &conf), 0);
  for (uint16_t q = 0; q < 2; q++) ASSERT_EQ(rte_eth_rx_queue_setup(port, q, 64, 0, nullptr, tb_->pool()), 0);
  ASSERT_EQ(rte_eth_tx_queue_setup(port, 0, 64, 0, nullptr), 0);
  ASSERT_EQ(rte_eth_dev_start(port), 0);  // (before it, ethdev's burst functions are dummies)
  settings().ports[port] = settings().ports[arp->in_port];  // the fabric port's role and MAC
  settings().fabric_port = port;

  rte_mbuf *m = mbuf(unhex(arp->input));
  ASSERT_EQ(rte_ring_enqueue(rx[1], m), 0);  // as the NIC's ARP rule would
  EXPECT_EQ(control_queue_poll(ctx(), port, 0, port + 1, handed), 0) << "the data queue is empty";
  EXPECT_EQ(control_queue_poll(ctx(), port, 1, port + 1, handed), 1);
  EXPECT_EQ(count(Counter::arp_replied), 1u);
  ASSERT_EQ(rte_ring_count(handed), 1u);
  void *obj = nullptr;
  ASSERT_EQ(rte_ring_dequeue(handed, &obj), 0);
  auto *reply = static_cast<rte_mbuf *>(obj);
  EXPECT_EQ(reply->port, port) << "worker 0 sends it on the port it came from";
  ASSERT_NE(arp->output, nullptr);
  EXPECT_EQ(hex(rte_pktmbuf_mtod(reply, const uint8_t *), reply->data_len), std::string(arp->output));
  rte_pktmbuf_free(reply);
  EXPECT_EQ(ctx().out[port].n, 0) << "nothing left in the output stage";
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
  for (rte_ring *r : {rx[0], rx[1], tx, handed}) rte_ring_free(r);
}
