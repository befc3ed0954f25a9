// libFuzzer target: arbitrary frames through the whole burst pipeline (parse,
// validation, ARP/ND/echo, decapsulation, lookup, encapsulation, ICMP errors,
// fragmentation) on both port roles. Any crash, sanitizer report or leaked
// mbuf is a bug. The first input byte picks the ingress port and tunnel MTU.
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
}

rte_mbuf *frame_mbuf(const uint8_t *data, size_t size) { return g_tb->mbuf(data, size); }

// The straight-line classifier may only accept what the full one passes to
// the lookup, with the same meta, key and hash (dataplane/classify.h). One
// exception by design: a packet to one of our VN endpoints (not the main
// address) passes the common path; the lookup then finds the endpoint's
// kRouteOwn entry, which hands the packet to classify_full in stage 3.
void check_common_agrees_with_full(uint16_t port, const uint8_t *data, size_t size) {
  const PortSettings &ps = g_settings_p->ports[port];
  if (ps.vlan != 0) return;  // process_burst never calls it on tagged ports
  rte_mbuf *a = frame_mbuf(data, size);
  PacketMeta pa{}, pb{};
  RouteKey ka, kb;
  uint32_t sa = 0, sb = 0;
  const bool common = classify_common(*g_settings_p, ps, key_prefix(ingress_vn(*g_settings_p, ps)), port, a, pa, ka, sa);
  if (common) {
    const uint8_t *dst = pa.l3 + (pa.family == kFamilyV4 ? 16 : 24);
    const bool main_address = pa.family == kFamilyV4 ? is_own_v4(*g_settings_p, dst) : is_own_v6(*g_settings_p, dst);
    if (main_address) std::abort();  // the common path must never take those
    rte_mbuf *b = frame_mbuf(data, size);
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
  check_common_agrees_with_full(port, data, size);
  rte_mbuf *m = frame_mbuf(data, size);
  process_burst(*g_ctx, port, &m, 1);
  for (auto &q : g_ctx->out) {
    for (uint16_t i = 0; i < q.n; i++) {
      // Every output must be a sane frame.
      if (rte_pktmbuf_pkt_len(q.pkts[i]) < 14 || rte_pktmbuf_pkt_len(q.pkts[i]) > 9000) std::abort();
    }
    rte_pktmbuf_free_bulk(q.pkts, q.n);
    q.n = 0;
  }
  // No mbuf may leak: everything allocated went out or was freed.
  if (g_tb->in_use() != 0) std::abort();
  return 0;
}
