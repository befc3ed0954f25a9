// libFuzzer target: arbitrary frames through the whole burst pipeline (parse,
// validation, ARP/ND/echo, decapsulation, lookup, encapsulation, ICMP errors,
// fragmentation) on both port roles. Any crash, sanitizer report or leaked
// mbuf is a bug. The first input byte picks the ingress port and tunnel MTU.
// Every frame is also sent as a chain of mbufs, which must give the same
// bytes and counters as the frame in one mbuf; the input's length picks
// ports with or without chained transmission and with or without an mtu.
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/classify.h"
#include "dataplane/burst_pipeline.h"
#include "dataplane/mbuf_chain.h"
#include "dataplane/route_table.h"
#include "tests/support/dataplane_testbed.h"

using namespace nvmove;
using namespace nvmove::dp;

namespace {
// The shared test bed (tests/support/dataplane_testbed.h): the routes,
// endpoints and tunnel peers the unit tests use, so decapsulation (from a
// peer and from a stranger), own VN endpoints and every route kind are
// reachable by the fuzzer.
testbed::Fixture *g_tb;
DataplaneSettings *g_settings_p;
WorkerContext *g_ctx;

void setup() {
  std::string prefix = "--file-prefix=nvfuzz" + std::to_string(getpid());
  std::vector<std::string> args = {"fuzz", "--no-huge", "-m", "256", "--no-pci", "-l", "0",
                                   "--log-level", "*:error", prefix, "--no-shconf"};
  std::vector<char *> av;
  for (auto &a : args) av.push_back(a.data());
  if (rte_eal_init(static_cast<int>(av.size()), av.data()) < 0) std::abort();
  g_tb = new testbed::Fixture("fz", 64);
  g_settings_p = &g_tb->settings();
  g_ctx = &g_tb->ctx();
  // The ICMP limiter must not tell the one-segment and the chained run apart.
  g_settings_p->icmp_burst = 1u << 30;
  // As nved has for ports without chains when workers.rx_scatter is on.
  g_ctx->tx_linear_pool = g_tb->large_pool();
}

// The frame's segments when it is sent as a chain: the headers (and more,
// varying with the input) in the first, then pieces of varying size.
size_t first_segment(size_t size) { return kChainHeadBytes + size % 61; }
size_t later_segments(size_t size) { return 64 + (size * 7) % 449; }

// The frame in one mbuf, or as a chain when `chained` and it is long enough
// for one.
rte_mbuf *frame_mbuf(const uint8_t *data, size_t size, bool chained = false) {
  if (chained && size > first_segment(size)) return g_tb->chain(data, size, first_segment(size), later_segments(size));
  return g_tb->mbuf(data, size);
}

// The straight-line classifier may only accept what the full one passes to
// the lookup, with the same meta, key and hash (dataplane/classify.h). One
// exception by design: a packet to one of our VN endpoints (not the main
// address) passes the common path; the lookup then finds the endpoint's
// kRouteOwn entry, which hands the packet to classify_full in stage 3.
void check_common_agrees_with_full(uint16_t port, const uint8_t *data, size_t size, bool chained) {
  const PortSettings &ps = g_settings_p->ports[port];
  if (ps.vlan != 0) return;  // process_burst never calls it on tagged ports
  rte_mbuf *a = frame_mbuf(data, size, chained);
  PacketMeta pa{}, pb{};
  RouteKey ka, kb;
  uint32_t sa = 0, sb = 0;
  const bool common = classify_common(*g_settings_p, ps, key_prefix(ingress_vn(*g_settings_p, ps)), port, a, pa, ka, sa);
  if (common) {
    const uint8_t *dst = pa.l3 + (pa.family == kFamilyV4 ? 16 : 24);
    const bool main_address = pa.family == kFamilyV4 ? is_own_v4(*g_settings_p, dst) : is_own_v6(*g_settings_p, dst);
    if (main_address) std::abort();  // the common path must never take those
    rte_mbuf *b = frame_mbuf(data, size, chained);
    const Verdict full = classify_full(*g_ctx, b, port, pb, kb, sb);
    if (own_endpoint(*g_settings_p, pa.family, dst)) {
      if (full == Verdict::Lookup) rte_pktmbuf_free(b);  // (a decapsulated inner packet)
      rte_pktmbuf_free(a);
      g_ctx->counters.clear();
      g_tb->drain_outputs();
      return;
    }
    if (full != Verdict::Lookup) std::abort();
    const auto off = [](const PacketMeta &pm, rte_mbuf *m) { return pm.l3 - rte_pktmbuf_mtod(m, uint8_t *); };
    if (off(pa, a) != off(pb, b) || pa.l3_len != pb.l3_len || pa.family != pb.family ||
        pa.decapped != pb.decapped || pa.in_port != pb.in_port || pa.frame_off != pb.frame_off ||
        pa.l2_len != pb.l2_len || pa.vlan_tci != pb.vlan_tci || std::memcmp(&ka, &kb, sizeof ka) != 0 ||
        sa != sb || sa != route_key_hash(ka))
      std::abort();
    rte_pktmbuf_free(b);
  }
  rte_pktmbuf_free(a);
  g_ctx->counters.clear();
}

// Each port's output frames and every counter, after one packet from a
// fixed worker state (the outer IPv4 ID).
struct Outcome {
  std::vector<std::vector<uint8_t>> out[kMaxPorts];
  uint64_t counters[kCounterCount];
};

Outcome run_one(uint16_t port, rte_mbuf *m) {
  g_ctx->counters.clear();
  g_ctx->next_ip_id = 1;
  process_burst(*g_ctx, port, &m, 1);
  Outcome o;
  for (uint16_t p = 0; p < kMaxPorts; p++) {
    OutQueue &q = g_ctx->out[p];
    for (uint16_t i = 0; i < q.n; i++) {
      // Every output must be a sane frame, in a consistent mbuf chain.
      const uint32_t len = rte_pktmbuf_pkt_len(q.pkts[i]);
      if (len < 14 || len > 9000) std::abort();
      const char *why = nullptr;
      if (rte_mbuf_check(q.pkts[i], 1, &why) != 0) std::abort();
      std::vector<uint8_t> b(len);
      const void *at = rte_pktmbuf_read(q.pkts[i], 0, len, b.data());
      if (at != b.data()) std::memcpy(b.data(), at, len);
      o.out[p].push_back(std::move(b));
    }
    rte_pktmbuf_free_bulk(q.pkts, q.n);
    q.n = 0;
  }
  for (size_t c = 0; c < kCounterCount; c++) o.counters[c] = g_ctx->counters.get(static_cast<Counter>(c));
  return o;
}

// The same frame as a chain of mbufs (its headers in the first segment, as
// classify_full requires: mbuf_chain.h) must give the same bytes and
// counters as in one mbuf. Segment sizes vary with the input.
// A port without chains copies a chained packet (tx_linearized) where the
// one-segment packet went as it was: that counter alone may differ then.
void check_chain_agrees_with_one_segment(uint16_t port, const uint8_t *data, size_t size, const Outcome &one) {
  if (size <= first_segment(size)) return;
  Outcome chained = run_one(port, frame_mbuf(data, size, true));
  for (uint16_t p = 0; p < kMaxPorts; p++)
    if (chained.out[p] != one.out[p]) std::abort();
  const auto linearized = static_cast<size_t>(Counter::tx_linearized);
  if (!g_settings_p->ports[0].tx_multi_seg) chained.counters[linearized] = one.counters[linearized];
  if (std::memcmp(chained.counters, one.counters, sizeof one.counters) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_ctx) setup();
  if (size < 1) return 0;
  const uint16_t port = data[0] % 3;
  g_settings_p->tunnel_mtu = static_cast<uint16_t>(576 + (data[0] >> 2) * 16);
  g_settings_p->default_forward = data[0] & 0x80;
  data++;
  size--;
  if (size > RTE_MBUF_DEFAULT_DATAROOM) size = RTE_MBUF_DEFAULT_DATAROOM;
  g_settings_p->verify_ipv4_checksum = !(data[-1] & 0x40);
  // Ports that send no chains (net_af_xdp, net_pcap), ports whose mtu the
  // frame may exceed on arrival or on departure, from the input's length.
  for (uint16_t p = 0; p < 3; p++) {
    g_settings_p->ports[p].tx_multi_seg = !(size & 1);
    g_settings_p->ports[p].max_frame = (size & 2) ? 1500 + 18 : UINT32_MAX;
    g_settings_p->ports[p].mtu = (size & 4) ? 1280 : UINT16_MAX;  // the smallest a port may have
  }
  check_common_agrees_with_full(port, data, size, false);
  check_common_agrees_with_full(port, data, size, true);
  const Outcome one = run_one(port, frame_mbuf(data, size));
  check_chain_agrees_with_one_segment(port, data, size, one);
  // No mbuf may leak: everything allocated went out or was freed.
  if (g_tb->in_use() != 0) std::abort();
  return 0;
}
